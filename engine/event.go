package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/slidingjwt/slidingjwt/token"
)

// Reason says why a request's token was not renewed.
type Reason string

// The reasons a renewal is skipped, in the order the middleware checks them.
const (
	// ReasonDisabled: Settings.AutoRenew is off.
	ReasonDisabled Reason = "disabled"
	// ReasonThreshold: the token still has at least threshold x lifetime
	// left; it is not due. This is the common case.
	ReasonThreshold Reason = "threshold"
	// ReasonSkippedPath: the path is in Settings.RenewSkipPaths.
	ReasonSkippedPath Reason = "skipped_path"
	// ReasonBackground: the request says it is the client's own, not the
	// user's (a poll), with the HeaderBackground header: it is
	// authenticated as any other, but never renews, so an idle tab that
	// only polls still expires.
	ReasonBackground Reason = "background"
	// ReasonSessionCap: the session reached auth_time + MaxSessionAge, so
	// a renewal would not extend it.
	ReasonSessionCap Reason = "session_cap"
	// ReasonRevocationsStale: the instance's copy of the revocations is
	// stale (its backend unreachable), so it renews nothing: a revocation
	// made meanwhile elsewhere would not outlast the new token.
	ReasonRevocationsStale Reason = "revocations_stale"
	// ReasonStatus: the response status was 400 or more; the store was not
	// touched.
	ReasonStatus Reason = "status"
	// ReasonHijacked: the handler took the connection over (a WebSocket
	// upgrade, for one), so there were no response headers to carry a
	// token; the store was not touched.
	ReasonHijacked Reason = "hijacked"
	// ReasonRevoked: the session was revoked while the request ran (the
	// handler signed it out); the store was not touched.
	ReasonRevoked Reason = "revoked"
	// ReasonStoreError: the store failed (Event.Err says how); the
	// request was served without renewal.
	ReasonStoreError Reason = "store_error"
	// ReasonRateLimited: the session renewed less than the minimum
	// interval ago (on this or another instance sharing the store).
	ReasonRateLimited Reason = "rate_limited"
	// ReasonTooLarge: the renewed token would be larger than
	// Config.MaxTokenSize, so the middleware would refuse it; the store was
	// not touched.
	ReasonTooLarge Reason = "too_large"
	// ReasonRefused: Config.BeforeRenew returned an error.
	ReasonRefused Reason = "refused"
	// ReasonSignError: signing the new token failed.
	ReasonSignError Reason = "sign_error"
)

// Event describes one renewal, or one request whose token was not
// renewed. It never holds a token.
type Event struct {
	// Renewed is true when a new token was sent in X-New-Token.
	Renewed bool
	// Reason says why not, when Renewed is false.
	Reason Reason
	// Subject is the token's sub, sanitised with SanitizeSubject.
	Subject string
	// Session is the hashed session key given to the store; empty when the
	// decision was made before the store was involved.
	Session string
	// ExpiresAt is the current token's expiry.
	ExpiresAt time.Time
	// NewExpiresAt is the renewed token's expiry, when Renewed.
	NewExpiresAt time.Time
	// Err is the store or signing error, for ReasonStoreError,
	// ReasonRefused and ReasonSignError.
	Err error
}

// Log logs ev to logger at the level LogRenewals documents: renewals at
// Info, store and signing errors at Warn, other skipped renewals at Debug,
// requests not due or with renewal off not at all. path is the request's
// path, sanitised here; ctx may be nil.
func Log(ctx context.Context, logger *slog.Logger, ev Event, path string) {
	var level slog.Level
	msg := "token renewal skipped"
	switch {
	case ev.Renewed:
		level, msg = slog.LevelInfo, "token renewed"
	case ev.Reason == ReasonStoreError || ev.Reason == ReasonSignError:
		level = slog.LevelWarn
	case ev.Reason == ReasonThreshold || ev.Reason == ReasonDisabled:
		return
	default:
		level = slog.LevelDebug
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("sub", ev.Subject),
		slog.String("session", ev.Session),
		slog.Time("exp", ev.ExpiresAt),
	}
	if ev.Renewed {
		attrs = append(attrs, slog.Time("new_exp", ev.NewExpiresAt))
	} else {
		attrs = append(attrs, slog.String("reason", string(ev.Reason)))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	}
	if path != "" {
		attrs = append(attrs, slog.String("path", token.SanitizeSubject(path)))
	}
	logger.LogAttrs(ctx, level, msg, attrs...)
}
