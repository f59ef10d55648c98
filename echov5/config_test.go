package echov5_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/echov5"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// TestConfigErrors: ToMiddleware returns an error naming the bad setting,
// and WithConfig panics with it; neither builds a middleware.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	good := config.Default()
	good.Secret = testSecret
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	tests := []struct {
		name   string
		change func(*echov5.Config)
		want   string // in the error
	}{
		{"empty settings", func(c *echov5.Config) { c.Settings = config.Settings{} }, "Config.Settings is empty"},
		{"no store", func(c *echov5.Config) { c.Store = nil }, "Config.Store is required"},
		{"unknown source", func(c *echov5.Config) { c.TokenLookup = "header:Authorization,body:jwt" }, `"body:jwt"`},
		{"source without a name", func(c *echov5.Config) { c.TokenLookup = "cookie:" }, `"cookie:": want <source>:<name>`},
		{"prefix with a colon", func(c *echov5.Config) { c.TokenLookup = "header:Authorization:Bearer:x" }, "a prefix cannot hold ':'"},
		{"nil lookup func", func(c *echov5.Config) {
			c.TokenLookupFuncs = []echomw.ValuesExtractor{nil}
		}, "Config.TokenLookupFuncs[0] is nil"},
		{"negative MaxTokenSize", func(c *echov5.Config) { c.MaxTokenSize = -1 }, "Config.MaxTokenSize -1"},
		{"MountPrefix without a slash", func(c *echov5.Config) { c.MountPrefix = "rag" }, `Config.MountPrefix "rag"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := echov5.Config{Settings: good, Store: st}
			tt.change(&cfg)
			mw, err := cfg.ToMiddleware()
			if err == nil || mw != nil {
				t.Fatalf("ToMiddleware = %v, %v; want an error", mw != nil, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			defer func() {
				r := recover()
				perr, _ := r.(error)
				if perr == nil || perr.Error() != err.Error() {
					t.Errorf("WithConfig panicked with %v, want %v", r, err)
				}
			}()
			echov5.WithConfig(cfg)
		})
	}
}

// TestNewAndDefaults: New builds the middleware from settings and a store
// alone, with DefaultConfig's lookup ("Authorization: Bearer") and context
// key ("user").
func TestNewAndDefaults(t *testing.T) {
	t.Parallel()
	settings := config.Default()
	settings.Secret = testSecret
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/me", func(c *echo.Context) error {
		tok, ok := c.Get(echov5.DefaultContextKey).(*jwt.Token)
		if !ok || !tok.Valid {
			return errors.New("no valid *jwt.Token under the default key")
		}
		return c.String(http.StatusOK, echov5.ClaimsFrom(c).Subject)
	}, echov5.New(settings, st))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := srv.Client()
	tok, err := issuer.Issue("alice", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		auth string
		want int
		body string
	}{
		{"Bearer " + tok, http.StatusOK, "alice"},
		{"bearer " + tok, http.StatusOK, "alice"},
		{tok, http.StatusUnauthorized, `{"message":"missing or malformed jwt"}`},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
		req.Header.Set(echo.HeaderAuthorization, tt.auth)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != tt.want || strings.TrimSpace(string(b)) != tt.body {
			t.Errorf("Authorization %.10q...: status %d, body %q; want %d %q", tt.auth, res.StatusCode, b, tt.want, tt.body)
		}
	}
}

// TestHooks: the Skipper skips authentication altogether; BeforeFunc runs
// for every request it lets through, SuccessHandler for each verified
// one; an ErrorHandler that returns nil with ContinueOnIgnoredError lets
// the request on without claims, and without it ends the request.
func TestHooks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		path          string
		auth          bool // a valid token
		continueOnErr bool
		want          int
		wantBody      string
		wantBefore    int64
		wantSuccess   int64
	}{
		{name: "skipped", path: "/public", want: http.StatusOK, wantBody: "claims=false"},
		{name: "verified", path: "/me", auth: true, want: http.StatusOK, wantBody: "claims=true", wantBefore: 1, wantSuccess: 1},
		{name: "ignored error, continue", path: "/me", continueOnErr: true, want: http.StatusOK, wantBody: "claims=false", wantBefore: 1},
		{name: "ignored error, stop", path: "/me", want: http.StatusOK, wantBody: "", wantBefore: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var before, success atomic.Int64
			s := newServer(t, func(c *echov5.Config) {
				c.Skipper = func(c *echo.Context) bool { return c.Request().URL.Path == "/public" }
				c.BeforeFunc = func(*echo.Context) { before.Add(1) }
				c.SuccessHandler = func(*echo.Context) { success.Add(1) }
				c.ErrorHandler = func(*echo.Context, error) error { return nil }
				c.ContinueOnIgnoredError = tt.continueOnErr
			}, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.Use(mw)
				h := func(c *echo.Context) error {
					return c.String(http.StatusOK, "claims="+strconv.FormatBool(echov5.ClaimsFrom(c) != nil))
				}
				e.GET("/public", h)
				e.GET("/me", h)
			})
			tok := ""
			if tt.auth {
				tok = s.fresh("alice")
			}
			res, body := s.get(tt.path, tok)
			if res.StatusCode != tt.want || body != tt.wantBody {
				t.Errorf("status %d, body %q; want %d %q", res.StatusCode, body, tt.want, tt.wantBody)
			}
			if got := before.Load(); got != tt.wantBefore {
				t.Errorf("BeforeFunc ran %d times, want %d", got, tt.wantBefore)
			}
			if got := success.Load(); got != tt.wantSuccess {
				t.Errorf("SuccessHandler ran %d times, want %d", got, tt.wantSuccess)
			}
		})
	}
}

// TestLogRenewals logs a renewal at Info with the request's path, and
// never the token, old or new.
func TestLogRenewals(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logs := make(chan string, 1)
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log := echov5.LogRenewals(logger)
	s := newServer(t, func(c *echov5.Config) {
		c.OnRenewal = func(c *echo.Context, ev echov5.RenewalEvent) {
			log(c, ev)
			logs <- buf.String()
		}
	}, func(e *echo.Echo, mw echo.MiddlewareFunc) {
		e.GET("/api/me", func(c *echo.Context) error { return c.String(http.StatusOK, "in") }, mw)
	})
	tok := s.due("alice", nil)
	res, _ := s.get("/api/me", tok)
	fresh := res.Header.Get(echov5.HeaderNewToken)
	if fresh == "" {
		t.Fatal("not renewed")
	}
	out := <-logs
	for _, want := range []string{"level=INFO", `msg="token renewed"`, "sub=alice", "path=/api/me"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	for _, secret := range []string{tok, fresh, strings.Split(fresh, ".")[2]} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a token")
		}
	}
	// Without a context (an application's own call), no path.
	buf.Reset()
	log(nil, echov5.RenewalEvent{Renewed: true, Subject: "bob"})
	if out := buf.String(); !strings.Contains(out, "sub=bob") || strings.Contains(out, "path=") {
		t.Errorf("log without a context %q: want sub=bob and no path", out)
	}
}
