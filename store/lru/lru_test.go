package lru_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// open returns a store made with opts that is closed when the test ends.
func open(tb testing.TB, opts *lru.Options) *lru.Store {
	tb.Helper()
	s, err := lru.New(opts)
	if err != nil {
		tb.Fatalf("New(%+v): %v", opts, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// fill records every key at now and fails the test if one is refused.
func fill(tb testing.TB, s *lru.Store, keys []string, now time.Time) {
	tb.Helper()
	for _, k := range keys {
		if ok, err := s.Allow(context.Background(), k, now, storetest.Interval); !ok || err != nil {
			tb.Fatalf("Allow(%s, +%v) = %v, %v; want true, nil", k, now.Sub(storetest.Base), ok, err)
		}
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	// full prefills a store of 1024 entries with ten times as many live
	// keys, so every shard is at its bound before the suite starts and each
	// key the suite records evicts one.
	prefill := storetest.Keys(10 * 1024)
	full := func(tb testing.TB) store.Store {
		s, err := lru.New(&lru.Options{Size: 1024})
		if err != nil {
			tb.Fatalf("New: %v", err)
		}
		fill(tb, s, prefill, storetest.Base)
		if got, want := s.Len(), 1024; got != want {
			tb.Fatalf("prefilled Len = %d, want %d", got, want)
		}
		return s
	}
	tests := []struct {
		name    string
		factory storetest.Factory
	}{
		{"defaults", func(testing.TB) store.Store { s, _ := lru.New(nil); return s }},
		{"size 1024", func(testing.TB) store.Store { s, _ := lru.New(&lru.Options{Size: 1024}); return s }},
		{"size 1024 one shard", func(testing.TB) store.Store {
			s, _ := lru.New(&lru.Options{Size: 1024, Shards: 1})
			return s
		}},
		{"size 1024 full", full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, tt.factory)
		})
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(testing.TB) store.Store { s, _ := lru.New(nil); return s })
}

// BenchmarkStoreFull uses a store far smaller than the benchmark's pool of
// keys, so every renewal evicts an entry.
func BenchmarkStoreFull(b *testing.B) {
	storetest.Benchmark(b, func(testing.TB) store.Store { s, _ := lru.New(&lru.Options{Size: 1024}); return s })
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     *lru.Options
		wantSize int
		wantErr  []string // substrings of the error; nil for success
	}{
		{"nil", nil, lru.DefaultSize, nil},
		{"zero", &lru.Options{}, lru.DefaultSize, nil},
		{"one", &lru.Options{Size: 1}, 1, nil},
		{"more shards than entries", &lru.Options{Size: 3, Shards: 64}, 3, nil},
		{"negative size", &lru.Options{Size: -5}, 0, []string{"Options.Size", "-5"}},
		{"negative shards", &lru.Options{Size: 10, Shards: -2}, 0, []string{"Options.Shards", "-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := lru.New(tt.opts)
			if tt.wantErr != nil {
				if err == nil {
					_ = s.Close()
					t.Fatalf("New(%+v) error = nil, want one naming %q", tt.opts, tt.wantErr)
				}
				for _, sub := range tt.wantErr {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("New(%+v) error = %q, want it to contain %q", tt.opts, err, sub)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.opts, err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if got, want := s.Size(), tt.wantSize; got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			if got, want := s.Len(), 0; got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
		})
	}
}

// TestBound records ten times as many distinct, live keys as the store can
// hold: every call is granted, the store ends up holding exactly Size of
// them, never more on the way, and every key it pushed out is counted as an
// early eviction.
func TestBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts lru.Options
	}{
		{"one entry", lru.Options{Size: 1}},
		{"eight entries one shard", lru.Options{Size: 8, Shards: 1}},
		{"1000 default shards", lru.Options{Size: 1000}},
		{"1024 default shards", lru.Options{Size: 1024}},
		{"1000 in three shards", lru.Options{Size: 1000, Shards: 3}},
		{"3 in 64 shards", lru.Options{Size: 3, Shards: 64}},
		{"4096 in 16 shards", lru.Options{Size: 4096, Shards: 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t, &tt.opts)
			n := tt.opts.Size
			keys := storetest.Keys(10 * n)
			for i := 0; i < len(keys); i += n {
				fill(t, s, keys[i:i+n], storetest.Base)
				if got := s.Len(); got > n {
					t.Fatalf("after %d keys Len = %d, want at most %d", i+n, got, n)
				}
			}
			if got, want := s.Len(), n; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
			if got, want := s.Evictions(), uint64(9*n); got != want {
				t.Errorf("Evictions = %d, want %d", got, want)
			}
		})
	}
}

