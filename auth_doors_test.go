package slidingjwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/nethttp"
)

// authDoor builds an application from an Auth the way the README's quick
// starts do: GET /api/me, POST /api/logout and POST /api/logout-all behind
// the middleware built from the Auth (with withoutCheck, from its Config
// with Revocations removed: a program wired wrongly).
type authDoor struct {
	name  string
	build func(t *testing.T, a *slidingjwt.Auth, withoutCheck bool) http.Handler
}

var authDoors = []authDoor{
	{"echo", func(t *testing.T, a *slidingjwt.Auth, withoutCheck bool) http.Handler {
		e := echo.New()
		cfg := middleware.ConfigFrom(a)
		if withoutCheck {
			cfg.Revocations = nil
		}
		mw, err := cfg.ToMiddleware()
		if err != nil {
			t.Fatal(err)
		}
		api := e.Group("/api", mw)
		api.GET("/me", func(c echo.Context) error { return c.String(http.StatusOK, middleware.ClaimsFrom(c).Subject) })
		api.POST("/logout", middleware.SignOutHandler(a))
		api.POST("/logout-all", middleware.SignOutAllHandler(a))
		return e
	}},
	{"net/http", func(t *testing.T, a *slidingjwt.Auth, withoutCheck bool) http.Handler {
		cfg := nethttp.ConfigFrom(a)
		if withoutCheck {
			cfg.Revocations = nil
		}
		mw, err := cfg.ToMiddleware()
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /api/me", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(nethttp.ClaimsFrom(r.Context()).Subject))
		})))
		mux.Handle("POST /api/logout", mw(nethttp.SignOutHandler(a)))
		mux.Handle("POST /api/logout-all", mw(nethttp.SignOutAllHandler(a)))
		return mux
	}},
}

// openAuth opens an Auth on the default (memory) store with the test
// settings, closed when the test ends.
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

func serveOnce(h http.Handler, method, path, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestSignOutHandlersFromAuth: on every door, the middleware built from an
// Auth and its ready-made handlers sign out for real: /logout ends the
// session (204, then 401), /logout-all every session of the user and
// refuses a guest (403) without ending anyone's session, and both answer
// no-store.
func TestSignOutHandlersFromAuth(t *testing.T) {
	t.Parallel()
	for _, d := range authDoors {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			a := openAuth(t, nil)
			h := d.build(t, a, false)
			mint := func(sub, role string) string {
				tok, err := a.Issuer().Issue(sub, role, nil)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			alice1, alice2, bob, guest := mint("alice", "user"), mint("alice", "user"), mint("bob", "user"), mint("guest", "guest")
			want := func(what string, rec *httptest.ResponseRecorder, status int) {
				t.Helper()
				if rec.Code != status {
					t.Errorf("%s: %d %q, want %d", what, rec.Code, rec.Body.String(), status)
				}
			}
			rec := serveOnce(h, http.MethodPost, "/api/logout", alice1)
			want("POST /api/logout", rec, http.StatusNoContent)
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("POST /api/logout: Cache-Control %q, want no-store", got)
			}
			want("the signed-out token", serveOnce(h, http.MethodGet, "/api/me", alice1), http.StatusUnauthorized)
			want("alice's other session", serveOnce(h, http.MethodGet, "/api/me", alice2), http.StatusOK)

			rec = serveOnce(h, http.MethodPost, "/api/logout-all", guest)
			want("a guest's POST /api/logout-all", rec, http.StatusForbidden)
			want("the guest after it", serveOnce(h, http.MethodGet, "/api/me", guest), http.StatusOK)

			// A sign-in right after it works at once: the cut-off and
			// auth_time are to the microsecond.
			want("POST /api/logout-all", serveOnce(h, http.MethodPost, "/api/logout-all", alice2), http.StatusNoContent)
			want("alice's other session after /logout-all", serveOnce(h, http.MethodGet, "/api/me", alice2), http.StatusUnauthorized)
			want("alice's new sign-in", serveOnce(h, http.MethodGet, "/api/me", mint("alice", "user")), http.StatusOK)
			want("bob", serveOnce(h, http.MethodGet, "/api/me", bob), http.StatusOK)
		})
	}
}

// TestSignOutNeedsTheCheck: a program whose middleware was built without
// the Auth's revocation list cannot sign out: the handler answers 500,
// and the token it would have signed out goes on working, as the check is
// off. With sign-out turned off, the handlers answer 500 too.
func TestSignOutNeedsTheCheck(t *testing.T) {
	t.Parallel()
	for _, d := range authDoors {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			for name, opts := range map[string]*slidingjwt.Options{"check off": nil, "sign-out off": {NoSignOut: true}} {
				a := openAuth(t, opts)
				h := d.build(t, a, opts == nil)
				tok, err := a.Issuer().Issue("alice", "user", nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, path := range []string{"/api/logout", "/api/logout-all"} {
					if rec := serveOnce(h, http.MethodPost, path, tok); rec.Code != http.StatusInternalServerError {
						t.Errorf("%s: POST %s: %d %q, want 500", name, path, rec.Code, rec.Body.String())
					}
				}
				if rec := serveOnce(h, http.MethodGet, "/api/me", tok); rec.Code != http.StatusOK {
					t.Errorf("%s: the token after the refused sign-out: %d, want 200", name, rec.Code)
				}
			}
		})
	}
}

// TestSignOutHandlersClearCookie: in cookie delivery the ready-made
// sign-out handlers delete the session cookie (doortest.SignOutDeletesCookie).
func TestSignOutHandlersClearCookie(t *testing.T) {
	t.Parallel()
	for _, d := range authDoors {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			doortest.SignOutDeletesCookie(t, func(t *testing.T, a *slidingjwt.Auth) http.Handler { return d.build(t, a, false) })
		})
	}
}
