package middleware_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// streamServer is a real HTTP server whose routes answer in ways that
// bypass Echo's Response.WriteHeader, behind the middleware, with the
// hostile harness's clock at the time a token of dueClaims is due.
type streamServer struct {
	url string
	// client is the server's own: another parallel test's srv.Close
	// closes the idle connections of http.DefaultTransport, and a
	// response without a body returns its connection there before the
	// caller has it.
	client *http.Client
	store  *testkit.CountingStore

	mu     sync.Mutex
	events []middleware.RenewalEvent
}

func newStreamServer(t *testing.T, outer ...echo.MiddlewareFunc) *streamServer {
	t.Helper()
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	s := &streamServer{store: &testkit.CountingStore{Store: st}}
	clock := testkit.NewClock(epoch.Add(dueAt))
	mw, err := middleware.Config{
		Settings: hostileSettings(),
		Store:    s.store,
		Now:      clock.Now,
		OnRenewal: func(_ echo.Context, ev middleware.RenewalEvent) {
			s.mu.Lock()
			s.events = append(s.events, ev)
			s.mu.Unlock()
		},
	}.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Logger.SetOutput(io.Discard) // Recover's report of an expected panic
	e.Use(outer...)
	g := e.Group("/s", mw)
	body := func(c echo.Context) error {
		_, err := io.WriteString(c.Response(), "data: one\n\n")
		return err
	}
	// Three ways to flush before the first write: Echo's Response.Flush,
	// an http.ResponseController over the response, and the writer's own
	// http.Flusher.
	g.GET("/echo-flush", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
		c.Response().Flush()
		return body(c)
	})
	g.GET("/controller-flush", func(c echo.Context) error {
		if err := http.NewResponseController(c.Response()).Flush(); err != nil {
			return err
		}
		return body(c)
	})
	g.GET("/flusher", func(c echo.Context) error {
		f, ok := c.Response().Writer.(http.Flusher)
		if !ok {
			return echo.NewHTTPError(http.StatusInternalServerError, "no http.Flusher")
		}
		f.Flush()
		return body(c)
	})
	// A handler that takes the connection over and answers by itself, as
	// a WebSocket upgrade does.
	g.GET("/hijack", func(c echo.Context) error {
		conn, rw, err := c.Response().Hijack()
		if err != nil {
			return err
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		return rw.Flush()
	})
	// Writes that reach the writer directly, not through Echo's Response.
	g.GET("/direct-write", func(c echo.Context) error {
		_, err := io.WriteString(c.Response().Writer, "raw")
		return err
	})
	g.GET("/direct-status", func(c echo.Context) error {
		c.Response().Writer.WriteHeader(http.StatusServiceUnavailable)
		return nil
	})
	// Echo's Gzip, registered after the middleware, wraps its writer and
	// writes the gzip header itself when the handler flushes.
	g.GET("/gzip-flush", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
		c.Response().Flush()
		return body(c)
	}, echomw.Gzip())
	// What a handler learns by asserting the writer's optional interfaces.
	g.GET("/caps", func(c echo.Context) error {
		w := c.Response().Writer
		_, f := w.(http.Flusher)
		_, h := w.(http.Hijacker)
		_, p := w.(http.Pusher)
		return c.String(http.StatusOK, fmt.Sprintf("flusher=%v hijacker=%v pusher=%v", f, h, p))
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	s.client = srv.Client()
	return s
}

func (s *streamServer) get(t *testing.T, path, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	_ = res.Body.Close()
	return res
}

func (s *streamServer) lastEvent() middleware.RenewalEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return middleware.RenewalEvent{}
	}
	return s.events[len(s.events)-1]
}

// TestFlushBeforeWriteCarriesToken flushes a due request's response before
// writing anything: the headers leave at the flush, and must carry the new
// token and no-store, since the store granted the renewal.
func TestFlushBeforeWriteCarriesToken(t *testing.T) {
	t.Parallel()
	for i, path := range []string{"/s/echo-flush", "/s/controller-flush", "/s/flusher"} {
		t.Run(path, func(t *testing.T) {
			s := newStreamServer(t)
			tok := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", with(dueClaims(), "sid", "flush-"+strconv.Itoa(i)))
			res := s.get(t, path, tok)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			fresh := res.Header.Get(middleware.HeaderNewToken)
			if fresh == "" {
				t.Fatalf("no %s, though the store was asked %d times and the event is %+v",
					middleware.HeaderNewToken, s.store.Allows(), s.lastEvent())
			}
			if got, want := res.Header.Get(echo.HeaderCacheControl), "no-store"; got != want {
				t.Errorf("Cache-Control %q, want %q", got, want)
			}
			if _, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), epoch.Add(dueAt), 0); err != nil {
				t.Errorf("the new token does not verify: %v", err)
			}
			if got, want := s.store.Allows(), int64(1); got != want {
				t.Errorf("store asked %d times, want %d", got, want)
			}
		})
	}
}

