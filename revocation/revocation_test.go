package revocation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	backend := newMemory(t, 0)
	tests := []struct {
		name string
		opts revocation.Options
		want string
	}{
		{"no backend", revocation.Options{}, "Options.Backend is nil"},
		{"negative cap", revocation.Options{Backend: backend, MaxRevocations: -1}, "Options.MaxRevocations is -1"},
		{"negative catch-up", revocation.Options{Backend: backend, CatchUp: -time.Second}, "Options.CatchUp is -1s"},
		{"negative staleness", revocation.Options{Backend: backend, StaleAfter: -time.Second}, "Options.StaleAfter is -1s"},
		{"stale before a catch-up", revocation.Options{Backend: backend, CatchUp: 2 * time.Second, StaleAfter: time.Second},
			"Options.StaleAfter is 1s, shorter than Options.CatchUp 2s"},
		{"unknown policy", revocation.Options{Backend: backend, WhenStale: 7}, "Options.WhenStale is 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := revocation.New(context.Background(), tt.opts)
			if err == nil {
				_ = l.Close()
				t.Fatalf("New(%+v) succeeded; want an error", tt.opts)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestCheck: what a session and a subject revocation match, at the edges
// of the cut-off and of Until.
func TestCheck(t *testing.T) {
	t.Parallel()
	cut := base.Add(10 * time.Minute)
	until := base.Add(lifetime)
	backend := newMemory(t, 0)
	revokeIn(t, backend, base, sessionRev(1, until), subjectRev(1, cut, until))
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{})
	if !l.Ready() {
		t.Fatalf("Ready = false after New over a working backend")
	}
	// The same key as a session is not the subject's revocation, and the
	// reverse: kinds are apart.
	sameAsSubject := store.RevocationKey(subjectKey(1))
	tests := []struct {
		name             string
		session, subject store.RevocationKey
		auth, now        time.Time
		want             revocation.Verdict
	}{
		{"revoked session", sessionKey(1), subjectKey(2), base, base, revocation.Revoked},
		{"revoked session, issued after the revocation", sessionKey(1), subjectKey(2), until.Add(-time.Minute), base, revocation.Revoked},
		{"other session", sessionKey(2), subjectKey(2), base, base, revocation.OK},
		{"subject, issued before the cut-off", sessionKey(2), subjectKey(1), cut.Add(-time.Nanosecond), base, revocation.Revoked},
		{"subject, issued at the cut-off", sessionKey(2), subjectKey(1), cut, base, revocation.OK},
		{"subject, issued after the cut-off", sessionKey(2), subjectKey(1), cut.Add(time.Second), base, revocation.OK},
		{"subject, no issue time", sessionKey(2), subjectKey(1), time.Time{}, base, revocation.Revoked},
		{"session, one ns before Until", sessionKey(1), subjectKey(2), base, until.Add(-time.Nanosecond), revocation.Revoked},
		{"session at Until", sessionKey(1), subjectKey(2), base, until, revocation.OK},
		{"subject at Until", sessionKey(2), subjectKey(1), base, until, revocation.OK},
		{"subject key given as a session", sameAsSubject, subjectKey(2), base, base, revocation.OK},
		{"session key given as a subject", sessionKey(2), store.RevocationKey(sessionKey(1)), base, base, revocation.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantVerdict(t, l, tt.session, tt.subject, tt.auth, tt.now, tt.want)
		})
	}
}

// TestRevokeIsSeenAtOnce: a revocation made through a List is refused by
// it on the next Check, and recorded in the backend.
func TestRevokeIsSeenAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
	until := base.Add(lifetime)
	if err := l.RevokeSession(ctx, sessionKey(1), until); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	cut := base.Add(time.Second)
	if err := l.RevokeSubject(ctx, subjectKey(1), cut, until); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	wantVerdict(t, l, sessionKey(1), noKey, base, base, revocation.Revoked)
	wantVerdict(t, l, noKey, subjectKey(1), base, base, revocation.Revoked)
	wantVerdict(t, l, noKey, subjectKey(1), cut, base, revocation.OK)
	storetest.WantRevocations(t, backend, base, sessionRev(1, until), subjectRev(1, cut, until))
	if got, want := l.Len(), 2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

// TestRevokeNothingLive: a revocation whose Until is not after now revokes
// nothing and is no error; a bad time is an error that says which.
func TestRevokeNothingLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{})
	if err := l.RevokeSession(ctx, sessionKey(1), base); err != nil {
		t.Errorf("RevokeSession(until now) = %v; want nil", err)
	}
	if err := l.RevokeSubject(ctx, subjectKey(1), base, base.Add(-time.Hour)); err != nil {
		t.Errorf("RevokeSubject(until an hour ago) = %v; want nil", err)
	}
	if got := l.Len(); got != 0 {
		t.Errorf("Len = %d, want 0", got)
	}
	err := l.RevokeSubject(ctx, subjectKey(1), time.Time{}, base.Add(time.Hour))
	if !errors.Is(err, store.ErrTimeRange) || !strings.Contains(err.Error(), "Before") {
		t.Errorf("RevokeSubject(zero before) = %v; want an error wrapping ErrTimeRange that names Before", err)
	}
	storetest.WantRevocations(t, backend, base)
}

