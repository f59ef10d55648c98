package doortest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// secret is the HMAC secret (HS256) of every application Run builds.
const secret = "doortest-secret-0123456789abcdef-0123456789"

// start is the first reading of every scenario's clock: tokens are minted
// relative to it, and the clock moves on from it.
var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// settings returns the settings of every application Run builds, before a
// scenario changes them: config.Default with secret, users' tokens valid
// for 24 hours, guests' for 2 hours (renewal threshold 0.5, minimum
// interval 60 seconds), and /api/status a renewal skip path.
func settings() config.Settings {
	s := config.Default()
	s.Secret = secret
	s.UserLifetime = 24 * time.Hour
	s.GuestLifetime = 2 * time.Hour
	s.RenewSkipPaths = []string{"/api/status"}
	return s
}

// target is what a scenario runs against: a door, and the store backend
// of every application it builds with the door.
type target struct {
	door    Door
	backend backend
}

// app is one application under test: a door's handler, its clock, its
// store (the backend under test, wrapped to count its Allow calls), the
// issuer that mints its tokens and the events its middleware reported.
type app struct {
	t       *testing.T
	handler http.Handler
	clock   *testkit.Clock
	backend store.Store            // the store under test, as opened
	store   *testkit.CountingStore // backend, as the door gets it
	issuer  *token.Issuer

	mu     sync.Mutex
	events []engine.Event
}

// newApp builds x's door's application on a fresh clock (at start) and a
// fresh store of x's backend, closed when t ends. change, when set, may
// adjust the Setup (its Settings, its MountPrefix) before the door sees it.
func newApp(t *testing.T, x target, change func(*Setup)) *app {
	t.Helper()
	return buildApp(t, x, func(_ *app, s *Setup) {
		if change != nil {
			change(s)
		}
	})
}

// buildApp is newApp with a change that also sees the app: its clock and
// its store exist by then, its handler does not.
func buildApp(t *testing.T, x target, change func(*app, *Setup)) *app {
	t.Helper()
	backend := x.backend.open(t)
	t.Cleanup(func() { _ = backend.Close() })
	st := &testkit.CountingStore{Store: backend}
	a := &app{t: t, clock: testkit.NewClock(start), backend: backend, store: st}
	s := Setup{
		Settings: settings(),
		Store:    st,
		Now:      a.clock.Now,
		OnRenewal: func(ev engine.Event) {
			a.mu.Lock()
			a.events = append(a.events, ev)
			a.mu.Unlock()
		},
	}
	change(a, &s)
	issuer, err := token.NewIssuer(s.Settings, nil)
	if err != nil {
		t.Fatalf("token.NewIssuer: %v", err)
	}
	s.Keys = issuer.Keys()
	a.issuer = issuer
	if s.Delivery, err = engine.NewDelivery(s.Settings, s.Keys, s.Now, s.Revocations); err != nil {
		t.Fatalf("engine.NewDelivery: %v", err)
	}
	a.handler = x.door(t, s)
	if a.handler == nil {
		t.Fatal("the door returned a nil handler")
	}
	return a
}

// at moves the clock to start + d.
func (a *app) at(d time.Duration) *app {
	a.clock.Set(start.Add(d))
	return a
}

// mint returns a token of the app's issuer for sub and role, issued at
// start + issuedAfter, with LightRAG's metadata claim and one custom claim.
func (a *app) mint(sub, role string, issuedAfter time.Duration) string {
	a.t.Helper()
	tok, _, err := a.issuer.IssueAt(start.Add(issuedAfter), sub, role, map[string]any{
		"metadata": map[string]any{"auth_mode": "enabled"},
		"team":     "blue",
	})
	if err != nil {
		a.t.Fatalf("IssueAt: %v", err)
	}
	return tok
}

// signMap signs claims with key (HS256), as another service would.
func signMap(t *testing.T, claims jwt.MapClaims, key string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatalf("signing a test token: %v", err)
	}
	return tok
}

