package revocation_test

import (
	"context"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// These tests roll a real redis-server back to an older state under the
// same history (its epoch key survives in the snapshot): it comes back
// from an RDB snapshot taken before the last changes, as after a restart
// from a backup, the loss of the append-only file's last second, or a
// failover to a replica that lagged.

// revokeEventually records r in b, retrying while the server comes back.
func revokeEventually(t *testing.T, b store.Revoker, r store.Revocation, now time.Time) {
	t.Helper()
	var err error
	eventually(t, "a revocation is recorded", func() bool {
		err = b.Revoke(context.Background(), r, now)
		return err == nil
	})
}

// wantSessions fails the test unless l answers want for each session.
func wantSessions(t *testing.T, name string, l *revocation.List, now time.Time, want revocation.Verdict, sessions ...int) {
	t.Helper()
	for _, i := range sessions {
		if got := l.Check(sessionKey(i), noKey, base, now); got != want {
			t.Errorf("%s: session %d is %v, want %v", name, i, got, want)
		}
	}
}

// TestRedisRollbackSequence is the sequence of the issue: B revokes 1 and
// 2, the server saves a snapshot, B revokes 3 and 4, A catches up, the
// server restarts from the snapshot, and B revokes 5 and 6 while A gets no
// pub/sub message (as while it subscribes again). The new changes bring
// the server's sequence number back to A's cursor, yet A must see that its
// history was lost: it refuses 5 and 6, writes back 3 and 4 (and only
// them), counts the reset, and an instance started afterwards refuses 3
// and 4.
func TestRedisRollbackSequence(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	b := openRedis(t, srv, prefix)
	a := newList(t, feedOnly{openRedis(t, srv, prefix)}, clock, revocation.Options{CatchUp: time.Hour})
	until := base.Add(lifetime)

	revokeIn(t, b, clock.Now(), sessionRev(1, until), sessionRev(2, until))
	srv.Save()
	revokeIn(t, b, clock.Now(), sessionRev(3, until), sessionRev(4, until))
	if err := a.Sync(context.Background()); err != nil {
		t.Fatalf("A Sync: %v", err)
	}
	wantSessions(t, "A before the restart", a, clock.Now(), revocation.Revoked, 1, 2, 3, 4)

	srv.RestartFromSnapshot()
	storetest.WantRevocations(t, b, clock.Now(), sessionRev(1, until), sessionRev(2, until))
	revokeEventually(t, b, sessionRev(5, until), clock.Now())
	revokeEventually(t, b, sessionRev(6, until), clock.Now())

	syncEventually(t, "A", a)
	wantSessions(t, "A", a, clock.Now(), revocation.Revoked, 1, 2, 3, 4, 5, 6)
	if got, want := a.Resets(), int64(1); got != want {
		t.Errorf("A Resets = %d, want %d", got, want)
	}
	if got, want := a.WrittenBack(), int64(2); got != want {
		t.Errorf("A WrittenBack = %d, want %d (3 and 4, which the server lost)", got, want)
	}
	c := waitReady(t, openRedis(t, srv, prefix), clock)
	wantSessions(t, "C, started afterwards", c, clock.Now(), revocation.Revoked, 1, 2, 3, 4, 5, 6)
	wantSessions(t, "C", c, clock.Now(), revocation.OK, 7)
}

// TestRedisRollbacks: rollbacks of one change and of many (more than a
// write-back batch, some of them extensions of revocations the snapshot
// holds), followed by as many new changes, or more, or fewer: A sees each,
// learns the new changes, and writes back exactly what the server lost.
func TestRedisRollbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		kept, lost, new int
		extended        int // of the kept ones, extended after the snapshot
	}{
		{"one change, one new", 1, 1, 1, 0},
		{"one extension, one new", 1, 0, 1, 1},
		{"many changes, as many new", 20, 300, 300 + 10, 10},
		{"many changes, more new", 5, 40, 100, 0},
		{"many changes, fewer new", 5, 40, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			prefix := uniquePrefix()
			clock := testkit.NewClock(base)
			b := openRedis(t, srv, prefix)
			a := newList(t, feedOnly{openRedis(t, srv, prefix)}, clock, revocation.Options{CatchUp: time.Hour})
			until := base.Add(lifetime)
			longer := base.Add(2 * lifetime)
			var kept, lost, fresh []int
			for i := range tt.kept {
				kept = append(kept, i)
				revokeIn(t, b, clock.Now(), sessionRev(i, until))
			}
			srv.Save()
			for i := range tt.extended {
				revokeIn(t, b, clock.Now(), sessionRev(kept[i], longer))
			}
			for i := range tt.lost {
				lost = append(lost, 1000+i)
				revokeIn(t, b, clock.Now(), sessionRev(1000+i, until))
			}
			if err := a.Sync(context.Background()); err != nil {
				t.Fatalf("A Sync: %v", err)
			}

			srv.RestartFromSnapshot()
			for i := range tt.new {
				fresh = append(fresh, 5000+i)
				revokeEventually(t, b, sessionRev(5000+i, until), clock.Now())
			}
			syncEventually(t, "A", a)
			wantSessions(t, "A", a, clock.Now(), revocation.Revoked, append(append(kept, lost...), fresh...)...)
			if got, want := a.Resets(), int64(1); got != want {
				t.Errorf("A Resets = %d, want %d", got, want)
			}
			if got, want := a.WrittenBack(), int64(tt.lost+tt.extended); got != want {
				t.Errorf("A WrittenBack = %d, want %d (what the server lost)", got, want)
			}
			// After the extended ones' first Until, they still hold.
			later := until.Add(time.Minute)
			c := waitReady(t, openRedis(t, srv, prefix), clock)
			wantSessions(t, "C", c, clock.Now(), revocation.Revoked, append(append(kept, lost...), fresh...)...)
			wantSessions(t, "C, extended", c, later, revocation.Revoked, kept[:tt.extended]...)
			// A second catch-up finds the history whole.
			if err := a.Sync(context.Background()); err != nil {
				t.Fatalf("A Sync again: %v", err)
			}
			if got, want := a.Resets(), int64(1); got != want {
				t.Errorf("A Resets after another catch-up = %d, want %d", got, want)
			}
		})
	}
}

