package slidingjwt_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/redis"
)

const testSecret = "test-secret-0123456789abcdef-0123456789"

// start is the injected clock's first reading in every test.
var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// storeFactory makes an empty store of one backend for one test.
type storeFactory struct {
	name string
	open func(t *testing.T) store.Store
}

// stores lists every backend; every end-to-end test runs against each.
var stores = []storeFactory{
	{"memory", func(t *testing.T) store.Store { return memory.New(nil) }},
	{"lru", func(t *testing.T) store.Store {
		st, err := lru.New(&lru.Options{Size: 1024})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
	{"redis", func(t *testing.T) store.Store {
		return openRedis(t, redistest.Start(t))
	}},
	{"bolt", func(t *testing.T) store.Store {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "renewals.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// forEachStore runs fn once per backend as a parallel subtest.
func forEachStore(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.Store)) {
	t.Helper()
	for _, sf := range stores {
		t.Run(sf.name, func(t *testing.T) {
			t.Parallel()
			fn(t, sf.open)
		})
	}
}

// testApp is a real Echo application protected by the middleware.
type testApp struct {
	t        *testing.T
	e        *echo.Echo
	clock    *testkit.Clock
	settings config.Settings
	store    *testkit.CountingStore
	issuer   *middleware.Issuer
	mu       sync.Mutex
	events   []middleware.RenewalEvent
}

type option func(*config.Settings, *middleware.Config)

func newApp(t *testing.T, st store.Store, opts ...option) *testApp {
	t.Helper()
	t.Cleanup(func() { _ = st.Close() })
	s := config.Default()
	s.Secret = testSecret
	s.UserLifetime = 24 * time.Hour
	s.GuestLifetime = 2 * time.Hour
	s.RenewSkipPaths = []string{"/api/status"}
	a := &testApp{t: t, e: echo.New(), clock: testkit.NewClock(start), store: &testkit.CountingStore{Store: st}}
	cfg := middleware.Config{
		Store: a.store,
		Now:   a.clock.Now,
		OnRenewal: func(_ echo.Context, ev middleware.RenewalEvent) {
			a.mu.Lock()
			a.events = append(a.events, ev)
			a.mu.Unlock()
		},
	}
	for _, o := range opts {
		o(&s, &cfg)
	}
	cfg.Settings = s
	a.settings = s
	issuer, err := middleware.NewIssuer(s, cfg.Keys)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	a.issuer = issuer
	mw, err := cfg.ToMiddleware()
	if err != nil {
		t.Fatalf("ToMiddleware: %v", err)
	}
	a.e.GET("/health", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	api := a.e.Group("/api", mw)
	api.GET("/me", func(c echo.Context) error {
		// Written the echo-jwt way: the handler needs no change.
		tok := c.Get("user").(*jwt.Token)
		mc := tok.Claims.(jwt.MapClaims)
		return c.JSON(http.StatusOK, map[string]any{"sub": mc["sub"], "role": mc["role"], "typed_sub": middleware.ClaimsFrom(c).Subject})
	})
	api.GET("/status", func(c echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/status/deep", func(c echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/statusx", func(c echo.Context) error { return c.String(http.StatusOK, "not a skip path") })
	api.GET("/admin", func(c echo.Context) error {
		if middleware.ClaimsFrom(c).Role != "admin" {
			return echo.NewHTTPError(http.StatusForbidden, "admins only")
		}
		return c.String(http.StatusOK, "welcome")
	})
	api.GET("/boom", func(c echo.Context) error { return errors.New("database down") })
	api.GET("/unauthorized", func(c echo.Context) error { return c.NoContent(http.StatusUnauthorized) })
	api.GET("/silent", func(c echo.Context) error { return nil })
	api.GET("/cached", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=3600")
		return c.String(http.StatusOK, "cacheable")
	})
	api.GET("/stream", func(c echo.Context) error {
		c.Response().WriteHeader(http.StatusOK)
		for i := 0; i < 3; i++ {
			fmt.Fprintf(c.Response(), "chunk %d\n", i)
			c.Response().Flush()
		}
		return nil
	})
	return a
}

// at moves the app's clock to start + d.
func (a *testApp) at(d time.Duration) *testApp {
	a.clock.Set(start.Add(d))
	return a
}

// token mints a token with the app's issuer at start + issuedAfter.
func (a *testApp) token(sub, role string, issuedAfter time.Duration) string {
	a.t.Helper()
	tok, _, err := a.issuer.IssueAt(start.Add(issuedAfter), sub, role, map[string]any{"metadata": map[string]any{"auth_mode": "enabled"}, "team": "blue"})
	if err != nil {
		a.t.Fatalf("IssueAt: %v", err)
	}
	return tok
}

// lightragToken signs a token in LightRAG's format: only sub, exp, role and
// metadata, no iat, jti, sid or auth_time.
func (a *testApp) lightragToken(sub, role string, exp time.Time) string {
	a.t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "exp": exp.Unix(), "role": role,
		"metadata": map[string]any{"auth_mode": "disabled"},
	}).SignedString([]byte(testSecret))
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

func (a *testApp) get(path, token string, header ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

func (a *testApp) reasons() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, ev := range a.events {
		if ev.Renewed {
			out = append(out, "renewed")
		} else {
			out = append(out, string(ev.Reason))
		}
	}
	return out
}

func (a *testApp) lastEvent() middleware.RenewalEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		a.t.Fatal("no renewal event observed")
	}
	return a.events[len(a.events)-1]
}

// parse verifies a token with the test secret and returns its claims.
func parse(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	mc := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithoutClaimsValidation()).ParseWithClaims(tok, mc, func(*jwt.Token) (any, error) { return []byte(testSecret), nil })
	if err != nil {
		t.Fatalf("renewed token does not verify: %v", err)
	}
	return mc
}

func unix(mc jwt.MapClaims, name string) int64 {
	f, _ := mc[name].(float64)
	return int64(f)
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, want, rec.Body.String())
	}
}

