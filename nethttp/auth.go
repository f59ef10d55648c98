package nethttp

import (
	"net/http"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/engine"
)

// ConfigFrom returns the Config of the middleware that From(a) builds: a's
// settings, store, keys, revocation list and clock, every other field at
// its default. Change it and build it with ToMiddleware when the defaults
// do not fit; keep Revocations as it is, or a.SignOut refuses to sign out
// (revocation.ErrNotEnforced).
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
func From(a *slidingjwt.Auth) func(http.Handler) http.Handler { return New(ConfigFrom(a)) }

// SignOutHandler returns the /logout handler built from a: it ends the
// caller's session on every instance and answers as engine.SignOut says
// (204, deleting the session cookie in cookie delivery; 503 to retry; 500
// when wired wrongly). Mount it behind the middleware built from a.
func SignOutHandler(a *slidingjwt.Auth) http.Handler { return signOutHandler(a, false) }

// SignOutAllHandler returns the /logout-all handler built from a: it
// ends every session of the caller's user, answering as SignOutHandler,
// and 403 for a user several people share (a guest).
func SignOutAllHandler(a *slidingjwt.Auth) http.Handler { return signOutHandler(a, true) }

func signOutHandler(a *slidingjwt.Auth, everywhere bool) http.Handler {
	so, d := a.SignOut(), a.Delivery()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ans, _ := engine.SignOut(r.Context(), so, d, ClaimsFrom(r.Context()), everywhere, w.Header())
		ans.WriteSignOut(w)
	})
}

// SetSessionCookie puts tok, a token the login (or guest) route just
// issued, in the session cookie of the response to r, with the attributes
// of d's settings (TOKEN_DELIVERY=cookie or both; d is Auth.Delivery). It
// refuses, setting nothing, a request that is not a POST, one that fails
// the cross-origin check, a token that does not verify or is too large for
// a cookie, and a guest token while r holds a valid session cookie; the
// error is an *engine.SignInError whose Status and Message are the answer
// to give. On success, answer without the token in the body. See
// engine.Delivery.SignIn.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, d *engine.Delivery, tok string) error {
	return d.SignIn(w.Header(), r, tok)
}
