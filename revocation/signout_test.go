package revocation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// slowWrite is a backend whose Revoke takes took of the test clock: the
// clock moves on while the write is on its way, as it does over a slow
// network. It records when its first write returned: from then on the
// List knows the revocation.
type slowWrite struct {
	store.Revoker
	clock    *testkit.Clock
	took     time.Duration
	returned time.Time
}

func (s *slowWrite) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	s.clock.Set(s.clock.Now().Add(s.took))
	err := s.Revoker.Revoke(ctx, r, now)
	if s.returned.IsZero() {
		s.returned = s.clock.Now()
	}
	return err
}

// signOutSettings are the settings of the SignOut tests: users' tokens
// live 24 hours, guests' 2 hours, with a 5-second leeway.
func signOutSettings() config.Settings {
	s := config.Default()
	s.Secret = "signout-test-secret-0123456789abcdef"
	s.UserLifetime, s.GuestLifetime = 24*time.Hour, 2*time.Hour
	s.Leeway = 5 * time.Second
	return s
}

// recorded returns the revocation of kind and key the backend holds.
func recorded(t *testing.T, b store.Revoker, kind store.RevocationKind, key store.RevocationKey, now time.Time) store.Revocation {
	t.Helper()
	rs, err := b.Revocations(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind == kind && r.Key == key {
			return r
		}
	}
	t.Fatalf("no %s revocation of %s in the backend (it holds %d)", kind, key, len(rs))
	return store.Revocation{}
}

