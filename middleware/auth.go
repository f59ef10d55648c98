package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/engine"
)

// ConfigFrom returns the Config of the middleware that From(a) builds: a's
// settings, store, keys, revocation list and clock, every other field at
// its default. Change it (hooks, TokenLookup, ContextKey) and build it
// with ToMiddleware when the defaults do not fit; keep Revocations as it
// is, or a.SignOut refuses to sign out (revocation.ErrNotEnforced).
func ConfigFrom(a *slidingjwt.Auth) Config {
	return Config{
		Settings:    a.Settings(),
		Store:       a.Store(),
		Keys:        a.Keys(),
		Revocations: a.Revocations(),
		Now:         a.Clock(),
	}
}

// From returns the middleware built from a, which checks every request
// against a's revocation list: the way to wire it. It panics only if a is
// nil or not open, which is a programming error.
func From(a *slidingjwt.Auth) echo.MiddlewareFunc { return WithConfig(ConfigFrom(a)) }

// SignOutHandler returns the /logout handler built from a: it ends the
// caller's session on every instance and answers as engine.SignOut says
// (204, deleting the session cookie in cookie delivery; 503 to retry; 500
// when wired wrongly). Mount it behind the middleware built from a.
func SignOutHandler(a *slidingjwt.Auth) echo.HandlerFunc { return signOutHandler(a, false) }

// SignOutAllHandler returns the /logout-all handler built from a: it
// ends every session of the caller's user, answering as SignOutHandler,
// and 403 for a user several people share (a guest).
func SignOutAllHandler(a *slidingjwt.Auth) echo.HandlerFunc { return signOutHandler(a, true) }

func signOutHandler(a *slidingjwt.Auth, everywhere bool) echo.HandlerFunc {
	so, d := a.SignOut(), a.Delivery()
	return func(c echo.Context) error {
		ans, err := engine.SignOut(c.Request().Context(), so, d, ClaimsFrom(c), everywhere, c.Response().Header())
		if ans.Status == http.StatusNoContent {
			return c.NoContent(ans.Status)
		}
		return &echo.HTTPError{Code: ans.Status, Message: ans.Message, Internal: err}
	}
}

// SetSessionCookie puts tok, a token the login (or guest) route just
// issued, in the session cookie of c's response, with the attributes of
// d's settings (TOKEN_DELIVERY=cookie or both; d is Auth.Delivery). It
// refuses, setting nothing, a request that is not a POST, one that fails
// the cross-origin check, a token that does not verify or is too large for
// a cookie, and a guest token while the request holds a valid session
// cookie: the error is an *echo.HTTPError with the answer's status and
// message, to return from the handler. On success, answer without the
// token in the body. See engine.Delivery.SignIn.
func SetSessionCookie(c echo.Context, d *engine.Delivery, tok string) error {
	if err := d.SignIn(c.Response().Header(), c.Request(), tok); err != nil {
		se := engine.AsSignInError(err)
		return &echo.HTTPError{Code: se.Status, Message: se.Message, Internal: err}
	}
	return nil
}
