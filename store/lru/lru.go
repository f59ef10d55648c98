// Package lru is a store.Store that never holds more than a fixed number of
// entries, kept in the memory of one process.
//
// Choose it over store/memory when the number of sessions is not yours to
// limit: a public endpoint that hands guest tokens to anyone lets a client
// create as many sessions as it likes, and store/memory would hold one entry
// for each of them until its interval ends. This store holds at most
// Options.Size entries however many keys it is shown, at the price of
// forgetting the least recently renewed ones when it is full. Like
// store/memory it serves one process and forgets everything on restart;
// for several instances use store/redis, to survive restarts store/bolt.
//
// # Bound
//
// Entries live in shards, each a least-recently-used list
// (github.com/hashicorp/golang-lru/v2/simplelru) under its own mutex, so
// calls for different keys rarely wait for each other. Options.Size is split
// between the shards: each gets Size/shards entries and the first
// Size%shards get one more, so their capacities add up to exactly Size. A key
// goes to the shard its hash picks, with a seed chosen at random by New, so
// nobody outside the process can aim keys at one shard. Each shard evicts on
// its own, so the busiest shard fills a little before the store does (with
// the defaults, Size distinct keys leave about 99% of them held); use
// Options.Shards = 1 for a single, exact order.
//
// The bound is the hard limit and the only one that counts. Expired entries
// (whose interval has passed, so they can refuse nothing) are dropped as
// the store goes: a call that records a key the store does not hold first
// removes up to two of them from the cold end of its shard, so the store
// shrinks back after a burst as new sessions arrive; an expired entry whose
// key renews is overwritten in place. Until then an expired entry still
// occupies a slot, and [Store.Len] counts it.
//
// # The lossy case
//
// When a shard is full, recording a new key evicts the shard's least
// recently renewed entry. If that entry's interval was still running, its
// session may renew once more before the interval ends: eviction makes the
// store forget a renewal, and a forgotten renewal can only turn a refusal
// into a grant. A session can therefore never be locked out by this store,
// only let through early, once per eviction. Evicting a session that has
// just renewed takes about Size renewals of other, new sessions after it.
// [Store.Evictions] counts these early evictions; if it grows in normal
// traffic, raise Options.Size.
//
// # Cost
//
// Each entry costs about 200 bytes with the middleware's 32-character keys
// (a 96-byte list element, the map slot with its slack, and the key, which
// the store keeps as given; bench/ measures 198 B an entry), so the default
// of 100 000 entries caps the store at roughly 20 MB. Longer keys cost their
// extra length. Recording a key the store does not hold allocates one list
// element; a refusal allocates nothing.
//
// # Revocations
//
// The Store is also a store.RevocationFeed for one process. Revocations
// (sign-outs) are never evicted, since forgetting one would let a
// signed-out session back in: they live in a table of their own, bounded
// by Options.MaxRevocations (a new one beyond it is refused) and by
// expiry, never by Options.Size. See revoke.go.
//
// # Lifecycle
//
// New returns a ready store with no background goroutine; Close drops the
// entries, and later calls return store.ErrClosed. A Store is safe for
// concurrent use.
package lru

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/internal/revtab"
)

const (
	// DefaultSize is the number of entries a Store holds when Options.Size
	// is zero: about 20 MB with 32-character keys.
	DefaultSize = 100_000

	// DefaultShards is the most shards a Store uses when Options.Shards is
	// zero. Smaller stores use fewer, so that each shard holds at least 256
	// entries.
	DefaultShards = 64

	// minShardSize is the smallest shard the default shard count produces.
	// A small shard follows the global least-recently-used order poorly:
	// its oldest entry can be much younger than the store's oldest.
	minShardSize = 256

	// pruneLimit is how many expired entries a call that adds a key may
	// drop from the cold end of its shard. More than one, so the store
	// shrinks back after a burst even while new keys keep arriving.
	pruneLimit = 2
)

// Options configures a Store. The zero value, and a nil *Options, give the
// defaults.
type Options struct {
	// Size is the most entries the Store holds, across all shards. Once it
	// is reached, recording a new key evicts the least recently renewed
	// entry of the key's shard. Optional. Default DefaultSize (100 000,
	// about 20 MB). Negative is an error.
	Size int

	// Shards is the number of independently locked lists the entries are
	// split between, rounded up to a power of two, but never more than Size
	// so that no shard is empty.
	// Optional. Default DefaultShards, or fewer for a small Size so that
	// each shard holds at least 256 entries. Use 1 for a single, exact
	// least-recently-used order. Negative is an error.
	Shards int

	// MaxRevocations is the most revocations live at once (see Revoke); a
	// new one beyond it fails with store.ErrRevocationsFull. Revocations
	// live in a table of their own that Size does not bound and that never
	// evicts: a revocation leaves only when it expires. Optional. Default
	// store.DefaultMaxRevocations (1 000 000). Negative is an error.
	MaxRevocations int
}

// Store is the bounded in-memory store.Store. Create it with New.
type Store struct {
	seed   maphash.Seed
	mask   uint64
	shards []shard
	size   int
	closed atomic.Bool
	rev    *revtab.Table // revocations; see revoke.go
}

