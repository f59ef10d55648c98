package middleware

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
)

// parseFixture is a middleware with the cache fixture's keys, and
// golang-jwt's parser configured the way the middleware configured it
// before it parsed tokens itself, with strict base64: the reference
// parseToken must agree with. The one difference: golang-jwt skips line
// breaks inside segments, as encoding/base64 does, and parseToken refuses
// any character outside base64url and '.'.
type parseFixture struct {
	*cacheFixture
	ref *jwt.Parser
}

func newParseFixture(t *testing.T) *parseFixture {
	t.Helper()
	f := newCacheFixture(t, -1, func(s *config.Settings) {
		s.Leeway = 5 * time.Second
		s.Issuer = "https://issuer.example"
	})
	ref := jwt.NewParser(
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(f.clock.Now), jwt.WithIssuer("https://issuer.example"),
		jwt.WithStrictDecoding(),
	)
	return &parseFixture{cacheFixture: f, ref: ref}
}

// compare parses raw both ways and fails t unless both accept it with the
// same header, claims, method and signature, or both refuse it.
func (f *parseFixture) compare(t *testing.T, raw string) {
	t.Helper()
	var p parsed
	got, gotErr := f.m.parseToken(raw, f.m.cache.generation(), &p)
	if !compactAlphabet(raw) {
		if !errors.Is(gotErr, jwt.ErrTokenMalformed) {
			t.Fatalf("%q, outside the alphabet: error %v, want jwt.ErrTokenMalformed", raw, gotErr)
		}
		return
	}
	want, wantErr := f.ref.ParseWithClaims(raw, jwt.MapClaims{}, f.m.cache.generation().keyFunc)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: parseToken error %v, golang-jwt error %v", raw, gotErr, wantErr)
	}
	if gotErr != nil {
		if !errors.Is(gotErr, jwt.ErrTokenMalformed) && !errors.Is(gotErr, jwt.ErrTokenUnverifiable) &&
			!errors.Is(gotErr, jwt.ErrTokenSignatureInvalid) && !errors.Is(gotErr, jwt.ErrTokenInvalidClaims) {
			t.Fatalf("%q: error %v wraps none of golang-jwt's token errors", raw, gotErr)
		}
		// A token golang-jwt decoded and verified fails for the same
		// reason here: the signature, or the claims' validation.
		for _, kind := range []error{
			jwt.ErrTokenSignatureInvalid, jwt.ErrTokenInvalidClaims, jwt.ErrTokenExpired,
			jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing,
			jwt.ErrTokenInvalidIssuer,
		} {
			if errors.Is(wantErr, kind) && !errors.Is(gotErr, kind) {
				t.Fatalf("%q: error %v, golang-jwt says %v", raw, gotErr, wantErr)
			}
		}
		return
	}
	// The decoders find the duplicate names checkJOSE finds by scanning.
	if gotJOSE, wantJOSE := checkDecoded(got.Header, p.headDup, p.claims.duplicate), checkJOSE(raw, got.Header); gotJOSE != wantJOSE {
		t.Fatalf("%q: checkDecoded = %v, checkJOSE = %v", raw, gotJOSE, wantJOSE)
	}
	if !got.Valid || got.Raw != raw || got.Method != want.Method ||
		!reflect.DeepEqual(got.Header, want.Header) || !reflect.DeepEqual(got.Claims, want.Claims) ||
		string(got.Signature) != string(want.Signature) {
		t.Fatalf("%q:\n got %+v\nwant %+v", raw, got, want)
	}
}

// signParts signs a header and claims text with the key of the given ID.
func signParts(t testing.TB, header, claims string, key any, method jwt.SigningMethod) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	sig, err := method.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

