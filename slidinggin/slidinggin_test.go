package slidinggin_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/slidinggin"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// testSecret is the HS256 secret of every application these tests build.
const testSecret = "slidinggin-test-secret-0123456789abcdef-0123"

// epoch is when the tokens of these tests are issued; dueAt is the
// applications' clock: a user token issued at epoch (48 hours,
// config.Default) then has 18 hours left, so it is due for renewal.
var (
	epoch = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	dueAt = epoch.Add(30 * time.Hour)
)

// app is a Gin engine with the middleware, a counting memory store, and
// the reasons the middleware reported.
type app struct {
	t      *testing.T
	r      *gin.Engine
	store  *testkit.CountingStore
	issuer *token.Issuer

	mu      sync.Mutex
	reasons []string
}

// newApp builds the middleware from a Config with the app's settings,
// store, keys, clock and event recorder, changed by change when set, and
// lets routes register routes on r, mw being the middleware.
func newApp(t *testing.T, change func(*slidinggin.Config), routes func(r *gin.Engine, mw gin.HandlerFunc)) *app {
	t.Helper()
	settings := config.Default()
	settings.Secret = testSecret
	st := &testkit.CountingStore{Store: memory.New(nil)}
	t.Cleanup(func() { _ = st.Close() })
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		t.Fatalf("token.NewIssuer: %v", err)
	}
	a := &app{t: t, r: gin.New(), store: st, issuer: issuer}
	cfg := slidinggin.Config{
		Settings: settings,
		Store:    st,
		Keys:     issuer.Keys(),
		Now:      testkit.NewClock(dueAt).Now,
		OnRenewal: func(_ *gin.Context, ev engine.Event) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if ev.Renewed {
				a.reasons = append(a.reasons, "renewed")
			} else {
				a.reasons = append(a.reasons, string(ev.Reason))
			}
		},
	}
	if change != nil {
		change(&cfg)
	}
	mw, err := cfg.ToMiddleware()
	if err != nil {
		t.Fatalf("ToMiddleware: %v", err)
	}
	routes(a.r, mw)
	return a
}

// wantRec is want for a recorded response.
func (a *app) wantRec(rec *httptest.ResponseRecorder, status int, renewed bool, allows int64, reasons ...string) {
	a.t.Helper()
	a.want(rec.Code, rec.Header(), status, renewed, allows, reasons...)
}

// token returns a user token of alice issued at epoch: due at dueAt.
func (a *app) token() string {
	a.t.Helper()
	tok, _, err := a.issuer.IssueAt(epoch, "alice", "user", nil)
	if err != nil {
		a.t.Fatalf("IssueAt: %v", err)
	}
	return tok
}

// get sends GET path with the bearer token tok (none when "").
func (a *app) get(path, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	a.r.ServeHTTP(rec, req)
	return rec
}

// want checks the status and headers of a response, whether a token was
// renewed, the store calls and the reasons reported.
func (a *app) want(code int, h http.Header, status int, renewed bool, allows int64, reasons ...string) {
	a.t.Helper()
	if code != status {
		a.t.Errorf("status = %d, want %d", code, status)
	}
	if got := h.Get(slidinggin.HeaderNewToken) != ""; got != renewed {
		a.t.Errorf("renewed = %v, want %v", got, renewed)
	}
	if got := a.store.Allows(); got != allows {
		a.t.Errorf("store.Allow calls = %d, want %d", got, allows)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if strings.Join(a.reasons, ",") != strings.Join(reasons, ",") {
		a.t.Errorf("reasons = %q, want %q", a.reasons, reasons)
	}
}

// TestStatusGinRecorded: the renewal is decided on the status Gin sends,
// whatever was set before, and for a handler that writes nothing on the
// status it set.
func TestStatusGinRecorded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler gin.HandlerFunc
		status  int
		renewed bool
		allows  int64
		reason  string
	}{
		{"status changed to 401 before the write", func(c *gin.Context) {
			c.Status(http.StatusCreated)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"message": "no"})
		}, http.StatusUnauthorized, false, 0, string(engine.ReasonStatus)},
		{"status changed to 201 before the write", func(c *gin.Context) {
			c.Status(http.StatusNotFound)
			c.String(http.StatusCreated, "made")
		}, http.StatusCreated, true, 1, "renewed"},
		{"nothing written, 404 set", func(c *gin.Context) { c.Status(http.StatusNotFound) },
			http.StatusNotFound, false, 0, string(engine.ReasonStatus)},
		{"nothing written, 202 set", func(c *gin.Context) { c.Status(http.StatusAccepted) },
			http.StatusAccepted, true, 1, "renewed"},
		{"WriteHeaderNow", func(c *gin.Context) {
			c.Status(http.StatusNoContent)
			c.Writer.WriteHeaderNow()
		}, http.StatusNoContent, true, 1, "renewed"},
		{"WriteString", func(c *gin.Context) { _, _ = c.Writer.WriteString("hi") }, http.StatusOK, true, 1, "renewed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, nil, func(r *gin.Engine, mw gin.HandlerFunc) { r.GET("/api/x", mw, tt.handler) })
			a.wantRec(a.get("/api/x", a.token()), tt.status, tt.renewed, tt.allows, tt.reason)
		})
	}
}

