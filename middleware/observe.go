package middleware

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/engine"
)

// RenewalEvent describes one renewal, or one request whose token was not
// renewed (engine.Event). It never holds a token.
type RenewalEvent = engine.Event

// LogRenewals returns a Config.OnRenewal observer that logs to logger:
// renewals at Info, store and signing errors at Warn, and every other
// skipped renewal at Debug (skip paths, statuses of 400 or more, hijacked
// connections, the session cap, rate limits, refusals by BeforeRenew,
// renewals too large). Requests whose token was not due, or with renewal
// disabled, are not logged. Subjects are sanitised; tokens are never
// logged.
func LogRenewals(logger *slog.Logger) func(echo.Context, RenewalEvent) {
	return func(c echo.Context, ev RenewalEvent) {
		if c == nil {
			engine.Log(context.Background(), logger, ev, "")
			return
		}
		r := c.Request()
		engine.Log(r.Context(), logger, ev, r.URL.Path)
	}
}
