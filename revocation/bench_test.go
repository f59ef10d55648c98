package revocation_test

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
)

// synthetic is a read-only backend that makes up n revocations as they
// are read, half sessions and half subjects, so that measuring the copy
// measures nothing of a backend's own memory.
type synthetic struct{ n int }

func (s synthetic) revocation(i int) store.Revocation {
	r := store.Revocation{Kind: store.RevokeSession, Key: store.SessionRevocationKey("s" + strconv.Itoa(i)),
		Before: base, Until: base.Add(lifetime)}
	if i%2 == 1 {
		r.Kind, r.Key = store.RevokeSubject, store.SubjectRevocationKey("u"+strconv.Itoa(i))
	}
	return r
}

func (s synthetic) RevocationsSince(_ context.Context, c store.RevocationCursor, _ time.Time, limit int) (store.RevocationPage, error) {
	end := min(int(c.Seq)+limit, s.n)
	page := store.RevocationPage{Next: store.RevocationCursor{Epoch: "synthetic", Seq: int64(end)}, More: end < s.n}
	for i := int(c.Seq); i < end; i++ {
		page.Revocations = append(page.Revocations, s.revocation(i))
	}
	return page, nil
}

func (s synthetic) Revoke(context.Context, store.Revocation, time.Time) error {
	return errors.New("synthetic backend is read-only")
}

func (s synthetic) Revocations(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	p, err := s.RevocationsSince(ctx, store.RevocationCursor{}, now, s.n)
	return p.Revocations, err
}

func (synthetic) Close() error { return nil }

// loaded returns a List that holds n synthetic revocations.
func loaded(b *testing.B, n int) *revocation.List {
	b.Helper()
	l := newList(b, synthetic{n}, testkit.NewClock(base), revocation.Options{CatchUp: time.Hour, MaxRevocations: n})
	if got := l.Len(); got != n {
		b.Fatalf("List holds %d revocations, want %d", got, n)
	}
	return l
}

// BenchmarkCheck measures the request path with 10 000 revocations loaded:
//
//	ok                a token that no revocation matches (both maps looked up)
//	revoked-session   a token whose session is revoked (one look-up)
//	revoked-subject   a token issued before its subject's cut-off
//	ok/parallel       ok from GOMAXPROCS goroutines
//
// Each checks, after the timer, that every call got the answer it should.
func BenchmarkCheck(b *testing.B) {
	const n = 10_000
	l := loaded(b, n)
	s := synthetic{n}
	var fresh []store.RevocationKey
	for i := range 1024 {
		fresh = append(fresh, store.SessionRevocationKey("fresh"+strconv.Itoa(i)))
	}
	auth, now := base.Add(-time.Second), base
	run := func(b *testing.B, session, subject func(i int) store.RevocationKey, want revocation.Verdict) {
		b.ReportAllocs()
		wrong := 0
		for i := 0; b.Loop(); i++ {
			if l.Check(session(i), subject(i), auth, now) != want {
				wrong++
			}
		}
		if wrong > 0 {
			b.Fatalf("%d checks did not answer %v", wrong, want)
		}
	}
	freshKey := func(i int) store.RevocationKey { return fresh[i%len(fresh)] }
	sessions, subjects := make([]store.RevocationKey, n/2), make([]store.RevocationKey, n/2)
	for i := range n / 2 {
		sessions[i], subjects[i] = s.revocation(2*i).Key, s.revocation(2*i+1).Key
	}
	b.Run("ok", func(b *testing.B) { run(b, freshKey, freshKey, revocation.OK) })
	b.Run("revoked-session", func(b *testing.B) {
		run(b, func(i int) store.RevocationKey { return sessions[i%len(sessions)] }, freshKey, revocation.Revoked)
	})
	b.Run("revoked-subject", func(b *testing.B) {
		run(b, freshKey, func(i int) store.RevocationKey { return subjects[i%len(subjects)] }, revocation.Revoked)
	})
	b.Run("ok/parallel", func(b *testing.B) {
		b.ReportAllocs()
		var wrong, worker atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine starts elsewhere in the keys, as requests
			// for different sessions would.
			for i := int(worker.Add(1)) * 397; pb.Next(); i++ {
				k := fresh[i%len(fresh)]
				if l.Check(k, k, auth, now) != revocation.OK {
					wrong.Add(1)
				}
			}
		})
		if wrong.Load() > 0 {
			b.Fatalf("%d checks did not answer ok", wrong.Load())
		}
	})
}

// memoryRevocations is how many revocations BenchmarkMemory loads.
const memoryRevocations = 1_000_000

// BenchmarkMemory loads a million revocations, half sessions and half
// subjects, into a List and reports the heap the copy keeps, after
// garbage collection, as bytes/revocation. It fails above 100 bytes, the
// budget the package promises (about 100 MB at the default cap).
func BenchmarkMemory(b *testing.B) {
	var perRevocation float64
	for b.Loop() {
		b.StopTimer()
		before := heap()
		b.StartTimer()
		l := loaded(b, memoryRevocations)
		b.StopTimer()
		perRevocation = float64(heap()-before) / memoryRevocations
		runtime.KeepAlive(l)
		_ = l.Close()
		b.StartTimer()
	}
	b.ReportMetric(perRevocation, "bytes/revocation")
	if perRevocation > 100 {
		b.Errorf("the copy keeps %.1f bytes per revocation; want at most 100", perRevocation)
	}
}

// heap returns the bytes of live heap objects after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// accepting is synthetic with a Revoke that records nothing and succeeds,
// so that a benchmark measures the List's side of a revocation.
type accepting struct{ synthetic }

func (accepting) Revoke(context.Context, store.Revocation, time.Time) error { return nil }

// BenchmarkRevokeSession measures the List's side of a new revocation
// with a million loaded (the backend's side is that backend's
// benchmark): one table of one shard is copied, so the cost grows with
// the revocations held. Each call revokes a new session.
func BenchmarkRevokeSession(b *testing.B) {
	l := newList(b, accepting{synthetic{memoryRevocations}}, testkit.NewClock(base), revocation.Options{CatchUp: time.Hour, MaxRevocations: 1 << 30})
	ctx := context.Background()
	b.ReportAllocs()
	var key store.RevocationKey
	copy(key[8:], "benchmark")
	i := 0
	for b.Loop() {
		binary.LittleEndian.PutUint64(key[:8], uint64(i)) // new, and not a digest: shards and filters are seeded
		if err := l.RevokeSession(ctx, key, base.Add(lifetime)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if got, want := l.Len(), memoryRevocations+i; got != want {
		b.Fatalf("Len = %d, want %d", got, want)
	}
}
