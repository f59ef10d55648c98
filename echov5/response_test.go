package echov5_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"testing"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/slidingjwt/slidingjwt/echov5"
	"github.com/slidingjwt/slidingjwt/engine"
)

// echoState reports what Echo's Response says of the response so far.
func echoState(c *echo.Context) string {
	res, err := echo.UnwrapResponse(c.Response())
	if err != nil {
		return "no *echo.Response: " + err.Error()
	}
	return fmt.Sprintf("committed=%v status=%d", res.Committed, res.Status)
}

// TestFirstFlushCarriesToken flushes a due request's response before
// writing anything, in each way an Echo v5 handler can: the headers leave
// at that flush, so they must carry the new token, and leave through
// Echo's Response (which runs its Before functions and knows they left,
// with status 200).
func TestFirstFlushCarriesToken(t *testing.T) {
	t.Parallel()
	flushes := map[string]func(c *echo.Context) error{
		// The writer's own http.Flusher.
		"flusher": func(c *echo.Context) error {
			f, ok := c.Response().(http.Flusher)
			if !ok {
				return errors.New("c.Response() is no http.Flusher")
			}
			f.Flush()
			return nil
		},
		// http.ResponseController, which Echo v5's documentation suggests.
		"controller": func(c *echo.Context) error { return http.NewResponseController(c.Response()).Flush() },
		// Echo's Response itself, unwrapped: below the context's writer.
		"echo-response": func(c *echo.Context) error {
			res, err := echo.UnwrapResponse(c.Response())
			if err != nil {
				return err
			}
			res.Flush()
			return nil
		},
	}
	tests := []struct {
		name  string
		flush string
		gzip  string // "", "inner" (on the route, after the middleware) or "outer" (e.Use, before it)
	}{
		{"flusher", "flusher", ""},
		{"controller", "controller", ""},
		{"echo-response", "echo-response", ""},
		{"controller, gzip inner", "controller", "inner"},
		{"controller, gzip outer", "controller", "outer"},
		{"echo-response, gzip outer", "echo-response", "outer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				// A function Echo's Response runs just before it writes
				// the status: it runs only if the headers leave through
				// the Response.
				e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
					return func(c *echo.Context) error {
						res, err := echo.UnwrapResponse(c.Response())
						if err != nil {
							return err
						}
						res.Before(func() { res.Header().Set("X-Before", "ran") })
						return next(c)
					}
				})
				route := []echo.MiddlewareFunc{mw}
				switch tt.gzip {
				case "inner":
					route = append(route, echomw.Gzip())
				case "outer":
					e.Use(echomw.Gzip())
				}
				e.GET("/stream", func(c *echo.Context) error {
					c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
					if err := flushes[tt.flush](c); err != nil {
						return err
					}
					_, err := io.WriteString(c.Response(), "data: "+echoState(c)+"\n\n")
					return err
				}, route...)
			})
			req := s.request("/stream", s.due("alice", nil))
			req.Header.Set(echo.HeaderAcceptEncoding, "gzip")
			res, body := s.do(req)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			s.wantRenewal(res, true, "")
			if got, want := res.Header.Get(echo.HeaderCacheControl), "no-store"; got != want {
				t.Errorf("Cache-Control %q, want %q", got, want)
			}
			if got := res.Header.Get("X-Before"); got != "ran" {
				t.Errorf("X-Before %q, want %q: the headers did not leave through Echo's Response", got, "ran")
			}
			if tt.gzip == "" && body != "data: committed=true status=200\n\n" {
				t.Errorf("body %q: Echo's Response did not see the headers leave with 200", body)
			}
			s.wantEchoQuiet()
		})
	}
}

