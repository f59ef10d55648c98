package middleware_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// echoDoor is the Echo v4 application doortest.Run drives: the middleware
// on an Echo group under MountPrefix + "/api", the routes doortest.Door
// lists, and /health outside the group.
func echoDoor(t testing.TB, s doortest.Setup) http.Handler {
	t.Helper()
	mw, err := middleware.Config{
		Settings:    s.Settings,
		Store:       s.Store,
		Keys:        s.Keys,
		Now:         s.Now,
		MountPrefix: s.MountPrefix,
		OnRenewal:   func(_ echo.Context, ev engine.Event) { s.OnRenewal(ev) },
		Observer:    s.Observer,
		Revocations: s.Revocations,
	}.ToMiddleware()
	if err != nil {
		t.Fatalf("middleware.Config.ToMiddleware: %v", err)
	}
	e := echo.New()
	e.GET("/health", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	api := e.Group(s.MountPrefix+"/api", mw)
	me := func(c echo.Context) error {
		return c.String(http.StatusOK, middleware.ClaimsFrom(c).Subject)
	}
	api.GET("/me", me)
	api.POST("/me", me)
	e.Any("/signin", func(c echo.Context) error {
		if err := middleware.SetSessionCookie(c, s.Delivery, c.Request().Header.Get("X-Signin-Token")); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	api.GET("/status", func(c echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/status/deep", func(c echo.Context) error { return c.String(http.StatusOK, "idle") })
	api.GET("/statusx", func(c echo.Context) error { return c.String(http.StatusOK, "x") })
	api.GET("/forbidden", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusForbidden, "forbidden")
	})
	api.GET("/boom", func(c echo.Context) error { return errors.New("database down") })
	api.GET("/silent", func(c echo.Context) error { return nil })
	if s.SignOut != nil {
		api.POST("/logout", func(c echo.Context) error {
			if err := s.SignOut(c.Request().Context(), middleware.ClaimsFrom(c)); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
	}
	api.GET("/stream", func(c echo.Context) error {
		res := c.Response()
		res.WriteHeader(http.StatusOK)
		for i := range 3 {
			fmt.Fprintf(res, "chunk %d\n", i)
			res.Flush()
		}
		return nil
	})
	return e
}

// TestDoorScenarios runs the scenario table every front door passes.
func TestDoorScenarios(t *testing.T) { doortest.Run(t, echoDoor) }