// TestThresholdDecision ports LightRAG's renewal scenarios: below the
// threshold renews; above, exactly at it, or with renewal off does not.
func TestThresholdDecision(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		tests := []struct {
			name    string
			elapsed time.Duration // since issue, of a 24 h user token
			off     bool
			want    bool
		}{
			{"fresh token", time.Minute, false, false},
			{"above threshold (13h left)", 11 * time.Hour, false, false},
			{"exactly at threshold (12h left)", 12 * time.Hour, false, false},
			{"one second below threshold", 12*time.Hour + time.Second, false, true},
			{"below threshold (11h left)", 13 * time.Hour, false, true},
			{"nearly expired", 24*time.Hour - time.Second, false, true},
			{"below threshold, renewal disabled", 13 * time.Hour, true, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := newApp(t, open(t), func(s *config.Settings, _ *middleware.Config) { s.AutoRenew = !tt.off })
				tok := a.token("alice", "user", 0)
				rec := a.at(tt.elapsed).get("/api/me", tok)
				wantStatus(t, rec, http.StatusOK)
				if got := rec.Header().Get(middleware.HeaderNewToken) != ""; got != tt.want {
					t.Fatalf("renewed = %v, want %v (events %v)", got, tt.want, a.reasons())
				}
				if !tt.want && a.store.Allows() != 0 {
					t.Errorf("store was asked %d times for a token that is not due", a.store.Allows())
				}
			})
		}
	})
}

func TestRenewedTokenClaims(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		old := a.token("alice", "user", 0)
		oldClaims := parse(t, old)
		rec := a.at(13*time.Hour).get("/api/me", old)
		wantStatus(t, rec, http.StatusOK)
		fresh := rec.Header().Get(middleware.HeaderNewToken)
		if fresh == "" {
			t.Fatalf("no %s header", middleware.HeaderNewToken)
		}
		if strings.HasPrefix(fresh, "Bearer") {
			t.Errorf("X-New-Token = %q; want the raw JWT", fresh)
		}
		got := parse(t, fresh)
		now := start.Add(13 * time.Hour).Unix()
		checks := []struct {
			name      string
			got, want any
		}{
			{"sub", got["sub"], "alice"},
			{"role", got["role"], "user"},
			{"custom claim", got["team"], "blue"},
			{"metadata", fmt.Sprint(got["metadata"]), "map[auth_mode:enabled]"},
			{"iat", unix(got, "iat"), now},
			{"exp", unix(got, "exp"), now + int64((24 * time.Hour).Seconds())},
			{"sid kept", got["sid"], oldClaims["sid"]},
			{"auth_time kept", unix(got, "auth_time"), start.Unix()},
			{"jti is new", got["jti"] != oldClaims["jti"] && got["jti"] != "", true},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}
		// The renewed token works, and is itself not due.
		rec = a.get("/api/me", fresh)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) != "" {
			t.Errorf("a fresh renewed token was renewed again")
		}
	})
}

