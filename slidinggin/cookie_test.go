package slidinggin_test

import (
	"net/http"
	"testing"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/slidinggin"
)

// TestSignOutHandlersClearCookie: in cookie delivery the ready-made
// sign-out handlers delete the session cookie (doortest.SignOutDeletesCookie).
func TestSignOutHandlersClearCookie(t *testing.T) {
	t.Parallel()
	doortest.SignOutDeletesCookie(t, func(_ *testing.T, a *slidingjwt.Auth) http.Handler {
		return authRoutes(a, slidinggin.From(a))
	})
}
