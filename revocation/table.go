package revocation

import (
	"encoding/binary"
	"math/bits"

	"github.com/slidingjwt/slidingjwt/store"
)

// filterBitsPerEntry is the least size of a table's filter, in bits per
// revocation: with one bit per key, about 1 key in 16 to 32 that no
// revocation matches still goes on to the map.
const filterBitsPerEntry = 16

// golden is 2^64 divided by the golden ratio, an odd constant whose
// products spread any input over the high bits (Fibonacci hashing).
const golden = 0x9E3779B97F4A7C15

// table holds one kind's revocations in one shard: a map, and a filter
// with one bit per key, so that Check answers the common case, a key no
// revocation matches, without a map look-up. A published table is never
// changed: writers build a new one (see List.learnShard).
type table struct {
	m      map[store.RevocationKey]entry
	filter []uint64 // a power of two of words
	shift  uint     // 64 - log2 of the filter's bits: the filter bit is the hash's top bits
}

// newTable returns the table of m, which it takes over, with a filter keyed
// by seed.
func newTable(m map[store.RevocationKey]entry, seed uint64) *table {
	n := max(64, filterBitsPerEntry*len(m))
	size := 64
	for size < n {
		size <<= 1
	}
	t := &table{m: m, filter: make([]uint64, size/64), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for k := range m {
		b := mix(k[8:], seed) >> t.shift
		t.filter[b/64] |= 1 << (b % 64)
	}
	return t
}

// get returns the revocation of k, if the table holds one.
func (t *table) get(k store.RevocationKey, seed uint64) (entry, bool) {
	b := mix(k[8:], seed) >> t.shift
	if t.filter[b/64]&(1<<(b%64)) == 0 {
		return entry{}, false
	}
	e, ok := t.m[k]
	return e, ok
}

// mix hashes eight bytes of a key with a seed. Keys are digests, so their
// bytes are already uniform; the secret seed keeps anyone who can choose
// which sessions get revoked (by signing out of their own) from steering
// them into one shard or one filter bit.
func mix(b []byte, seed uint64) uint64 {
	return (binary.LittleEndian.Uint64(b) ^ seed) * golden
}