// TestCatchUpBringsOtherInstancesRevocations: a revocation made through
// one List reaches another on the same backend at its next Sync, and
// extensions merge.
func TestCatchUpBringsOtherInstancesRevocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		wrap func(store.Revoker) store.Revoker
	}{
		{"feed", func(r store.Revoker) store.Revoker { return r }},
		{"full reads", func(r store.Revoker) store.Revoker { return plain{r} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			backend := tt.wrap(newMemory(t, 0))
			clock := testkit.NewClock(base)
			a := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
			b := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
			until := base.Add(lifetime)
			if err := a.RevokeSubject(ctx, subjectKey(1), base, until); err != nil {
				t.Fatalf("RevokeSubject: %v", err)
			}
			wantVerdict(t, b, noKey, subjectKey(1), base.Add(-time.Second), base, revocation.OK) // not yet
			if err := b.Sync(ctx); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			wantVerdict(t, b, noKey, subjectKey(1), base.Add(-time.Second), base, revocation.Revoked)

			// A later cut-off from B reaches A.
			later := base.Add(time.Minute)
			if err := b.RevokeSubject(ctx, subjectKey(1), later, until); err != nil {
				t.Fatalf("RevokeSubject: %v", err)
			}
			if err := a.Sync(ctx); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			wantVerdict(t, a, noKey, subjectKey(1), later.Add(-time.Second), base, revocation.Revoked)
		})
	}
}

// TestBackgroundCatchUp: without any Sync call, a List learns another's
// revocation within a few catch-up periods.
func TestBackgroundCatchUp(t *testing.T) {
	t.Parallel()
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	a := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
	b := newList(t, backend, clock, revocation.Options{CatchUp: 5 * time.Millisecond})
	if err := a.RevokeSession(context.Background(), sessionKey(1), base.Add(lifetime)); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	d := eventually(t, "B refuses the session A revoked", func() bool {
		return b.Check(sessionKey(1), noKey, base, base) == revocation.Revoked
	})
	t.Logf("seen by B after %v (catch-up every 5ms)", d)
}

