package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
)

// verifyIssuer is the iss the verify fixture requires.
const verifyIssuer = "https://issuer.example"

// refKey is a key as the reference parser's key function sees it.
type refKey struct {
	alg string
	key any // what golang-jwt's SigningMethod.Verify takes
}

// verifyFixture is a Verifier with its cache off and golang-jwt's parser,
// configured as the Verifier configures golang-jwt's Validator, with strict
// base64: the reference Verify must agree with. Its key set: "a" (HS256,
// signs), "b" (HS256), "ec" (ES256) and "ed" (EdDSA).
type verifyFixture struct {
	vf     *Verifier
	issuer *Issuer
	keys   *KeySet
	clock  *cacheClock
	ref    *jwt.Parser
	// refKeys are the key set's keys by ID, written down by the test
	// rather than read from the KeySet, for the reference key function.
	refKeys map[string]refKey
	ec      *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
}

// newVerifyFixture returns the fixture with a cache of cacheSize (-1: off)
// and settings changed by each tweak.
func newVerifyFixture(tb testing.TB, cacheSize int, tweak ...func(*config.Settings)) *verifyFixture {
	tb.Helper()
	s := config.Default()
	s.Secret = string(cacheSecret("s"))
	s.Leeway = 5 * time.Second
	s.Issuer = verifyIssuer
	for _, fn := range tweak {
		fn(&s)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := NewKeySet(
		Key{ID: "a", Algorithm: "HS256", Material: cacheSecret("a")},
		Key{ID: "b", Algorithm: "HS256", Material: cacheSecret("b")},
		Key{ID: "ec", Algorithm: "ES256", Material: ec},
		Key{ID: "ed", Algorithm: "EdDSA", Material: ed},
	)
	if err != nil {
		tb.Fatal(err)
	}
	f := &verifyFixture{
		keys: keys, clock: newCacheClock(), ec: ec, ed: ed,
		refKeys: map[string]refKey{
			"a":  {"HS256", cacheSecret("a")},
			"b":  {"HS256", cacheSecret("b")},
			"ec": {"ES256", &ec.PublicKey},
			"ed": {"EdDSA", ed.Public()},
		},
	}
	if f.vf, err = NewVerifier(s, &VerifierOptions{Keys: keys, Now: f.clock.Now, CacheSize: cacheSize}); err != nil {
		tb.Fatal(err)
	}
	if f.issuer, err = NewIssuer(s, keys); err != nil {
		tb.Fatal(err)
	}
	f.ref = jwt.NewParser(
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(s.Leeway),
		jwt.WithTimeFunc(f.clock.Now), jwt.WithIssuer(verifyIssuer),
		jwt.WithStrictDecoding(),
	)
	return f
}

// benchExtra is what the benchmarks' token carries beside the registered
// claims: 8 claims in all, one a nested object, about 340 bytes.
func benchExtra() map[string]any {
	return map[string]any{"metadata": map[string]any{"auth_mode": "enabled"}}
}

// issueBenchToken returns the benchmarks' token for alice, issued at now.
func issueBenchToken(tb testing.TB, issuer *Issuer, now time.Time) string {
	tb.Helper()
	raw, _, err := issuer.IssueAt(now, "alice", "user", benchExtra())
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// verifyBenchToken issues the benchmarks' token at now and verifies it.
func (f *verifyFixture) verifyBenchToken(tb testing.TB, now time.Time) (string, *Verified) {
	tb.Helper()
	raw := issueBenchToken(tb, f.issuer, now)
	v, err := f.vf.Verify(raw, now)
	if err != nil {
		tb.Fatal(err)
	}
	return raw, v
}

// sizeIssuer returns the default settings with a secret of their own, and
// an issuer of them, for the tests that weigh the benchmarks' token.
func sizeIssuer(tb testing.TB) (config.Settings, *Issuer) {
	tb.Helper()
	s := config.Default()
	s.Secret = string(cacheSecret("size"))
	issuer, err := NewIssuer(s, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s, issuer
}

var errRefNoKey = errors.New("reference: no key for this token")

// keyFunc is the reference key selection: the key a string kid names;
// without a kid, the key without an ID, or the only key of a one-key set
// (none in this fixture's set of four keys with IDs); in each case only
// when the key is bound to the token's alg.
func (f *verifyFixture) keyFunc(t *jwt.Token) (any, error) {
	alg, _ := t.Header["alg"].(string)
	var k refKey
	var found bool
	if kidValue, ok := t.Header["kid"]; ok {
		kid, isString := kidValue.(string)
		k, found = f.refKeys[kid]
		found = found && isString
	} else if len(f.refKeys) == 1 {
		for _, k = range f.refKeys {
			found = true
		}
	} else {
		k, found = f.refKeys[""]
	}
	if !found || k.alg != alg {
		return nil, errRefNoKey
	}
	return k.key, nil
}

// parseRef parses raw with golang-jwt.
func (f *verifyFixture) parseRef(raw string) (*jwt.Token, error) {
	return f.ref.ParseWithClaims(raw, jwt.MapClaims{}, f.keyFunc)
}

// bothWays verifies raw twice, once reading the claims into a map first
// (as the verifier does while first requests want maps) and once reading
// only the claims it needs, and fails unless both ways agree: the same
// kinds of error, or tokens and claims alike. It returns the second
// verification. The fixture's verifier must not cache.
func (f *verifyFixture) bothWays(t *testing.T, raw string) (*Verified, error) {
	t.Helper()
	f.vf.wantMaps.Store(true)
	vm, mapErr := f.vf.Verify(raw, f.clock.Now())
	f.vf.wantMaps.Store(false)
	v, err := f.vf.Verify(raw, f.clock.Now())
	if (err == nil) != (mapErr == nil) {
		t.Fatalf("%q: read through a map: %v; read directly: %v", raw, mapErr, err)
	}
	if err != nil {
		for _, k := range append(golangJWTKinds, claimKinds...) {
			if errors.Is(err, k) != errors.Is(mapErr, k) {
				t.Fatalf("%q: read through a map: %v; read directly: %v", raw, mapErr, err)
			}
		}
		return v, err
	}
	if v == vm {
		t.Fatalf("%q: both ways returned one verification: the verifier caches", raw)
	}
	tm, cm := vm.Token()
	td, cd := v.Token()
	v.claims.Store(nil) // v's first caller is still to come
	cm.v, cd.v = nil, nil
	if !reflect.DeepEqual(tm, td) || !reflect.DeepEqual(cm, cd) || vm.lifetime != v.lifetime ||
		vm.sessionRK != v.sessionRK || vm.subjectRK != v.subjectRK ||
		vm.validFrom != v.validFrom || vm.validUntil != v.validUntil {
		t.Fatalf("%q: read through a map: %+v %+v; read directly: %+v %+v", raw, tm, cm, td, cd)
	}
	return v, err
}

// golangJWTKinds are the token errors golang-jwt's parser returns.
var golangJWTKinds = []error{
	jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenInvalidClaims,
}

// claimKinds are the reasons golang-jwt gives once it has verified the
// signature: Verify, which checks the signature before it reads a claim,
// must give the same.
var claimKinds = []error{
	jwt.ErrTokenSignatureInvalid, jwt.ErrTokenInvalidClaims, jwt.ErrTokenExpired,
	jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing,
	jwt.ErrTokenInvalidIssuer,
}

// compare verifies raw both ways and fails t unless both accept it with the
// same header, claims, method and signature, or both refuse it for the same
// kind of reason, or golang-jwt accepts a token with one of the faults
// Verify refuses beyond golang-jwt (see beyondGolangJWT) and Verify
// refuses it.
func (f *verifyFixture) compare(t *testing.T, raw string) {
	t.Helper()
	v, gotErr := f.bothWays(t, raw)
	if len(raw) > f.vf.MaxTokenSize() {
		if !errors.Is(gotErr, ErrTokenTooLarge) {
			t.Fatalf("%.40q... of %d bytes: error %v, want ErrTokenTooLarge", raw, len(raw), gotErr)
		}
		return
	}
	if gotErr != nil && !errors.Is(gotErr, ErrTokenInvalid) {
		t.Fatalf("%q: error %v is not ErrTokenInvalid", raw, gotErr)
	}
	if !base64urlAndDots(raw) || len(raw[:max(strings.IndexByte(raw, '.'), 0)]) > 1024 {
		// Refused before anything is decoded, whatever golang-jwt says
		// (it skips line breaks, as encoding/base64 does, and reads
		// headers of any size).
		if !errors.Is(gotErr, jwt.ErrTokenMalformed) {
			t.Fatalf("%q, outside the alphabet or with a header segment over 1 KiB: error %v, want jwt.ErrTokenMalformed", raw, gotErr)
		}
		return
	}
	want, wantErr := f.parseRef(raw)
	if wantErr != nil {
		if gotErr == nil {
			t.Fatalf("%q: Verify accepted it, golang-jwt says %v", raw, wantErr)
		}
		kind := false
		for _, k := range golangJWTKinds {
			kind = kind || errors.Is(gotErr, k)
		}
		if !kind {
			t.Fatalf("%q: error %v wraps none of golang-jwt's token errors (golang-jwt: %v)", raw, gotErr, wantErr)
		}
		if decodeFault(raw, want) != "" {
			return // refused earlier in Verify's order, for its own reason
		}
		// golang-jwt decoded the header and the claims before it checked
		// the signature; Verify decodes the claims after it. Once both
		// reach the signature, they agree on it and on the claims.
		for _, k := range claimKinds {
			if errors.Is(wantErr, k) && !errors.Is(gotErr, k) {
				t.Fatalf("%q: error %v, golang-jwt says %v", raw, gotErr, wantErr)
			}
		}
		return
	}
	if why := beyondGolangJWT(raw, want, f.clock.Now(), f.vf.settings.Leeway); why != "" {
		if gotErr == nil {
			t.Fatalf("%q: accepted a token with %s", raw, why)
		}
		return
	}
	if gotErr != nil {
		t.Fatalf("%q: Verify error %v, golang-jwt accepts it", raw, gotErr)
	}
	got, _ := v.Token()
	if !got.Valid || got.Raw != raw || got.Method != want.Method ||
		!reflect.DeepEqual(got.Header, want.Header) || !reflect.DeepEqual(got.Claims, want.Claims) ||
		string(got.Signature) != string(want.Signature) {
		t.Fatalf("%q:\n got %+v\nwant %+v", raw, got, want)
	}
	f.checkVerified(t, v, want.Claims.(jwt.MapClaims))
}

// checkVerified fails t unless what v, a verified token, reports of itself
// is what its documentation says, read from mc, golang-jwt's reading of
// its claims: Subject is sub ("" without one), and the subject's
// revocation key is zero only without one; Role is role when it is a
// string; ExpiresAt is exp; Lifetime is exp - iat, else the role's
// configured lifetime; AuthTime, the session's start, is auth_time rounded
// to the microsecond, else iat (to the microsecond at most: renewals
// write the start with that precision), else the zero time (unknown);
// Session is sid, else an identity that is not the raw jti.
func (f *verifyFixture) checkVerified(t *testing.T, v *Verified, mc jwt.MapClaims) {
	t.Helper()
	sub, _ := mc["sub"].(string)
	role, _ := mc["role"].(string)
	if v.Subject() != sub || v.Role() != role || (v.subjectRevKey() == store.RevocationKey{}) != (sub == "") {
		t.Fatalf("Subject %q, Role %q, subject key %v; claims sub %#v, role %#v", v.Subject(), v.Role(), v.subjectRevKey(), mc["sub"], mc["role"])
	}
	exp := unixTime(mc["exp"].(float64))
	if !v.ExpiresAt().Equal(exp) {
		t.Fatalf("ExpiresAt %v, want exp %v", v.ExpiresAt(), exp)
	}
	lifetime := f.vf.settings.Lifetime(role)
	start, tolerance := time.Time{}, time.Duration(0)
	if iat, ok := mc["iat"].(float64); ok {
		lifetime, start, tolerance = exp.Sub(unixTime(iat)), unixTime(iat), time.Microsecond-1
	}
	if auth, ok := mc["auth_time"].(float64); ok {
		start, tolerance = unixTime(auth).Round(time.Microsecond), 0
	}
	if v.lifetimeLen() != lifetime {
		t.Fatalf("Lifetime %v, want %v", v.lifetimeLen(), lifetime)
	}
	if v.authStart().IsZero() != start.IsZero() || v.authStart().Sub(start).Abs() > tolerance {
		t.Fatalf("AuthTime %v, want %v (auth_time %#v, iat %#v)", v.authStart(), start, mc["auth_time"], mc["iat"])
	}
	sid, _ := mc["sid"].(string)
	jti, _ := mc["jti"].(string)
	switch {
	case sid != "" && v.Session() != sid:
		t.Fatalf("Session %q, want the sid %q", v.Session(), sid)
	case sid == "" && (v.Session() == "" || jti != "" && v.Session() == jti):
		t.Fatalf("Session %q of a token without sid (jti %q): want a derived identity", v.Session(), jti)
	}
}

// base64urlAndDots reports whether raw is written in the alphabet of a
// compact JWS.
func base64urlAndDots(raw string) bool {
	for _, c := range []byte(raw) {
		ok := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// maxDate is the last second of year 9999.
const maxDate = 253402300799

// beyondGolangJWT returns which fault Verify refuses beyond golang-jwt the
// token raw has, or "": one of decodeFault's, or a date outside years
// 1970-9999, an iat not before exp, a sub that is not a non-empty string of
// at most 1 KiB, a sid or jti that is not a string, an auth_time that is
// not a date, or one that, rounded to the microsecond and then truncated
// to the second, lies more than leeway after iat or after now. tok is
// golang-jwt's reading of raw.
func beyondGolangJWT(raw string, tok *jwt.Token, now time.Time, leeway time.Duration) string {
	if why := decodeFault(raw, tok); why != "" {
		return why
	}
	claims, ok := tok.Claims.(jwt.MapClaims)
	if !ok {
		return ""
	}
	dates := map[string]float64{}
	for _, name := range [...]string{"exp", "iat", "nbf", "auth_time"} {
		v, present := claims[name]
		if !present {
			continue
		}
		f, isNumber := v.(float64)
		if !isNumber || math.IsNaN(f) || f < 0 || f > maxDate {
			return name + " not a date of years 1970-9999"
		}
		dates[name] = f
	}
	if iat, ok := dates["iat"]; ok {
		if exp := dates["exp"]; !unixTime(iat).Before(unixTime(exp)) {
			return "iat not before exp"
		}
	}
	if auth, ok := dates["auth_time"]; ok {
		start := unixTime(auth).Round(time.Microsecond).Truncate(time.Second)
		if iat, ok := dates["iat"]; ok && start.Sub(unixTime(iat)) > leeway {
			return "an auth_time more than the leeway after iat"
		}
		if start.Sub(now) > leeway {
			return "an auth_time more than the leeway in the future"
		}
	}
	if sub, present := claims["sub"]; present {
		if s, ok := sub.(string); !ok || s == "" || len(s) > 1024 {
			return "a sub that is not a non-empty string of at most 1 KiB"
		}
	}
	for _, name := range [...]string{"sid", "jti"} {
		if v, present := claims[name]; present {
			if _, ok := v.(string); !ok {
				return name + " not a string"
			}
		}
	}
	return ""
}

// decodeFault returns which fault of its JSON texts Verify refuses beyond
// golang-jwt the token raw has, or "": a header or claims text that is JSON
// but not I-JSON (duplicate names, invalid UTF-8, escapes of lone
// surrogates), or a crit header. Verify finds these while it decodes, so
// before golang-jwt's Validator runs. tok is golang-jwt's reading of raw,
// or nil.
func decodeFault(raw string, tok *jwt.Token) string {
	segs := strings.Split(raw, ".")
	if len(segs) != 3 {
		return ""
	}
	for i, name := range [...]string{"header", "claims"} {
		text, err := base64.RawURLEncoding.Strict().DecodeString(segs[i])
		if err != nil {
			return ""
		}
		lenient := jsontext.Value(text).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
		if lenient && !jsontext.Value(text).IsValid() {
			return "a " + name + " text with duplicate names or invalid UTF-8"
		}
	}
	if tok != nil {
		if _, ok := tok.Header["crit"]; ok {
			return "a crit header"
		}
	}
	return ""
}

// unixTime converts a NumericDate to a time, to the nanosecond.
func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// signParts signs a header and claims text, as given, with key.
func signParts(tb testing.TB, header, claims string, key any, method jwt.SigningMethod) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	sig, err := method.Sign(signing, key)
	if err != nil {
		tb.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

// paddedHeader returns a header of key "a" of 34 + n bytes: its segment is
// 1 KiB long for n = 734.
func paddedHeader(n int) string {
	return `{"alg":"HS256","kid":"a","pad":"` + strings.Repeat("p", n) + `"}`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// verifyClaims returns a claims text that passes every check at cacheStart,
// with extra members appended.
func verifyClaims(extra string) string {
	return `{"sub":"alice","iss":"` + verifyIssuer + `","iat":` + itoa(cacheStart.Unix()) +
		`,"exp":` + itoa(cacheStart.Add(time.Hour).Unix()) + extra + `}`
}

// nonzeroTail returns a base64url character that decodes like c in the last
// position of a segment whose length leaves 4 bits unused (32-byte
// signatures: 43 characters), but with some of those bits set.
func nonzeroTail(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)|1])
}

// verifySeeds are tokens with one fault each, or none.
func verifySeeds(tb testing.TB, f *verifyFixture) []string {
	tb.Helper()
	exp, iat := cacheStart.Add(time.Hour).Unix(), cacheStart.Unix()
	a, b := cacheSecret("a"), cacheSecret("b")
	hs := jwt.SigningMethodHS256
	good := signParts(tb, `{"alg":"HS256","kid":"a","typ":"JWT"}`, verifyClaims(""), a, hs)
	dot := strings.LastIndexByte(good, '.')
	ec := signParts(tb, `{"alg":"ES256","kid":"ec"}`, verifyClaims(""), f.ec, jwt.SigningMethodES256)
	ed := signParts(tb, `{"alg":"EdDSA","kid":"ed"}`, verifyClaims(`,"role":"guest"`), f.ed, jwt.SigningMethodEdDSA)
	return []string{
		good,
		issueBenchToken(tb, f.issuer, cacheStart),
		ec,
		ec[:len(ec)-4] + "AAAA",
		ed,
		ed[:len(ed)-4] + "AAAA",
		signParts(tb, `{"alg":"ES256"}`, verifyClaims(""), f.ec, jwt.SigningMethodES256), // no kid
		signParts(tb, `{"alg":"ES256","kid":"a"}`, verifyClaims(""), f.ec, jwt.SigningMethodES256),
		signParts(tb, `{"alg":"HS256","kid":"b"}`, verifyClaims(`,"m":{"x":[1,"\u00e9",null]}`), b, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"nbf":`+itoa(iat+100)), a, hs),              // not valid yet
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","exp":`+itoa(iat-100)+`}`, a, hs),              // expired
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"other","exp":`+itoa(exp)+`}`, a, hs),    // issuer
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"`+verifyIssuer+`"}`, a, hs),             // no exp
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"exp":"soon","iss":"`+verifyIssuer+`"}`, a, hs),          // exp a string
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"iat":`+itoa(iat+100)), a, hs),              // duplicate iat
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"iss":"`+verifyIssuer+`","exp":`+itoa(exp)+`}`, a, hs),   // no sub
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"iss":"`+verifyIssuer+`","exp":1e400}`, a, hs),           // exp beyond float64
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"iss":"`+verifyIssuer+`","exp":`+itoa(exp)+`.5}`, a, hs), // fractional exp
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `null`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `[]`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `"claims"`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `12`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `true`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"exp":`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims("")+` `, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims("")+`{}`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"b"}`, verifyClaims(""), a, hs), // the wrong key for its kid
		signParts(tb, `{"alg":"HS384","kid":"a"}`, verifyClaims(""), a, jwt.SigningMethodHS384),
		signParts(tb, `{"alg":"HS256"}`, verifyClaims(""), b, hs), // no kid, in a set whose keys all have IDs
		signParts(tb, `{"alg":"HS256"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a","crit":["exp"]}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a","kid":"a"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a","\u006bid":"a"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a","x":"\ud800"}`, verifyClaims(""), a, hs),
		signParts(tb, "{\"alg\":\"HS256\",\"x\":\"\xff\"}", verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"x":{"k":1,"k":2}`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"x":[{"k":1},{"k":1}]`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"x":"\udf89\ud83c"`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"x":"\ud83c\udf89 \u00e9 \/ <&>"`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(",\"x\":\"\xc3\""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"m":{"x":[1,-1e400]}`), a, hs),             // a custom number beyond float64
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"role":{"x":1e400}`), a, hs),               // in a claim read as a string
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"nbf":[1e999]`), a, hs),                    // in a date of the wrong type
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"aud":["x",1e400]`), a, hs),                // in aud
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"m":{"x":1.7976931348623157e308}`), a, hs), // the largest float64
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"\u0065xp":1}`), a, hs),                    // exp again, escaped
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"aud":null,"nbf":0,"iat":0`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"aud":["x",1]`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"nbf":null`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a","typ":"at+jwt"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a","typ":"JWT","cty":"x"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"nbf":-1`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"auth_time":253402300800`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"auth_time":"yesterday"`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"`+verifyIssuer+`","iat":`+itoa(exp)+`,"exp":`+itoa(exp)+`}`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":7,"iss":"`+verifyIssuer+`","exp":`+itoa(exp)+`}`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":"","iss":"`+verifyIssuer+`","exp":`+itoa(exp)+`}`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, `{"sub":"`+strings.Repeat("s", 1025)+`","iss":"`+verifyIssuer+`","exp":`+itoa(exp)+`}`, a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"sid":7`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"jti":null`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"role":7`), a, hs),
		signParts(tb, `{"alg":"HS256","kid":7}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"none","kid":"a"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"XX1","kid":"a"}`, verifyClaims(""), a, hs),
		signParts(tb, `{"kid":"a"}`, verifyClaims(""), a, hs),
		signParts(tb, `null`, verifyClaims(""), a, hs),
		signParts(tb, `[1]`, verifyClaims(""), a, hs),
		signParts(tb, `{"alg":"HS256"`, verifyClaims(""), a, hs),
		signParts(tb, paddedHeader(734), verifyClaims(""), a, hs), // header segment of 1 KiB
		signParts(tb, paddedHeader(735), verifyClaims(""), a, hs), // 1 KiB and 2 bytes
		good[:dot] + ".AAAA",
		good[:dot] + "." + good[dot+1:] + "=",
		good[:dot] + ".%%%",
		good + ".",
		strings.Replace(good, ".", "..", 1),
		"a.b", "", "...", "e30.e30.", "!!.e30.e30",
		good[:dot] + "." + good[dot+1:len(good)-1] + nonzeroTail(good[len(good)-1]), // unused bits set
		good[:dot] + ".\n" + good[dot+1:],                                           // a line break base64 would skip
		strings.Replace(good, ".", "\r\n.", 1),
		good + strings.Repeat("A", DefaultMaxTokenSize),
	}
}

