package doortest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
)

// SignOutDeletesCookie checks a door's ready-made sign-out handlers in
// cookie delivery. build returns the door's application for a (opened with
// TOKEN_DELIVERY=cookie on the memory store): POST /api/logout and POST
// /api/logout-all, the door's SignOutHandler(a) and SignOutAllHandler(a)
// behind the middleware built from a. A sign-out must answer 204 and
// delete the session cookie (an empty value, Max-Age=0, the cookie's
// Path, HttpOnly, Secure and SameSite) with no-store; a refused one (a
// guest's /logout-all, 403) must leave it.
func SignOutDeletesCookie(t *testing.T, build func(t *testing.T, a *slidingjwt.Auth) http.Handler) {
	t.Helper()
	s := settings()
	s.Delivery = config.DeliveryCookie
	a, err := slidingjwt.Open(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h := build(t, a)
	want := config.DefaultCookieName + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
	for _, tt := range []struct {
		path, sub, role string
		status          int
		deleted         bool
	}{
		{"/api/logout", "alice", "user", http.StatusNoContent, true},
		{"/api/logout-all", "guest", "guest", http.StatusForbidden, false},
		{"/api/logout-all", "bob", "user", http.StatusNoContent, true},
	} {
		tok, err := a.Issuer().Issue(tt.sub, tt.role, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, tt.path, nil)
		req.AddCookie(&http.Cookie{Name: config.DefaultCookieName, Value: tok})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Values("Set-Cookie")
		if rec.Code != tt.status || tt.deleted != (len(got) == 1 && got[0] == want) || !tt.deleted && len(got) != 0 {
			t.Errorf("%s as %s: %d, Set-Cookie %q; want %d, deleted: %v (%q)", tt.path, tt.sub, rec.Code, got, tt.status, tt.deleted, want)
		}
		if tt.deleted && rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tt.path, rec.Header().Get("Cache-Control"))
		}
	}
}