// TestLocalCap: the List refuses a new revocation beyond its cap with
// store.ErrRevocationsFull and records it nowhere; merging into a held one
// still works, and expired ones make room.
func TestLocalCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const limit = 3
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{MaxRevocations: limit})
	short := base.Add(time.Minute)
	for i := range limit {
		if err := l.RevokeSession(ctx, sessionKey(i), short); err != nil {
			t.Fatalf("RevokeSession(%d): %v", i, err)
		}
	}
	err := l.RevokeSession(ctx, sessionKey(limit), base.Add(lifetime))
	if !errors.Is(err, store.ErrRevocationsFull) || !strings.Contains(err.Error(), "MaxRevocations is 3") {
		t.Fatalf("RevokeSession beyond the cap = %v; want store.ErrRevocationsFull naming the cap", err)
	}
	for i := range limit {
		wantVerdict(t, l, sessionKey(i), noKey, base, base, revocation.Revoked)
	}
	wantVerdict(t, l, sessionKey(limit), noKey, base, base, revocation.OK)
	if got, err := backend.Revocations(ctx, base); err != nil || len(got) != limit {
		t.Errorf("backend holds %d, %v; want %d: a refused revocation reaches nowhere", len(got), err, limit)
	}
	// Merging needs no room.
	if err := l.RevokeSession(ctx, sessionKey(0), base.Add(lifetime)); err != nil {
		t.Fatalf("RevokeSession extending a held one: %v", err)
	}
	// Once two expire, there is room for two.
	clock.Set(short)
	for i := limit; i < limit+2; i++ {
		if err := l.RevokeSession(ctx, sessionKey(i), base.Add(lifetime)); err != nil {
			t.Fatalf("RevokeSession(%d) after others expired: %v", i, err)
		}
	}
	wantVerdict(t, l, sessionKey(0), noKey, base, short, revocation.Revoked)
	if got, want := l.Len(), limit; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

// TestBackendCap: a revocation the backend refuses fails with its error and
// changes nothing locally.
func TestBackendCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := newMemory(t, 1)
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{})
	if err := l.RevokeSession(ctx, sessionKey(1), base.Add(lifetime)); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	err := l.RevokeSession(ctx, sessionKey(2), base.Add(lifetime))
	if !errors.Is(err, store.ErrRevocationsFull) {
		t.Fatalf("RevokeSession beyond the backend's cap = %v; want store.ErrRevocationsFull", err)
	}
	wantVerdict(t, l, sessionKey(2), noKey, base, base, revocation.OK)
	if got := l.Len(); got != 1 {
		t.Errorf("Len = %d, want 1", got)
	}
}

// TestNeverForgetsAndWritesBack: a backend that lost its state leaves the
// List's answers unchanged; the List writes what it holds back, so a List
// created afterwards refuses the same tokens. With a feed the loss shows as
// a new epoch; without one, as revocations missing from a full read.
func TestNeverForgetsAndWritesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		wrap func(*flaky) store.Revoker
	}{
		{"feed", func(f *flaky) store.Revoker { return f }},
		{"full reads", func(f *flaky) store.Revoker { return plain{f} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFlaky(t, 0)
			backend := tt.wrap(f)
			clock := testkit.NewClock(base)
			a := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
			until := base.Add(lifetime)
			cut := base.Add(time.Second)
			if err := a.RevokeSession(ctx, sessionKey(1), until); err != nil {
				t.Fatalf("RevokeSession: %v", err)
			}
			if err := a.RevokeSubject(ctx, subjectKey(1), cut, until); err != nil {
				t.Fatalf("RevokeSubject: %v", err)
			}
			f.lose()
			clock.Set(base.Add(time.Minute))
			now := clock.Now()
			wantVerdict(t, a, sessionKey(1), noKey, base, now, revocation.Revoked)

			if err := a.Sync(ctx); err != nil {
				t.Fatalf("Sync after the loss: %v", err)
			}
			wantVerdict(t, a, sessionKey(1), noKey, base, now, revocation.Revoked)
			wantVerdict(t, a, noKey, subjectKey(1), base, now, revocation.Revoked)
			storetest.WantRevocations(t, f.store(), now, store.Revocation{Kind: store.RevokeSession, Key: sessionKey(1), Before: base, Until: until},
				subjectRev(1, cut, until))

			c := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
			wantVerdict(t, c, sessionKey(1), noKey, base, now, revocation.Revoked)
			wantVerdict(t, c, noKey, subjectKey(1), base, now, revocation.Revoked)
		})
	}
}