func TestVerifyMatchesGolangJWT(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	for _, raw := range verifySeeds(t, f) {
		f.compare(t, raw)
	}
}

// TestVerifyRefusesBeyondGolangJWT: tokens golang-jwt accepts that Verify
// refuses, each for a documented reason.
func TestVerifyRefusesBeyondGolangJWT(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	a, hs := cacheSecret("a"), jwt.SigningMethodHS256
	exp := itoa(cacheStart.Add(time.Hour).Unix())
	iss := `"iss":"` + verifyIssuer + `"`
	now := itoa(cacheStart.Unix())
	// Line breaks inside segments, signed as they are: golang-jwt's
	// base64 decoding skips them.
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"a"}`)) + "\n." +
		enc.EncodeToString([]byte(verifyClaims("")))[:8] + "\r\n" + enc.EncodeToString([]byte(verifyClaims("")))[8:]
	sig, err := hs.Sign(signing, a)
	if err != nil {
		t.Fatal(err)
	}
	newline := signing + "." + enc.EncodeToString(sig)
	malformed, unverifiable := jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable
	tests := []struct {
		name string
		raw  string
		want error // besides ErrTokenInvalid
	}{
		{"line break in a segment", newline, malformed},
		{"header segment over 1 KiB", signParts(t, paddedHeader(735), verifyClaims(""), a, hs), malformed},
		{"duplicate header name", signParts(t, `{"alg":"HS256","kid":"b","kid":"a"}`, verifyClaims(""), a, hs), malformed},
		{"duplicate header name, escaped", signParts(t, `{"alg":"HS256","kid":"a","\u006bid":"a"}`, verifyClaims(""), a, hs), malformed},
		{"duplicate claim", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"sub":"mallory"`), a, hs), malformed},
		{"duplicate claim, escaped", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"\u0073ub":"mallory"`), a, hs), malformed},
		{"duplicate name in a nested object", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"m":[{"k":1,"k":2}]`), a, hs), malformed},
		{"invalid UTF-8 in a claim", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(",\"m\":\"\xff\""), a, hs), malformed},
		{"lone surrogate in a claim", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"m":"\ud83c"`), a, hs), malformed},
		{"crit header", signParts(t, `{"alg":"HS256","kid":"a","crit":["exp"]}`, verifyClaims(""), a, hs), unverifiable},
		{"crit header, empty", signParts(t, `{"alg":"HS256","kid":"a","crit":[]}`, verifyClaims(""), a, hs), unverifiable},
		{"exp after year 9999", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"exp":253402300800}`, a, hs), errBadClaim},
		{"nbf before 1970", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"nbf":-1`), a, hs), errBadClaim},
		{"auth_time after year 9999", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"auth_time":1e300`), a, hs), errBadClaim},
		{"auth_time after iat", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"iat":`+itoa(cacheStart.Unix()-60)+`,"auth_time":`+itoa(cacheStart.Unix()-50)+`,"exp":`+exp+`}`, a, hs), errAuthTime},
		{"auth_time in the future", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"auth_time":`+itoa(cacheStart.Unix()+6)+`,"exp":`+exp+`}`, a, hs), errAuthTime},
		{"auth_time a string", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"auth_time":"1777636800"`), a, hs), errBadClaim},
		{"iat equal to exp", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"iat":`+now+`,"exp":`+now+`}`, a, hs), errBadClaim},
		{"iat after exp", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"iat":`+now+`,"exp":`+itoa(cacheStart.Unix()-3)+`}`, a, hs), errBadClaim},
		{"iat after exp, by a fraction", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"iat":`+now+`.5,"exp":`+now+`.25}`, a, hs), errBadClaim},
		{"sid a number", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"sid":1`), a, hs), errBadClaim},
		{"jti an object", signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(`,"jti":{}`), a, hs), errBadClaim},
		{"sub a number", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":1,`+iss+`,"exp":`+exp+`}`, a, hs), errBadSubject},
		{"sub empty", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"",`+iss+`,"exp":`+exp+`}`, a, hs), errBadSubject},
		{"sub null", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":null,`+iss+`,"exp":`+exp+`}`, a, hs), errBadSubject},
		{"sub over 1 KiB", signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"`+strings.Repeat("s", 1025)+`",`+iss+`,"exp":`+exp+`}`, a, hs), errBadSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := f.parseRef(tt.raw); err != nil {
				t.Fatalf("golang-jwt refuses it too (%v): not a refusal beyond golang-jwt", err)
			}
			_, err := f.vf.Verify(tt.raw, f.clock.Now())
			if !errors.Is(err, ErrTokenInvalid) || !errors.Is(err, tt.want) {
				t.Errorf("Verify: %v, want ErrTokenInvalid and %v", err, tt.want)
			}
		})
	}
	// The boundaries: what is just inside is accepted.
	for _, raw := range []string{
		signParts(t, paddedHeader(734), verifyClaims(""), a, hs), // 1 KiB
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"exp":`+exp+`,"nbf":0,"auth_time":0}`, a, hs),
		// auth_time within the second of iat, and exactly now.
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"iat":`+itoa(cacheStart.Unix()-60)+`,"auth_time":`+itoa(cacheStart.Unix()-60)+`.999999,"exp":`+exp+`}`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x",`+iss+`,"auth_time":`+now+`,"exp":`+exp+`}`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"`+strings.Repeat("s", 1024)+`",`+iss+`,"exp":`+exp+`}`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{`+iss+`,"iat":`+itoa(cacheStart.Unix())+`,"exp":`+itoa(cacheStart.Unix()+1)+`}`, a, hs),
	} {
		if _, err := f.vf.Verify(raw, f.clock.Now()); err != nil {
			t.Errorf("%.60q...: %v, want it accepted", raw, err)
		}
	}
}

