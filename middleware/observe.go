package middleware

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/engine"
)

// Reason says why a request's token was not renewed (engine.Reason).
type Reason = engine.Reason

// The reasons a renewal is skipped, in the order they are checked; see
// package engine for each.
const (
	ReasonDisabled    = engine.ReasonDisabled
	ReasonThreshold   = engine.ReasonThreshold
	ReasonSkippedPath = engine.ReasonSkippedPath
	ReasonSessionCap  = engine.ReasonSessionCap
	ReasonTooLarge    = engine.ReasonTooLarge
	ReasonStatus      = engine.ReasonStatus
	ReasonHijacked    = engine.ReasonHijacked
	ReasonStoreError  = engine.ReasonStoreError
	ReasonRateLimited = engine.ReasonRateLimited
	ReasonRefused     = engine.ReasonRefused
	ReasonSignError   = engine.ReasonSignError
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