// TestSignOutLastsFromTheWrite: a revocation lasts one longest lifetime,
// plus the leeway and the List's margin, from when its write returned,
// not from when it was asked for: a session may renew until then. For a
// subject, from the later of that moment and the cut-off, even when the
// cut-off lies hours in the past.
func TestSignOutLastsFromTheWrite(t *testing.T) {
	t.Parallel()
	const took = 10 * time.Minute
	s := signOutSettings()
	for _, tc := range []struct {
		name   string
		before time.Duration // the subject's cut-off, from the first reading
	}{
		{"cut-off now", 0},
		{"cut-off an hour ago", -time.Hour},
		{"cut-off 30 hours ago, beyond any lifetime", -30 * time.Hour},
		{"cut-off in an hour", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := testkit.NewClock(base)
			mem := newMemory(t, 0)
			backend := &slowWrite{Revoker: mem, clock: clock, took: took}
			l := newList(t, backend, clock, revocation.Options{})
			l.Enforce()
			so, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			slack := s.Leeway + l.Margin()
			asked := clock.Now()
			cut := asked.Add(tc.before)
			if err := so.Subject(context.Background(), "alice", cut); err != nil {
				t.Fatal(err)
			}
			returned := backend.returned
			r := recorded(t, mem, store.RevokeSubject, store.SubjectRevocationKey("alice"), clock.Now())
			if want := laterOf(cut, returned).Add(24*time.Hour + slack); r.Until.Before(want) {
				t.Errorf("Until = asked + %v, want at least asked + %v (the later of the cut-off and the write's return, plus the lifetime and slack)", r.Until.Sub(asked), want.Sub(asked))
			}
			if !r.Before.Equal(cut) {
				t.Errorf("Before = %v, want the cut-off %v", r.Before, cut)
			}
		})
	}
	t.Run("session", func(t *testing.T) {
		t.Parallel()
		clock := testkit.NewClock(base)
		mem := newMemory(t, 0)
		backend := &slowWrite{Revoker: mem, clock: clock, took: took}
		l := newList(t, backend, clock, revocation.Options{})
		l.Enforce()
		so, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		asked := clock.Now()
		claims := &token.Claims{Subject: "alice", Session: "s-1", ExpiresAt: asked.Add(time.Hour)}
		if err := so.Session(context.Background(), claims); err != nil {
			t.Fatal(err)
		}
		r := recorded(t, mem, store.RevokeSession, store.SessionRevocationKey("s-1"), clock.Now())
		if want := backend.returned.Add(24*time.Hour + s.Leeway + l.Margin()); r.Until.Before(want) {
			t.Errorf("Until = asked + %v, want at least asked + %v", r.Until.Sub(asked), want.Sub(asked))
		}
	})
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestSignOutSharedSubjects: "log out everywhere" is refused with
// ErrSharedSubject, changing nothing, for a guest's token whatever its
// sub, a token without sub and a subject listed as shared (by default
// LightRAG's "guest"); SharedSubject does it all the same. An app's own
// list replaces the default.
func TestSignOutSharedSubjects(t *testing.T) {
	t.Parallel()
	s := signOutSettings()
	clock := testkit.NewClock(base)
	mem := newMemory(t, 0)
	l := newList(t, mem, clock, revocation.Options{})
	l.Enforce()
	so, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := base.Add(time.Hour)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Everywhere, a guest's token with its own sub", func() error {
			return so.Everywhere(ctx, &token.Claims{Subject: "visitor-7", Role: "guest", Session: "g1", ExpiresAt: exp})
		}},
		{"Everywhere, the guest subject", func() error {
			return so.Everywhere(ctx, &token.Claims{Subject: "guest", Role: "user", Session: "g2", ExpiresAt: exp})
		}},
		{"Everywhere, no sub", func() error {
			return so.Everywhere(ctx, &token.Claims{Role: "user", Session: "g3", ExpiresAt: exp})
		}},
		{"Subject, the guest subject", func() error { return so.Subject(ctx, "guest", base) }},
	} {
		if err := tc.call(); !errors.Is(err, revocation.ErrSharedSubject) {
			t.Errorf("%s: %v; want ErrSharedSubject", tc.name, err)
		}
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("the refused sign-outs recorded %d revocations, want none", n)
	}
	if err := so.Everywhere(ctx, &token.Claims{Subject: "alice", Role: "user", Session: "a1", ExpiresAt: exp}); err != nil {
		t.Errorf("Everywhere for a user: %v", err)
	}
	if err := so.SharedSubject(ctx, "guest", base); err != nil {
		t.Errorf("SharedSubject(guest): %v", err)
	}
	if got := l.Check(store.SessionRevocationKey("x"), store.SubjectRevocationKey("guest"), base.Add(-time.Second), base); got != revocation.Revoked {
		t.Errorf("a guest session begun before the override: %v, want revoked", got)
	}

	own, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{Now: clock.Now, SharedSubjects: []string{"kiosk"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := own.Subject(ctx, "kiosk", base); !errors.Is(err, revocation.ErrSharedSubject) {
		t.Errorf("an app's shared subject: %v; want ErrSharedSubject", err)
	}
	if err := own.Subject(ctx, "guest", base); err != nil {
		t.Errorf("guest, with an app's own list that leaves it out: %v", err)
	}
	if _, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{SharedSubjects: []string{""}}); err == nil {
		t.Error(`SharedSubjects [""]: no error`)
	}
}

// TestSignOutNeedsEnforcedList: a sign-out into a List that no middleware
// of the process checks fails with ErrNotEnforced and records nothing, so
// a /logout cannot answer "signed out" while the signed-out token goes on
// working; a program signing out for other processes says so.
func TestSignOutNeedsEnforcedList(t *testing.T) {
	t.Parallel()
	s := signOutSettings()
	clock := testkit.NewClock(base)
	l := newList(t, newMemory(t, 0), clock, revocation.Options{})
	so, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	claims := &token.Claims{Subject: "alice", Role: "user", Session: "a1", ExpiresAt: base.Add(time.Hour)}
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"Session":    func() error { return so.Session(ctx, claims) },
		"Everywhere": func() error { return so.Everywhere(ctx, claims) },
		"Subject":    func() error { return so.Subject(ctx, "alice", base) },
	} {
		if err := call(); !errors.Is(err, revocation.ErrNotEnforced) {
			t.Errorf("%s: %v; want ErrNotEnforced", name, err)
		}
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("%d revocations recorded, want none", n)
	}
	remote, err := revocation.NewSignOut(l, s, &revocation.SignOutOptions{Now: clock.Now, ForOtherProcesses: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Session(ctx, claims); err != nil {
		t.Errorf("ForOtherProcesses: %v", err)
	}
	l.Enforce()
	if err := so.Subject(ctx, "alice", base); err != nil {
		t.Errorf("once enforced: %v", err)
	}
}