// TestVerifySignatureFirst: a token that is not signed by a key of the set
// is refused for its signature whatever its claims hold; golang-jwt, which
// decodes the claims first, calls the same tokens malformed.
func TestVerifySignatureFirst(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	for _, claims := range []string{
		`{"exp":`, `[]`, `{"exp":1e999}`, strings.Repeat("[", 5000), `{"exp":1}x`, `not JSON`,
	} {
		tok := signParts(t, `{"alg":"HS256","kid":"a"}`, claims, cacheSecret("z"), jwt.SigningMethodHS256)
		_, err := f.vf.Verify(tok, f.clock.Now())
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) || errors.Is(err, jwt.ErrTokenMalformed) {
			t.Errorf("claims %.20q signed with another key: %v, want jwt.ErrTokenSignatureInvalid", claims, err)
		}
		if _, ref := f.parseRef(tok); !errors.Is(ref, jwt.ErrTokenMalformed) {
			t.Errorf("claims %.20q: golang-jwt says %v; the case shows nothing unless it says malformed", claims, ref)
		}
	}
}

// TestVerifyErrorText: the reason Verify wraps reads as golang-jwt's.
func TestVerifyErrorText(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	a, hs := cacheSecret("a"), jwt.SigningMethodHS256
	tests := []struct{ raw, want string }{
		{"a.b", "token is malformed: token contains an invalid number of segments"},
		{"A.e30.e30", "token is malformed: could not base64 decode header: illegal base64 data at input byte 0"},
		{"e30.e30.e30", "token is unverifiable: signing method (alg) is unspecified"},
		{signParts(t, `{"alg":"XX1"}`, "{}", a, hs), "token is unverifiable: signing method (alg) is unavailable"},
		{signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(""), cacheSecret("z"), hs), "token signature is invalid: signature is invalid"},
		{signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","exp":`+itoa(cacheStart.Add(-time.Hour).Unix())+`,"iss":"`+verifyIssuer+`"}`, a, hs), "token has invalid claims: token is expired"},
		{signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"`+verifyIssuer+`"}`, a, hs), "token has invalid claims: token is missing required claim: exp claim is required"},
		{signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"other","exp":`+itoa(cacheStart.Add(time.Hour).Unix())+`}`, a, hs), "token has invalid claims: token has invalid issuer"},
	}
	for _, tt := range tests {
		_, err := f.vf.Verify(tt.raw, f.clock.Now())
		_, ref := f.parseRef(tt.raw)
		if ref == nil || ref.Error() != tt.want {
			t.Errorf("%.40q: golang-jwt says %v, want %q", tt.raw, ref, tt.want)
		}
		if err == nil || errors.Unwrap(err) == nil || errors.Unwrap(err).Error() != tt.want ||
			err.Error() != ErrTokenInvalid.Error()+": "+tt.want {
			t.Errorf("%.40q: Verify error %v, want the reason %q", tt.raw, err, tt.want)
		}
	}
}