// TestGuestLifetime ports LightRAG's role scenario: a token without iat is
// judged against its role's configured lifetime.
func TestGuestLifetime(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t)) // users 24 h, guests 2 h
		threeHoursLeft := start.Add(3 * time.Hour)
		guest := a.lightragToken("guest", "guest", threeHoursLeft)
		user := a.lightragToken("alice", "user", threeHoursLeft)

		rec := a.get("/api/me", guest)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) != "" {
			t.Errorf("guest token with 3h left of a 2h lifetime was renewed")
		}
		rec = a.get("/api/me", user)
		wantStatus(t, rec, http.StatusOK)
		fresh := rec.Header().Get(middleware.HeaderNewToken)
		if fresh == "" {
			t.Fatalf("user token with 3h left of 24h was not renewed")
		}
		got := parse(t, fresh)
		if gotExp, want := unix(got, "exp"), start.Add(24*time.Hour).Unix(); gotExp != want {
			t.Errorf("renewed user exp = %d, want %d", gotExp, want)
		}
		// LightRAG's claims survive, and the missing ones are added.
		if fmt.Sprint(got["metadata"]) != "map[auth_mode:disabled]" || got["sid"] == nil || got["jti"] == nil {
			t.Errorf("renewed LightRAG token claims = %v", got)
		}
		// auth_time is derived from exp - lifetime(role) when iat is missing.
		if gotAuth, want := unix(got, "auth_time"), threeHoursLeft.Add(-24*time.Hour).Unix(); gotAuth != want {
			t.Errorf("derived auth_time = %d, want %d", gotAuth, want)
		}

		// A guest below its own threshold renews with the guest lifetime.
		nearGuest := a.lightragToken("guest", "guest", start.Add(30*time.Minute))
		rec = a.get("/api/me", nearGuest)
		fresh = rec.Header().Get(middleware.HeaderNewToken)
		if fresh == "" {
			t.Fatalf("guest token with 30m left of 2h was not renewed")
		}
		if gotExp, want := unix(parse(t, fresh), "exp"), start.Add(2*time.Hour).Unix(); gotExp != want {
			t.Errorf("renewed guest exp = %d, want %d", gotExp, want)
		}
	})
}

// TestRateLimit ports LightRAG's rate-limit scenarios.
func TestRateLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		alice := a.token("alice", "user", 0)
		bob := a.token("bob", "user", 0)
		a.at(13 * time.Hour)
		if a.get("/api/me", alice).Header().Get(middleware.HeaderNewToken) == "" {
			t.Fatal("first renewal missing")
		}
		a.at(13*time.Hour + 30*time.Second)
		if a.get("/api/me", alice).Header().Get(middleware.HeaderNewToken) != "" {
			t.Fatal("second renewal within the interval was granted")
		}
		if got := a.lastEvent().Reason; got != engine.ReasonRateLimited {
			t.Errorf("reason = %q, want %q", got, engine.ReasonRateLimited)
		}
		// Another subject is limited independently.
		if a.get("/api/me", bob).Header().Get(middleware.HeaderNewToken) == "" {
			t.Fatal("bob was blocked by alice's renewal")
		}
		// After the interval, alice renews again.
		a.at(13*time.Hour + time.Minute)
		if a.get("/api/me", alice).Header().Get(middleware.HeaderNewToken) == "" {
			t.Fatal("renewal after the interval was refused")
		}
	})
}

