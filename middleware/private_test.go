package middleware_test

// Tests of what the token-core rework fixed: claims private to each
// request, renewals built from the signed payload, one session across a
// renewal, informational statuses, renewals too large to accept.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// claimsApp is a hostile app whose /api/touch handler writes into the
// request's claims (a top-level claim, the role, a nested object and a
// nested array) and answers with what it saw before writing.
func claimsApp(t *testing.T, mutate ...func(*config.Settings, *middleware.Config)) *hostileApp {
	t.Helper()
	a := newHostileApp(t, nil, mutate...)
	a.e.Group("/api", middlewareOf(t, a)).GET("/touch", func(c echo.Context) error {
		tok := c.Get("user").(*jwt.Token)
		mc := tok.Claims.(jwt.MapClaims)
		seen := fmt.Sprintf("seen=%v role=%v meta=%v tags=%v", mc["seen"], mc["role"], mc["metadata"], mc["tags"])
		mc["seen"] = true
		mc["role"] = "admin"
		if meta, ok := mc["metadata"].(map[string]any); ok {
			meta["auth_mode"] = "hijacked"
		}
		if tags, ok := mc["tags"].([]any); ok && len(tags) > 0 {
			tags[0] = "hijacked"
		}
		tok.Header["alg"] = "none"
		if len(tok.Signature) > 0 {
			tok.Signature[0] ^= 0xff
		}
		cl := middleware.ClaimsFrom(c)
		if cl.Map()["seen"] != true {
			t.Errorf("ClaimsFrom(c).Map() is not the request's *jwt.Token claims map")
		}
		cl.Subject = "mallory"
		return c.String(http.StatusOK, seen)
	})
	return a
}

// middlewareOf builds a second middleware with a's settings, keys, store
// and clock, for routes added after newHostileApp.
func middlewareOf(t *testing.T, a *hostileApp, mutate ...func(*middleware.Config)) echo.MiddlewareFunc {
	t.Helper()
	cfg := middleware.Config{Settings: a.settings, Store: a.store, Keys: a.keys, Now: a.clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	mw, err := cfg.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	return mw
}

// TestClaimsPrivatePerRequest: a handler that writes into its claims (as
// echo-jwt apps do) changes nothing another request with the same token
// sees, nor what the renewal signs.
func TestClaimsPrivatePerRequest(t *testing.T) {
	t.Parallel()
	a := claimsApp(t)
	tok := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", with(dueClaims(),
		"metadata", map[string]any{"auth_mode": "enabled"}, "tags", []any{"a", "b"}))
	const want = "seen=<nil> role=user meta=map[auth_mode:enabled] tags=[a b]"
	a.clock.Set(epoch.Add(time.Hour)) // not due: the cached token is served
	for i := range 3 {
		req := httptest.NewRequest(http.MethodGet, "/api/touch", nil)
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		rec := a.serve(req)
		if got := rec.Body.String(); rec.Code != http.StatusOK || got != want {
			t.Fatalf("request %d: %d %q, want 200 %q", i+1, rec.Code, got, want)
		}
	}
	// The renewal is signed from the token, not from the handler's map.
	a.clock.Set(epoch.Add(dueAt))
	req := httptest.NewRequest(http.MethodGet, "/api/touch", nil)
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
	rec := a.serve(req)
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	if fresh == "" {
		t.Fatalf("no renewal (status %d)", rec.Code)
	}
	mc, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), epoch.Add(dueAt), 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{"role": "user", "seen": nil, "sub": "alice"} {
		if got := mc[name]; got != want {
			t.Errorf("renewed %s = %v, want %v", name, got, want)
		}
	}
	if got := fmt.Sprint(mc["metadata"], mc["tags"]); got != "map[auth_mode:enabled] [a b]" {
		t.Errorf("renewed metadata and tags = %s, want the signed ones", got)
	}
}