// TestNotReadyUntilLoaded: a List whose backend is down at New answers
// NotReady, its Staleness grows with its clock, and it becomes Ready, by
// itself, once the backend answers.
func TestNotReadyUntilLoaded(t *testing.T) {
	t.Parallel()
	f := newFlaky(t, 0)
	revokeIn(t, f, base, sessionRev(1, base.Add(lifetime)))
	f.down.Store(true)
	clock := testkit.NewClock(base)
	var mu sync.Mutex
	var errs []error
	l := newList(t, f, clock, revocation.Options{CatchUp: 5 * time.Millisecond, OnError: func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}})
	if l.Ready() {
		t.Fatalf("Ready = true with the backend down")
	}
	wantVerdict(t, l, sessionKey(1), noKey, base, base, revocation.NotReady)
	wantVerdict(t, l, sessionKey(2), noKey, base, base, revocation.NotReady)
	clock.Set(base.Add(7 * time.Second))
	if got, want := l.Staleness(clock.Now()), 7*time.Second; got != want {
		t.Errorf("Staleness before the first load = %v, want %v (since New)", got, want)
	}
	mu.Lock()
	if len(errs) == 0 || !errors.Is(errs[0], errDown) {
		t.Errorf("OnError got %v; want the failed load first", errs)
	}
	mu.Unlock()

	f.down.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if err := l.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	now := clock.Now()
	wantVerdict(t, l, sessionKey(1), noKey, base, now, revocation.Revoked)
	wantVerdict(t, l, sessionKey(2), noKey, base, now, revocation.OK)
	if got := l.Staleness(now); got != 0 {
		t.Errorf("Staleness right after the load = %v, want 0", got)
	}
}

// TestStalePolicy: while the backend is down, Staleness grows with the
// clock; Check answers from the copy (ServeLastKnown) or NotReady once
// StaleAfter has passed (Refuse), and both recover when it is back.
func TestStalePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const staleAfter = 3 * time.Second
	tests := []struct {
		policy        revocation.StalePolicy
		revoked, good revocation.Verdict // once stale
	}{
		{revocation.ServeLastKnown, revocation.Revoked, revocation.OK},
		{revocation.Refuse, revocation.NotReady, revocation.NotReady},
	}
	for _, tt := range tests {
		t.Run(map[revocation.StalePolicy]string{revocation.ServeLastKnown: "ServeLastKnown", revocation.Refuse: "Refuse"}[tt.policy], func(t *testing.T) {
			t.Parallel()
			f := newFlaky(t, 0)
			revokeIn(t, f, base, sessionRev(1, base.Add(lifetime)))
			clock := testkit.NewClock(base)
			l := newList(t, f, clock, revocation.Options{CatchUp: time.Second, StaleAfter: staleAfter, WhenStale: tt.policy})
			f.down.Store(true)
			for _, step := range []time.Duration{time.Second, staleAfter} {
				clock.Set(base.Add(step))
				if err := l.Sync(ctx); !errors.Is(err, errDown) {
					t.Fatalf("Sync with the backend down = %v; want errDown", err)
				}
				if got := l.Staleness(clock.Now()); got != step {
					t.Errorf("Staleness = %v, want %v", got, step)
				}
			}
			// Exactly StaleAfter old is still fresh; a nanosecond more is not.
			now := base.Add(staleAfter)
			wantVerdict(t, l, sessionKey(1), noKey, base, now, revocation.Revoked)
			wantVerdict(t, l, sessionKey(2), noKey, base, now, revocation.OK)
			now = now.Add(time.Nanosecond)
			wantVerdict(t, l, sessionKey(1), noKey, base, now, tt.revoked)
			wantVerdict(t, l, sessionKey(2), noKey, base, now, tt.good)

			f.down.Store(false)
			clock.Set(now)
			if err := l.Sync(ctx); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			wantVerdict(t, l, sessionKey(1), noKey, base, now, revocation.Revoked)
			wantVerdict(t, l, sessionKey(2), noKey, base, now, revocation.OK)
		})
	}
}

