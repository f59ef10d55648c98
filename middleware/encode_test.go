package middleware

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// encodeCases are claims sets signJWT must encode exactly as golang-jwt.
func encodeCases() map[string]jwt.MapClaims {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	return map[string]jwt.MapClaims{
		"issuer": {
			"sub": "alice", "role": "user", "iat": now.Unix(), "auth_time": now.Unix(),
			"exp": now.Add(48 * time.Hour).Unix(), "sid": "c2lkLXNpZC1zaWQtc2lk", "jti": "anRpLWp0aS1qdGktanRp",
			"iss": "https://issuer.example", "aud": "api",
		},
		"decoded (float64 dates, nested metadata)": {
			"sub": "bob", "exp": float64(now.Unix()), "iat": 1.7779e9, "role": "guest",
			"metadata": map[string]any{"auth_mode": "disabled", "tags": []any{"a", 1.5, true, nil, map[string]any{}}},
			"aud":      []any{"a", "b"}, "empty": []any{}, "null": nil, "nilslice": []any(nil),
			"nilmap": map[string]any(nil), "flag": false,
		},
		"strings to escape": {
			"sub": `<script>alert("x&y")</script>`, "ctl": "a\x00b\x01\x1f\b\f\n\r\t\\\"\x7f",
			"unicode": "héllo, 世界 🎉", "separators": "a\u2028b\u2029c", "bad utf8": "a\xffb\xc3(",
			"ключ <&>": "key to escape too", "": "empty key",
		},
		"numbers": {
			"zero": 0.0, "negzero": math.Copysign(0, -1), "tiny": 1e-7, "small": 0.000001, "edge": 1e21,
			"below edge": 999999999999999900000.0, "neg": -123.456, "third": 1.0 / 3, "huge": 1.7976931348623157e308,
			"denormal": 5e-324, "int": 42, "int64": int64(-9007199254740993), "e-5": 1.5e-7,
		},
		"fallbacks": {
			"sub": "carol", "nd": jwt.NewNumericDate(now), "num": json.Number("12.50"),
			"strmap": map[string]string{"b": "<", "a": "x"}, "struct": struct {
				A int `json:"a"`
				B string
			}{1, "&"}, "ints": []int{3, 1, 2}, "u8": uint8(7), "f32": float32(0.1),
		},
		"many keys": func() jwt.MapClaims {
			m := jwt.MapClaims{}
			for i := range 40 {
				m[strings.Repeat("k", i%7)+string(rune('a'+i%26))+string(rune('A'+i/26))] = i
			}
			return m
		}(),
		"empty": {},
	}
}

func TestSignJWTMatchesGolangJWT(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("k", 48))
	for name, claims := range encodeCases() {
		for _, method := range []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS512} {
			for _, kid := range []string{"", "key-1", `odd "kid" <&>`} {
				want := jwt.NewWithClaims(method, claims)
				if kid != "" {
					want.Header["kid"] = kid
				}
				wantStr, wantErr := want.SignedString(secret)
				got, err := signJWT(method, kid, claims, secret)
				if err != nil || wantErr != nil {
					t.Fatalf("%s %s kid %q: signJWT error %v, golang-jwt error %v", name, method.Alg(), kid, err, wantErr)
				}
				if !sameToken(t, got, wantStr, secret) {
					t.Errorf("%s %s kid %q:\n got %s\nwant %s", name, method.Alg(), kid, got, wantStr)
				}
			}
		}
	}
}

// TestSignJWTAsymmetric: a randomised signature cannot be compared, so the
// token must carry golang-jwt's header and claims and verify.
func TestSignJWTAsymmetric(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	claims := encodeCases()["decoded (float64 dates, nested metadata)"]
	claims["exp"] = float64(time.Now().Add(time.Hour).Unix())
	claims["iat"] = float64(time.Now().Unix())
	got, err := signJWT(jwt.SigningMethodES256, "ec", claims, key)
	if err != nil {
		t.Fatal(err)
	}
	want := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	want.Header["kid"] = "ec"
	wantSigning, err := want.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	if signing := got[:strings.LastIndexByte(got, '.')]; signing != wantSigning {
		t.Errorf("signing string\n got %s\nwant %s", signing, wantSigning)
	}
	parsed, err := jwt.Parse(got, func(*jwt.Token) (any, error) { return &key.PublicKey, nil })
	if err != nil || !parsed.Valid {
		t.Errorf("the ES256 token does not verify: %v", err)
	}
}

func TestSignJWTErrors(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("k", 48))
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for name, claims := range map[string]jwt.MapClaims{
		"NaN":        {"x": math.NaN()},
		"Inf":        {"x": map[string]any{"y": math.Inf(-1)}},
		"cycle":      {"x": cyclic},
		"channel":    {"x": make(chan int)},
		"deep fails": {"x": []any{[]any{math.NaN()}}},
	} {
		if _, err := signJWT(jwt.SigningMethodHS256, "", claims, secret); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret); err == nil {
			t.Errorf("%s: golang-jwt gives no error either; the case tests nothing", name)
		}
	}
	if _, err := signJWT(jwt.SigningMethodHS256, "", jwt.MapClaims{"sub": "x"}, "not a key"); err == nil {
		t.Errorf("signing with a key of the wrong type: no error")
	}
}

func TestSignJWTAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items: allocation counts vary")
	}
	secret := []byte(strings.Repeat("k", 48))
	claims := encodeCases()["issuer"]
	claims["metadata"] = map[string]any{"auth_mode": "enabled"}
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := signJWT(jwt.SigningMethodHS256, "kid", claims, secret); err != nil {
			t.Fatal(err)
		}
	})
	// The token and the HMAC sum; the buffers and HMAC states are pooled.
	// golang-jwt takes about fifty.
	if allocs > 4 {
		t.Errorf("signJWT allocates %v times, want at most 4", allocs)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `<a href="x">&amp;</a>`, "\x00\x1f\x7f\u2028\u2029", "\xff\xfe", "é世🎉", "a\\b\"c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !sameJSON(string(got), string(want)) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

func FuzzAppendJSONFloat(f *testing.F) {
	for _, x := range []float64{0, 1, -1, 1e-6, 1e-7, 1e20, 1e21, 1e22, 0.1, 1.0 / 3, 5e-324, math.MaxFloat64, 1.7779e9} {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		want, wantErr := json.Marshal(x)
		got, err := appendJSONFloat(nil, x)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("appendJSONFloat(%v) error %v, encoding/json error %v", x, err, wantErr)
		}
		if err == nil && string(got) != string(want) {
			t.Errorf("appendJSONFloat(%v) = %s, want %s", x, got, want)
		}
	})
}

func TestAppendRenewedClaims(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)
	exp := now.Add(48 * time.Hour)
	for name, claims := range encodeCases() {
		for _, sid := range []string{"", "kept-sid"} {
			mc := jwt.MapClaims{}
			for k, val := range claims {
				mc[k] = val
			}
			delete(mc, "sid")
			if sid != "" {
				mc["sid"] = sid
			}
			v := &verified{authTime: now.Add(-72 * time.Hour)}
			v.typed = Claims{SessionID: sid, Map: mc}
			v.claims = &v.typed
			got, err := appendRenewedClaims(nil, v, now, exp, "new-jti", "new-sid")
			want := renewedClaims(v, now, exp)
			want["jti"] = "new-jti"
			if sid == "" {
				want["sid"] = "new-sid"
			}
			wantJSON, wantErr := json.Marshal(want)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s (sid %q): error %v, encoding/json error %v", name, sid, err, wantErr)
			}
			if err == nil && !sameJSON(string(got), string(wantJSON)) {
				t.Errorf("%s (sid %q):\n got %s\nwant %s", name, sid, got, wantJSON)
			}
		}
	}
}

// TestSignBodyHMACPool: the pooled HMAC states follow the key, also when
// keys alternate and goroutines share them.
func TestSignBodyHMACPool(t *testing.T) {
	t.Parallel()
	keys := [][]byte{[]byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 64)), []byte(strings.Repeat("a", 32))}
	methods := []jwt.SigningMethod{jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512}
	claims := jwt.MapClaims{"sub": "x", "n": 1.5}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				key, method := keys[(g+i)%len(keys)], methods[(g+i)%len(methods)]
				want, err := jwt.NewWithClaims(method, claims).SignedString(key)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := signJWT(method, "", claims, key)
				if err != nil || got != want {
					t.Errorf("%s with key %d: %q, %v; want %q", method.Alg(), (g+i)%len(keys), got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// sameJSON reports whether two JSON texts are byte for byte the same, but
// for how invalid UTF-8 is spelt: encoding/json writes it as the escape
// \ufffd up to Go 1.26 and as the raw U+FFFD from Go 1.27 on (both decode
// alike); the encoder here always writes the escape.
func sameJSON(a, b string) bool {
	norm := func(s string) string { return strings.ReplaceAll(s, `\ufffd`, "\ufffd") }
	return norm(a) == norm(b)
}

// sameToken reports whether got is want, or, when their JSON differs only
// as sameJSON allows, a token with the same header and claims whose
// signature verifies with secret.
func sameToken(t *testing.T, got, want string, secret []byte) bool {
	t.Helper()
	if got == want {
		return true
	}
	g, w := strings.Split(got, "."), strings.Split(want, ".")
	if len(g) != 3 || len(w) != 3 {
		return false
	}
	for i := range 2 {
		gs, err1 := base64.RawURLEncoding.DecodeString(g[i])
		ws, err2 := base64.RawURLEncoding.DecodeString(w[i])
		if err1 != nil || err2 != nil || !sameJSON(string(gs), string(ws)) {
			return false
		}
	}
	_, err := jwt.Parse(got, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithoutClaimsValidation())
	return err == nil
}
