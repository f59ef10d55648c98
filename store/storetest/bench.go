package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// keyPool is how many distinct keys the renewal benchmarks cycle through;
// after each pass the clock moves on by one interval, so every call renews.
const keyPool = 1 << 14

// Keys returns n keys shaped like the middleware's session keys (32 hex
// digits of a digest), for benchmarks and tests that need many.
func Keys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		sum := sha256.Sum256([]byte("session-" + strconv.Itoa(i)))
		keys[i] = hex.EncodeToString(sum[:16])
	}
	return keys
}

// Benchmark measures a backend with the calls the middleware makes:
//
//	renew            Allow that records (a session renews)
//	refuse           Allow that is refused (a session renewed recently)
//	renew/parallel   renew from GOMAXPROCS goroutines, distinct keys
//	renew/parallel64 renew from 64 goroutines, distinct keys
//	refuse/parallel  refuse from GOMAXPROCS goroutines, one key each
//
// Each checks, after the timer, that every call got the answer it should.
func Benchmark(b *testing.B, newStore Factory) {
	keys := Keys(keyPool)
	ctx := context.Background()
	open := func(b *testing.B) store.Store {
		b.Helper()
		s := newStore(b)
		b.Cleanup(func() { _ = s.Close() })
		return s
	}
	// at returns the key and time of the i-th renewal in a sequence in which
	// every call is due: a key comes back only one interval later.
	at := func(i int64) (string, time.Time) {
		return keys[i%keyPool], Base.Add(time.Duration(i/keyPool) * Interval)
	}

	b.Run("renew", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		b.ResetTimer()
		allowed := 0
		for i := 0; i < b.N; i++ {
			k, now := at(int64(i))
			ok, err := s.Allow(ctx, k, now, Interval)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				allowed++
			}
		}
		b.StopTimer()
		if allowed != b.N {
			b.Fatalf("allowed %d of %d renewals, want all", allowed, b.N)
		}
	})

	b.Run("refuse", func(b *testing.B) {
		s := open(b)
		if ok, err := s.Allow(ctx, keys[0], Base, Interval); !ok || err != nil {
			b.Fatalf("first Allow = %v, %v", ok, err)
		}
		now := Base.Add(Interval / 2)
		b.ReportAllocs()
		b.ResetTimer()
		allowed := 0
		for i := 0; i < b.N; i++ {
			ok, err := s.Allow(ctx, keys[0], now, Interval)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				allowed++
			}
		}
		b.StopTimer()
		if allowed != 0 {
			b.Fatalf("allowed %d of %d calls within the interval, want none", allowed, b.N)
		}
	})

	parallelRenew := func(b *testing.B, goroutines int) {
		s := open(b)
		if goroutines > 0 {
			p := (goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
			b.SetParallelism(p)
		}
		var next, allowed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k, now := at(next.Add(1) - 1)
				ok, err := s.Allow(ctx, k, now, Interval)
				if err != nil {
					b.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
		b.StopTimer()
		if got, want := allowed.Load(), next.Load(); got != want {
			b.Fatalf("allowed %d of %d renewals, want all", got, want)
		}
	}
	b.Run("renew/parallel", func(b *testing.B) { parallelRenew(b, 0) })
	b.Run("renew/parallel64", func(b *testing.B) { parallelRenew(b, 64) })

	b.Run("refuse/parallel", func(b *testing.B) {
		s := open(b)
		for _, k := range keys[:256] {
			if ok, err := s.Allow(ctx, k, Base, Interval); !ok || err != nil {
				b.Fatalf("first Allow = %v, %v", ok, err)
			}
		}
		now := Base.Add(Interval / 2)
		var worker, allowed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := keys[(worker.Add(1)-1)%256]
			for pb.Next() {
				ok, err := s.Allow(ctx, k, now, Interval)
				if err != nil {
					b.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
		b.StopTimer()
		if allowed.Load() != 0 {
			b.Fatalf("allowed %d calls within the interval, want none", allowed.Load())
		}
	})
}