// TestEvictedKeyRenewsEarly shows the one way the store loses: a flood of
// new sessions evicts a key whose interval is still running, and that key
// then renews early instead of being refused. It is never refused because
// of the flood.
func TestEvictedKeyRenewsEarly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts lru.Options
	}{
		{"eight entries one shard", lru.Options{Size: 8, Shards: 1}},
		{"1024 default shards", lru.Options{Size: 1024}},
		{"4096 in 16 shards", lru.Options{Size: 4096, Shards: 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t, &tt.opts)
			const victim = "victim"
			base := storetest.Base
			allow := func(now time.Time, want bool) {
				t.Helper()
				got, err := s.Allow(ctx, victim, now, storetest.Interval)
				if err != nil || got != want {
					t.Fatalf("Allow(victim, +%v) = %v, %v; want %v, nil", now.Sub(base), got, err, want)
				}
			}
			allow(base, true)
			allow(base.Add(time.Second), false)

			fill(t, s, storetest.Keys(10*tt.opts.Size), base.Add(2*time.Second))
			if _, ok, err := s.Last(ctx, victim); ok || err != nil {
				t.Fatalf("after the flood Last(victim) ok, err = %v, %v; want false, nil", ok, err)
			}

			early := base.Add(3 * time.Second)
			if !store.Refused(base, early, storetest.Interval) {
				t.Fatalf("test is wrong: +%v is outside the first renewal's interval", early.Sub(base))
			}
			allow(early, true) // early: a store that kept the entry would refuse
			allow(early.Add(time.Second), false)
			if got := s.Evictions(); got == 0 {
				t.Errorf("Evictions = %d, want more than 0", got)
			}
		})
	}
}

// TestEvictionOrder checks, with one shard, which entry goes: the least
// recently renewed. A refusal does not count as use, so a session that is
// refused over and over still leaves in the order it renewed.
func TestEvictionOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, &lru.Options{Size: 3, Shards: 1})
	base := storetest.Base
	allow := func(key string, after, interval time.Duration, want bool) {
		t.Helper()
		if got, err := s.Allow(ctx, key, base.Add(after), interval); got != want || err != nil {
			t.Fatalf("Allow(%s, +%v, %v) = %v, %v; want %v, nil", key, after, interval, got, err, want)
		}
	}
	allow("a", 0, time.Minute, true)
	allow("b", 0, time.Second, true) // short interval: b may renew from +1s
	allow("c", 0, time.Minute, true)
	allow("a", 100*time.Millisecond, time.Minute, false) // refused: a stays oldest
	allow("d", 200*time.Millisecond, time.Minute, true)  // full: evicts a
	allow("b", 2*time.Second, time.Second, true)         // renewed: now newer than c and d
	allow("e", 3*time.Second, time.Minute, true)         // full: evicts c

	tests := []struct {
		key  string
		want bool
	}{
		{"a", false}, {"b", true}, {"c", false}, {"d", true}, {"e", true},
	}
	for _, tt := range tests {
		if _, got, err := s.Last(ctx, tt.key); got != tt.want || err != nil {
			t.Errorf("Last(%s) ok, err = %v, %v; want %v, nil", tt.key, got, err, tt.want)
		}
	}
	if got, want := s.Evictions(), uint64(2); got != want {
		t.Errorf("Evictions = %d, want %d", got, want)
	}
}

// TestIntervalOfTheCall checks that a call is judged by its own interval,
// not the one the entry was recorded with (which only decides when the entry
// may be dropped).
func TestIntervalOfTheCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		recorded time.Duration
		after    time.Duration
		interval time.Duration
		want     bool
	}{
		{"shorter than recorded, past it", time.Hour, 2 * time.Minute, time.Minute, true},
		{"shorter than recorded, within it", time.Hour, 30 * time.Second, time.Minute, false},
		{"longer than recorded, within it", time.Minute, 2 * time.Minute, time.Hour, false},
		{"longer than recorded, past it", time.Minute, time.Hour, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t, &lru.Options{Size: 16, Shards: 1})
			if ok, err := s.Allow(ctx, "k", storetest.Base, tt.recorded); !ok || err != nil {
				t.Fatalf("first Allow = %v, %v; want true, nil", ok, err)
			}
			got, err := s.Allow(ctx, "k", storetest.Base.Add(tt.after), tt.interval)
			if err != nil || got != tt.want {
				t.Errorf("Allow(+%v, %v) = %v, %v; want %v, nil", tt.after, tt.interval, got, err, tt.want)
			}
		})
	}
}

