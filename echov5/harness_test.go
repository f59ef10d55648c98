package echov5_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/echov5"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// testSecret is the HS256 secret of every server these tests build.
const testSecret = "echov5-test-secret-0123456789abcdef-0123456789"

// epoch is when the tokens of these tests are issued, unless a test says
// otherwise; dueAt is the servers' clock: a user token issued at epoch (48
// hours, config.Default) then has 18 hours left, under half its lifetime,
// so it is due for renewal.
var (
	epoch = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	dueAt = epoch.Add(30 * time.Hour)
)

// server is an Echo v5 application behind the middleware, on a real HTTP
// server, with a clock at dueAt, a counting memory store and the events
// the middleware reported.
type server struct {
	t      *testing.T
	url    string
	client *http.Client
	store  *testkit.CountingStore
	issuer *token.Issuer

	// log is Echo's logger's output: Echo's Response reports there a
	// status written after the headers left.
	log testkit.SyncBuffer

	mu     sync.Mutex
	events []echov5.RenewalEvent
}

// newServer builds the middleware from a Config with the server's
// settings, store, keys, clock and event recorder, changed by change when
// set, and lets routes register the application's routes and middleware
// on e, mw being the built middleware. The server, its client's idle
// connections and the store are closed when t ends.
func newServer(t *testing.T, change func(*echov5.Config), routes func(e *echo.Echo, mw echo.MiddlewareFunc)) *server {
	t.Helper()
	return newServerOn(t, echo.New(), change, routes)
}

// newServerOn is newServer on the Echo e.
func newServerOn(t *testing.T, e *echo.Echo, change func(*echov5.Config), routes func(e *echo.Echo, mw echo.MiddlewareFunc)) *server {
	t.Helper()
	settings := config.Default()
	settings.Secret = testSecret
	st := &testkit.CountingStore{Store: memory.New(nil)}
	t.Cleanup(func() { _ = st.Close() })
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		t.Fatalf("token.NewIssuer: %v", err)
	}
	s := &server{t: t, store: st, issuer: issuer}
	cfg := echov5.Config{
		Settings: settings,
		Store:    st,
		Keys:     issuer.Keys(),
		Now:      testkit.NewClock(dueAt).Now,
		OnRenewal: func(_ *echo.Context, ev echov5.RenewalEvent) {
			s.mu.Lock()
			s.events = append(s.events, ev)
			s.mu.Unlock()
		},
	}
	if change != nil {
		change(&cfg)
	}
	mw, err := cfg.ToMiddleware()
	if err != nil {
		t.Fatalf("ToMiddleware: %v", err)
	}
	e.Logger = slog.New(slog.NewTextHandler(&s.log, nil))
	routes(e, mw)
	srv := httptest.NewServer(e)
	// The client is the server's own: another test's srv.Close would close
	// the idle connections of a shared transport under this one.
	s.client = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		s.client.CloseIdleConnections()
		srv.Close()
	})
	s.url = srv.URL
	return s
}

// mint returns a user token for sub issued at, with extra claims.
func (s *server) mint(at time.Time, sub string, extra map[string]any) string {
	s.t.Helper()
	tok, _, err := s.issuer.IssueAt(at, sub, "user", extra)
	if err != nil {
		s.t.Fatalf("IssueAt: %v", err)
	}
	return tok
}

// due returns a token of sub that is due for renewal at the server's
// clock, with extra claims.
func (s *server) due(sub string, extra map[string]any) string { return s.mint(epoch, sub, extra) }

// fresh returns a token of sub that is valid and not due.
func (s *server) fresh(sub string) string { return s.mint(dueAt.Add(-time.Minute), sub, nil) }

// expired returns a token of sub that expired before the server's clock.
func (s *server) expired(sub string) string { return s.mint(dueAt.Add(-49*time.Hour), sub, nil) }

// request returns a GET of path on the server, with tok as a bearer token
// when it is not empty.
func (s *server) request(path, tok string) *http.Request {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
	}
	return req
}

// do sends req and returns the response with its body read.
func (s *server) do(req *http.Request) (*http.Response, string) {
	s.t.Helper()
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return res, string(body)
}

// get sends a GET of path with tok as a bearer token.
func (s *server) get(path, tok string) (*http.Response, string) {
	s.t.Helper()
	return s.do(s.request(path, tok))
}

// lastEvent returns the last event the middleware reported, and false when
// there was none.
func (s *server) lastEvent() (echov5.RenewalEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return echov5.RenewalEvent{}, false
	}
	return s.events[len(s.events)-1], true
}

// wantRenewal checks a due request's outcome: whether res carries a new
// token (which must then verify and belong to sub), how often the store
// was asked, and the last event's reason ("" for a renewal).
func (s *server) wantRenewal(res *http.Response, renewed bool, reason engine.Reason) {
	s.t.Helper()
	fresh := res.Header.Get(echov5.HeaderNewToken)
	if got := fresh != ""; got != renewed {
		s.t.Errorf("renewed = %v, want %v", got, renewed)
	}
	if fresh != "" {
		if mc := parse(s.t, fresh); mc["sub"] == nil {
			s.t.Errorf("the new token has no sub")
		}
	}
	wantAllows := int64(0)
	if renewed {
		wantAllows = 1
	}
	if got := s.store.Allows(); got != wantAllows {
		s.t.Errorf("store Allow calls = %d, want %d", got, wantAllows)
	}
	ev, ok := s.lastEvent()
	if !ok {
		s.t.Fatalf("no event reported")
	}
	if ev.Renewed != renewed || ev.Reason != reason {
		s.t.Errorf("event renewed %v reason %q, want renewed %v reason %q", ev.Renewed, ev.Reason, renewed, reason)
	}
}

// wantEchoQuiet fails the test when Echo's Response reported a status
// written after the headers had left (which it then drops).
func (s *server) wantEchoQuiet() {
	s.t.Helper()
	if out := s.log.String(); strings.Contains(out, "already written") {
		s.t.Errorf("Echo logged a second status: %s", out)
	}
}

// parse verifies tok with the test secret through golang-jwt, as a client
// would, and returns its claims.
func parse(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	mc := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return dueAt }))
	if _, err := p.ParseWithClaims(tok, mc, func(*jwt.Token) (any, error) { return []byte(testSecret), nil }); err != nil {
		t.Fatalf("the token does not verify: %v", err)
	}
	return mc
}
