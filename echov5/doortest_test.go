package echov5_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/echov5"
	"github.com/slidingjwt/slidingjwt/engine"
)

// v5Door is the Echo v5 application doortest.Run drives: the middleware on
// an Echo group under MountPrefix + "/api", the routes doortest.Door
// lists, and /health outside the group.
func v5Door(t testing.TB, s doortest.Setup) http.Handler {
	t.Helper()
	mw, err := echov5.Config{
		Settings:    s.Settings,
		Store:       s.Store,
		Keys:        s.Keys,
		Now:         s.Now,
		MountPrefix: s.MountPrefix,
		OnRenewal:   func(_ *echo.Context, ev engine.Event) { s.OnRenewal(ev) },
		Observer:    s.Observer,
		Revocations: s.Revocations,
	}.ToMiddleware()
	if err != nil {
		t.Fatalf("echov5.Config.ToMiddleware: %v", err)
	}
	e := echo.New()
	e.GET("/health", func(c *echo.Context) error { return c.String(http.StatusOK, "ok") })
	api := e.Group(s.MountPrefix+"/api", mw)
	me := func(c *echo.Context) error {
		return c.String(http.StatusOK, echov5.ClaimsFrom(c).Subject)
	}
	api.GET("/me", me)
	api.POST("/me", me)
	e.Any("/signin", func(c *echo.Context) error {
		if err := echov5.SetSessionCookie(c, s.Delivery, c.Request().Header.Get("X-Signin-Token")); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	api.GET("/status", func(c *echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/status/deep", func(c *echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/statusx", func(c *echo.Context) error { return c.String(http.StatusOK, "x") })
	api.GET("/forbidden", func(c *echo.Context) error {
		return echo.NewHTTPError(http.StatusForbidden, "forbidden")
	})
	api.GET("/boom", func(c *echo.Context) error { return errors.New("database down") })
	api.GET("/silent", func(c *echo.Context) error { return nil })
	if s.SignOut != nil {
		api.POST("/logout", func(c *echo.Context) error {
			if err := s.SignOut(c.Request().Context(), echov5.ClaimsFrom(c)); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
	}
	api.GET("/stream", func(c *echo.Context) error {
		w := c.Response()
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			if err := rc.Flush(); err != nil {
				return err
			}
		}
		return nil
	})
	return e
}

// TestDoorScenarios runs the scenario table every front door passes.
func TestDoorScenarios(t *testing.T) { doortest.Run(t, v5Door) }