// TestVerifyClaimsNotAnObject: claims that are valid JSON but not an
// object are a malformed token, for Verify as for golang-jwt, and a
// "null" payload has no exp.
func TestVerifyClaimsNotAnObject(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	a, hs := cacheSecret("a"), jwt.SigningMethodHS256
	for _, payload := range []string{`[]`, `[{"exp":1}]`, `"claims"`, `12`, `true`} {
		raw := signParts(t, `{"alg":"HS256","kid":"a"}`, payload, a, hs)
		_, err := f.vf.Verify(raw, f.clock.Now())
		if !errors.Is(err, jwt.ErrTokenMalformed) || !errors.Is(err, errClaimsNotObject) {
			t.Errorf("claims %s: error %v, want jwt.ErrTokenMalformed for claims that are not an object", payload, err)
		}
		if _, ref := f.parseRef(raw); !errors.Is(ref, jwt.ErrTokenMalformed) {
			t.Errorf("claims %s: golang-jwt says %v, want malformed", payload, ref)
		}
	}
	raw := signParts(t, `{"alg":"HS256","kid":"a"}`, `null`, a, hs)
	if _, err := f.vf.Verify(raw, f.clock.Now()); !errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		t.Errorf("claims null: error %v, want the missing exp", err)
	}
}

// FuzzVerify compares Verify with golang-jwt on arbitrary tokens.
func FuzzVerify(f *testing.F) {
	vf := newVerifyFixture(f, -1)
	for _, raw := range verifySeeds(f, vf) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vf.compare(t, raw)
	})
}

