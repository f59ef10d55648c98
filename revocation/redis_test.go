package revocation_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// These tests run Lists as separate instances would: each with its own
// redis Store (its own client and connections) on one real redis-server.

var prefixes atomic.Int64

func uniquePrefix() string { return fmt.Sprintf("revtest%d:", prefixes.Add(1)) }

// openRedis returns a Store on srv under prefix, closed when the test ends
// (after the Lists over it, which close first: cleanups run last-in
// first-out).
func openRedis(t testing.TB, srv *redistest.Server, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.Open(srv.URL(), &redis.Options{RevocationKeyPrefix: prefix, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// spy is a redis Store that reports its subscriptions, counts its
// catch-up reads and keeps the sequence number of the last page read.
type spy struct {
	*redis.Store
	subscribed chan struct{}
	reads      atomic.Int64
	seq        atomic.Int64
}

func newSpy(s *redis.Store) *spy { return &spy{Store: s, subscribed: make(chan struct{}, 10)} }

func (s *spy) RevocationsSince(ctx context.Context, c store.RevocationCursor, now time.Time, limit int) (store.RevocationPage, error) {
	p, err := s.Store.RevocationsSince(ctx, c, now, limit)
	if err == nil {
		s.reads.Add(1)
		s.seq.Store(p.Next.Seq)
	}
	return p, err
}

func (s *spy) WatchRevocations(ctx context.Context, revoked func(store.Revocation), subscribed func()) error {
	return s.Store.WatchRevocations(ctx, revoked, func() {
		subscribed()
		s.subscribed <- struct{}{}
	})
}

// feedOnly hides a backend's watch: only catch-up reads bring revocations.
type feedOnly struct{ store.RevocationFeed }

// TestPropagation: a revocation made on instance A is refused by instance
// B, through the watch (pub/sub) alone, and through the catch-up read
// alone. The delay is logged, not asserted.
func TestPropagation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("watch", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		prefix := uniquePrefix()
		clock := testkit.NewClock(base)
		a := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
		bs := newSpy(openRedis(t, srv, prefix))
		// No periodic catch-up within the test: once the catch-up that the
		// subscription asks for is done, only the watch can tell B.
		b := newList(t, bs, clock, revocation.Options{CatchUp: time.Hour})
		select {
		case <-bs.subscribed:
		case <-time.After(settle):
			t.Fatalf("B did not subscribe within %v", settle)
		}
		eventually(t, "B's catch-up after subscribing", func() bool { return bs.reads.Load() >= 2 })
		reads := bs.reads.Load()

		start := time.Now()
		if err := a.RevokeSession(ctx, sessionKey(1), base.Add(lifetime)); err != nil {
			t.Fatalf("RevokeSession on A: %v", err)
		}
		eventually(t, "B refuses the session A revoked", func() bool {
			return b.Check(sessionKey(1), noKey, base, base) == revocation.Revoked
		})
		t.Logf("A's revocation refused by B %v after A's RevokeSession began (pub/sub)", time.Since(start))
		if got := bs.reads.Load(); got != reads {
			t.Errorf("B read the backend %d times meanwhile; want the watch alone", got-reads)
		}
	})
	t.Run("catch-up", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		prefix := uniquePrefix()
		clock := testkit.NewClock(base)
		a := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
		b := newList(t, feedOnly{openRedis(t, srv, prefix)}, clock, revocation.Options{}) // the default period, 1s
		start := time.Now()
		if err := a.RevokeSubject(ctx, subjectKey(1), base, base.Add(lifetime)); err != nil {
			t.Fatalf("RevokeSubject on A: %v", err)
		}
		eventually(t, "B refuses the subject A revoked", func() bool {
			return b.Check(noKey, subjectKey(1), base.Add(-time.Second), base) == revocation.Revoked
		})
		t.Logf("A's revocation refused by B %v after A's RevokeSubject began (catch-up every %v)", time.Since(start), revocation.DefaultCatchUp)
	})
}

// revokeOnA revokes session 1 and subject 1 through a, and returns what
// Check must refuse from then on.
func revokeOnA(t *testing.T, a *revocation.List) []store.Revocation {
	t.Helper()
	ctx := context.Background()
	until := base.Add(lifetime)
	if err := a.RevokeSession(ctx, sessionKey(1), until); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if err := a.RevokeSubject(ctx, subjectKey(1), base, until); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	return []store.Revocation{sessionRev(1, until), subjectRev(1, base, until)}
}

// wantRefused fails the test unless every List refuses session 1 and the
// tokens of subject 1 issued before base, and accepts others.
func wantRefused(t *testing.T, now time.Time, lists map[string]*revocation.List) {
	t.Helper()
	for name, l := range lists {
		if got := l.Check(sessionKey(1), noKey, base, now); got != revocation.Revoked {
			t.Errorf("%s: session 1 is %v, want revoked", name, got)
		}
		if got := l.Check(noKey, subjectKey(1), base.Add(-time.Second), now); got != revocation.Revoked {
			t.Errorf("%s: subject 1 is %v, want revoked", name, got)
		}
		if got := l.Check(sessionKey(2), subjectKey(2), base, now); got != revocation.OK {
			t.Errorf("%s: session 2 is %v, want ok", name, got)
		}
	}
}

