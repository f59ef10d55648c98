package slidinggin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/slidinggin"
)

// openAuth opens an Auth on the default (memory) store with opts, closed
// when t ends.
func openAuth(t *testing.T, opts *slidingjwt.Options) *slidingjwt.Auth {
	t.Helper()
	s := config.Default()
	s.Secret = testSecret
	a, err := slidingjwt.Open(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// authRoutes is the README's Gin application: GET /api/me, POST
// /api/logout and POST /api/logout-all, behind mw, with a's handlers.
func authRoutes(a *slidingjwt.Auth, mw gin.HandlerFunc) http.Handler {
	r := gin.New()
	api := r.Group("/api", mw)
	api.GET("/me", func(c *gin.Context) { c.String(http.StatusOK, slidinggin.ClaimsFrom(c).Subject) })
	api.POST("/logout", slidinggin.SignOutHandler(a))
	api.POST("/logout-all", slidinggin.SignOutAllHandler(a))
	return r
}

func serveOnce(h http.Handler, method, path, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestSignOutHandlersFromAuth: the middleware From builds and the
// ready-made handlers sign out for real: /logout ends the session (204,
// no-store, then 401), /logout-all every session of the user, and refuses
// a guest (403) without ending its session.
func TestSignOutHandlersFromAuth(t *testing.T) {
	t.Parallel()
	a := openAuth(t, nil)
	r := authRoutes(a, slidinggin.From(a))
	mint := func(sub, role string) string {
		tok, err := a.Issuer().Issue(sub, role, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice1, alice2, bob, guest := mint("alice", "user"), mint("alice", "user"), mint("bob", "user"), mint("guest", "guest")
	steps := []struct {
		what, method, path, tok string
		status                  int
	}{
		{"POST /api/logout", http.MethodPost, "/api/logout", alice1, http.StatusNoContent},
		{"the signed-out token", http.MethodGet, "/api/me", alice1, http.StatusUnauthorized},
		{"alice's other session", http.MethodGet, "/api/me", alice2, http.StatusOK},
		{"a guest's POST /api/logout-all", http.MethodPost, "/api/logout-all", guest, http.StatusForbidden},
		{"the guest after it", http.MethodGet, "/api/me", guest, http.StatusOK},
		{"POST /api/logout-all", http.MethodPost, "/api/logout-all", alice2, http.StatusNoContent},
		{"alice's other session after it", http.MethodGet, "/api/me", alice2, http.StatusUnauthorized},
		{"bob", http.MethodGet, "/api/me", bob, http.StatusOK},
	}
	for _, st := range steps {
		rec := serveOnce(r, st.method, st.path, st.tok)
		if rec.Code != st.status {
			t.Errorf("%s: %d %q, want %d", st.what, rec.Code, rec.Body.String(), st.status)
		}
		if st.method == http.MethodPost && rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", st.what, rec.Header().Get("Cache-Control"))
		}
	}
}

// TestSignOutNeedsTheCheck: with the middleware built without the Auth's
// revocation list, or with sign-out off, the handlers answer 500 and the
// token goes on working.
func TestSignOutNeedsTheCheck(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]*slidingjwt.Options{"check off": nil, "sign-out off": {NoSignOut: true}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := openAuth(t, opts)
			cfg := slidinggin.ConfigFrom(a)
			if opts == nil {
				cfg.Revocations = nil // a program wired wrongly
			}
			mw, err := cfg.ToMiddleware()
			if err != nil {
				t.Fatal(err)
			}
			h := authRoutes(a, mw)
			tok, err := a.Issuer().Issue("alice", "user", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/api/logout", "/api/logout-all"} {
				if rec := serveOnce(h, http.MethodPost, path, tok); rec.Code != http.StatusInternalServerError {
					t.Errorf("POST %s: %d %q, want 500", path, rec.Code, rec.Body.String())
				}
			}
			if rec := serveOnce(h, http.MethodGet, "/api/me", tok); rec.Code != http.StatusOK {
				t.Errorf("the token after the refused sign-out: %d, want 200", rec.Code)
			}
		})
	}
}
