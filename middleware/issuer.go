package middleware

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
)

// Issuer mints the tokens an application hands out at login (and to guests),
// with the same claims and keys the middleware uses when it renews them:
// sub, role, iat, exp, auth_time, sid, jti, iss and aud when configured, and
// any extra claims such as "metadata".
//
// An Issuer is safe for concurrent use. Share its KeySet with the
// middleware's Config.Keys so both sign with the current key.
type Issuer struct {
	settings config.Settings
	keys     *KeySet
}

// reservedClaims are set by the Issuer and cannot be passed as extras.
var reservedClaims = map[string]bool{
	"sub": true, "role": true, "iat": true, "exp": true, "nbf": true,
	"auth_time": true, "sid": true, "jti": true, "iss": true, "aud": true,
}

// NewIssuer returns an Issuer for the settings, which it validates. keys may
// be nil: the settings' secret and algorithm then make a one-key set. A
// zero KeySet, which holds no keys, is an error.
func NewIssuer(s config.Settings, keys *KeySet) (*Issuer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if keys == nil {
		var err error
		if keys, err = KeySetFromSettings(s); err != nil {
			return nil, err
		}
	}
	if keys.snap.Load() == nil {
		return nil, errZeroKeySet
	}
	return &Issuer{settings: s, keys: keys}, nil
}

// Keys returns the key set the issuer signs with.
func (i *Issuer) Keys() *KeySet { return i.keys }

// Issue mints a token for a new session of sub with role, valid for the
// role's lifetime from now (capped by the settings' MaxSessionAge). extra
// adds claims such as {"metadata": {...}}; it may not set the claims the
// issuer owns (sub, role, iat, exp, nbf, auth_time, sid, jti, iss, aud).
func (i *Issuer) Issue(sub, role string, extra map[string]any) (string, error) {
	token, _, err := i.IssueAt(time.Now(), sub, role, extra)
	return token, err
}

// IssueAt is Issue at a given time; it also returns the token's expiry.
func (i *Issuer) IssueAt(now time.Time, sub, role string, extra map[string]any) (string, time.Time, error) {
	if sub == "" {
		return "", time.Time{}, fmt.Errorf("slidingjwt: Issue: empty subject")
	}
	claims := make(jwt.MapClaims, len(extra)+10)
	for k, v := range extra {
		if reservedClaims[k] {
			return "", time.Time{}, fmt.Errorf("slidingjwt: Issue: claim %q is set by the issuer, not by extra claims", k)
		}
		claims[k] = v
	}
	claims["sub"] = sub
	if role != "" {
		claims["role"] = role
	}
	exp := now.Add(i.settings.Lifetime(role))
	if i.settings.MaxSessionAge > 0 {
		exp = earliest(exp, now.Add(i.settings.MaxSessionAge))
	}
	claims["iat"] = now.Unix()
	claims["auth_time"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["sid"] = newID()
	claims["jti"] = newID()
	if i.settings.Issuer != "" {
		claims["iss"] = i.settings.Issuer
	}
	if i.settings.Audience != "" {
		claims["aud"] = i.settings.Audience
	}
	token, err := i.sign(claims)
	if err != nil {
		return "", time.Time{}, err
	}
	return token, time.Unix(exp.Unix(), 0), nil
}

// renewal computes the expiry a renewal at now would give the token, and
// whether the session cap leaves anything to extend.
func (i *Issuer) renewal(v *verified, now time.Time) (exp time.Time, extends bool) {
	exp = now.Add(i.settings.Lifetime(v.claims.Role))
	if i.settings.MaxSessionAge > 0 {
		exp = earliest(exp, v.authTime.Add(i.settings.MaxSessionAge))
	}
	// Tokens carry whole seconds: compare what would be written. A token
	// accepted within the leeway after its exp must not be renewed into
	// another token that has already expired.
	return exp, exp.Unix() > v.claims.ExpiresAt.Unix() && exp.Unix() > now.Unix()
}

// renewedClaims returns the claims of v's renewal at now with expiry exp:
// every claim of the old token is kept, then iat, exp and jti are new, sid
// and auth_time are kept (or set, when the old token lacked them).
func renewedClaims(v *verified, now, exp time.Time) jwt.MapClaims {
	claims := make(jwt.MapClaims, len(v.claims.Map)+4)
	for k, val := range v.claims.Map {
		claims[k] = val
	}
	claims["iat"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = newID()
	claims["auth_time"] = v.authTime.Unix()
	if v.claims.SessionID == "" {
		claims["sid"] = newID()
	}
	return claims
}

func (i *Issuer) sign(claims jwt.MapClaims) (string, error) {
	cur := i.keys.snap.Load().current
	s, err := signJWT(cur.method, cur.id, claims, cur.sign)
	if err != nil {
		return "", fmt.Errorf("slidingjwt: signing with key %q (%s): %w", cur.id, cur.alg, err)
	}
	return s, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