// TestGuestsDoNotShareSlot: LightRAG keyed the limit by sub, so every guest
// (sub "guest") shared one slot. Sessions are keyed by sid here.
func TestGuestsDoNotShareSlot(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		g1 := a.token("guest", "guest", 0)
		g2 := a.token("guest", "guest", 0)
		a.at(90 * time.Minute)
		for i, tok := range []string{g1, g2} {
			if a.get("/api/me", tok).Header().Get(middleware.HeaderNewToken) == "" {
				t.Errorf("guest %d was not renewed", i+1)
			}
		}
	})
}

func TestOneRenewalUnderConcurrency(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("alice", "user", 0)
		a.at(20 * time.Hour)
		var renewed, ok atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
				req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
				rec := httptest.NewRecorder()
				a.e.ServeHTTP(rec, req)
				if rec.Code == http.StatusOK {
					ok.Add(1)
				}
				if rec.Header().Get(middleware.HeaderNewToken) != "" {
					renewed.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 100 || renewed.Load() != 1 {
			t.Fatalf("%d of 100 requests succeeded and %d carried a new token; want 100 and 1", ok.Load(), renewed.Load())
		}
	})
}

// TestFailedResponsesWriteNothing: a response of 400 or more never consumes
// the session's slot (LightRAG recorded the renewal before the handler).
func TestFailedResponsesWriteNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("alice", "user", 0)
		a.at(20 * time.Hour)
		for i := 0; i < 50; i++ {
			rec := a.get("/api/admin", tok)
			wantStatus(t, rec, http.StatusForbidden)
			if rec.Header().Get(middleware.HeaderNewToken) != "" {
				t.Fatal("a 403 response carried a new token")
			}
		}
		for _, path := range []string{"/api/boom", "/api/unauthorized", "/api/nowhere"} {
			if rec := a.get(path, tok); rec.Code < 400 || rec.Header().Get(middleware.HeaderNewToken) != "" {
				t.Fatalf("%s: status %d, new token %q; want a failure without one", path, rec.Code, rec.Header().Get(middleware.HeaderNewToken))
			}
		}
		if got := a.store.Allows(); got != 0 {
			t.Fatalf("failed responses made %d store calls, want 0", got)
		}
		for _, r := range a.reasons() {
			if r != string(engine.ReasonStatus) {
				t.Fatalf("reasons = %v; want only %q", a.reasons(), engine.ReasonStatus)
			}
		}
		// The slot is still free: the next successful request renews.
		if a.get("/api/me", tok).Header().Get(middleware.HeaderNewToken) == "" {
			t.Fatal("no renewal after the failed requests")
		}
	})
}

func TestResponseHeaders(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("alice", "user", 0)
		a.at(20 * time.Hour)
		rec := a.get("/api/cached", tok, echo.HeaderOrigin, "https://app.example")
		wantStatus(t, rec, http.StatusOK)
		h := rec.Header()
		if h.Get(middleware.HeaderNewToken) == "" {
			t.Fatal("not renewed")
		}
		checks := []struct{ name, got, want string }{
			{"Cache-Control", h.Get(echo.HeaderCacheControl), "no-store"},
			{"Vary", strings.Join(h.Values(echo.HeaderVary), ", "), "Authorization"},
			{"Access-Control-Expose-Headers", h.Get(echo.HeaderAccessControlExposeHeaders), "X-New-Token"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
			}
		}
		// Without Origin there is nothing to expose; without renewal,
		// nothing changes.
		tok2 := a.token("bob", "user", 0)
		rec = a.get("/api/me", tok2)
		if got := rec.Header().Get(echo.HeaderAccessControlExposeHeaders); got != "" {
			t.Errorf("same-origin Access-Control-Expose-Headers = %q, want none", got)
		}
		a.at(0)
		rec = a.get("/api/cached", tok2, echo.HeaderOrigin, "https://app.example")
		if got := rec.Header().Get(echo.HeaderCacheControl); got != "public, max-age=3600" {
			t.Errorf("Cache-Control without renewal = %q; the handler's value must stay", got)
		}
	})
}