// TestRedisNoFalseRollback: many catch-ups by two instances while
// revocations are made, made again (the same, and extended), expire and
// are pruned by the server, and while an instance reads in pages: none of
// that is taken for a lost history, so neither instance resets or writes
// anything back, and both end up with what the server holds.
func TestRedisNoFalseRollback(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	b := openRedis(t, srv, prefix)
	raw := openRedis(t, srv, prefix)
	lists := map[string]*revocation.List{
		"A": newList(t, feedOnly{openRedis(t, srv, prefix)}, clock, revocation.Options{CatchUp: time.Hour}),
		"B": newList(t, b, clock, revocation.Options{CatchUp: time.Hour}),
	}
	ctx := context.Background()
	cursor := store.RevocationCursor{}
	const rounds = 150
	for round := range rounds {
		now := clock.Now()
		// New ones, some short enough to expire a few rounds later.
		revokeIn(t, raw, now, sessionRev(round, now.Add(time.Duration(1+round%4)*time.Second)))
		if err := lists["B"].RevokeSession(ctx, sessionKey(10_000+round), now.Add(lifetime)); err != nil {
			t.Fatalf("B RevokeSession: %v", err)
		}
		// The same again, and an extension of an older one.
		if round > 0 {
			revokeIn(t, raw, now, sessionRev(10_000+round-1, now.Add(lifetime)))
		}
		if round > 2 {
			revokeIn(t, raw, now, sessionRev(round-2, now.Add(3*time.Second)))
		}
		for name, l := range lists {
			if round%3 == 0 && name == "A" {
				continue // A sometimes skips a catch-up
			}
			if err := l.Sync(ctx); err != nil {
				t.Fatalf("round %d: %s Sync: %v", round, name, err)
			}
		}
		// A reader of two-revocation pages, with a change between pages.
		page, err := raw.RevocationsSince(ctx, cursor, now, 2)
		if err != nil {
			t.Fatalf("round %d: RevocationsSince: %v", round, err)
		}
		if page.Reset {
			t.Fatalf("round %d: a page read reset from %+v", round, cursor)
		}
		cursor = page.Next
		clock.Set(now.Add(time.Second))
	}
	now := clock.Now()
	if err := lists["A"].Sync(ctx); err != nil {
		t.Fatalf("A Sync: %v", err)
	}
	held, err := raw.Revocations(ctx, now)
	if err != nil {
		t.Fatalf("Revocations: %v", err)
	}
	for name, l := range lists {
		if got := l.Resets(); got != 0 {
			t.Errorf("%s Resets = %d after %d rounds without a rollback, want 0", name, got, rounds)
		}
		if got := l.WrittenBack(); got != 0 {
			t.Errorf("%s WrittenBack = %d after %d rounds without a rollback, want 0", name, got, rounds)
		}
		for _, r := range held {
			if got := l.Check(r.Key, noKey, base, now); got != revocation.Revoked {
				t.Errorf("%s: session %s, held by the server, is %v", name, r.Key, got)
			}
		}
	}
	if len(held) < rounds {
		t.Errorf("the server holds %d revocations; want at least the %d long ones", len(held), rounds)
	}
}

// TestRedisRollbackHeardOnly: an instance W that learned sign-outs by
// pub/sub alone, and read none of them in a catch-up (its cursor stands
// before them), still sees that the server lost them after a restart from
// an older snapshot: its next catch-up does not read them back, so it
// writes them back, and an instance started afterwards refuses them.
func TestRedisRollbackHeardOnly(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	b := openRedis(t, srv, prefix)
	ws := newSpy(openRedis(t, srv, prefix))
	w := newList(t, ws, clock, revocation.Options{CatchUp: time.Hour})
	<-ws.subscribed
	until := base.Add(lifetime)

	revokeIn(t, b, clock.Now(), sessionRev(1, until), sessionRev(2, until))
	srv.Save()
	revokeIn(t, b, clock.Now(), sessionRev(3, until), sessionRev(4, until))
	eventually(t, "W hears the sign-outs", func() bool {
		return w.Check(sessionKey(4), noKey, base, clock.Now()) == revocation.Revoked
	})
	srv.RestartFromSnapshot()
	syncEventually(t, "W", w)
	wantSessions(t, "W", w, clock.Now(), revocation.Revoked, 1, 2, 3, 4)
	if got, want := w.WrittenBack(), int64(2); got != want {
		t.Errorf("W WrittenBack = %d, want %d (3 and 4)", got, want)
	}
	c := waitReady(t, openRedis(t, srv, prefix), clock)
	wantSessions(t, "C, started afterwards", c, clock.Now(), revocation.Revoked, 1, 2, 3, 4)
}