// parseSeeds are tokens with one fault each, or none.
func parseSeeds(t testing.TB, f *parseFixture) []string {
	exp, iat := cacheStart.Add(time.Hour).Unix(), cacheStart.Unix()
	claims := func(extra string) string {
		return `{"sub":"alice","iss":"https://issuer.example","iat":` + itoa(iat) + `,"exp":` + itoa(exp) + extra + `}`
	}
	a, b := cacheSecret("a"), cacheSecret("b")
	hs := jwt.SigningMethodHS256
	good := signParts(t, `{"alg":"HS256","kid":"a","typ":"JWT"}`, claims(""), a, hs)
	dot := strings.LastIndexByte(good, '.')
	return []string{
		good,
		signParts(t, `{"alg":"HS256","kid":"b"}`, claims(`,"m":{"x":[1,"\u00e9",null]}`), b, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, claims(`,"nbf":`+itoa(iat+100)), a, hs),                 // not valid yet
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","exp":`+itoa(iat-100)+`}`, a, hs),           // expired
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"other","exp":`+itoa(exp)+`}`, a, hs), // issuer
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x"}`, a, hs),                                   // no exp
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"exp":"soon"}`, a, hs),                                // exp a string
		signParts(t, `{"alg":"HS256","kid":"a"}`, `null`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, `[]`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"exp":1e999}`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"a"}`, `{"exp":`, a, hs),
		signParts(t, `{"alg":"HS256","kid":"b"}`, claims(""), a, hs), // the wrong key for its kid
		signParts(t, `{"alg":"HS384","kid":"a"}`, claims(""), a, jwt.SigningMethodHS384),
		signParts(t, `{"alg":"HS256"}`, claims(""), a, hs), // no kid: both keys are tried
		signParts(t, `{"alg":"HS256","crit":["exp"]}`, claims(""), a, hs),
		signParts(t, `{"alg":"HS256","kid":"a","kid":"a"}`, claims(""), a, hs),
		signParts(t, `{"alg":"HS256"}`, claims(`,"x":{"k":1,"k":2}`), a, hs),
		signParts(t, `{"alg":"HS256"}`, claims(`,"x":[{"k":1},{"k":1}]`), a, hs),
		signParts(t, `{"alg":"HS256","kid":7}`, claims(""), a, hs),
		signParts(t, `{"alg":"none","kid":"a"}`, claims(""), a, hs),
		signParts(t, `{"alg":"XX1","kid":"a"}`, claims(""), a, hs),
		signParts(t, `{"kid":"a"}`, claims(""), a, hs),
		signParts(t, `null`, claims(""), a, hs),
		signParts(t, `[1]`, claims(""), a, hs),
		signParts(t, `{"alg":"HS256"`, claims(""), a, hs),
		good[:dot] + ".AAAA",
		good[:dot] + "." + good[dot+1:] + "=",
		good[:dot] + ".%%%",
		good + ".",
		strings.Replace(good, ".", "..", 1),
		"a.b", "", "...", "e30.e30.", "!!.e30.e30",
		good[:dot] + "." + good[dot+1:len(good)-1] + nonzeroTail(good[len(good)-1]), // unused bits set
		good[:dot] + ".\n" + good[dot+1:],                                           // a line break base64 would skip
		strings.Replace(good, ".", "\r\n.", 1),
	}
}

// nonzeroTail returns a base64url character that decodes like c in the last
// position of a segment whose length leaves 4 bits unused (32-byte
// signatures: 43 characters), but with some of those bits set.
func nonzeroTail(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)|1])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestParseTokenMatchesGolangJWT(t *testing.T) {
	t.Parallel()
	f := newParseFixture(t)
	for _, raw := range parseSeeds(t, f) {
		f.compare(t, raw)
	}
	// A token of an asymmetric key goes through the signing method itself.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.keys.Rotate(Key{ID: "ec", Algorithm: "ES256", Material: key}); err != nil {
		t.Fatal(err)
	}
	ec := signParts(t, `{"alg":"ES256","kid":"ec"}`, `{"sub":"x","iss":"https://issuer.example","exp":`+itoa(cacheStart.Add(time.Hour).Unix())+`}`, key, jwt.SigningMethodES256)
	f.compare(t, ec)
	f.compare(t, ec[:len(ec)-4]+"AAAA")
}

// TestParseTokenSignatureFirst: a token that is not ours is refused for
// its signature whatever its claims hold.
func TestParseTokenSignatureFirst(t *testing.T) {
	t.Parallel()
	f := newParseFixture(t)
	for _, claims := range []string{`{"exp":`, `[]`, `{"exp":1e999}`, strings.Repeat("[", 5000)} {
		tok := signParts(t, `{"alg":"HS256","kid":"a"}`, claims, cacheSecret("z"), jwt.SigningMethodHS256)
		var p parsed
		if _, err := f.m.parseToken(tok, f.m.cache.generation(), &p); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Errorf("claims %.20q signed with another key: %v, want jwt.ErrTokenSignatureInvalid", claims, err)
		}
	}
}

func TestParseTokenErrorText(t *testing.T) {
	t.Parallel()
	f := newParseFixture(t)
	for _, tc := range []struct{ raw, want string }{
		{"a.b", "token is malformed: token contains an invalid number of segments"},
		{"A.e30.e30", "token is malformed: could not base64 decode header: illegal base64 data at input byte 0"},
		{"e30.e30.e30", "token is unverifiable: signing method (alg) is unspecified"},
	} {
		var p parsed
		_, err := f.m.parseToken(tc.raw, f.m.cache.generation(), &p)
		_, ref := f.ref.ParseWithClaims(tc.raw, jwt.MapClaims{}, f.m.cache.generation().keyFunc)
		if err == nil || err.Error() != tc.want || ref.Error() != tc.want {
			t.Errorf("%q: %v (golang-jwt: %v), want %q", tc.raw, err, ref, tc.want)
		}
	}
}

// FuzzParseToken compares parseToken with golang-jwt on arbitrary tokens.
func FuzzParseToken(f *testing.F) {
	pf := newParseFixture(&testing.T{})
	for _, raw := range parseSeeds(f, pf) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		pf.compare(t, raw)
	})
}

// FuzzParseSigned compares parseToken with golang-jwt on tokens signed with
// a key of the set, whatever their header and claims texts.
func FuzzParseSigned(f *testing.F) {
	pf := newParseFixture(&testing.T{})
	f.Add(`{"alg":"HS256","kid":"a"}`, `{"sub":"alice","iss":"https://issuer.example","exp":1777640400}`)
	f.Add(`{"alg":"HS256","kid":"a","crit":["x"]}`, `{"sub":"a","exp":1777640400,"iat":1777636800,"nbf":1777636800}`)
	f.Add(`{"alg":"HS256"}`, `{"exp":1777640400,"m":{"k":"\ud83c\udf89\ud83c"},"a":[1,2,{}]}`)
	f.Add(`{"alg":"HS256","kid":"b"}`, `{"exp":1.7776404e9,"iss":["https://issuer.example"]}`)
	f.Add(`{"alg":"HS256","alg":"HS256"}`, `{"sub":"a","iss":"https://issuer.example","exp":1777640400,"m":{"a":1,"\u0061":2}}`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		pf.compare(t, signParts(t, header, claims, cacheSecret("a"), jwt.SigningMethodHS256))
	})
}
