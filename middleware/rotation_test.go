package middleware_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/middleware"
)

// TestKeyRotation rotates the signing key of a running app: tokens of the
// old key A keep working and are renewed with the new key B (kid "b");
// once A is retired, a renewed token still works and a token of A that was
// never renewed is refused, even one the middleware had verified (and may
// have cached) just before.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	k := keys(t)
	keyA := middleware.Key{ID: "a", Algorithm: "ES256", Material: k.ec}
	keyB := middleware.Key{ID: "b", Algorithm: "RS256", Material: k.rsa}
	ks := keySet(t, keyA)
	a := newHostileApp(t, ks)

	alice, _, err := a.issuer.IssueAt(epoch, "alice", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := a.issuer.IssueAt(epoch, "bob", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	mustStatus := func(at time.Duration, token string, want int, renew bool) string {
		t.Helper()
		rec := a.get(at, token)
		fresh := rec.Header().Get(middleware.HeaderNewToken)
		if rec.Code != want || (fresh != "") != renew {
			t.Fatalf("at %v: status %d, renewed %v; want %d, renewed %v", at, rec.Code, fresh != "", want, renew)
		}
		return fresh
	}
	mustStatus(time.Hour, alice, http.StatusOK, false)
	mustStatus(time.Hour, bob, http.StatusOK, false)

	if err := ks.Rotate(keyB); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if got, want := ks.CurrentID(), "b"; got != want {
		t.Fatalf("CurrentID = %q, want %q", got, want)
	}
	mustStatus(2*time.Hour, bob, http.StatusOK, false) // A still verifies
	fresh := mustStatus(dueAt, alice, http.StatusOK, true)
	_, parsed, err := verifyToken(fresh, "RS256", &k.rsa.PublicKey, epoch.Add(dueAt), 0)
	if err != nil {
		t.Fatalf("renewed token does not verify with key B: %v", err)
	}
	if got, want := parsed.Header["kid"], "b"; got != want {
		t.Errorf("renewed token kid = %v, want %q", got, want)
	}
	// Logins after the rotation are signed with B too.
	carol, _, err := a.issuer.IssueAt(epoch.Add(dueAt), "carol", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifyToken(carol, "RS256", &k.rsa.PublicKey, epoch.Add(dueAt), 0); err != nil {
		t.Errorf("a token issued after the rotation does not verify with key B: %v", err)
	}

	if err := ks.Retire("a"); err != nil {
		t.Fatalf("Retire: %v", err)
	}
	mustStatus(dueAt+time.Minute, fresh, http.StatusOK, false)
	mustStatus(dueAt+time.Minute, carol, http.StatusOK, false)
	mustStatus(dueAt+time.Minute, bob, http.StatusUnauthorized, false)
	mustStatus(dueAt+time.Minute, alice, http.StatusUnauthorized, false)

	// The signing key cannot be retired, nor an ID reused.
	if err := ks.Retire("b"); err == nil {
		t.Error("Retire of the signing key succeeded")
	}
	if err := ks.Retire("a"); err == nil {
		t.Error("a second Retire of the same key succeeded")
	}
	if err := ks.Rotate(middleware.Key{ID: "b", Algorithm: "EdDSA", Material: k.ed}); err == nil {
		t.Error("Rotate to a key with a taken ID succeeded")
	}
}

// TestRotationUnderLoad rotates and retires while requests are served: no
// request carrying a token of a key that is still in the set fails, and
// every renewal verifies with one of the keys. Run with -race.
func TestRotationUnderLoad(t *testing.T) {
	t.Parallel()
	k := keys(t)
	keyA := middleware.Key{ID: "a", Algorithm: "ES256", Material: k.ec}
	keyB := middleware.Key{ID: "b", Algorithm: "EdDSA", Material: k.ed}
	ks := keySet(t, keyA)
	a := newHostileApp(t, ks)
	a.clock.Set(epoch.Add(dueAt))
	var tokens []string
	for _, sub := range []string{"u1", "u2", "u3", "u4"} {
		tok, _, err := a.issuer.IssueAt(epoch, sub, "user", nil)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for j := range 50 {
				rec := a.serve(bearer(tokens[(i+j)%len(tokens)]))
				if rec.Code != http.StatusOK {
					t.Errorf("request %d/%d: status %d, want 200", i, j, rec.Code)
					return
				}
				if fresh := rec.Header().Get(middleware.HeaderNewToken); fresh != "" {
					_, _, errA := verifyToken(fresh, "ES256", &k.ec.PublicKey, epoch.Add(dueAt), 0)
					_, _, errB := verifyToken(fresh, "EdDSA", k.ed.Public(), epoch.Add(dueAt), 0)
					if errA != nil && errB != nil {
						t.Errorf("a renewed token verifies with neither key: %v", errB)
					}
				}
			}
		}()
	}
	close(start)
	if err := ks.Rotate(keyB); err != nil {
		t.Errorf("Rotate: %v", err)
	}
	wg.Wait()
	if err := ks.Retire("a"); err != nil {
		t.Fatalf("Retire: %v", err)
	}
	for _, tok := range tokens {
		if rec := a.serve(bearer(tok)); rec.Code != http.StatusUnauthorized {
			t.Errorf("a token of the retired key: status %d, want 401", rec.Code)
		}
	}
}