// TestEarlyHintsThenFinalStatus writes 103 Early Hints below Echo's
// Response (which would commit on any status), then the final status
// through the context: the 103 reaches the client and decides nothing;
// the final status does.
func TestEarlyHintsThenFinalStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		final   int
		renewed bool
		reason  engine.Reason
	}{
		{http.StatusForbidden, false, engine.ReasonStatus},
		{http.StatusOK, true, ""},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.final), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.GET("/hints", func(c *echo.Context) error {
					res, err := echo.UnwrapResponse(c.Response())
					if err != nil {
						return err
					}
					below := res.Unwrap()
					below.Header().Set("Link", "</app.css>; rel=preload")
					below.WriteHeader(http.StatusEarlyHints)
					below.Header().Del("Link")
					return c.NoContent(tt.final)
				}, mw)
			})
			var (
				mu    sync.Mutex
				early []textproto.MIMEHeader
			)
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				mu.Lock()
				defer mu.Unlock()
				if code == http.StatusEarlyHints {
					early = append(early, h)
				}
				return nil
			}}
			req := s.request("/hints", s.due("alice", nil))
			req = req.WithContext(httptrace.WithClientTrace(context.Background(), trace))
			res, _ := s.do(req)
			if res.StatusCode != tt.final {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.final)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(early) != 1 {
				t.Fatalf("the client got %d 103 responses, want 1", len(early))
			}
			if got := early[0].Get(echov5.HeaderNewToken); got != "" {
				t.Errorf("the 103 carries %s", echov5.HeaderNewToken)
			}
			s.wantRenewal(res, tt.renewed, tt.reason)
			s.wantEchoQuiet()
		})
	}
}

// TestStatusThatLeaves: a due request is renewed only when the status that
// reaches the client is below 400, however it is written: by Echo's error
// handler from the handler's error, below Echo's Response, or held back by
// Gzip before the middleware. The outer request logger sees that status.
func TestStatusThatLeaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler echo.HandlerFunc
		gzip    bool // Gzip before the middleware, holding short bodies back
		want    int
		renewed bool
		reason  engine.Reason
	}{
		{name: "HTTPError 403", handler: func(c *echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "no")
		}, want: http.StatusForbidden, reason: engine.ReasonStatus},
		{name: "plain error", handler: func(c *echo.Context) error {
			return errors.New("database down")
		}, want: http.StatusInternalServerError, reason: engine.ReasonStatus},
		{name: "HTTPError 403, gzip", gzip: true, handler: func(c *echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "no")
		}, want: http.StatusForbidden, reason: engine.ReasonStatus},
		{name: "String 403, gzip", gzip: true, handler: func(c *echo.Context) error {
			return c.String(http.StatusForbidden, "no")
		}, want: http.StatusForbidden, reason: engine.ReasonStatus},
		{name: "String 200, gzip", gzip: true, handler: func(c *echo.Context) error {
			return c.String(http.StatusOK, "ok")
		}, want: http.StatusOK, renewed: true},
		{name: "JSON 201", handler: func(c *echo.Context) error {
			return c.JSON(http.StatusCreated, map[string]string{"id": "1"})
		}, want: http.StatusCreated, renewed: true},
		{name: "503 below the Response, then an error", handler: func(c *echo.Context) error {
			res, err := echo.UnwrapResponse(c.Response())
			if err != nil {
				return err
			}
			res.Unwrap().WriteHeader(http.StatusServiceUnavailable)
			return errors.New("after the status left")
		}, want: http.StatusServiceUnavailable, reason: engine.ReasonStatus},
		{name: "204 below the Response", handler: func(c *echo.Context) error {
			res, err := echo.UnwrapResponse(c.Response())
			if err != nil {
				return err
			}
			res.Unwrap().WriteHeader(http.StatusNoContent)
			return nil
		}, want: http.StatusNoContent, renewed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logged := make(chan int, 1)
			s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.Use(echomw.RequestLoggerWithConfig(echomw.RequestLoggerConfig{
					LogStatus:   true,
					HandleError: true,
					LogValuesFunc: func(_ *echo.Context, v echomw.RequestLoggerValues) error {
						logged <- v.Status
						return nil
					},
				}))
				if tt.gzip {
					e.Use(echomw.GzipWithConfig(echomw.GzipConfig{MinLength: 1 << 10}))
				}
				e.GET("/x", tt.handler, mw)
			})
			req := s.request("/x", s.due("alice", nil))
			req.Header.Set(echo.HeaderAcceptEncoding, "gzip")
			res, body := s.do(req)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d (body %q), want %d", res.StatusCode, body, tt.want)
			}
			s.wantRenewal(res, tt.renewed, tt.reason)
			select {
			case got := <-logged:
				if got != tt.want {
					t.Errorf("the request logger saw status %d, want %d", got, tt.want)
				}
			default:
				t.Error("the request logger logged nothing")
			}
			s.wantEchoQuiet()
		})
	}
}