// TestCORSMiddlewareInChain runs Echo's CORS middleware in front over real
// HTTP: the browser must be allowed to read X-New-Token.
func TestCORSMiddlewareInChain(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		a.e.Pre(echomw.CORSWithConfig(echomw.CORSConfig{
			AllowOrigins:  []string{"https://app.example"},
			ExposeHeaders: []string{"X-Request-Id"},
		}))
		srv := httptest.NewServer(a.e)
		t.Cleanup(srv.Close)
		tok := a.token("alice", "user", 0)
		a.at(20 * time.Hour)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		req.Header.Set(echo.HeaderOrigin, "https://app.example")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get(middleware.HeaderNewToken) == "" {
			t.Fatalf("status %d, new token %q", res.StatusCode, res.Header.Get(middleware.HeaderNewToken))
		}
		if got, want := res.Header.Get(echo.HeaderAccessControlExposeHeaders), "X-Request-Id, X-New-Token"; got != want {
			t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, want)
		}
		if got := res.Header.Get(echo.HeaderAccessControlAllowOrigin); got != "https://app.example" {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
	})
}

func TestSkipPaths(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		tests := []struct {
			path  string
			renew bool
		}{
			{"/api/status", false},
			{"/api/status/deep", false},
			{"/api/statusx", true},
			{"/api/me", true},
		}
		for _, tt := range tests {
			t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
				a := newApp(t, open(t))
				tok := a.token("alice", "user", 0)
				rec := a.at(20*time.Hour).get(tt.path, tok)
				wantStatus(t, rec, http.StatusOK)
				if got := rec.Header().Get(middleware.HeaderNewToken) != ""; got != tt.renew {
					t.Fatalf("renewed = %v, want %v", got, tt.renew)
				}
				if !tt.renew && a.lastEvent().Reason != engine.ReasonSkippedPath {
					t.Errorf("reason = %q, want %q", a.lastEvent().Reason, engine.ReasonSkippedPath)
				}
				// Skip paths are still authenticated.
				wantStatus(t, a.get(tt.path, ""), http.StatusUnauthorized)
			})
		}
	})
}

func TestMountPrefix(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t), func(s *config.Settings, c *middleware.Config) {
			s.RenewSkipPaths = []string{"/status"}
			c.MountPrefix = "/api"
		})
		tok := a.token("alice", "user", 0)
		a.at(20 * time.Hour)
		if a.get("/api/status", tok).Header().Get(middleware.HeaderNewToken) != "" {
			t.Error("/status under the mount prefix /api was renewed")
		}
		if a.get("/api/me", tok).Header().Get(middleware.HeaderNewToken) == "" {
			t.Error("/api/me was not renewed")
		}
	})
}

func TestSkipper(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t), func(_ *config.Settings, c *middleware.Config) {
			c.Skipper = func(c echo.Context) bool { return c.Request().Header.Get("X-Internal") == "yes" }
		})
		wantStatus(t, a.get("/api/status", "", "X-Internal", "yes"), http.StatusOK)
		wantStatus(t, a.get("/api/status", ""), http.StatusUnauthorized)
	})
}

func TestSessionCap(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t), func(s *config.Settings, _ *middleware.Config) { s.MaxSessionAge = 30 * time.Hour })
		tok := a.token("alice", "user", 0)
		rec := a.at(13*time.Hour).get("/api/me", tok)
		fresh := rec.Header().Get(middleware.HeaderNewToken)
		if fresh == "" {
			t.Fatal("first renewal missing")
		}
		if got, want := unix(parse(t, fresh), "exp"), start.Add(30*time.Hour).Unix(); got != want {
			t.Fatalf("capped exp = %d, want auth_time + 30h = %d", got, want)
		}
		// Later, the session is at its cap: no renewal, reason session cap.
		rec = a.at(29*time.Hour).get("/api/me", fresh)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) != "" {
			t.Fatal("a session at its cap was renewed")
		}
		if got := a.lastEvent().Reason; got != engine.ReasonSessionCap {
			t.Errorf("reason = %q, want %q", got, engine.ReasonSessionCap)
		}
		wantStatus(t, a.at(30*time.Hour+time.Second).get("/api/me", fresh), http.StatusUnauthorized)
	})
}

func TestStoreErrorServesRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("alice", "user", 0)
		_ = a.store.Close() // every call now fails with store.ErrClosed
		rec := a.at(20*time.Hour).get("/api/me", tok)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) != "" {
			t.Fatal("renewed although the store failed")
		}
		ev := a.lastEvent()
		if ev.Reason != engine.ReasonStoreError || !errors.Is(ev.Err, store.ErrClosed) {
			t.Fatalf("event = %+v; want reason %q with store.ErrClosed", ev, engine.ReasonStoreError)
		}
	})
}

