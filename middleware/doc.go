// Package middleware is the Echo v4 front door of slidingjwt: a middleware
// that validates JWTs and renews them on a sliding window. The decision is
// package engine's, shared with the net/http door (package nethttp) and the
// Echo v5 door (module echov5); tokens, keys and the Issuer are package
// token's, re-exported here under the names this package always had.
//
// # The decision
//
// For each request, in this order:
//
//  1. Config.Skipper may skip the middleware entirely.
//  2. The token is looked up as echo-jwt looks it up (Config.TokenLookupFuncs,
//     then Config.TokenLookup, "Authorization: Bearer" by default), every
//     value found tried until one verifies; a value larger than
//     Config.MaxTokenSize is refused unread.
//  3. It is verified with golang-jwt's signing methods and claims validator,
//     the signature before anything in the claims is read: the algorithm
//     must be the one its key is bound to (never "none"), exp is required,
//     nbf and iat are checked, iss and aud when configured, with
//     Settings.Leeway. Beyond golang-jwt, a token is refused when it holds
//     a character outside base64url and '.', or a segment whose unused
//     trailing bits are not zero (so one token has one spelling), and a
//     signed one when its header or claims name a member twice in one
//     object, when its header has "crit", when sub is present but not a
//     string of 1 to 1024 bytes, and when a date is negative, past year
//     9999 or of the wrong type. A failure is a 401 with WWW-Authenticate:
//     Bearer and echo-jwt's JSON message. The request's own *jwt.Token goes
//     into the context under "user" (as with echo-jwt; not with
//     Config.TypedClaimsOnly) and its own typed Claims under
//     ClaimsContextKey (see ClaimsFrom). A token verified before with the
//     same keys comes from a cache of verified tokens
//     (Config.VerifiedCacheSize), its exp, nbf and iat checked again.
//  4. The token is due for renewal when its remaining time is strictly less
//     than Settings.RenewThreshold x its lifetime. The lifetime is exp - iat,
//     or, for a token without iat, the configured lifetime of its role.
//     Paths in Settings.RenewSkipPaths are never renewed, nor is a session
//     that a renewal could not extend because of Settings.MaxSessionAge,
//     nor a token whose renewal would exceed Config.MaxTokenSize.
//  5. The handler runs. When the response header is written, and only if
//     the final status is below 400, the Store is asked whether the session
//     may renew (at most once per Settings.MinRenewInterval); if so a new
//     token is signed and sent in X-New-Token with Cache-Control: no-store
//     and Vary: Authorization, and X-New-Token is added to
//     Access-Control-Expose-Headers for cross-origin requests.
//  6. A store error never fails the request: it is served without a new
//     token, and Config.OnRenewal is told.
//
// # The renewed token
//
// It is built from the signed payload, not from the claims a handler saw:
// every claim but iat, exp, jti, auth_time and sid keeps its exact JSON;
// iat = now, a new jti, exp = now + the role's lifetime (never past
// auth_time + MaxSessionAge), the same auth_time (set when missing) and the
// session's sid; it is signed with the key set's current key, so renewal
// also moves sessions to a rotated key.
//
// # Sessions
//
// Renewals are rate limited per session: Claims.Session, the sid claim or,
// for a token without one, an identity derived from its jti or its signed
// part, which its renewal carries as sid (or Config.SessionKey). It is
// hashed to 32 hex digits before it reaches a store, a log or an event.
package middleware