// TestHijackDropsRenewal takes a due request's connection over, through
// the context's writer and through Echo's Response: no header of the
// middleware's can reach the client, so the store is not asked.
func TestHijackDropsRenewal(t *testing.T) {
	t.Parallel()
	hijacks := map[string]func(c *echo.Context) (http.Hijacker, error){
		"controller": func(c *echo.Context) (http.Hijacker, error) {
			return hijackFunc(http.NewResponseController(c.Response()).Hijack), nil
		},
		"echo-response": func(c *echo.Context) (http.Hijacker, error) {
			return echo.UnwrapResponse(c.Response())
		},
	}
	for name, hijacker := range hijacks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.GET("/hijack", func(c *echo.Context) error {
					h, err := hijacker(c)
					if err != nil {
						return err
					}
					conn, rw, err := h.Hijack()
					if err != nil {
						return err
					}
					defer conn.Close()
					_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
					return rw.Flush()
				}, mw)
			})
			res, body := s.get("/hijack", s.due("alice", nil))
			if res.StatusCode != http.StatusOK || body != "ok" {
				t.Fatalf("status %d, body %q; want the hijacker's 200 ok", res.StatusCode, body)
			}
			s.wantRenewal(res, false, engine.ReasonHijacked)
		})
	}
}

// hijackFunc is a function as an http.Hijacker.
type hijackFunc func() (net.Conn, *bufio.ReadWriter, error)

func (f hijackFunc) Hijack() (net.Conn, *bufio.ReadWriter, error) { return f() }

// TestWriterInterfacesSameWhenDue asserts the context writer's optional
// interfaces with a token not due and with a due one: the answers must not
// depend on whether a renewal is pending.
func TestWriterInterfacesSameWhenDue(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
		e.GET("/caps", func(c *echo.Context) error {
			w := c.Response()
			_, f := w.(http.Flusher)
			_, h := w.(http.Hijacker)
			_, p := w.(http.Pusher)
			_, u := w.(interface{ Unwrap() http.ResponseWriter })
			_, err := echo.UnwrapResponse(w)
			return c.String(http.StatusOK, fmt.Sprintf("flusher=%v hijacker=%v pusher=%v unwrap=%v echo-response=%v", f, h, p, u, err == nil))
		}, mw)
	})
	notDueRes, notDue := s.get("/caps", s.fresh("alice"))
	dueRes, due := s.get("/caps", s.due("bob", nil))
	if notDueRes.Header.Get(echov5.HeaderNewToken) != "" || dueRes.Header.Get(echov5.HeaderNewToken) == "" {
		t.Fatalf("renewed %q and %q, want only the second: the test does not compare what it means to",
			notDueRes.Header.Get(echov5.HeaderNewToken), dueRes.Header.Get(echov5.HeaderNewToken))
	}
	if notDue != due {
		t.Errorf("not due: %s; due: %s; want the same", notDue, due)
	}
}

// TestAutoHandleHEAD serves HEAD requests with GET routes (Echo's
// AutoHandleHEAD), whose writer holds the status back until the route's
// handler returns: the renewal is decided on that status, with the
// middleware on the route's group (inside that writer) or on Echo (outside).
func TestAutoHandleHEAD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path    string
		global  bool
		want    int
		renewed bool
		reason  engine.Reason
	}{
		{"/ok", false, http.StatusOK, true, ""},
		{"/no", false, http.StatusForbidden, false, engine.ReasonStatus},
		{"/silent", false, http.StatusOK, true, ""},
		{"/ok", true, http.StatusOK, true, ""},
		{"/no", true, http.StatusForbidden, false, engine.ReasonStatus},
		{"/silent", true, http.StatusOK, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s global=%v", tt.path, tt.global), func(t *testing.T) {
			t.Parallel()
			e := echo.NewWithConfig(echo.Config{Router: echo.NewRouter(echo.RouterConfig{AutoHandleHEAD: true})})
			s := newServerOn(t, e, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				var route []echo.MiddlewareFunc
				if tt.global {
					e.Use(mw)
				} else {
					route = append(route, mw)
				}
				e.GET("/ok", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") }, route...)
				e.GET("/no", func(c *echo.Context) error { return c.String(http.StatusForbidden, "no") }, route...)
				e.GET("/silent", func(c *echo.Context) error { return nil }, route...)
			})
			req := s.request(tt.path, s.due("alice", nil))
			req.Method = http.MethodHead
			res, _ := s.do(req)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
			s.wantRenewal(res, tt.renewed, tt.reason)
			s.wantEchoQuiet()
		})
	}
}