// TestErrorMiddleware: a handler that records an error with c.Error and
// writes nothing leaves the decision to the middleware that writes the
// error's answer after the chain.
func TestErrorMiddleware(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusOK} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, nil, func(r *gin.Engine, mw gin.HandlerFunc) {
				r.Use(func(c *gin.Context) {
					c.Next()
					if len(c.Errors) > 0 {
						c.JSON(status, gin.H{"message": c.Errors.Last().Error()})
					}
				})
				r.GET("/api/x", mw, func(c *gin.Context) { _ = c.Error(errors.New("database down")) })
			})
			if status == http.StatusOK {
				a.wantRec(a.get("/api/x", a.token()), status, true, 1, "renewed")
			} else {
				a.wantRec(a.get("/api/x", a.token()), status, false, 0, string(engine.ReasonStatus))
			}
		})
	}
}

// TestContext: the typed claims are under ClaimsFrom; the *jwt.Token is
// in the context only under a ContextKey that is set.
func TestContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(*slidinggin.Config)
		key       string
		wantToken bool
	}{
		{"default", nil, "user", false},
		{"ContextKey", func(c *slidinggin.Config) { c.ContextKey = "user" }, "user", true},
		{"another ContextKey", func(c *slidinggin.Config) { c.ContextKey = "jwt" }, "jwt", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tt.change, func(r *gin.Engine, mw gin.HandlerFunc) {
				r.GET("/api/x", mw, func(c *gin.Context) {
					v, ok := c.Get(tt.key)
					if ok != tt.wantToken {
						t.Errorf("c.Get(%q) found = %v, want %v", tt.key, ok, tt.wantToken)
					}
					if ok {
						tok, _ := v.(*jwt.Token)
						if sub, _ := tok.Claims.GetSubject(); sub != "alice" {
							t.Errorf("token's sub = %q, want alice", sub)
						}
					}
					if got := slidinggin.ClaimsFrom(c).Subject; got != "alice" {
						t.Errorf("ClaimsFrom(c).Subject = %q, want alice", got)
					}
				})
			})
			// Issued now: not due, so nothing else happens.
			tok, _, err := a.issuer.IssueAt(dueAt, "alice", "user", nil)
			if err != nil {
				t.Fatal(err)
			}
			a.wantRec(a.get("/api/x", tok), http.StatusOK, false, 0, string(engine.ReasonThreshold))
		})
	}
}

// TestParamLookup: a param source reads the route's path parameter.
func TestParamLookup(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *slidinggin.Config) { c.TokenLookup = "param:tok" }, func(r *gin.Engine, mw gin.HandlerFunc) {
		r.GET("/api/t/:tok", mw, func(c *gin.Context) { c.String(http.StatusOK, slidinggin.ClaimsFrom(c).Subject) })
	})
	rec := a.get("/api/t/"+a.token(), "")
	a.wantRec(rec, http.StatusOK, true, 1, "renewed")
	if rec.Body.String() != "alice" {
		t.Errorf("body = %q, want alice", rec.Body.String())
	}
}