func TestUnauthorized(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		good := a.token("alice", "user", 0)
		forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "alice", "exp": start.Add(time.Hour).Unix(),
		}).SignedString([]byte("another-secret-0123456789abcdef-0123456789"))
		tests := []struct {
			name, header, wantAuth string
			at                     time.Duration
		}{
			{"no header", "", "Bearer", 0},
			{"basic auth", "Basic YWxpY2U6cGFzcw==", "Bearer", 0},
			{"garbage", "Bearer not.a.jwt", `Bearer error="invalid_token"`, 0},
			{"forged", "Bearer " + forged, `Bearer error="invalid_token"`, 0},
			{"expired", "Bearer " + good, `Bearer error="invalid_token"`, 25 * time.Hour},
			{"too large", "Bearer " + strings.Repeat("a", 9000), `Bearer error="invalid_token"`, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a.at(tt.at)
				req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
				if tt.header != "" {
					req.Header.Set(echo.HeaderAuthorization, tt.header)
				}
				rec := httptest.NewRecorder()
				a.e.ServeHTTP(rec, req)
				wantStatus(t, rec, http.StatusUnauthorized)
				if got := rec.Header().Get(echo.HeaderWWWAuthenticate); got != tt.wantAuth {
					t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantAuth)
				}
				var body map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["message"] == "" {
					t.Errorf("body %q is not a JSON message", rec.Body.String())
				}
				if rec.Header().Get(middleware.HeaderNewToken) != "" {
					t.Error("a rejected request carried a new token")
				}
			})
		}
		if got := a.store.Allows(); got != 0 {
			t.Errorf("rejected requests made %d store calls", got)
		}
	})
}

func TestStreamingResponseCarriesToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("alice", "user", 0)
		rec := a.at(20*time.Hour).get("/api/stream", tok)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) == "" || !strings.Contains(rec.Body.String(), "chunk 2") {
			t.Fatalf("streamed response: new token %q, body %q", rec.Header().Get(middleware.HeaderNewToken), rec.Body.String())
		}
	})
}

func TestHandlerWithoutResponse(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("alice", "user", 0)
		rec := a.at(20*time.Hour).get("/api/silent", tok)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) == "" {
			t.Fatal("a handler that wrote nothing (implicit 200) got no renewal")
		}
	})
}

func TestObserverSanitisesSubject(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		tok := a.token("mallory\r\nlevel=INFO msg=\"admin logged in\"", "user", 0)
		a.at(20*time.Hour).get("/api/me", tok)
		ev := a.lastEvent()
		if !ev.Renewed {
			t.Fatalf("event = %+v, want a renewal", ev)
		}
		if strings.ContainsAny(ev.Subject, "\r\n") {
			t.Errorf("event subject %q holds a line break", ev.Subject)
		}
		if len(ev.Session) != 32 || strings.Contains(ev.Session, "mallory") {
			t.Errorf("event session %q is not a 32-digit digest", ev.Session)
		}
	})
}

func TestBeforeRenewHook(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t), func(_ *config.Settings, c *middleware.Config) {
			c.BeforeRenew = func(_ echo.Context, mc jwt.MapClaims) error {
				if mc["sub"] == "banned" {
					return errors.New("account disabled")
				}
				mc["role"] = "admin" // e.g. reloaded from a database
				return nil
			}
		})
		a.at(20 * time.Hour)
		fresh := a.get("/api/me", a.token("alice", "user", 0)).Header().Get(middleware.HeaderNewToken)
		if fresh == "" || parse(t, fresh)["role"] != "admin" {
			t.Fatalf("hook's claim change missing from %q", fresh)
		}
		rec := a.get("/api/me", a.token("banned", "user", 0))
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get(middleware.HeaderNewToken) != "" || a.lastEvent().Reason != engine.ReasonRefused {
			t.Fatalf("refused renewal: header %q, reason %q", rec.Header().Get(middleware.HeaderNewToken), a.lastEvent().Reason)
		}
	})
}