// lightrag returns a token in LightRAG's format: sub, exp, role and
// metadata only (no iat, jti, sid or auth_time).
func (a *app) lightrag(sub, role string, exp time.Time) string {
	a.t.Helper()
	return signMap(a.t, jwt.MapClaims{
		"sub": sub, "exp": exp.Unix(), "role": role,
		"metadata": map[string]any{"auth_mode": "disabled"},
	}, secret)
}

// request returns a GET of target + path, with tok as a bearer token when
// it is not empty, and header's name/value pairs.
func (a *app) request(target, path, tok string, header ...string) *http.Request {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, target+path, nil)
	if err != nil {
		a.t.Fatalf("new request: %v", err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// get serves a GET of path through the door's handler, in process.
func (a *app) get(path, tok string, header ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	return a.getThrough(a.handler, path, tok, header...)
}

// getThrough is get through h, a handler in front of the door's.
func (a *app) getThrough(h http.Handler, path, tok string, header ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := a.request("http://example.test", path, tok, header...)
	req.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// serve starts a real HTTP server for the door's handler, closed when the
// test ends, and a client of its own whose idle connections are closed
// then too.
func (a *app) serve(maxConns int) (*httptest.Server, *http.Client) {
	a.t.Helper()
	return a.serveHandler(a.handler, maxConns)
}

// serveTogether is serve for exactly n concurrent requests: each waits at
// the server, before the door sees it, until all n have arrived, so that
// they go through the door together rather than one by one. A request
// that never arrives leaves the others waiting (go test's -timeout ends
// the run).
func (a *app) serveTogether(n int) (*httptest.Server, *http.Client) {
	a.t.Helper()
	var arrived sync.WaitGroup
	arrived.Add(n)
	gate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait()
		a.handler.ServeHTTP(w, r)
	})
	return a.serveHandler(gate, n)
}

func (a *app) serveHandler(h http.Handler, maxConns int) (*httptest.Server, *http.Client) {
	srv := httptest.NewServer(h)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxConns}}
	a.t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return srv, client
}

// do sends req with client and returns the response with its body read.
func do(client *http.Client, req *http.Request) (*http.Response, string, error) {
	res, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, string(body), err
}

// reasons returns the reported events in order: "renewed" for a renewal,
// else the reason.
func (a *app) reasons() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.events))
	for _, ev := range a.events {
		if ev.Renewed {
			out = append(out, renewed)
		} else {
			out = append(out, string(ev.Reason))
		}
	}
	return out
}

// renewed stands for a renewal in the lists reasons returns.
const renewed = "renewed"

// lastEvent returns the last reported event; it fails the test when none
// was reported.
func (a *app) lastEvent() engine.Event {
	a.t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		a.t.Fatal("no renewal event was reported")
	}
	return a.events[len(a.events)-1]
}

// wantReasons fails the test unless the events reported so far are want.
func (a *app) wantReasons(want ...string) {
	a.t.Helper()
	if got := a.reasons(); !slices.Equal(got, want) {
		a.t.Errorf("events = %q, want %q", got, want)
	}
}

// wantAllows fails the test unless the store was asked want times.
func (a *app) wantAllows(want int64) {
	a.t.Helper()
	if got := a.store.Allows(); got != want {
		a.t.Errorf("store Allow calls = %d, want %d", got, want)
	}
}

// wantStatus fails the test at once unless rec has status want.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, want, rec.Body.String())
	}
}

// newToken returns the response's X-New-Token header.
func newToken(h http.Header) string { return h.Get(engine.HeaderNewToken) }

// parse verifies tok with secret through golang-jwt, as a client or another
// service would, and returns its claims (numbers as float64). Times are not
// checked against the wall clock: the scenarios run on their own.
func parse(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	mc := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithoutClaimsValidation(), jwt.WithValidMethods([]string{"HS256"}))
	if _, err := p.ParseWithClaims(tok, mc, func(*jwt.Token) (any, error) { return []byte(secret), nil }); err != nil {
		t.Fatalf("the renewed token does not verify with the secret: %v", err)
	}
	return mc
}

// unix returns the NumericDate claim name of mc in seconds, 0 when absent.
func unix(mc jwt.MapClaims, name string) int64 {
	f, _ := mc[name].(float64)
	return int64(f)
}