// TestPrune checks that entries whose interval has passed are dropped by
// later renewals, by the interval each entry was recorded with, so the store
// shrinks back after a burst instead of holding it until evicted.
func TestPrune(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		firstInterval time.Duration
		step          time.Duration // from the burst to the renewals after it
		wantLen       int           // after 1000 keys, then 500 others
	}{
		{"one interval later", storetest.Interval, storetest.Interval, 500},
		{"a nanosecond short", storetest.Interval, storetest.Interval - time.Nanosecond, 1500},
		{"backward clock step", storetest.Interval, -time.Hour, 500},
		{"short first interval", time.Second, time.Second, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t, &lru.Options{Size: 2048, Shards: 1})
			keys := storetest.Keys(1500)
			for _, k := range keys[:1000] {
				if ok, err := s.Allow(ctx, k, storetest.Base, tt.firstInterval); !ok || err != nil {
					t.Fatalf("Allow(%s) = %v, %v; want true, nil", k, ok, err)
				}
			}
			fill(t, s, keys[1000:], storetest.Base.Add(tt.step))
			if got, want := s.Len(), tt.wantLen; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
			if got, want := s.Evictions(), uint64(0); got != want {
				t.Errorf("Evictions = %d, want %d", got, want)
			}
		})
	}
}

// TestExactlyOneWinnerFullCache races many callers per key on a store that
// is already full, so each winner evicts an entry while the others wait for
// the lock. Each key still has exactly one winner.
func TestExactlyOneWinnerFullCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    lru.Options
		prefill int
		keys    int
	}{
		{"one shard", lru.Options{Size: 64, Shards: 1}, 64, 32},
		{"default shards", lru.Options{Size: 1024}, 10 * 1024, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const perKey = 16
			ctx := context.Background()
			s := open(t, &tt.opts)
			fill(t, s, storetest.Keys(tt.prefill), storetest.Base)
			if got, want := s.Len(), tt.opts.Size; got != want {
				t.Fatalf("prefilled Len = %d, want %d", got, want)
			}
			evictedBefore := s.Evictions()

			wins := make([]atomic.Int32, tt.keys)
			var start, done sync.WaitGroup
			start.Add(1)
			for r := range perKey {
				for k := range tt.keys {
					done.Add(1)
					go func() {
						defer done.Done()
						start.Wait()
						now := storetest.Base.Add(time.Duration(r) * time.Millisecond)
						ok, err := s.Allow(ctx, fmt.Sprintf("hot-%d", k), now, storetest.Interval)
						if err != nil {
							t.Errorf("Allow(hot-%d): %v", k, err)
							return
						}
						if ok {
							wins[k].Add(1)
						}
					}()
				}
			}
			start.Done()
			done.Wait()
			for k := range wins {
				if got, want := wins[k].Load(), int32(1); got != want {
					t.Errorf("hot-%d: winners = %d, want %d", k, got, want)
				}
			}
			if got, want := s.Len(), tt.opts.Size; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
			if got, want := s.Evictions()-evictedBefore, uint64(tt.keys); got != want {
				t.Errorf("evictions by the race = %d, want %d", got, want)
			}
		})
	}
}

// TestCloseWhileBusy runs the contract's close-while-busy check on a full
// store and then checks that nothing is held.
func TestCloseWhileBusy(t *testing.T) {
	t.Parallel()
	s := open(t, &lru.Options{Size: 256})
	storetest.CloseWhileBusy(t, s, nil)
	if got, want := s.Len(), 0; got != want {
		t.Errorf("Len after Close = %d, want %d", got, want)
	}
}

func ExampleNew() {
	s, err := lru.New(nil) // DefaultSize entries
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, _ := s.Allow(ctx, "session-digest", now, time.Minute)
	again, _ := s.Allow(ctx, "session-digest", now.Add(10*time.Second), time.Minute)
	later, _ := s.Allow(ctx, "session-digest", now.Add(time.Minute), time.Minute)
	fmt.Println(first, again, later)
	// Output: true false true
}

// A store of two entries, one shard for an exact order: two newer sessions
// push the first out, so it renews before its minute is up.
func ExampleNew_eviction() {
	s, err := lru.New(&lru.Options{Size: 2, Shards: 1})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, _ := s.Allow(ctx, "session-a", now, time.Minute)
	_, _ = s.Allow(ctx, "session-b", now.Add(time.Second), time.Minute)
	_, _ = s.Allow(ctx, "session-c", now.Add(2*time.Second), time.Minute) // evicts session-a
	early, _ := s.Allow(ctx, "session-a", now.Add(3*time.Second), time.Minute)
	fmt.Println(first, early, s.Len(), s.Evictions())
	// Output: true true 2 2
}