// TestOverflow: a backend holding far more than the List's cap (twice it)
// makes the List answer NotReady rather than drop a revocation; once enough
// expire, a sync reads everything again and the List answers again.
func TestOverflow(t *testing.T) {
	t.Parallel()
	const limit = 2 // so at most 4 learned from the backend
	backend := newMemory(t, 0)
	short := base.Add(time.Minute)
	for i := range 3 {
		revokeIn(t, backend, base, sessionRev(i, short))
	}
	for i := 3; i < 6; i++ {
		revokeIn(t, backend, base, sessionRev(i, base.Add(lifetime)))
	}
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{MaxRevocations: limit, CatchUp: time.Hour})
	wantVerdict(t, l, noKey, noKey, base, base, revocation.NotReady)

	clock.Set(short)
	if err := l.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	for i := 3; i < 6; i++ {
		wantVerdict(t, l, sessionKey(i), noKey, base, short, revocation.Revoked)
	}
	wantVerdict(t, l, sessionKey(0), noKey, base, short, revocation.OK)
	if got, want := l.Len(), 3; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

// TestClose: Close is idempotent, stops the background work, and leaves a
// List that refuses to answer or to revoke.
func TestClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		backend := newMemory(t, 0)
		clock := testkit.NewClock(base)
		l := newList(t, backend, clock, revocation.Options{CatchUp: time.Millisecond})
		if err := l.RevokeSession(ctx, sessionKey(1), base.Add(lifetime)); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
		for range 2 {
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		wantVerdict(t, l, sessionKey(1), noKey, base, base, revocation.NotReady)
		wantVerdict(t, l, sessionKey(2), noKey, base, base, revocation.NotReady)
		if err := l.RevokeSession(ctx, sessionKey(2), base.Add(lifetime)); !errors.Is(err, store.ErrClosed) {
			t.Errorf("RevokeSession after Close = %v; want ErrClosed", err)
		}
		if err := l.Sync(ctx); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Sync after Close = %v; want ErrClosed", err)
		}
		if err := l.WaitReady(ctx); !errors.Is(err, store.ErrClosed) {
			t.Errorf("WaitReady after Close = %v; want ErrClosed", err)
		}
		// The backend stays open.
		storetest.WantRevocations(t, backend, base, sessionRev(1, base.Add(lifetime)))
	})
	t.Run("never loaded", func(t *testing.T) {
		t.Parallel()
		f := newFlaky(t, 0)
		f.down.Store(true)
		l := newList(t, f, testkit.NewClock(base), revocation.Options{CatchUp: time.Millisecond})
		waited := make(chan error, 1)
		go func() { waited <- l.WaitReady(ctx) }()
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case err := <-waited:
			if !errors.Is(err, store.ErrClosed) {
				t.Errorf("WaitReady ended by Close = %v; want ErrClosed", err)
			}
		case <-time.After(settle):
			t.Fatalf("WaitReady still waiting %v after Close", settle)
		}
		// No catch-up after Close returned.
		reads := f.reads.Load()
		f.down.Store(false)
		if err := l.Sync(ctx); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Sync after Close = %v; want ErrClosed", err)
		}
		if got := f.reads.Load(); got != reads {
			t.Errorf("the backend was read %d more times after Close", got-reads)
		}
	})
}