// TestClaimsConcurrentWriters: handlers writing into the claims of one
// token at once. Before, they shared one map and the process died with
// "concurrent map writes"; run with -race.
func TestClaimsConcurrentWriters(t *testing.T) {
	t.Parallel()
	a := claimsApp(t)
	tok := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", with(dueClaims(),
		"metadata", map[string]any{"auth_mode": "enabled"}, "tags", []any{"a"}))
	a.clock.Set(epoch.Add(time.Hour))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				req := httptest.NewRequest(http.MethodGet, "/api/touch", nil)
				req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
				rec := httptest.NewRecorder()
				a.e.ServeHTTP(rec, req)
				if got, want := rec.Body.String(), "seen=<nil> role=user meta=map[auth_mode:enabled] tags=[a]"; got != want {
					t.Errorf("got %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestRenewalKeepsLargeIntegers: a 64-bit user ID above 2^53 comes back
// exact in the renewed token, as do strings with characters encoding/json
// would escape.
func TestRenewalKeepsLargeIntegers(t *testing.T) {
	t.Parallel()
	a := newHostileApp(t, nil)
	iat, exp := epoch.Unix(), epoch.Add(24*time.Hour).Unix()
	payload := fmt.Sprintf(`{"sub":"alice","sid":"s-1","uid":1859029138417344513,"note":"a<b & c>d \u00e9","iat":%d,"exp":%d}`, iat, exp)
	tok := hs256Raw(hostileSecret, `{"alg":"HS256","typ":"JWT"}`, payload)
	rec := a.get(dueAt, tok)
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	if fresh == "" {
		t.Fatalf("no renewal (status %d %s)", rec.Code, rec.Body)
	}
	seg := strings.Split(fresh, ".")[1]
	body := string(mustB64(t, seg))
	for _, want := range []string{`"uid":1859029138417344513`, `"note":"a<b & c>d \u00e9"`, `"sid":"s-1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("renewed payload %s lacks %s", body, want)
		}
	}
}

// TestRenewalSameSession: a token without sid gets, on renewal, the sid
// its session is known by, so the renewed token has the same session key:
// the rate limit (and a sign-out) covers both. Before, each renewal of a
// token without sid started a new session.
func TestRenewalSameSession(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
	}{
		{"jti only", with(dueClaims(), "sid", remove)},
		{"neither sid nor jti", with(dueClaims(), "sid", remove, "jti", remove)},
		{"sid", dueClaims()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newHostileApp(t, nil)
			tok := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", tc.claims)
			fresh := a.get(dueAt, tok).Header().Get(middleware.HeaderNewToken)
			if fresh == "" {
				t.Fatal("the due token was not renewed")
			}
			first, _ := a.lastEvent()
			// The renewed token is due 12 h after its iat (dueAt).
			again := a.get(dueAt+13*time.Hour, fresh).Header().Get(middleware.HeaderNewToken)
			if again == "" {
				t.Fatal("the renewed token was not renewed when due")
			}
			second, _ := a.lastEvent()
			if first.Session == "" || first.Session != second.Session {
				t.Errorf("session keys %q then %q: the renewal is another session", first.Session, second.Session)
			}
		})
	}
}

// TestInformationalStatusDoesNotDecide: a 103 Early Hints written before a
// final 403 does not let the 403 carry a renewal or spend the slot.
func TestInformationalStatusDoesNotDecide(t *testing.T) {
	t.Parallel()
	a := newHostileApp(t, nil)
	a.e.Group("/api", middlewareOf(t, a)).GET("/hints", func(c echo.Context) error {
		w := c.Response().Writer
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		return c.NoContent(http.StatusForbidden)
	})
	srv := httptest.NewServer(a.e)
	t.Cleanup(srv.Close)
	a.clock.Set(epoch.Add(dueAt))
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/hints", nil)
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims()))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if got, want := res.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if got := res.Header.Get(middleware.HeaderNewToken); got != "" {
		t.Errorf("a 403 after a 103 carries X-New-Token")
	}
	if got := a.store.Allows(); got != 0 {
		t.Errorf("store asked %d times, want 0", got)
	}
}

// TestRenewalTooLarge: a token whose renewal would exceed MaxTokenSize is
// not renewed, the store is not asked, and the reason is reported; a
// token well below the limit renews.
func TestRenewalTooLarge(t *testing.T) {
	t.Parallel()
	base := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", with(dueClaims(), "sid", remove, "jti", remove, "auth_time", remove))
	for _, tc := range []struct {
		name    string
		max     int
		renewed bool
	}{
		{"the renewal exceeds the limit", len(base) + 10, false},
		{"room to spare", len(base) + 400, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newHostileApp(t, nil, func(_ *config.Settings, cfg *middleware.Config) { cfg.MaxTokenSize = tc.max })
			rec := a.get(dueAt, base)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200: the token itself fits", rec.Code)
			}
			fresh := rec.Header().Get(middleware.HeaderNewToken)
			if got := fresh != ""; got != tc.renewed {
				t.Fatalf("renewed = %v, want %v", got, tc.renewed)
			}
			if tc.renewed {
				if len(fresh) > tc.max {
					t.Errorf("renewal of %d bytes over a %d-byte limit", len(fresh), tc.max)
				}
				return
			}
			if got := a.store.Allows(); got != 0 {
				t.Errorf("store asked %d times, want 0", got)
			}
			if ev, ok := a.lastEvent(); !ok || ev.Reason != engine.ReasonTooLarge {
				t.Errorf("last event %+v, want reason %q", ev, engine.ReasonTooLarge)
			}
		})
	}
}

// TestBeforeRenewExactNumbersAndRole: BeforeRenew sees numbers as
// json.Number (exact), and a role it changes gets that role's lifetime.
func TestBeforeRenewExactNumbersAndRole(t *testing.T) {
	t.Parallel()
	var uid any
	a := newHostileApp(t, nil, func(_ *config.Settings, cfg *middleware.Config) {
		cfg.BeforeRenew = func(_ echo.Context, claims jwt.MapClaims) error {
			uid = claims["uid"]
			claims["role"] = config.RoleGuest
			return nil
		}
	})
	iat, exp := epoch.Unix(), epoch.Add(24*time.Hour).Unix()
	payload := fmt.Sprintf(`{"sub":"alice","role":"user","sid":"s-1","uid":1859029138417344513,"iat":%d,"exp":%d}`, iat, exp)
	rec := a.get(dueAt, hs256Raw(hostileSecret, `{"alg":"HS256","typ":"JWT"}`, payload))
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	if fresh == "" {
		t.Fatalf("no renewal (status %d)", rec.Code)
	}
	if got, want := uid, json.Number("1859029138417344513"); got != want {
		t.Errorf("BeforeRenew saw uid %#v, want %#v", got, want)
	}
	mc, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), epoch.Add(dueAt), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := unixClaim(mc, "exp"), epoch.Add(dueAt+a.settings.GuestLifetime).Unix(); got != want {
		t.Errorf("exp %d, want %d (now + the guest lifetime)", got, want)
	}
	if ev, _ := a.lastEvent(); !ev.NewExpiresAt.Equal(time.Unix(epoch.Add(dueAt+a.settings.GuestLifetime).Unix(), 0)) {
		t.Errorf("event NewExpiresAt %v, want the guest expiry", ev.NewExpiresAt)
	}
}

// TestTypedClaimsOnly: with TypedClaimsOnly the context holds no
// *jwt.Token, and ClaimsFrom still answers, with a Map of its own.
func TestTypedClaimsOnly(t *testing.T) {
	t.Parallel()
	a := newHostileApp(t, nil)
	a.e.Group("/api", middlewareOf(t, a, func(c *middleware.Config) { c.TypedClaimsOnly = true })).GET("/typed", func(c echo.Context) error {
		cl := middleware.ClaimsFrom(c)
		_, isToken := c.Get("user").(*jwt.Token)
		m := cl.Map()
		m["role"] = "admin"
		return c.String(http.StatusOK, fmt.Sprintf("%s %s %v %v", cl.Subject, cl.Role, isToken, cl.Map()["role"]))
	})
	tok := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims())
	a.clock.Set(epoch.Add(time.Hour))
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/api/typed", nil)
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		if got, want := a.serve(req).Body.String(), "alice user false admin"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func mustB64(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