type shard struct {
	mu sync.Mutex
	// lru maps a key to its last renewal; it is nil once the Store is
	// closed. Its capacity is the shard's share of Options.Size.
	lru *simplelru.LRU[string, entry]
	// evictions counts entries evicted while they could still refuse.
	evictions uint64
	_         [40]byte // keep neighbouring shards' mutexes off one cache line
}

// entry is what the store keeps per key: the last renewal, in Unix
// nanoseconds, and the interval it was recorded with.
type entry struct {
	last     int64
	interval int64
}

// live reports whether e can still refuse a renewal at now, by the interval
// it was recorded with.
func (e entry) live(now time.Time) bool {
	return store.RefusedNanos(e.last, now.UnixNano(), time.Duration(e.interval))
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store configured by opts (nil means defaults). It
// fails only for a negative Options.Size, Options.Shards or
// Options.MaxRevocations.
func New(opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Size < 0 {
		return nil, fmt.Errorf("lru: Options.Size is %d; want 0 (default %d) or a positive number of entries", o.Size, DefaultSize)
	}
	if o.Shards < 0 {
		return nil, fmt.Errorf("lru: Options.Shards is %d; want 0 (default) or a positive number of shards", o.Shards)
	}
	rev, err := newRevocations(o.MaxRevocations)
	if err != nil {
		return nil, err
	}
	size := o.Size
	if size == 0 {
		size = DefaultSize
	}
	n := shardCount(size, o.Shards)
	s := &Store{seed: maphash.MakeSeed(), mask: uint64(n - 1), shards: make([]shard, n), size: size, rev: rev}
	for i := range s.shards {
		capacity := size / n
		if i < size%n {
			capacity++
		}
		l, err := simplelru.NewLRU[string, entry](capacity, nil)
		if err != nil { // unreachable: shardCount keeps every capacity positive
			return nil, fmt.Errorf("lru: shard %d of %d with %d entries: %w", i, n, capacity, err)
		}
		s.shards[i].lru = l
	}
	return s, nil
}

// shardCount returns the number of shards for size entries: a power of two
// no larger than size, from the requested count rounded up, or by default
// the largest that leaves each shard at least minShardSize entries.
func shardCount(size, requested int) int {
	n := 1
	if requested > 0 {
		for n < requested && n*2 <= size {
			n *= 2
		}
		return n
	}
	for n < DefaultShards && size/(n*2) >= minShardSize {
		n *= 2
	}
	return n
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

// Allow implements store.Store. A granted call for a key the store does not
// hold may drop expired entries, and evict the shard's least recently renewed
// entry to make room for key.
func (s *Store) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	if err := store.CheckTime(now); err != nil {
		return false, err
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.lru == nil { // closed while we waited for the lock
		return false, store.ErrClosed
	}
	// Peek, not Get: a refusal leaves the entry and its place in the order
	// as they were, so the cold end stays the oldest renewals.
	e, held := sh.lru.Peek(key)
	if held && store.RefusedNanos(e.last, now.UnixNano(), interval) {
		return false, nil
	}
	if !held {
		// Only a new key grows the shard, so it pays for the shrinking:
		// expired entries go first, and if Add still has to evict, prune
		// has just found the oldest entry live, so every eviction loses
		// a renewal that still counts.
		sh.prune(now)
	}
	if sh.lru.Add(key, entry{last: now.UnixNano(), interval: int64(interval)}) {
		sh.evictions++
	}
	return true, nil
}

// prune drops up to pruneLimit entries from the cold end of the shard that
// can no longer refuse anything at now. It stops at the first live one: the
// order is by renewal, so the entries behind it are mostly live too. Called
// with sh.mu held.
func (sh *shard) prune(now time.Time) {
	for range pruneLimit {
		k, e, ok := sh.lru.GetOldest()
		if !ok || e.live(now) {
			return
		}
		sh.lru.Remove(k)
	}
}

// Last implements store.Store. It does not change the eviction order.
func (s *Store) Last(ctx context.Context, key string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	if s.closed.Load() {
		return time.Time{}, false, store.ErrClosed
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.lru == nil {
		return time.Time{}, false, store.ErrClosed
	}
	e, ok := sh.lru.Peek(key)
	if !ok {
		return time.Time{}, false, nil
	}
	return time.Unix(0, e.last).UTC(), true, nil
}

// Size reports the most entries the store holds: Options.Size, or
// DefaultSize.
func (s *Store) Size() int { return s.size }

// Len reports how many entries the store holds now, expired or not; it is
// never more than Size. It is meant for tests and metrics; it locks every
// shard in turn. After Close it is zero.
func (s *Store) Len() int {
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if sh.lru != nil {
			total += sh.lru.Len()
		}
		sh.mu.Unlock()
	}
	return total
}

// Evictions reports how many entries the bound has pushed out while their
// interval was still running; each may have let its session renew up to one
// interval early. Entries dropped after their interval are not counted. It is meant
// for metrics; it locks every shard in turn.
func (s *Store) Evictions() uint64 {
	var total uint64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		total += sh.evictions
		sh.mu.Unlock()
	}
	return total
}

// Close drops every entry and every revocation. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.rev.Close()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.lru = nil
		sh.mu.Unlock()
	}
	return nil
}
