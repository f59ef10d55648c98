package echov5_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/echov5"
)

// TestSignOutHandlersClearCookie: in cookie delivery the ready-made
// sign-out handlers delete the session cookie (doortest.SignOutDeletesCookie).
func TestSignOutHandlersClearCookie(t *testing.T) {
	t.Parallel()
	doortest.SignOutDeletesCookie(t, func(_ *testing.T, a *slidingjwt.Auth) http.Handler {
		e := echo.New()
		api := e.Group("/api", echov5.From(a))
		api.POST("/logout", echov5.SignOutHandler(a))
		api.POST("/logout-all", echov5.SignOutAllHandler(a))
		return e
	})
}
