package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is the typed view of a verified token. Each request gets its own
// Claims (see Verified.Claims): changing one changes nothing another request
// sees, nor what a renewal signs. Times are zero when the token lacks the
// claim.
type Claims struct {
	Subject   string    // sub; "" when the token has none
	Role      string    // role; "" when absent or not a string; "guest" selects the guest lifetime
	SessionID string    // sid, as written in the token; stays the same across renewals
	ID        string    // jti: new in every token
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	AuthTime  time.Time // auth_time: when the session logged in
	// Session identifies the session: the sid claim, or, for a token
	// without one, an identity derived from its jti or else from its signed
	// part. A token and every renewal of it share it (a renewal of a token
	// without sid gets sid = Session), so the default rate limit and a
	// sign-out (revocation) cover them all. It holds no raw claim besides
	// the sid the issuer wrote.
	Session string

	v *Verified     // what the claims were read from
	m jwt.MapClaims // the request's own map, made on demand
}

// Map returns every claim as decoded (numbers as float64), custom ones such
// as LightRAG's "metadata" included. The map belongs to the request: a
// front door that also hands out a *jwt.Token shares that token's map with
// these Claims; otherwise the first call makes a deep copy, and later calls
// return the same map. Writing to it affects nothing outside the request.
// Not safe for concurrent use within the request without a lock.
func (c *Claims) Map() jwt.MapClaims {
	if c.m == nil && c.v != nil {
		c.m = c.v.claimsCopy()
	}
	return c.m
}

// JWT returns a new *jwt.Token of the request's own, as golang-jwt's
// parser makes it (Raw, Method, Header, Signature, Valid), whose Claims are
// c.Map(), the same map; nil for Claims that no verification made. It is
// for a door that builds the token only when a handler asks for it (the
// net/http door's TokenFrom); each call makes a new one. Not safe for
// concurrent use within the request without a lock, like Map.
func (c *Claims) JWT() *jwt.Token {
	if c.v == nil {
		return nil
	}
	return c.v.token(c.Map())
}

// maxNumericDate is the last second of year 9999: later dates, and negative
// ones, are refused rather than converted with overflow.
const maxNumericDate = 253402300799

// toMicroseconds rounds t to the nearest microsecond. auth_time is written
// to the microsecond (see formatMicros); decoded as a float64, whose step
// near today's dates is about a quarter of a microsecond, it comes back as
// a nearby value, which the rounding turns into exactly the one written
// (until the 22nd century, when the step outgrows half a microsecond).
func toMicroseconds(t time.Time) time.Time {
	switch {
	case t.IsZero():
		return t
	case t.Nanosecond()%1000 == 0:
		return t.Round(0) // as it is, without a monotonic reading, as Round gives
	}
	return t.Round(time.Microsecond)
}

// appendMicros appends the JSON number of t in seconds, cut to the
// microsecond (never rounded up: a session begun in the last half
// microsecond of a second must not start in the next one, after its iat):
// whole seconds without a fraction ("1772355600"), else with up to six
// decimals and no trailing zeros ("1772355600.4").
func appendMicros(dst []byte, t time.Time) []byte {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	dst = strconv.AppendInt(dst, sec, 10)
	if frac == 0 {
		return dst
	}
	dst = append(dst, '.')
	for div := int64(1e5); frac > 0; div /= 10 {
		dst = append(dst, byte('0'+frac/div))
		frac %= div
	}
	return dst
}

// newID returns 128 random bits, base64url encoded, for jti and sid.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// derivedSession returns the session identity of a token without sid: 128
// bits of a digest of kind and id, base64url encoded like a sid that newID
// makes. A renewal carries it as its sid, so both share one session.
func derivedSession(kind, id string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:16])
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

// deepCopy returns a copy of a decoded JSON value that shares nothing
// mutable with v: objects and arrays are copied at every depth; strings,
// numbers, booleans and null are immutable and shared. Objects kept in
// the cache's compact form (see freeze) come back as maps.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyObject(x)
	case frozenObject:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.name] = deepCopy(e.value)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// copyObject is deepCopy of an object: the table is cloned whole, then
// the objects and arrays in it are replaced by copies.
func copyObject(x map[string]any) map[string]any {
	m := maps.Clone(x)
	for k, e := range m {
		switch e.(type) {
		case map[string]any, frozenObject, []any:
			m[k] = deepCopy(e)
		}
	}
	return m
}

// frozenObject is a decoded JSON object as the cache keeps it below the
// top level: its members in a slice, which takes a fraction of the memory
// of a map (a map of one member holds a table of eight slots), and is never
// handed out: deepCopy makes a map of it.
type frozenObject []frozenMember

type frozenMember struct {
	name  string
	value any
}

// freeze replaces, in place, the objects nested in the top-level object m
// by frozenObjects, at every depth, and returns the names of m's members
// that hold an object or an array, the ones copyFrozen copies. m itself
// stays a map, which is cloned fastest.
func freeze(m map[string]any) (nested []string) {
	for k, e := range m {
		switch e.(type) {
		case map[string]any, []any:
			m[k] = freezeValue(e)
			nested = append(nested, k)
		}
	}
	return nested
}

// copyFrozen is copyObject of a map that freeze returned nested for: the
// table is cloned whole and only the members named in nested are copied,
// without going through the others.
func copyFrozen(x map[string]any, nested []string) map[string]any {
	m := maps.Clone(x)
	for _, k := range nested {
		m[k] = deepCopy(m[k])
	}
	return m
}

func freezeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		f := make(frozenObject, 0, len(x))
		for k, e := range x {
			f = append(f, frozenMember{name: k, value: freezeValue(e)})
		}
		return f
	case []any:
		for i, e := range x {
			x[i] = freezeValue(e)
		}
		return x
	}
	return v
}
