package slidingjwt_test

import (
	"errors"
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

// stores lists every backend, for the tests here that run against each.
// The scenarios every door passes run with every backend in package
// doortest (TestDoorScenarios in each door's package).
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
	t      *testing.T
	e      *echo.Echo
	clock  *testkit.Clock
	store  *testkit.CountingStore
	issuer *middleware.Issuer
	mu     sync.Mutex
	events []middleware.RenewalEvent
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
	issuer, err := middleware.NewIssuer(s, cfg.Keys)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	a.issuer = issuer
	mw, err := cfg.ToMiddleware()
	if err != nil {
		t.Fatalf("ToMiddleware: %v", err)
	}
	api := a.e.Group("/api", mw)
	api.GET("/me", func(c echo.Context) error {
		// Written the echo-jwt way: the handler needs no change.
		tok := c.Get("user").(*jwt.Token)
		mc := tok.Claims.(jwt.MapClaims)
		return c.JSON(http.StatusOK, map[string]any{"sub": mc["sub"], "role": mc["role"], "typed_sub": middleware.ClaimsFrom(c).Subject})
	})
	api.GET("/status", func(c echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/unauthorized", func(c echo.Context) error { return c.NoContent(http.StatusUnauthorized) })
	api.GET("/cached", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=3600")
		return c.String(http.StatusOK, "cacheable")
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

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, want, rec.Body.String())
	}
}

// TestHandlerUnauthorizedSpendsNoSlot: a handler that answers 401 itself
// gets no new token, asks the store nothing, and leaves the session's slot
// free for its next success. (doortest's FailedResponsesWriteNothing covers
// 403, 404 and 500 on every door; its Door routes have no handler that
// answers 401.)
func TestHandlerUnauthorizedSpendsNoSlot(t *testing.T) {
	t.Parallel()
	a := newApp(t, memory.New(nil))
	tok := a.token("alice", "user", 0)
	a.at(20 * time.Hour)
	rec := a.get("/api/unauthorized", tok)
	wantStatus(t, rec, http.StatusUnauthorized)
	if got := rec.Header().Get(middleware.HeaderNewToken); got != "" {
		t.Errorf("the handler's 401 carried a new token %q", got)
	}
	if got := a.store.Allows(); got != 0 {
		t.Errorf("the handler's 401 made %d store calls, want 0", got)
	}
	if got := a.lastEvent().Reason; got != engine.ReasonStatus {
		t.Errorf("reason = %q, want %q", got, engine.ReasonStatus)
	}
	rec = a.get("/api/me", tok)
	wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatalf("no renewal after the handler's 401 (last event %+v)", a.lastEvent())
	}
}

// TestRenewalReplacesHandlerCacheControl: a handler that marks its response
// cacheable has its Cache-Control replaced by no-store when the response
// carries a new token, and kept when it does not. (doortest's
// ResponseHeaders checks this on every door with the header set in front of
// the door; its Door routes have no handler that sets it.)
func TestRenewalReplacesHandlerCacheControl(t *testing.T) {
	t.Parallel()
	a := newApp(t, memory.New(nil))
	const origin, cacheable = "https://app.example", "public, max-age=3600"
	tests := []struct {
		name         string
		issuedAfter  time.Duration
		renew        bool
		cacheControl string
	}{
		{"renewed", 0, true, "no-store"},
		{"not due", 20 * time.Hour, false, cacheable},
	}
	a.at(20 * time.Hour)
	for _, tt := range tests {
		rec := a.get("/api/cached", a.token("alice", "user", tt.issuedAfter), echo.HeaderOrigin, origin)
		wantStatus(t, rec, http.StatusOK)
		if got := rec.Header().Get(middleware.HeaderNewToken) != ""; got != tt.renew {
			t.Errorf("%s: renewed = %v, want %v", tt.name, got, tt.renew)
		}
		if got := strings.Join(rec.Header().Values(echo.HeaderCacheControl), ", "); got != tt.cacheControl {
			t.Errorf("%s: Cache-Control = %q, want %q", tt.name, got, tt.cacheControl)
		}
	}
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

func TestSkipper(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) store.Store) {
		a := newApp(t, open(t), func(_ *config.Settings, c *middleware.Config) {
			c.Skipper = func(c echo.Context) bool { return c.Request().Header.Get("X-Internal") == "yes" }
		})
		wantStatus(t, a.get("/api/status", "", "X-Internal", "yes"), http.StatusOK)
		wantStatus(t, a.get("/api/status", ""), http.StatusUnauthorized)
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
