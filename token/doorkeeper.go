package token

import (
	"math/bits"
	"sync/atomic"
)

// doorkeeper remembers which tokens the verified-token cache has turned
// away lately, so that a token is let into a full set on its second sight
// only (see verifiedCache.put): a Bloom filter of two bits a token, eight
// bits a cache slot (at least 512 bytes), emptied once it has had a token
// for every eight bits (at least as many as the cache has slots). It holds
// no pointers, is updated with atomics only, and only on a miss into a
// full set; a race with the emptying may forget or keep one token, which
// only moves when that token is cached.
type doorkeeper struct {
	words []atomic.Uint64
	mask  uint64 // bit index mask: 64 * len(words) - 1
	added atomic.Int64
	limit int64 // tokens added between two emptyings
}

// newDoorkeeper returns a doorkeeper for a cache of slots slots.
func newDoorkeeper(slots int) *doorkeeper {
	n := 64 // words of 64 bits: eight bits a slot
	if slots/8 > n {
		n = 1 << bits.Len(uint(slots/8-1))
	}
	return &doorkeeper{words: make([]atomic.Uint64, n), mask: uint64(n)*64 - 1, limit: int64(n) * 8}
}

// seen records the token of hash h and reports whether it was recorded
// already (or a false positive: about one in twenty when full).
func (d *doorkeeper) seen(h uint64) bool {
	m := h * 0x9e3779b97f4a7c15
	i, j := m&d.mask, (m>>32^m)*0xbf58476d1ce4e5b9>>20&d.mask
	wi, wj := &d.words[i>>6], &d.words[j>>6]
	bi, bj := uint64(1)<<(i&63), uint64(1)<<(j&63)
	if wi.Load()&bi != 0 && wj.Load()&bj != 0 {
		return true
	}
	wi.Or(bi)
	wj.Or(bj)
	if d.added.Add(1) == d.limit {
		for k := range d.words {
			d.words[k].Store(0)
		}
		d.added.Store(0)
	}
	return false
}
