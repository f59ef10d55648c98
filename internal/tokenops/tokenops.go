// Package tokenops hands package engine the operations of package token
// that only the engine needs (the renewal's signing, the verified token's
// digests and bookkeeping), so that they are not part of token's API.
// Package token fills Table in its init; the engine reads it once. It is
// generic in token's types so that it imports nothing of this module.
package tokenops

import (
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/store"
)

// Ops are the operations, V being *token.Verified and I *token.Issuer, F
// *token.Verifier.
type Ops[V, I, F any] struct {
	// VerifyHit verifies raw at now, and reports whether the cache answered.
	VerifyHit func(f F, raw string, now time.Time) (V, bool, error)
	// SessionKey is the digest that identifies the session in a store.
	SessionKey func(v V) string
	// SessionRevKey and SubjectRevKey are the revocation keys of the
	// token's session and subject (zero without a subject).
	SessionRevKey, SubjectRevKey func(v V) store.RevocationKey
	// Lifetime is exp - iat, or the role's lifetime without iat.
	Lifetime func(v V) time.Duration
	// AuthTime is the session's start as revocations compare it.
	AuthTime func(v V) time.Time
	// RenewedAt and MarkRenewed read and record when a store last granted
	// a renewal asked with this very token (Unix nanoseconds, 0 for none).
	RenewedAt   func(v V) int64
	MarkRenewed func(v V, now time.Time)

	// RenewalExpiry is the expiry a renewal at now would get, and whether
	// it extends the session at all.
	RenewalExpiry func(i I, v V, now time.Time) (time.Time, bool)
	// SignRenewal signs the renewal of v at now with expiry exp.
	SignRenewal func(i I, v V, now, exp time.Time) (string, error)
	// RenewedSize is the length SignRenewal's token would have.
	RenewedSize func(i I, v V, now, exp time.Time) (int, error)
	// Headroom is how much shorter than a limit a token must be for its
	// renewal to fit for sure.
	Headroom func(i I) int
	// RenewalClaims and SignRenewalClaims are the renewal as a map, for a
	// hook, and its signing.
	RenewalClaims     func(i I, v V, now, exp time.Time) (jwt.MapClaims, error)
	SignRenewalClaims func(i I, v V, claims jwt.MapClaims, now time.Time) (string, time.Time, error)
}

// Table is an Ops[*token.Verified, *token.Issuer, *token.Verifier], set by
// package token's init.
var Table any