// FuzzVerifySigned compares Verify with golang-jwt on tokens signed with
// key "a", whatever their header and claims texts, so that the fuzzer
// reaches the claims.
func FuzzVerifySigned(f *testing.F) {
	vf := newVerifyFixture(f, -1)
	f.Add(`{"alg":"HS256","kid":"a"}`, verifyClaims(""))
	f.Add(`{"alg":"HS256","kid":"a","crit":["x"]}`, `{"sub":"a","exp":1777640400,"iat":1777636800,"nbf":1777636800}`)
	f.Add(`{"alg":"HS256","kid":"a"}`, `{"exp":1777640400,"m":{"k":"\ud83c\udf89\ud83c"},"a":[1,2,{}]}`)
	f.Add(`{"alg":"HS256","kid":"a"}`, `{"exp":1.7776404e9,"iss":["`+verifyIssuer+`"],"sub":"x"}`)
	f.Add(`{"alg":"HS256","alg":"HS256"}`, `{"sub":"a","iss":"`+verifyIssuer+`","exp":1777640400,"m":{"a":1,"\u0061":2}}`)
	f.Add(`{"alg":"HS256","kid":"a"}`, `{"sub":"a","iss":"`+verifyIssuer+`","exp":1777640400,"iat":1777640400.5,"sid":"s","jti":"j","auth_time":0}`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		vf.compare(t, signParts(t, header, claims, cacheSecret("a"), jwt.SigningMethodHS256))
	})
}