// TestHijackKeepsRenewal takes the connection of a due request over: no
// headers of the middleware's can reach the client, so the renewal must
// not be spent. The store is not asked, the event says why, and the next
// ordinary request of the session renews.
func TestHijackKeepsRenewal(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t)
	tok := sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims())
	req, err := http.NewRequest(http.MethodGet, s.url+"/s/hijack", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(res.Body))
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || string(b) != "ok" {
		t.Fatalf("hijacked answer: status %d, body %q; want 200 \"ok\"", res.StatusCode, b)
	}
	if got := s.store.Allows(); got != 0 {
		t.Errorf("store asked %d times for a hijacked connection, want 0", got)
	}
	if ev := s.lastEvent(); ev.Reason != engine.ReasonHijacked || ev.Renewed {
		t.Errorf("event %+v, want reason %q", ev, engine.ReasonHijacked)
	}
	if fresh := s.get(t, "/s/echo-flush", tok).Header.Get(middleware.HeaderNewToken); fresh == "" {
		t.Errorf("the next request of the session was not renewed")
	}
}

// TestDirectWritesDecideRenewal answers due requests by writing to the
// response's writer directly, which Echo's Response does not see: the
// renewal is still decided by the status that leaves, before it leaves.
func TestDirectWritesDecideRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path        string
		wantStatus  int
		wantRenewed bool
		wantReason  engine.Reason
	}{
		{"/s/direct-write", http.StatusOK, true, ""},
		{"/s/direct-status", http.StatusServiceUnavailable, false, engine.ReasonStatus},
		{"/s/gzip-flush", http.StatusOK, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			s := newStreamServer(t)
			res := s.get(t, tt.path, sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims()))
			renewed := res.Header.Get(middleware.HeaderNewToken) != ""
			if res.StatusCode != tt.wantStatus || renewed != tt.wantRenewed {
				t.Errorf("status %d, renewed %v; want %d, renewed %v", res.StatusCode, renewed, tt.wantStatus, tt.wantRenewed)
			}
			wantAllows := int64(0)
			if tt.wantRenewed {
				wantAllows = 1
			}
			if got := s.store.Allows(); got != wantAllows {
				t.Errorf("store asked %d times, want %d", got, wantAllows)
			}
			if ev := s.lastEvent(); ev.Renewed != tt.wantRenewed || ev.Reason != tt.wantReason {
				t.Errorf("event renewed %v reason %q, want renewed %v reason %q", ev.Renewed, ev.Reason, tt.wantRenewed, tt.wantReason)
			}
		})
	}
}

// TestWriterInterfacesSameWhenDue asserts the writer's optional interfaces
// with a token not due and with a due one: the answers must not depend on
// whether a renewal is pending.
func TestWriterInterfacesSameWhenDue(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t)
	secret := []byte(hostileSecret)
	fresh := sign(t, jwt.SigningMethodHS256, secret, "", with(dueClaims(), "iat", epoch.Add(dueAt).Unix(), "exp", epoch.Add(dueAt+24*time.Hour).Unix()))
	due := sign(t, jwt.SigningMethodHS256, secret, "", with(dueClaims(), "sid", "caps"))
	read := func(token string) (string, bool) {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/s/caps", nil)
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), res.Header.Get(middleware.HeaderNewToken) != ""
	}
	notDue, renewedA := read(fresh)
	pending, renewedB := read(due)
	if renewedA || !renewedB {
		t.Fatalf("renewed %v and %v, want false and true: the test does not compare what it means to", renewedA, renewedB)
	}
	if notDue != pending {
		t.Errorf("not due: %s; due: %s; want the same", notDue, pending)
	}
}

// plainWriter is an application's writer wrapper with no optional
// interface and no Unwrap: it cannot flush.
type plainWriter struct{ http.ResponseWriter }

// unwrapWriter is a writer wrapper that offers only Unwrap, as
// http.ResponseController expects of a modern one.
type unwrapWriter struct{ http.ResponseWriter }

func (w unwrapWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func wrapWith(wrap func(http.ResponseWriter) http.ResponseWriter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Writer = wrap(c.Response().Writer)
			return next(c)
		}
	}
}

// TestFlushUnsupportedSpendsNothing flushes a due response whose writer
// cannot flush: Echo panics, Recover answers 500, and the renewal must
// neither be sent with that 500 nor spent in the store.
func TestFlushUnsupportedSpendsNothing(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t, echomw.Recover(), wrapWith(func(w http.ResponseWriter) http.ResponseWriter { return plainWriter{w} }))
	res := s.get(t, "/s/echo-flush", sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims()))
	if res.StatusCode != http.StatusInternalServerError || res.Header.Get(middleware.HeaderNewToken) != "" {
		t.Errorf("status %d, renewed %v; want 500 and not renewed", res.StatusCode, res.Header.Get(middleware.HeaderNewToken) != "")
	}
	if got := s.store.Allows(); got != 0 {
		t.Errorf("store asked %d times, want 0", got)
	}
}

// TestHijackThroughUnwrap hijacks a due request's connection through a
// writer that only unwraps to a Hijacker: the renewal is dropped all the
// same.
func TestHijackThroughUnwrap(t *testing.T) {
	t.Parallel()
	s := newStreamServer(t, wrapWith(func(w http.ResponseWriter) http.ResponseWriter { return unwrapWriter{w} }))
	req, err := http.NewRequest(http.MethodGet, s.url+"/s/hijack", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims()))
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if got := s.store.Allows(); got != 0 {
		t.Errorf("store asked %d times for a hijacked connection, want 0", got)
	}
	if ev := s.lastEvent(); ev.Reason != engine.ReasonHijacked {
		t.Errorf("event %+v, want reason %q", ev, engine.ReasonHijacked)
	}
}
