package slidinggin_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/slidinggin"
)

func init() { gin.SetMode(gin.TestMode) }

// ginDoor is the Gin application doortest.Run drives: the middleware on a
// Gin group under MountPrefix + "/api", the routes doortest.Door lists,
// and /health outside the group.
func ginDoor(t testing.TB, s doortest.Setup) http.Handler {
	t.Helper()
	mw, err := slidinggin.Config{
		Settings:    s.Settings,
		Store:       s.Store,
		Keys:        s.Keys,
		Now:         s.Now,
		MountPrefix: s.MountPrefix,
		OnRenewal:   func(_ *gin.Context, ev engine.Event) { s.OnRenewal(ev) },
		Observer:    s.Observer,
		Revocations: s.Revocations,
	}.ToMiddleware()
	if err != nil {
		t.Fatalf("slidinggin.Config.ToMiddleware: %v", err)
	}
	r := gin.New()
	r.GET("/health", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	api := r.Group(s.MountPrefix+"/api", mw)
	me := func(c *gin.Context) { c.String(http.StatusOK, slidinggin.ClaimsFrom(c).Subject) }
	api.GET("/me", me)
	api.POST("/me", me)
	r.Any("/signin", func(c *gin.Context) {
		if slidinggin.SetSessionCookie(c, s.Delivery, c.GetHeader("X-Signin-Token")) == nil {
			c.Status(http.StatusNoContent)
			c.Writer.WriteHeaderNow()
		}
	})
	api.GET("/status", func(c *gin.Context) { c.String(http.StatusOK, "idle") })
	api.GET("/status/deep", func(c *gin.Context) { c.String(http.StatusOK, "idle") })
	api.GET("/statusx", func(c *gin.Context) { c.String(http.StatusOK, "x") })
	// Both failures send their status through WriteHeaderNow, with no body.
	api.GET("/forbidden", func(c *gin.Context) { c.AbortWithStatus(http.StatusForbidden) })
	api.GET("/boom", func(c *gin.Context) {
		_ = c.AbortWithError(http.StatusInternalServerError, errors.New("database down"))
	})
	api.GET("/silent", func(*gin.Context) {})
	if s.SignOut != nil {
		api.POST("/logout", func(c *gin.Context) {
			if err := s.SignOut(c.Request.Context(), slidinggin.ClaimsFrom(c)); err != nil {
				c.String(http.StatusInternalServerError, err.Error())
				return
			}
			// Set, not written: Gin sends it after the chain.
			c.Status(http.StatusNoContent)
		})
	}
	api.GET("/stream", func(c *gin.Context) {
		w := c.Writer
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			if err := rc.Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
		}
	})
	return r
}

// TestDoorScenarios runs the scenario table every front door passes.
func TestDoorScenarios(t *testing.T) { doortest.Run(t, ginDoor) }
