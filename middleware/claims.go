package middleware

import (
	"crypto/rand"
	"encoding/base64"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
)

// Claims is the typed view of a verified token, stored in the request
// context next to the *jwt.Token (see ClaimsFrom). Times are zero when the
// token lacks the claim.
//
// A Claims value may be shared by concurrent requests that carry the same
// token: treat it, and its Map, as read-only.
type Claims struct {
	Subject   string    // sub
	Role      string    // role; "guest" selects the guest lifetime
	SessionID string    // sid: stays the same across renewals
	ID        string    // jti: new in every token
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	AuthTime  time.Time // auth_time: when the session logged in
	// Map holds every claim as decoded (numbers are float64), including
	// custom ones such as LightRAG's "metadata".
	Map jwt.MapClaims
}

// ClaimsFrom returns the claims of the token the middleware verified for
// this request, or nil when it verified none (skipped, or continued after
// an ignored error).
func ClaimsFrom(c echo.Context) *Claims {
	cl, _ := c.Get(ClaimsContextKey).(*Claims)
	return cl
}

// maxNumericDate is the last second of year 9999: later dates, and negative
// ones, are refused rather than converted with overflow.
const maxNumericDate = 253402300799

// numericDate reads an optional NumericDate claim. present is false when the
// claim is absent; ok is false when it is present but not a sane date.
func numericDate(m jwt.MapClaims, name string) (t time.Time, present, ok bool) {
	v, found := m[name]
	if !found {
		return time.Time{}, false, true
	}
	f, isNumber := v.(float64)
	if !isNumber || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, true
}

// optionalString reads a claim that must be a string when present.
func optionalString(m jwt.MapClaims, name string) (string, bool) {
	v, found := m[name]
	if !found {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// newID returns 128 random bits, base64url encoded, for jti and sid.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SanitizeSubject makes a claim safe to log: control and invisible
// characters become '?', invalid UTF-8 becomes '?', and anything past 64
// characters is cut (marked with "..."). The middleware applies it to every
// subject it reports; apply it to subjects in your own logs too.
func SanitizeSubject(s string) string {
	const maxRunes = 64
	clean := true
	n := 0
	for _, r := range s {
		n++
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
		}
	}
	if clean && n <= maxRunes {
		return s
	}
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i == maxRunes {
			b.WriteString("...")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