// TestConcurrentUse checks, revokes and syncs from many goroutines at once;
// under -race it also checks the locking. Every revocation made is
// refused afterwards.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const writers, perWriter, readers = 8, 50, 8
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	a := newList(t, backend, clock, revocation.Options{CatchUp: time.Millisecond})
	b := newList(t, backend, clock, revocation.Options{CatchUp: time.Millisecond})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l := []*revocation.List{a, b}[r%2]
				if v := l.Check(sessionKey(i%(writers*perWriter)), subjectKey(i%writers), base, base); v == revocation.NotReady {
					t.Errorf("Check = NotReady on a loaded List")
					return
				}
			}
		}()
	}
	var writersDone sync.WaitGroup
	for w := range writers {
		writersDone.Add(1)
		go func() {
			defer writersDone.Done()
			l := []*revocation.List{a, b}[w%2]
			for i := range perWriter {
				if err := l.RevokeSession(ctx, sessionKey(w*perWriter+i), base.Add(lifetime)); err != nil {
					t.Errorf("RevokeSession: %v", err)
				}
			}
			if err := l.RevokeSubject(ctx, subjectKey(w), base, base.Add(lifetime)); err != nil {
				t.Errorf("RevokeSubject: %v", err)
			}
		}()
	}
	writersDone.Wait()
	close(stop)
	wg.Wait()
	for _, l := range []*revocation.List{a, b} {
		if err := l.Sync(ctx); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		for i := range writers * perWriter {
			wantVerdict(t, l, sessionKey(i), noKey, base, base, revocation.Revoked)
		}
		for w := range writers {
			wantVerdict(t, l, noKey, subjectKey(w), base.Add(-time.Second), base, revocation.Revoked)
		}
	}
}

// TestCheckAllocations: the request path allocates nothing.
func TestCheckAllocations(t *testing.T) {
	backend := newMemory(t, 0)
	revokeIn(t, backend, base, sessionRev(1, base.Add(lifetime)), subjectRev(1, base, base.Add(lifetime)))
	l := newList(t, backend, testkit.NewClock(base), revocation.Options{})
	for _, tt := range []struct {
		name             string
		session, subject store.RevocationKey
		want             revocation.Verdict
	}{
		{"ok", sessionKey(2), subjectKey(2), revocation.OK},
		{"revoked session", sessionKey(1), subjectKey(2), revocation.Revoked},
		{"revoked subject", sessionKey(2), subjectKey(1), revocation.Revoked},
	} {
		var got revocation.Verdict
		allocs := testing.AllocsPerRun(1000, func() {
			got = l.Check(tt.session, tt.subject, base.Add(-time.Second), base)
		})
		if got != tt.want {
			t.Errorf("%s: Check = %v, want %v", tt.name, got, tt.want)
		}
		if allocs != 0 {
			t.Errorf("%s: Check allocates %v times per call, want 0", tt.name, allocs)
		}
	}
}

func TestVerdictString(t *testing.T) {
	t.Parallel()
	for v, want := range map[revocation.Verdict]string{
		revocation.NotReady: "not ready", revocation.OK: "ok", revocation.Revoked: "revoked", 9: "Verdict(9)",
	} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", uint8(v), got, want)
		}
	}
}

// TestMergeNeverShortens: revoking again with an earlier cut-off or Until
// leaves the later ones in force, in the copy as in the backend.
func TestMergeNeverShortens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
	long, short := base.Add(2*lifetime), base.Add(lifetime)
	late, early := base.Add(time.Minute), base.Add(time.Second)
	if err := l.RevokeSubject(ctx, subjectKey(1), late, long); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
	}
	if err := l.RevokeSubject(ctx, subjectKey(1), early, short); err != nil {
		t.Fatalf("RevokeSubject again: %v", err)
	}
	if err := l.RevokeSession(ctx, sessionKey(1), long); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if err := l.RevokeSession(ctx, sessionKey(1), short); err != nil {
		t.Fatalf("RevokeSession again: %v", err)
	}
	wantVerdict(t, l, noKey, subjectKey(1), early, short, revocation.Revoked)
	wantVerdict(t, l, sessionKey(1), noKey, base, short, revocation.Revoked)
	storetest.WantRevocations(t, backend, base, subjectRev(1, late, long), sessionRev(1, long))
}