// TestFailures: the default answers, and ErrorHandler, which answers
// instead; the chain is aborted either way.
func TestFailures(t *testing.T) {
	t.Parallel()
	// The handler runs, if at all, on the test's goroutine (ServeHTTP).
	var handlerRan bool
	routes := func(r *gin.Engine, mw gin.HandlerFunc) {
		r.GET("/api/x", mw, func(*gin.Context) { handlerRan = true })
	}
	t.Run("default", func(t *testing.T) {
		a := newApp(t, nil, routes)
		for _, tt := range []struct{ tok, body, challenge string }{
			{"", `{"message":"missing or malformed jwt"}`, "Bearer"},
			{"not.a.jwt", `{"message":"invalid or expired jwt"}`, `Bearer error="invalid_token"`},
		} {
			rec := a.get("/api/x", tt.tok)
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != tt.body {
				t.Errorf("token %q: got %d %s, want 401 %s", tt.tok, rec.Code, rec.Body, tt.body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("token %q: WWW-Authenticate = %q, want %q", tt.tok, got, tt.challenge)
			}
		}
	})
	t.Run("ErrorHandler", func(t *testing.T) {
		var got error
		a := newApp(t, func(c *slidinggin.Config) {
			c.ErrorHandler = func(c *gin.Context, err error) {
				got = err
				c.String(http.StatusTeapot, "no")
			}
		}, routes)
		rec := a.get("/api/x", "not.a.jwt")
		if rec.Code != http.StatusTeapot || rec.Body.String() != "no" {
			t.Errorf("got %d %q, want 418 no", rec.Code, rec.Body)
		}
		if !errors.Is(got, engine.ErrTokenInvalid) {
			t.Errorf("ErrorHandler got %v, want engine.ErrTokenInvalid", got)
		}
	})
	if handlerRan {
		t.Error("the handler ran after a failed authentication")
	}
}

// TestSkipper: a skipped request reaches the handler unauthenticated.
func TestSkipper(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *slidinggin.Config) {
		c.Skipper = func(c *gin.Context) bool { return c.Request.URL.Path == "/api/open" }
	}, func(r *gin.Engine, mw gin.HandlerFunc) {
		r.GET("/api/open", mw, func(c *gin.Context) {
			if slidinggin.ClaimsFrom(c) != nil {
				t.Error("ClaimsFrom of a skipped request is not nil")
			}
			c.String(http.StatusOK, "open")
		})
	})
	a.wantRec(a.get("/api/open", ""), http.StatusOK, false, 0)
}

// TestHijack: a handler that takes the connection over drops the renewal
// without asking the store.
func TestHijack(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, func(r *gin.Engine, mw gin.HandlerFunc) {
		r.GET("/api/ws", mw, func(c *gin.Context) {
			conn, buf, err := http.NewResponseController(c.Writer).Hijack()
			if err != nil {
				t.Errorf("Hijack: %v", err)
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
			_ = buf.Flush()
		})
	})
	srv := httptest.NewServer(a.r)
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token())
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if string(body) != "hi" || res.Header.Get(slidinggin.HeaderNewToken) != "" {
		t.Errorf("got %q with X-New-Token %q, want hi without one", body, res.Header.Get(slidinggin.HeaderNewToken))
	}
	a.want(res.StatusCode, res.Header, http.StatusOK, false, 0, string(engine.ReasonHijacked))
}

// TestBadConfig: ToMiddleware returns the error New panics with.
func TestBadConfig(t *testing.T) {
	t.Parallel()
	settings := config.Default()
	settings.Secret = testSecret
	tests := []struct {
		name string
		cfg  slidinggin.Config
		want string
	}{
		{"no settings", slidinggin.Config{}, "Settings is empty"},
		{"no store", slidinggin.Config{Settings: settings}, "Store is required"},
		{"bad lookup", slidinggin.Config{Settings: settings, Store: memory.New(nil), TokenLookup: "body:x"}, `"body" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.cfg.Store != nil {
				t.Cleanup(func() { _ = tt.cfg.Store.Close() })
			}
			h, err := tt.cfg.ToMiddleware()
			if h != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ToMiddleware() = %v, %v; want nil and an error containing %q", h != nil, err, tt.want)
			}
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(error).Error(), tt.want) {
					t.Errorf("New panicked with %v, want the error of ToMiddleware", r)
				}
			}()
			slidinggin.New(tt.cfg)
		})
	}
}