// TestVerifyClaimTypeErrorsAsGolangJWT: a registered claim of the wrong
// type (a date that is not a number, an iss that is not a string, an aud
// array with a member that is not a string) is refused with the error
// golang-jwt's parser gives with jwt.MapClaims, text and kinds alike,
// whether the claims are read into a map first or read directly; an aud
// that is neither a string nor an array is no audience, for both.
func TestVerifyClaimTypeErrorsAsGolangJWT(t *testing.T) {
	t.Parallel()
	const audience = "https://api.example"
	f := newVerifyFixture(t, -1, func(s *config.Settings) { s.Audience = audience })
	ref := jwt.NewParser(
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(f.vf.settings.Leeway),
		jwt.WithTimeFunc(f.clock.Now), jwt.WithIssuer(verifyIssuer), jwt.WithAudience(audience),
		jwt.WithStrictDecoding(),
	)
	a, hs := cacheSecret("a"), jwt.SigningMethodHS256
	exp := `"exp":` + itoa(cacheStart.Add(time.Hour).Unix())
	iss, aud := `"iss":"`+verifyIssuer+`"`, `"aud":"`+audience+`"`
	for _, claims := range []string{
		`{` + iss + `,` + aud + `,"exp":"soon"}`,
		`{` + iss + `,` + aud + `,"exp":null}`,
		`{` + iss + `,` + aud + `,"exp":true}`,
		`{` + iss + `,` + aud + `,"exp":[1]}`,
		`{` + iss + `,` + aud + `,"exp":{"at":1}}`,
		`{` + iss + `,` + aud + `,` + exp + `,"nbf":"now"}`,
		`{` + iss + `,` + aud + `,` + exp + `,"iat":null}`,
		`{"iss":7,` + aud + `,` + exp + `}`,
		`{"iss":null,` + aud + `,` + exp + `}`,
		`{"iss":["` + verifyIssuer + `"],` + aud + `,` + exp + `}`,
		`{` + iss + `,"aud":7,` + exp + `}`,
		`{` + iss + `,"aud":{"a":"` + audience + `"},` + exp + `}`,
		`{` + iss + `,"aud":null,` + exp + `}`,
		`{` + iss + `,"aud":[7],` + exp + `}`,
		`{` + iss + `,"aud":["` + audience + `",7],` + exp + `}`,
		`{` + iss + `,"aud":["` + audience + `",null],` + exp + `}`,
		`{"iss":1,"aud":[1],"exp":"soon","nbf":"now","iat":false}`, // every check fails, joined
	} {
		raw := signParts(t, `{"alg":"HS256","kid":"a"}`, claims, a, hs)
		_, want := ref.ParseWithClaims(raw, jwt.MapClaims{}, f.keyFunc)
		if want == nil {
			t.Fatalf("%s: golang-jwt accepts it; the case shows nothing", claims)
		}
		for _, maps := range []bool{true, false} {
			f.vf.wantMaps.Store(maps)
			_, err := f.vf.Verify(raw, f.clock.Now())
			if err == nil || errors.Unwrap(err) == nil || errors.Unwrap(err).Error() != want.Error() {
				t.Errorf("%s (map first %v): Verify error %v, want the reason %q", claims, maps, err, want)
				continue
			}
			for _, k := range append(claimKinds, jwt.ErrInvalidType, jwt.ErrTokenInvalidAudience) {
				if errors.Is(err, k) != errors.Is(want, k) {
					t.Errorf("%s (map first %v): errors.Is(%v, %v) = %v, golang-jwt's %v", claims, maps, err, k, !errors.Is(want, k), errors.Is(want, k))
				}
			}
		}
	}
}

