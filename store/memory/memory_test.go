package memory_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) store.Store { return memory.New(nil) })
}

func TestConformanceOneShard(t *testing.T) {
	storetest.Run(t, func(testing.TB) store.Store { return memory.New(&memory.Options{Shards: 1}) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(testing.TB) store.Store { return memory.New(nil) })
}

func TestSweepBoundsEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 10000
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	keys := storetest.Keys(3 * n)
	allow := func(batch []string, now time.Time) {
		t.Helper()
		for _, k := range batch {
			if ok, err := s.Allow(ctx, k, now, storetest.Interval); !ok || err != nil {
				t.Fatalf("Allow(%s) = %v, %v; want true, nil", k, ok, err)
			}
		}
	}
	allow(keys[:n], storetest.Base)
	if got, want := s.Len(), n; got != want {
		t.Fatalf("after first burst Len = %d, want %d", got, want)
	}
	// One interval later the first burst is useless; the next burst's calls
	// sweep every shard they touch, which with 10 000 keys is all of them.
	allow(keys[n:2*n], storetest.Base.Add(storetest.Interval))
	if got, want := s.Len(), n; got != want {
		t.Fatalf("after second burst Len = %d, want %d (first burst swept)", got, want)
	}
	// A backward clock step of an hour also sweeps.
	allow(keys[2*n:], storetest.Base.Add(-time.Hour))
	if got, want := s.Len(), n; got != want {
		t.Fatalf("after a clock step Len = %d, want %d", got, want)
	}
}

func TestShardsRoundedUp(t *testing.T) {
	t.Parallel()
	// Any shard count works: a bad or huge one must not panic, hang or lose
	// keys.
	for _, shards := range []int{-5, 0, 1, 3, 100, memory.MaxShards + 1, math.MaxInt} {
		s := memory.New(&memory.Options{Shards: shards})
		for i, k := range storetest.Keys(100) {
			if ok, err := s.Allow(context.Background(), k, storetest.Base, time.Minute); !ok || err != nil {
				t.Fatalf("shards %d key %d: Allow = %v, %v", shards, i, ok, err)
			}
		}
		if got, want := s.Len(), 100; got != want {
			t.Errorf("shards %d: Len = %d, want %d", shards, got, want)
		}
		_ = s.Close()
	}
}

func ExampleNew() {
	s := memory.New(nil)
	defer s.Close()

	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, _ := s.Allow(ctx, "session-digest", now, time.Minute)
	again, _ := s.Allow(ctx, "session-digest", now.Add(10*time.Second), time.Minute)
	later, _ := s.Allow(ctx, "session-digest", now.Add(time.Minute), time.Minute)
	fmt.Println(first, again, later)
	// Output: true false true
}
