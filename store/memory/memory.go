// Package memory is a store.Store kept in the memory of one process.
//
// Choose it for a single instance that can forget renewals on restart: a
// restart at worst lets each active session renew once more, early. It is the
// fastest backend and needs no set-up. For several instances use store/redis;
// to survive restarts use store/bolt; for a hard bound on entries use
// store/lru.
//
// # Bound
//
// Entries live in a fixed number of shards, each a map under its own mutex.
// An entry is useless once its interval has passed, so each shard drops such
// entries as it goes: a sweep runs inside a call to Allow at most once per
// interval of the clock the caller passes. The store therefore holds no more
// than the sessions renewed within about two intervals, however many distinct
// keys it has seen, and it needs no background goroutine.
//
// # Revocations
//
// The Store is also a store.RevocationFeed for one process: revocations
// (sign-outs) live in a table of their own, bounded by
// Options.MaxRevocations and by expiry, and are lost on restart like the
// renewals. See revoke.go.
//
// # Lifecycle
//
// New returns a ready store; Close drops the entries, and later calls return
// store.ErrClosed. A Store is safe for concurrent use.
package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/internal/revtab"
)

// DefaultShards is the number of shards used when Options.Shards is zero or
// negative.
const DefaultShards = 64

// MaxShards is the most shards a Store has: a larger Options.Shards is
// lowered to it. Each shard costs about 100 bytes before it holds anything.
const MaxShards = 1 << 16

// Options configures a Store. The zero value, and a nil *Options, give the
// defaults.
type Options struct {
	// Shards is the number of independently locked maps, rounded up to a
	// power of two, at most MaxShards. Optional. Default DefaultShards
	// (also for a value of zero or less).
	Shards int

	// MaxRevocations is the most revocations live at once (see Revoke);
	// a new one beyond it fails with store.ErrRevocationsFull. It bounds
	// the revocations on their own: they are kept apart from the renewals.
	// Optional. Default store.DefaultMaxRevocations (1 000 000), also for a
	// value of zero or less.
	MaxRevocations int
}

// Store is the in-memory store.Store. Create it with New.
type Store struct {
	seed   maphash.Seed
	mask   uint64
	shards []shard
	closed atomic.Bool
	rev    *revtab.Table // revocations; see revoke.go
}

type shard struct {
	mu sync.Mutex
	// entries maps a key to its last renewal, in Unix nanoseconds, and the
	// interval it was recorded with.
	entries map[string]entry
	// lastSweep is the caller's clock (Unix nanoseconds) at the last sweep.
	lastSweep int64
	_         [40]byte // keep neighbouring shards' mutexes off one cache line
}

type entry struct {
	last     int64
	interval int64
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store configured by opts (nil means defaults).
func New(opts *Options) *Store {
	n := DefaultShards
	if opts != nil && opts.Shards > 0 {
		n = min(opts.Shards, MaxShards)
	}
	size := 1
	for size < n {
		size <<= 1
	}
	s := &Store{seed: maphash.MakeSeed(), mask: uint64(size - 1), shards: make([]shard, size), rev: newRevocations(opts)}
	for i := range s.shards {
		s.shards[i].entries = make(map[string]entry)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

// Allow implements store.Store.
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
	n := now.UnixNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.entries == nil { // closed while we waited for the lock
		return false, store.ErrClosed
	}
	if !store.RefusedNanos(sh.lastSweep, n, interval) {
		sh.sweep(n)
	}
	if e, ok := sh.entries[key]; ok {
		if store.RefusedNanos(e.last, n, interval) {
			return false, nil
		}
	}
	sh.entries[key] = entry{last: n, interval: int64(interval)}
	return true, nil
}

// sweep drops every entry that can no longer refuse anything at now. It runs
// when the caller's clock has moved by an interval since the last sweep, in
// either direction, so a clock step cannot stop sweeping. Called with sh.mu
// held.
func (sh *shard) sweep(now int64) {
	for k, e := range sh.entries {
		if !store.RefusedNanos(e.last, now, time.Duration(e.interval)) {
			delete(sh.entries, k)
		}
	}
	sh.lastSweep = now
}

// Last implements store.Store.
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
	if sh.entries == nil {
		return time.Time{}, false, store.ErrClosed
	}
	e, ok := sh.entries[key]
	if !ok {
		return time.Time{}, false, nil
	}
	return time.Unix(0, e.last).UTC(), true, nil
}

// Len reports how many entries the store holds now, swept or not. It is
// meant for tests and metrics; it locks every shard in turn.
func (s *Store) Len() int {
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		total += len(sh.entries)
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
		sh.entries = nil
		sh.mu.Unlock()
	}
	return nil
}