// TestWatch: what a watch delivers is in force at once, without a catch-up;
// each subscription asks for a catch-up; a watch that fails is reported
// and subscribed again.
func TestWatch(t *testing.T) {
	t.Parallel()
	subscribed := func(t *testing.T, w *watching) {
		t.Helper()
		select {
		case <-w.subscribed:
		case <-time.After(settle):
			t.Fatalf("no subscription within %v", settle)
		}
	}
	t.Run("delivers", func(t *testing.T) {
		t.Parallel()
		w := newWatching(t)
		// No periodic catch-up within the test: only the subscription
		// can ask for one.
		l := newList(t, w, testkit.NewClock(base), revocation.Options{CatchUp: time.Hour})
		subscribed(t, w)
		eventually(t, "a catch-up after the subscription", func() bool { return w.reads.Load() >= 2 })

		w.push <- sessionRev(1, base.Add(lifetime)) // the backend does not hold it: only the watch can tell
		eventually(t, "the pushed revocation in force", func() bool {
			return l.Check(sessionKey(1), noKey, base, base) == revocation.Revoked
		})
	})
	t.Run("fails and subscribes again", func(t *testing.T) {
		t.Parallel()
		w := newWatching(t)
		errs := make(chan error, 10)
		newList(t, w, testkit.NewClock(base), revocation.Options{CatchUp: 5 * time.Millisecond, StaleAfter: time.Hour,
			OnError: func(err error) { errs <- err }})
		subscribed(t, w)
		w.fail <- errors.New("connection reset")
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "connection reset") {
				t.Errorf("OnError got %v; want the watch's error", err)
			}
		case <-time.After(settle):
			t.Fatalf("the failed watch was not reported within %v", settle)
		}
		subscribed(t, w)
	})
}

// TestExpiredLeaveTheCopy: the copy drops what expired, about once a
// minute of its clock, so Len follows the live revocations.
func TestExpiredLeaveTheCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := newMemory(t, 0)
	clock := testkit.NewClock(base)
	l := newList(t, backend, clock, revocation.Options{CatchUp: time.Hour})
	for i := range 5 {
		if err := l.RevokeSession(ctx, sessionKey(i), base.Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
	}
	if err := l.RevokeSession(ctx, sessionKey(9), base.Add(lifetime)); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	clock.Set(base.Add(time.Minute))
	if err := l.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got, want := l.Len(), 1; got != want {
		t.Errorf("Len a minute later = %d, want %d", got, want)
	}
	wantVerdict(t, l, sessionKey(9), noKey, base, clock.Now(), revocation.Revoked)
}

// TestReservationAtCap: while one new revocation is on its way to the
// backend, it holds the last place: a second one fails at once instead of
// overfilling the copy.
func TestReservationAtCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := &gate{Revoker: plain{newMemory(t, 0)}, entered: make(chan struct{}, 2), release: make(chan struct{})}
	l := newList(t, g, testkit.NewClock(base), revocation.Options{MaxRevocations: 1, CatchUp: time.Hour})
	first := make(chan error, 1)
	go func() { first <- l.RevokeSession(ctx, sessionKey(1), base.Add(lifetime)) }()
	<-g.entered
	second := make(chan error, 1)
	go func() { second <- l.RevokeSession(ctx, sessionKey(2), base.Add(lifetime)) }()
	select {
	case err := <-second:
		if !errors.Is(err, store.ErrRevocationsFull) {
			t.Errorf("RevokeSession while the last place is taken = %v; want store.ErrRevocationsFull", err)
		}
	case <-g.entered:
		t.Errorf("RevokeSession while the last place is taken went on to the backend; want store.ErrRevocationsFull at once")
	}
	close(g.release)
	if err := <-first; err != nil {
		t.Fatalf("first RevokeSession: %v", err)
	}
}
