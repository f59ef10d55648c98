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

// TestSignOutHandlersClearCookie: in cookie delivery the ready-made
// sign-out handlers delete the session cookie when they sign out (the
// cookie's attributes, Max-Age=0, no-store), and not when they refuse a
// guest's /logout-all.
func TestSignOutHandlersClearCookieGin(t *testing.T) {
	t.Parallel()
	s := config.Default()
	s.Secret = testSecret
	s.Delivery = config.DeliveryCookie
	a, err := slidingjwt.Open(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	e := gin.New()
	api := e.Group("/api", slidinggin.From(a))
	api.POST("/logout", slidinggin.SignOutHandler(a))
	api.POST("/logout-all", slidinggin.SignOutAllHandler(a))
	send := func(path, sub, role string) *httptest.ResponseRecorder {
		tok, err := a.Issuer().Issue(sub, role, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.AddCookie(&http.Cookie{Name: config.DefaultCookieName, Value: tok})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	want := config.DefaultCookieName + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
	for _, tt := range []struct {
		path, sub, role string
		status          int
		cleared         bool
	}{
		{"/api/logout", "alice", "user", http.StatusNoContent, true},
		{"/api/logout-all", "guest", "guest", http.StatusForbidden, false},
		{"/api/logout-all", "bob", "user", http.StatusNoContent, true},
	} {
		rec := send(tt.path, tt.sub, tt.role)
		got := rec.Header().Values("Set-Cookie")
		if rec.Code != tt.status || tt.cleared != (len(got) == 1 && got[0] == want) || !tt.cleared && len(got) != 0 {
			t.Errorf("%s as %s: %d, Set-Cookie %q; want %d, deleted: %v", tt.path, tt.sub, rec.Code, got, tt.status, tt.cleared)
		}
		if tt.cleared && rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tt.path, rec.Header().Get("Cache-Control"))
		}
	}
}
