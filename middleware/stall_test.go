package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store"
)

// gateStore holds the first Allow call until release is closed (or its
// context ends) and passes every other call straight through: a store
// that has stopped answering one request, as a Redis behind a lost
// packet does.
type gateStore struct {
	store.Store
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (s *gateStore) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.entered)
		select {
		case <-s.release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return s.Store.Allow(ctx, key, now, interval)
}

// stallLimit bounds how long a request may take while another one waits on
// the store. It is not a speed target, only a guard that turns a deadlock
// into a failure that says which request was stuck instead of a test
// binary killed by its timeout.
const stallLimit = 30 * time.Second

// TestStoreWaitStallsNoOtherRequest holds one renewal inside the store and
// shows that nothing else waits for it: no lock is held across the store
// call. While it waits, a new token verifies, a cached one is served, a
// forged one is refused, another session renews, and the key set rotates
// with a token of the new key verifying; then the held renewal finishes
// with its new token.
func TestStoreWaitStallsNoOtherRequest(t *testing.T) {
	t.Parallel()
	gate := &gateStore{entered: make(chan struct{}), release: make(chan struct{})}
	a := newHostileApp(t, nil, func(_ *config.Settings, cfg *middleware.Config) {
		gate.Store = cfg.Store
		cfg.Store = gate
	})
	a.clock.Set(epoch.Add(dueAt))
	secret := []byte(hostileSecret)
	held := sign(t, jwt.SigningMethodHS256, secret, "", dueClaims())
	other := sign(t, jwt.SigningMethodHS256, secret, "", with(dueClaims(), "sid", "session-2", "jti", "token-2", "sub", "bob"))
	fresh := sign(t, jwt.SigningMethodHS256, secret, "", with(dueClaims(), "iat", epoch.Add(dueAt).Unix(),
		"exp", epoch.Add(dueAt+24*time.Hour).Unix(), "jti", "token-3"))
	forged := sign(t, jwt.SigningMethodHS256, []byte("not-the-secret-0123456789abcdef-xyz"), "", dueClaims())

	heldDone := make(chan *httptest.ResponseRecorder, 1)
	go func() { heldDone <- a.serve(bearer(held)) }()
	select {
	case <-gate.entered:
	case rec := <-heldDone:
		t.Fatalf("the due request finished (status %d) without asking the store", rec.Code)
	case <-time.After(stallLimit):
		t.Fatal("the due request never reached the store")
	}

	// within runs fn on its own goroutine and fails the test if it has not
	// returned within stallLimit.
	within := func(what string, fn func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { defer close(done); fn() }()
		select {
		case <-done:
		case <-time.After(stallLimit):
			t.Fatalf("%s waited for the renewal held in the store", what)
		}
	}
	expect := func(what, token string, wantCode int, wantRenewed bool) {
		t.Helper()
		var rec *httptest.ResponseRecorder
		within(what, func() { rec = a.serve(bearer(token)) })
		if got := rec.Header().Get(middleware.HeaderNewToken) != ""; rec.Code != wantCode || got != wantRenewed {
			t.Errorf("%s: status %d, renewed %v; want %d, renewed %v", what, rec.Code, got, wantCode, wantRenewed)
		}
	}
	expect("a token seen for the first time", fresh, http.StatusOK, false)
	expect("the same token again, from the cache", fresh, http.StatusOK, false)
	expect("a forged token", forged, http.StatusUnauthorized, false)
	expect("another session's renewal", other, http.StatusOK, true)

	next := middleware.Key{ID: "next", Algorithm: "HS256", Material: []byte("next-secret-0123456789abcdef-0123456789")}
	within("rotating the key set", func() {
		if err := a.keys.Rotate(next); err != nil {
			t.Errorf("Rotate: %v", err)
		}
	})
	rotated, _, err := a.issuer.IssueAt(epoch.Add(dueAt), "carol", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	expect("a token of the new key", rotated, http.StatusOK, false)

	if got := a.store.Allows(); got != 1 {
		t.Errorf("the store granted %d renewals while one was held, want 1 (the other session's)", got)
	}
	close(gate.release)
	var rec *httptest.ResponseRecorder
	select {
	case rec = <-heldDone:
	case <-time.After(stallLimit):
		t.Fatal("the held renewal did not finish once the store answered")
	}
	if rec.Code != http.StatusOK || rec.Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatalf("held request: status %d, %s %q; want 200 and a new token",
			rec.Code, middleware.HeaderNewToken, rec.Header().Get(middleware.HeaderNewToken))
	}
}
