package middleware

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claimsJSONCases are claims texts whose decoding must match encoding/json.
var claimsJSONCases = []string{
	`{}`, ` { } `, `null`, `[]`, `"x"`, `1`, `true`, `{"a":1}`,
	`{"sub":"alice","role":"user","iat":1777777777,"exp":1.7779e9,"auth_time":1777777777.5,"sid":"c2lk","jti":"anRp"}`,
	`{"metadata":{"auth_mode":"disabled","n":[1,2.5,-3e-7,1E+2,0,-0,true,false,null,{},[],[[]],""]}}`,
	"{\"ws\"\t:\n[ 1 ,\r2 ] , \"x\" : { \"y\" : null } }",
	`{"esc":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u4e16 \ud83c\udf89 \u2028"}`,
	`{"lone high":"\ud83c","lone low":"\udf89x","high then high":"\ud83c\ud83c","high then ascii":"\ud83c\u0041"}`,
	`{"bad utf8":"a` + "\xff\xfe" + `b` + "\xc3" + `","bad in key` + "\xff" + `":1}`,
	`{"dup":1,"dup":2,"dup":{"x":1}}`, `{"a":{"b":1,"\u0062":2}}`, `{"a":[{"x":1},{"x":1,"x":2}]}`, `{"a":1,"b":{"a":1}}`,
	`{"big":1e400}`, `{"huge":-1e309,"ok":1}`, `{"small":1e-400}`, `{"long":123456789012345678901234567890}`,
	`{"unicode":"héllo 世界 🎉","key é":"v"}`,
	`{"deep":[[[[[[[[[[{"a":[{"b":[]}]}]]]]]]]]]]}`,
	`{"":""}`, `{"a":"\u0000"}`,
}

// decodeBoth decodes data as golang-jwt would, into MapClaims, once with
// encoding/json and once with decodedClaims, and checks that the decoder
// finds the duplicate names uniqueNames finds.
func decodeBoth(t *testing.T, data []byte) (want, got map[string]any, wantErr, gotErr error) {
	t.Helper()
	var m jwt.MapClaims
	wantErr = json.Unmarshal(data, &m)
	var c decodedClaims
	var claims jwt.Claims = &c
	gotErr = json.Unmarshal(data, &claims) // how golang-jwt calls it
	if wantErr == nil && gotErr == nil {
		if wantDup := uniqueNames(data) == errDuplicateName; c.duplicate != wantDup {
			t.Errorf("%q: duplicate = %v, uniqueNames says %v", data, c.duplicate, wantDup)
		}
	}
	return m, c.MapClaims, wantErr, gotErr
}

func TestDecodedClaimsMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, text := range claimsJSONCases {
		want, got, wantErr, gotErr := decodeBoth(t, []byte(text))
		if (wantErr != nil) != (gotErr != nil) {
			t.Errorf("%s: error %v, encoding/json error %v", text, gotErr, wantErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", text, got, want)
		}
	}
}

// TestDecodedClaimsInParser: the parser uses UnmarshalJSON, hands out
// jwt.MapClaims, and rejects what it rejected before.
func TestDecodedClaimsInParser(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, -1, nil)
	tok := f.signWith("a", jwt.MapClaims{"sub": "x", "exp": cacheStart.Add(time.Hour).Unix(), "m": map[string]any{"k": []any{1, "\u2028"}}})
	v, err := f.m.verify(tok, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	mc, ok := v.token.Claims.(jwt.MapClaims)
	if !ok {
		t.Fatalf("token.Claims is %T, want jwt.MapClaims", v.token.Claims)
	}
	var want jwt.MapClaims
	if _, err := jwt.NewParser(jwt.WithTimeFunc(f.clock.Now)).ParseWithClaims(tok, &want, func(*jwt.Token) (any, error) { return cacheSecret("a"), nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mc, want) || !reflect.DeepEqual(v.claims.Map, want) {
		t.Errorf("claims %#v, golang-jwt decodes %#v", mc, want)
	}
	// Claims that do not decode, signed: the signature is checked first, so
	// only a signed token gets as far as its claims.
	for name, text := range map[string]string{
		"array":    `[1]`,
		"string":   `"claims"`,
		"overflow": `{"sub":"x","exp":1e400}`,
		"invalid":  `{"exp":1,`,
	} {
		if _, err := f.m.verify(signedText(t, "a", text), f.clock.Now()); !errors.Is(err, jwt.ErrTokenMalformed) {
			t.Errorf("%s claims: %v, want jwt.ErrTokenMalformed", name, err)
		}
	}
	// The same unsigned: refused for the signature, the claims never read.
	for _, text := range []string{`[1]`, `{"exp":1,`} {
		tok := signedText(t, "a", text)
		tok = tok[:strings.LastIndexByte(tok, '.')+1] + "c2lnbmF0dXJlLW5vdC1vdXJz"
		if _, err := f.m.verify(tok, f.clock.Now()); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Errorf("unsigned %s: %v, want jwt.ErrTokenSignatureInvalid", text, err)
		}
	}
}

// signedText returns a token whose claims are the JSON text given, HS256
// signed with cacheSecret(kid).
func signedText(t *testing.T, kid, text string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(text))
	sig, err := jwt.SigningMethodHS256.Sign(signing, cacheSecret(kid))
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func FuzzDecodedClaims(f *testing.F) {
	for _, text := range claimsJSONCases {
		f.Add([]byte(text))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, got, wantErr, gotErr := decodeBoth(t, data)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("%q: error %v, encoding/json error %v", data, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
		}
	})
}
