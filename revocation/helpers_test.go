package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// base is where the tests' clocks start.
var base = storetest.Base

// lifetime is how long the tests' revocations last.
const lifetime = time.Hour

// settle bounds waits for the List's own goroutines or for another
// process (a redis-server); it is a guard against hangs, never a
// measure of speed.
const settle = 30 * time.Second

func sessionKey(i int) store.RevocationKey {
	return store.SessionRevocationKey(fmt.Sprintf("session-%d", i))
}
func subjectKey(i int) store.RevocationKey {
	return store.SubjectRevocationKey(fmt.Sprintf("user-%d", i))
}

// noKey is a key that no revocation in the tests uses.
var noKey = store.SessionRevocationKey("nobody")

// newList makes a List over backend with a test clock, fails the test if
// opts are refused, and closes it when the test ends. Errors of its
// background work go to the test log.
func newList(t testing.TB, backend store.Revoker, clock *testkit.Clock, opts revocation.Options) *revocation.List {
	t.Helper()
	opts.Backend = backend
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.OnError == nil {
		opts.OnError = func(err error) { t.Logf("background: %v", err) }
	}
	l, err := revocation.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// newMemory returns a memory backend holding at most maxRevocations (0:
// the default), closed when the test ends.
func newMemory(t testing.TB, maxRevocations int) *memory.Store {
	t.Helper()
	s := memory.New(&memory.Options{MaxRevocations: maxRevocations})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// wantVerdict fails the test unless l.Check answers want.
func wantVerdict(t testing.TB, l *revocation.List, session, subject store.RevocationKey, authTime, now time.Time, want revocation.Verdict) {
	t.Helper()
	if got := l.Check(session, subject, authTime, now); got != want {
		t.Errorf("Check(session %s, subject %s, auth +%v, now +%v) = %v, want %v",
			session, subject, authTime.Sub(base), now.Sub(base), got, want)
	}
}

// eventually polls cond until it holds or settle has passed, and returns
// how long that took. It is for conditions another goroutine or process
// brings about on its own schedule.
func eventually(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > settle {
			t.Fatalf("%s: not within %v", what, settle)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition another goroutine or process sets
	}
	return time.Since(start)
}

// errDown is what a backend that is down answers.
var errDown = errors.New("backend down")

// flaky is a backend that can be taken down, and can lose its state (its
// memory store is replaced by an empty one, as a Redis server that
// restarted without persistence). It is a store.RevocationFeed when feed is
// set, else only a store.Revoker (see plain).
type flaky struct {
	maxRevocations int
	down           atomic.Bool
	reads          atomic.Int64 // calls to Revocations and RevocationsSince
	revokes        atomic.Int64 // calls to Revoke

	mu    sync.Mutex
	inner *memory.Store
}

func newFlaky(t testing.TB, maxRevocations int) *flaky {
	f := &flaky{maxRevocations: maxRevocations, inner: memory.New(&memory.Options{MaxRevocations: maxRevocations})}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func (f *flaky) store() *memory.Store {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inner
}

// lose replaces the backend's state with an empty one.
func (f *flaky) lose() {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.inner.Close()
	f.inner = memory.New(&memory.Options{MaxRevocations: f.maxRevocations})
}

func (f *flaky) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	f.revokes.Add(1)
	if f.down.Load() {
		return errDown
	}
	return f.store().Revoke(ctx, r, now)
}

func (f *flaky) Revocations(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	f.reads.Add(1)
	if f.down.Load() {
		return nil, errDown
	}
	return f.store().Revocations(ctx, now)
}

func (f *flaky) RevocationsSince(ctx context.Context, c store.RevocationCursor, now time.Time, limit int) (store.RevocationPage, error) {
	f.reads.Add(1)
	if f.down.Load() {
		return store.RevocationPage{}, errDown
	}
	return f.store().RevocationsSince(ctx, c, now, limit)
}

func (f *flaky) Close() error { return f.store().Close() }

// plain hides every optional interface of a Revoker.
type plain struct{ store.Revoker }

var (
	_ store.RevocationFeed = (*flaky)(nil)
	_ store.Revoker        = plain{}
)

// revokeIn records revocations straight in a backend, as another instance
// would.
func revokeIn(t testing.TB, b store.Revoker, now time.Time, rs ...store.Revocation) {
	t.Helper()
	for _, r := range rs {
		storetest.MustRevoke(t, b, r, now)
	}
}

func sessionRev(i int, until time.Time) store.Revocation {
	return store.Revocation{Kind: store.RevokeSession, Key: sessionKey(i), Before: base, Until: until}
}

func subjectRev(i int, before, until time.Time) store.Revocation {
	return store.Revocation{Kind: store.RevokeSubject, Key: subjectKey(i), Before: before, Until: until}
}

// watching is a backend whose watch delivers what the test sends on push,
// whether the backend holds it or not, so a test can tell a watch from a
// catch-up. Each subscription is announced on subscribed; a value on fail
// ends the current watch with that error.
type watching struct {
	*flaky
	push       chan store.Revocation
	fail       chan error
	subscribed chan struct{}
}

func newWatching(t testing.TB) *watching {
	return &watching{
		flaky:      newFlaky(t, 0),
		push:       make(chan store.Revocation),
		fail:       make(chan error),
		subscribed: make(chan struct{}, 10),
	}
}

func (w *watching) WatchRevocations(ctx context.Context, revoked func(store.Revocation), subscribed func()) error {
	subscribed()
	w.subscribed <- struct{}{}
	for {
		select {
		case r := <-w.push:
			revoked(r)
		case err := <-w.fail:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var _ store.RevocationWatcher = (*watching)(nil)

// gate is a backend whose Revoke waits, once it has said so on entered,
// until the test sends on release.
type gate struct {
	store.Revoker
	entered chan struct{}
	release chan struct{}
}

func (g *gate) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	g.entered <- struct{}{}
	<-g.release
	return g.Revoker.Revoke(ctx, r, now)
}