// TestVerifyRefusesDuplicateClaimNames: a claim name written twice is
// refused whichever way the claims are read, and wherever it lands: a
// registered claim read into its own field, or a custom claim kept with
// the rest (which a handler's claims map is decoded from again later),
// spelled the same or escaped; golang-jwt keeps the last one.
func TestVerifyRefusesDuplicateClaimNames(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	a, hs := cacheSecret("a"), jwt.SigningMethodHS256
	for _, extra := range []string{
		`,"exp":` + itoa(cacheStart.Add(2*time.Hour).Unix()),
		`,"\u0065xp":` + itoa(cacheStart.Add(2*time.Hour).Unix()),
		`,"iss":"` + verifyIssuer + `"`,
		`,"role":"user","role":"admin"`,
		`,"role":"user","\u0072ole":"admin"`,
		`,"m":1,"m":2`,
		`,"m":1,"\u006d":2`,
		`,"metadata":{"auth_mode":"enabled"},"metadata":{"auth_mode":"disabled"}`,
		`,"":1,"":2`,
	} {
		raw := signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(extra), a, hs)
		if _, err := f.parseRef(raw); err != nil {
			t.Fatalf("%s: golang-jwt refuses it too (%v): the case shows nothing", extra, err)
		}
		for _, maps := range []bool{true, false} {
			f.vf.wantMaps.Store(maps)
			if _, err := f.vf.Verify(raw, f.clock.Now()); !errors.Is(err, ErrTokenInvalid) || !errors.Is(err, jwt.ErrTokenMalformed) {
				t.Errorf("claims with %s (map first %v): Verify error %v, want a malformed token", extra, maps, err)
			}
		}
	}
}

