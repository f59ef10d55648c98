package echov5

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/token"
)

// The token types the Config and ClaimsFrom name; they live in package
// token of the root module, which has no Echo in it, where the functions
// that make them (token.NewIssuer, token.HMACKeySet, ...) are.
type (
	// Claims is token.Claims: the typed claims of a verified token, the
	// request's own.
	Claims = token.Claims
	// Issuer is token.Issuer: it mints login and guest tokens with the keys
	// and claims the middleware renews them with.
	Issuer = token.Issuer
	// KeySet is token.KeySet: the verification keys and the signing key.
	KeySet = token.KeySet
	// Key is token.Key: one key bound to one algorithm.
	Key = token.Key
)

// ClaimsFrom returns the request's own claims of the token the middleware
// verified, or nil when it verified none (skipped, or continued after an
// ignored error).
func ClaimsFrom(c *echo.Context) *Claims {
	cl, _ := c.Get(ClaimsContextKey).(*Claims)
	return cl
}

// RenewalEvent describes one renewal, or one request whose token was not
// renewed (engine.Event). It never holds a token.
type RenewalEvent = engine.Event

// LogRenewals returns a Config.OnRenewal observer that logs to logger:
// renewals at Info, store and signing errors at Warn, and every other
// skipped renewal at Debug (skip paths, statuses of 400 or more, hijacked
// connections, the session cap, rate limits, refusals by BeforeRenew,
// renewals too large). Requests whose token was not due, or with renewal
// disabled, are not logged. Subjects and paths are sanitised; tokens are
// never logged. The observer is safe for concurrent use when logger is.
func LogRenewals(logger *slog.Logger) func(*echo.Context, RenewalEvent) {
	return func(c *echo.Context, ev RenewalEvent) {
		if c == nil || c.Request() == nil {
			engine.Log(context.Background(), logger, ev, "")
			return
		}
		r := c.Request()
		engine.Log(r.Context(), logger, ev, r.URL.Path)
	}
}