// TestSessionKeyedBySid: two tokens of one session (same sid, different
// jti, as a renewed token and its predecessor are) share one renewal slot.
func TestSessionKeyedBySid(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t))
		mint := func(jti string) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"sub": "alice", "sid": "session-1", "jti": jti,
				"iat": start.Unix(), "exp": start.Add(24 * time.Hour).Unix(),
			}).SignedString([]byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		a.at(20 * time.Hour)
		if a.get("/api/me", mint("first")).Header().Get(middleware.HeaderNewToken) == "" {
			t.Fatal("first token of the session was not renewed")
		}
		if a.get("/api/me", mint("second")).Header().Get(middleware.HeaderNewToken) != "" {
			t.Fatal("a second token of the same session renewed within the interval")
		}
	})
}

// TestBoltRestart: a renewal recorded by one app instance is still known
// to the next one that opens the same file, so a restart does not hand out
// a second renewal within the interval.
func TestBoltRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "renewals.db")
	open := func() store.Store {
		st, err := bolt.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	first := newApp(t, open())
	tok := first.token("alice", "user", 0)
	if first.at(20*time.Hour).get("/api/me", tok).Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatal("first instance did not renew")
	}
	first.e.Close()
	if err := first.store.Close(); err != nil {
		t.Fatal(err)
	}

	second := newApp(t, open())
	if second.at(20*time.Hour+30*time.Second).get("/api/me", tok).Header().Get(middleware.HeaderNewToken) != "" {
		t.Fatal("after a restart the same session renewed again within the interval")
	}
	if got := second.lastEvent().Reason; got != engine.ReasonRateLimited {
		t.Errorf("reason = %q, want %q", got, engine.ReasonRateLimited)
	}
	if second.at(20*time.Hour+time.Minute).get("/api/me", tok).Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatal("after the interval the restarted app refused the renewal")
	}
}

// openRedis opens a store on srv with its own client. The timeout is
// generous because the race detector on two busy cores can slow a dial.
func openRedis(t *testing.T, srv *redistest.Server) store.Store {
	t.Helper()
	st, err := redis.Open(srv.URL(), &redis.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFleet: two instances of the app, each a real HTTP server with its own
// Redis client, share one Redis. 100 concurrent requests with one near-expiry
// token, spread over both, produce exactly one X-New-Token.
func TestFleet(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	var urls []string
	var tok string
	for i := 0; i < 2; i++ {
		a := newApp(t, openRedis(t, srv))
		a.at(20 * time.Hour)
		if tok == "" {
			tok = a.token("alice", "user", 0)
		}
		hs := httptest.NewServer(a.e)
		t.Cleanup(hs.Close)
		urls = append(urls, hs.URL)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 50}}
	t.Cleanup(client.CloseIdleConnections)
	var renewed, ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, urls[i%2]+"/api/me", nil)
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
			res, err := client.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				ok.Add(1)
			}
			if res.Header.Get(middleware.HeaderNewToken) != "" {
				renewed.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 100 || renewed.Load() != 1 {
		t.Fatalf("%d of 100 requests succeeded and %d carried a new token; want 100 and 1", ok.Load(), renewed.Load())
	}
}

// TestRedisOutage: with Redis down, requests are served without renewal and
// the observer hears of the store error; once Redis is back, renewals resume
// without restarting the app.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st, err := redis.Open(srv.URL(), &redis.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, st)
	a.at(20 * time.Hour)
	srv.Stop()
	rec := a.get("/api/me", a.token("alice", "user", 0))
	wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get(middleware.HeaderNewToken) != "" {
		t.Fatal("renewed while Redis was down")
	}
	if ev := a.lastEvent(); ev.Reason != engine.ReasonStoreError || ev.Err == nil {
		t.Fatalf("event = %+v; want a store error", ev)
	}

	srv.Restart()
	// The client reconnects on its own; give it a bounded number of tries
	// with fresh sessions (a real server on real time, not a clock we own).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if a.get("/api/me", a.token("bob", "user", 0)).Header().Get(middleware.HeaderNewToken) != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no renewal within 10s of Redis coming back; last event %+v", a.lastEvent())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