// syncEventually calls l.Sync until it succeeds: after a restart the
// client reconnects on its own schedule.
func syncEventually(t *testing.T, name string, l *revocation.List) {
	t.Helper()
	var err error
	eventually(t, name+" syncs again", func() bool {
		err = l.Sync(context.Background())
		return err == nil
	})
}

// waitReady creates a List on a fresh Store and waits until it has loaded.
func waitReady(t *testing.T, backend store.Revoker, clock *testkit.Clock) *revocation.List {
	t.Helper()
	l := newList(t, backend, clock, revocation.Options{CatchUp: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if err := l.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return l
}

// TestRedisRestart: Redis stopped and restarted (with its append-only
// file) between a revocation and later checks: nothing revoked comes back
// to life on A, on B, or on a List C created afterwards.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.AppendOnly())
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	a := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
	b := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
	want := revokeOnA(t, a)
	if err := b.Sync(context.Background()); err != nil {
		t.Fatalf("B Sync: %v", err)
	}

	srv.Stop()
	clock.Set(base.Add(time.Minute))
	wantRefused(t, clock.Now(), map[string]*revocation.List{"A": a, "B": b})
	srv.Restart()

	// The server itself kept them.
	raw := openRedis(t, srv, prefix)
	got := eventuallyRevocations(t, raw, clock.Now())
	storetest.SameRevocations(t, "Redis after the restart", got, want)

	syncEventually(t, "A", a)
	syncEventually(t, "B", b)
	c := waitReady(t, openRedis(t, srv, prefix), clock)
	wantRefused(t, clock.Now(), map[string]*revocation.List{"A": a, "B": b, "C": c})
}

// TestRedisFlushAll: Redis emptied (FLUSHALL) after a revocation: A and B
// still refuse, A writes back what it holds, and a List C created
// afterwards refuses too.
func TestRedisFlushAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	a := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
	b := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
	want := revokeOnA(t, a)
	if err := b.Sync(ctx); err != nil {
		t.Fatalf("B Sync: %v", err)
	}

	admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = admin.Close() })
	if err := admin.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	raw := openRedis(t, srv, prefix)
	storetest.WantRevocations(t, raw, clock.Now())
	clock.Set(base.Add(time.Minute))
	wantRefused(t, clock.Now(), map[string]*revocation.List{"A": a, "B": b})

	for name, l := range map[string]*revocation.List{"A": a, "B": b} {
		if err := l.Sync(ctx); err != nil {
			t.Fatalf("%s Sync after FLUSHALL: %v", name, err)
		}
	}
	storetest.WantRevocations(t, raw, clock.Now(), want...)
	c := waitReady(t, openRedis(t, srv, prefix), clock)
	wantRefused(t, clock.Now(), map[string]*revocation.List{"A": a, "B": b, "C": c})
}

// TestRedisUnreachableAtStart: a List started while Redis is down answers
// NotReady, its staleness grows, and it loads by itself once Redis is up.
func TestRedisUnreachableAtStart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	// The revocation is in Redis before the List starts.
	a := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
	revokeOnA(t, a)
	srv.Stop()

	l := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: 20 * time.Millisecond})
	if l.Ready() {
		t.Fatalf("Ready with Redis down")
	}
	wantVerdict(t, l, sessionKey(1), noKey, base, base, revocation.NotReady)
	wantVerdict(t, l, sessionKey(2), noKey, base, base, revocation.NotReady)
	clock.Set(base.Add(5 * time.Second))
	if got, want := l.Staleness(clock.Now()), 5*time.Second; got != want {
		t.Errorf("Staleness = %v, want %v", got, want)
	}

	srv.Restart() // empty: the server ran without persistence
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if err := l.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady after Redis came back: %v", err)
	}
	wantVerdict(t, l, sessionKey(2), noKey, base, clock.Now(), revocation.OK)
	// A still holds what the empty server lost, and writes it back.
	syncEventually(t, "A", a)
	eventually(t, "the List learns A's write-back", func() bool {
		return l.Check(sessionKey(1), noKey, base, clock.Now()) == revocation.Revoked
	})
}

// TestRedisStaleness: while Redis is down, Staleness grows with the clock
// and the last known list keeps answering; it is back to zero after a sync
// once Redis is up.
func TestRedisStaleness(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.AppendOnly())
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	a := newList(t, openRedis(t, srv, prefix), clock, revocation.Options{CatchUp: time.Hour})
	revokeOnA(t, a)
	srv.Stop()
	for _, d := range []time.Duration{2 * time.Second, 10 * time.Second} {
		clock.Set(base.Add(d))
		if err := a.Sync(context.Background()); err == nil {
			t.Fatalf("Sync with Redis down succeeded")
		}
		if got := a.Staleness(clock.Now()); got != d {
			t.Errorf("Staleness after %v down = %v, want %v", d, got, d)
		}
		wantRefused(t, clock.Now(), map[string]*revocation.List{"A": a})
	}
	srv.Restart()
	syncEventually(t, "A", a)
	if got := a.Staleness(clock.Now()); got != 0 {
		t.Errorf("Staleness after a sync = %v, want 0", got)
	}
}

func eventuallyRevocations(t *testing.T, r store.Revoker, now time.Time) []store.Revocation {
	t.Helper()
	var got []store.Revocation
	eventually(t, "Redis answers after the restart", func() bool {
		var err error
		got, err = r.Revocations(context.Background(), now)
		return err == nil
	})
	return got
}
