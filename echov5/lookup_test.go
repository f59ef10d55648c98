package echov5_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/slidingjwt/slidingjwt/echov5"
)

// TestLookupTriesEveryValue sends tokens in several places of one request:
// every value is tried, source by source (TokenLookupFuncs first), until
// one verifies; when none does, the 401 is echo-jwt's, and ErrorHandler
// gets the last value's error, or ErrTokenMissing when there was none.
func TestLookupTriesEveryValue(t *testing.T) {
	t.Parallel()
	// X-Alt is read by a TokenLookupFuncs function; X-Fail by one that
	// always fails.
	alt := func(c *echo.Context) ([]string, echomw.ExtractorSource, error) {
		return c.Request().Header.Values("X-Alt"), "x-alt", nil
	}
	failing := func(*echo.Context) ([]string, echomw.ExtractorSource, error) {
		return []string{"never tried"}, "x-fail", errors.New("no value here")
	}
	const (
		expired = "expired"
		valid   = "valid"
		garbage = "garbage"
	)
	tests := []struct {
		name     string
		funcs    bool     // TokenLookupFuncs alt and failing (TokenLookup still set)
		auth     []string // Authorization: Bearer values, in order
		cookie   string   // the jwt cookie
		altValue string   // X-Alt
		query    string   // ?token=
		want     int
		wantErr  error  // what ErrorHandler gets, when want is 401
		wantBody string // the default 401 body
	}{
		{name: "expired header, valid cookie", auth: []string{expired}, cookie: valid, want: http.StatusOK},
		{name: "valid header, garbage cookie", auth: []string{valid}, cookie: garbage, want: http.StatusOK},
		{name: "expired then valid header", auth: []string{expired, valid}, want: http.StatusOK},
		{name: "garbage header, expired cookie, valid query", auth: []string{garbage}, cookie: expired, query: valid, want: http.StatusOK},
		{name: "expired header only", auth: []string{expired}, want: http.StatusUnauthorized,
			wantErr: jwt.ErrTokenExpired, wantBody: `{"message":"invalid or expired jwt"}`},
		{name: "expired header, garbage cookie", auth: []string{expired}, cookie: garbage, want: http.StatusUnauthorized,
			wantErr: echov5.ErrTokenInvalid, wantBody: `{"message":"invalid or expired jwt"}`},
		{name: "garbage cookie, no query", cookie: garbage, want: http.StatusUnauthorized,
			wantErr: echov5.ErrTokenInvalid, wantBody: `{"message":"invalid or expired jwt"}`},
		{name: "nothing", want: http.StatusUnauthorized,
			wantErr: echov5.ErrTokenMissing, wantBody: `{"message":"missing or malformed jwt"}`},
		{name: "funcs first: valid X-Alt, expired header", funcs: true, auth: []string{expired}, altValue: valid, want: http.StatusOK},
		{name: "funcs: expired X-Alt, valid header", funcs: true, auth: []string{valid}, altValue: expired, want: http.StatusOK},
		{name: "funcs: expired X-Alt, nothing else", funcs: true, altValue: expired, want: http.StatusUnauthorized,
			wantErr: jwt.ErrTokenExpired, wantBody: `{"message":"invalid or expired jwt"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, withHandler := range []bool{false, true} {
				errs := make(chan error, 1)
				s := newServer(t, func(c *echov5.Config) {
					c.TokenLookup = echov5.DefaultTokenLookup + ",cookie:jwt,query:token"
					if tt.funcs {
						c.TokenLookupFuncs = []echomw.ValuesExtractor{failing, alt}
					}
					if withHandler {
						c.ErrorHandler = func(c *echo.Context, err error) error {
							errs <- err
							return echo.ErrUnauthorized.Wrap(err)
						}
					}
				}, func(e *echo.Echo, mw echo.MiddlewareFunc) {
					e.GET("/me", func(c *echo.Context) error {
						return c.String(http.StatusOK, echov5.ClaimsFrom(c).Subject)
					}, mw)
				})
				tokens := map[string]string{expired: s.expired("old"), valid: s.fresh("alice"), garbage: "not.a.jwt"}
				path := "/me"
				if tt.query != "" {
					path += "?token=" + tokens[tt.query]
				}
				req := s.request(path, "")
				for _, a := range tt.auth {
					req.Header.Add(echo.HeaderAuthorization, "Bearer "+tokens[a])
				}
				if tt.cookie != "" {
					req.AddCookie(&http.Cookie{Name: "jwt", Value: tokens[tt.cookie]})
				}
				if tt.altValue != "" {
					req.Header.Set("X-Alt", tokens[tt.altValue])
				}
				res, body := s.do(req)
				if res.StatusCode != tt.want {
					t.Fatalf("handler %v: status %d, body %q; want %d", withHandler, res.StatusCode, body, tt.want)
				}
				if tt.want == http.StatusOK {
					if body != "alice" {
						t.Errorf("body %q, want the valid token's sub %q", body, "alice")
					}
					continue
				}
				if withHandler {
					select {
					case err := <-errs:
						if !errors.Is(err, tt.wantErr) {
							t.Errorf("ErrorHandler got %v, want %v", err, tt.wantErr)
						}
					default:
						t.Error("ErrorHandler was not called")
					}
					continue
				}
				if got := strings.TrimSpace(body); got != tt.wantBody {
					t.Errorf("body %q, want %q", got, tt.wantBody)
				}
				wantAuth := `Bearer error="invalid_token"`
				if errors.Is(tt.wantErr, echov5.ErrTokenMissing) {
					wantAuth = "Bearer"
				}
				if got := res.Header.Get(echo.HeaderWWWAuthenticate); got != wantAuth {
					t.Errorf("WWW-Authenticate %q, want %q", got, wantAuth)
				}
			}
		})
	}
}

// TestLookupAtMostTwentyValues: a source yields at most 20 values, so a
// valid token sent as the 21st Authorization header is never tried.
func TestLookupAtMostTwentyValues(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
		e.GET("/me", func(c *echo.Context) error { return c.String(http.StatusOK, "in") }, mw)
	})
	for _, tt := range []struct {
		before int // expired values before the valid one
		want   int
	}{{19, http.StatusOK}, {20, http.StatusUnauthorized}} {
		req := s.request("/me", "")
		for range tt.before {
			req.Header.Add(echo.HeaderAuthorization, "Bearer "+s.expired("old"))
		}
		req.Header.Add(echo.HeaderAuthorization, "Bearer "+s.fresh("alice"))
		if res, _ := s.do(req); res.StatusCode != tt.want {
			t.Errorf("valid token after %d expired: status %d, want %d", tt.before, res.StatusCode, tt.want)
		}
	}
}

// TestLookupParam reads the token from a path parameter, which only the
// router knows: Echo's extractor.
func TestLookupParam(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *echov5.Config) { c.TokenLookup = "param:tok" }, func(e *echo.Echo, mw echo.MiddlewareFunc) {
		e.GET("/t/:tok", func(c *echo.Context) error { return c.String(http.StatusOK, echov5.ClaimsFrom(c).Subject) }, mw)
	})
	if res, body := s.get("/t/"+s.fresh("alice"), ""); res.StatusCode != http.StatusOK || body != "alice" {
		t.Errorf("status %d, body %q; want 200 alice", res.StatusCode, body)
	}
}
