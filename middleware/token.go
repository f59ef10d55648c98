package middleware

import (
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/token"
)

// The token names middleware has always offered; they live in package
// token, which has no Echo in it, so that every front door shares them.
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

// NewIssuer is token.NewIssuer.
func NewIssuer(s config.Settings, keys *KeySet) (*Issuer, error) { return token.NewIssuer(s, keys) }

// NewKeySet is token.NewKeySet.
func NewKeySet(current Key, others ...Key) (*KeySet, error) {
	return token.NewKeySet(current, others...)
}

// HMACKeySet is token.HMACKeySet.
func HMACKeySet(alg string, secret []byte) (*KeySet, error) { return token.HMACKeySet(alg, secret) }

// KeySetFromSettings is token.KeySetFromSettings.
func KeySetFromSettings(s config.Settings) (*KeySet, error) { return token.KeySetFromSettings(s) }

// SanitizeSubject is token.SanitizeSubject: it makes a claim safe to log.
func SanitizeSubject(s string) string { return token.SanitizeSubject(s) }

// ClaimsFrom returns the request's own claims of the token the middleware
// verified, or nil when it verified none (skipped, or continued after an
// ignored error).
func ClaimsFrom(c echo.Context) *Claims {
	cl, _ := c.Get(ClaimsContextKey).(*Claims)
	return cl
}