// TestHeaderTemplateFollowsHeader: tokens whose usual headers differ (two
// keys, with and without typ), verified in turn, each hand every caller
// their own header as signed, whichever header the Verifier shares last;
// a caller's write into its header reaches no other.
func TestHeaderTemplateFollowsHeader(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	hs := jwt.SigningMethodHS256
	headers := []struct {
		text string
		key  []byte
		want map[string]any
	}{
		{`{"alg":"HS256","kid":"a","typ":"JWT"}`, cacheSecret("a"), map[string]any{"alg": "HS256", "kid": "a", "typ": "JWT"}},
		{`{"alg":"HS256","kid":"b"}`, cacheSecret("b"), map[string]any{"alg": "HS256", "kid": "b"}},
	}
	var verified []*Verified
	for i := range 6 {
		h := headers[i%2]
		v, err := f.vf.Verify(signParts(t, h.text, verifyClaims(`,"jti":"`+itoa(int64(i))+`"`), h.key, hs), f.clock.Now())
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		verified = append(verified, v)
	}
	for round := range 2 {
		for i, v := range verified {
			tok, _ := v.Token()
			if got, want := tok.Header, headers[i%2].want; !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, token %d: Header %v, want %v", round, i, got, want)
			}
			tok.Header["kid"] = "changed" // the caller's own
			tok.Header["injected"] = true
		}
	}
}

// TestHeaderMemoKeyedBySegment: the header a Verifier remembers answers
// only for the very same segment: after a plain header, one that differs
// (crit, another alg, an unknown kid, a kid that is not a string) is read
// and judged on its own.
func TestHeaderMemoKeyedBySegment(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	a, hs := cacheSecret("a"), jwt.SigningMethodHS256
	plain := signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(""), a, hs)
	for _, header := range []string{
		`{"alg":"HS256","kid":"a","crit":["exp"]}`,
		`{"alg":"HS384","kid":"a"}`,
		`{"alg":"none","kid":"a"}`,
		`{"alg":"HS256","kid":"z"}`,
		`{"alg":"HS256","kid":7}`,
		`{"alg":"HS256","kid":"a","alg":"HS256"}`,
	} {
		if _, err := f.vf.Verify(plain, f.clock.Now()); err != nil {
			t.Fatalf("the plain token: %v", err)
		}
		if f.vf.lastHead.Load() == nil {
			t.Fatal("no header remembered after a plain one: the case shows nothing")
		}
		raw := signParts(t, header, verifyClaims(""), a, hs)
		if _, err := f.vf.Verify(raw, f.clock.Now()); err == nil {
			t.Errorf("header %s verified after a plain header was remembered", header)
		}
	}
}
