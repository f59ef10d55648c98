package echov5_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt/echov5"
)

// TestClaimsPrivatePerRequest: a handler that writes into the *jwt.Token's
// claims map and into the typed Claims it was given changes neither what
// the next request with the same token sees (the second comes from the
// verified-token cache) nor what the renewal signs.
func TestClaimsPrivatePerRequest(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, func(e *echo.Echo, mw echo.MiddlewareFunc) {
		e.GET("/mutate", func(c *echo.Context) error {
			mc := c.Get(echov5.DefaultContextKey).(*jwt.Token).Claims.(jwt.MapClaims)
			cl := echov5.ClaimsFrom(c)
			seen := fmt.Sprintf("sub=%v team=%v typed=%s", mc["sub"], mc["team"], cl.Subject)
			mc["sub"], mc["team"] = "mallory", "red"
			cl.Subject = "mallory"
			cl.Map()["role"] = "admin"
			return c.String(http.StatusOK, seen)
		}, mw)
	})
	tok := s.due("alice", map[string]any{"team": "blue"})
	const want = "sub=alice team=blue typed=alice"
	for i := range 3 {
		res, body := s.get("/mutate", tok)
		if res.StatusCode != http.StatusOK || body != want {
			t.Fatalf("request %d: status %d, body %q; want 200 %q", i, res.StatusCode, body, want)
		}
		if fresh := res.Header.Get(echov5.HeaderNewToken); fresh != "" {
			mc := parse(t, fresh)
			if mc["sub"] != "alice" || mc["team"] != "blue" || mc["role"] != "user" {
				t.Errorf("request %d: renewed claims sub=%v team=%v role=%v, want alice, blue, user", i, mc["sub"], mc["team"], mc["role"])
			}
		} else if i == 0 {
			t.Errorf("the first request of a due token was not renewed")
		}
	}
}

// teamClaims is an application's own claims type, for NewClaimsFunc.
type teamClaims struct {
	jwt.RegisteredClaims
	Team string `json:"team"`
}

// TestContextValues: what the middleware puts in the context under each
// configuration: echo-jwt's *jwt.Token under ContextKey (with
// jwt.MapClaims, or NewClaimsFunc's type), and the typed claims, alone
// with TypedClaimsOnly.
func TestContextValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*echov5.Config)
		want   string
	}{
		{"default", nil, "user=jwt.MapClaims team=blue jwt=<nil> typed=alice"},
		{"ContextKey", func(c *echov5.Config) { c.ContextKey = "jwt" }, "user=<nil> jwt=jwt.MapClaims team=blue typed=alice"},
		{"TypedClaimsOnly", func(c *echov5.Config) { c.TypedClaimsOnly = true }, "user=<nil> jwt=<nil> typed=alice"},
		{"NewClaimsFunc", func(c *echov5.Config) {
			c.NewClaimsFunc = func(*echo.Context) jwt.Claims { return new(teamClaims) }
		}, "user=*echov5_test.teamClaims team=blue sub=alice jwt=<nil> typed=alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, tt.change, func(e *echo.Echo, mw echo.MiddlewareFunc) {
				e.GET("/ctx", func(c *echo.Context) error {
					var out string
					for _, key := range []string{"user", "jwt"} {
						switch v := c.Get(key).(type) {
						case *jwt.Token:
							out += fmt.Sprintf("%s=%T ", key, v.Claims)
							switch cl := v.Claims.(type) {
							case jwt.MapClaims:
								out += fmt.Sprintf("team=%v ", cl["team"])
							case *teamClaims:
								out += fmt.Sprintf("team=%s sub=%s ", cl.Team, cl.Subject)
							}
						default:
							out += fmt.Sprintf("%s=%v ", key, v)
						}
					}
					return c.String(http.StatusOK, out+"typed="+echov5.ClaimsFrom(c).Subject)
				}, mw)
			})
			res, body := s.get("/ctx", s.mint(dueAt.Add(-time.Minute), "alice", map[string]any{"team": "blue"}))
			if res.StatusCode != http.StatusOK || body != tt.want {
				t.Errorf("status %d, body %q; want 200 %q", res.StatusCode, body, tt.want)
			}
		})
	}
}

// TestNewClaimsFuncMismatch: claims that do not decode into NewClaimsFunc's
// type make the token invalid: 401, and ErrTokenInvalid for an
// ErrorHandler.
func TestNewClaimsFuncMismatch(t *testing.T) {
	t.Parallel()
	errs := make(chan error, 1)
	s := newServer(t, func(c *echov5.Config) {
		c.NewClaimsFunc = func(*echo.Context) jwt.Claims { return new(teamClaims) }
		c.ErrorHandler = func(c *echo.Context, err error) error {
			errs <- err
			return echo.ErrUnauthorized.Wrap(err)
		}
	}, func(e *echo.Echo, mw echo.MiddlewareFunc) {
		e.GET("/me", func(c *echo.Context) error { return c.String(http.StatusOK, "in") }, mw)
	})
	res, _ := s.get("/me", s.due("alice", map[string]any{"team": 7}))
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", res.StatusCode)
	}
	select {
	case got := <-errs:
		if !errors.Is(got, echov5.ErrTokenInvalid) {
			t.Errorf("ErrorHandler got %v, want ErrTokenInvalid", got)
		}
	default:
		t.Error("ErrorHandler was not called")
	}
	if n := s.store.Allows(); n != 0 {
		t.Errorf("store asked %d times, want 0", n)
	}
}
