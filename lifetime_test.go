package slidingjwt_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// TestFractionalLifetimeAccepted: a lifetime that is not a whole number of
// seconds (LightRAG's hours are floats: TOKEN_EXPIRE_HOURS=0.001 is 3.6 s,
// 0.3333 is 1199.88 s) gives tokens whose exp - iat, both whole seconds,
// is up to a second longer than the lifetime, depending on the fraction
// of the second they were issued in. With sign-out on, tokens longer-lived
// than the settings allow are refused: that check must still accept every
// token the Issuer mints, at any fraction of a second, and its renewals.
func TestFractionalLifetimeAccepted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hours string
		age   time.Duration // how old the token is when sent: past half for a renewal
	}{
		{"0.001", 2 * time.Second},   // 3.6 s
		{"0.3333", 10 * time.Minute}, // 1199.88 s
		{"24.0001", 13 * time.Hour},  // a day and 0.36 s
	}
	for _, tt := range tests {
		for _, frac := range []time.Duration{0, 300 * time.Millisecond, 700 * time.Millisecond, 999 * time.Millisecond} {
			issued := time.Unix(1_800_000_000, 0).Add(frac)
			s := authSettings(t, map[string]string{
				config.EnvUserLifetime:     tt.hours,
				config.EnvGuestLifetime:    tt.hours,
				config.EnvMinRenewInterval: "1",
			})
			now := issued
			a := authOpen(t, s, &slidingjwt.Options{Now: func() time.Time { return now }})
			if a.Revocations() == nil {
				t.Fatal("sign-out is off: the check under test does not run")
			}
			tok, _, err := a.Issuer().IssueAt(issued, "alice", config.RoleUser, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := echo.New()
			e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, middleware.From(a))
			send := func(tok string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, "/me", nil)
				req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				return rec
			}
			if rec := send(tok); rec.Code != http.StatusNoContent {
				t.Errorf("%s h, issued at +%v: %d %s; want 204", tt.hours, frac, rec.Code, rec.Body)
				continue
			}
			now = issued.Add(tt.age)
			// The clock jumped: the revocation list catches up, or it
			// would count as stale and refuse to renew.
			if err := a.Revocations().Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			rec := send(tok)
			renewed := rec.Header().Get(middleware.HeaderNewToken)
			if rec.Code != http.StatusNoContent || renewed == "" {
				t.Errorf("%s h, issued at +%v, sent %v later: %d, renewed %v; want 204 with a renewal", tt.hours, frac, tt.age, rec.Code, renewed != "")
				continue
			}
			if rec := send(renewed); rec.Code != http.StatusNoContent {
				t.Errorf("%s h, issued at +%v: the renewal gets %d %s; want 204", tt.hours, frac, rec.Code, rec.Body)
			}
		}
	}
}
