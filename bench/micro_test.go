package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

func BenchmarkMicro(b *testing.B) {
	a := newApp(b, memory.New(nil), middleware.Config{})
	tok := a.token(b, 0)
	key := []byte(secret)

	// parse: golang-jwt v5 alone, as echo-jwt calls it (a parser per call).
	b.Run("parse", func(b *testing.B) {
		keyFunc := func(*jwt.Token) (any, error) { return key, nil }
		b.ReportAllocs()
		for b.Loop() {
			t, err := jwt.Parse(tok, keyFunc, jwt.WithValidMethods([]string{"HS256"}))
			if err != nil || !t.Valid {
				b.Fatalf("Parse: %v", err)
			}
		}
	})

	// hmac-floor: decode the three segments and check the signature, with
	// buffers and the HMAC state reused: no JSON, no allocation.
	b.Run("hmac-floor", func(b *testing.B) {
		mac := hmac.New(sha256.New, key)
		var (
			input = make([]byte, 0, len(tok))
			seg   = make([]byte, base64.RawURLEncoding.DecodedLen(len(tok)))
			sum   = make([]byte, 0, sha256.Size)
		)
		b.ReportAllocs()
		for b.Loop() {
			if !hmacVerify(mac, tok, input, seg, sum) {
				b.Fatal("signature does not verify")
			}
		}
	})

	// issue: the Issuer minting a login token (the claims a renewal signs,
	// with its own JSON encoder), for comparison with sign.
	b.Run("issue", func(b *testing.B) {
		now := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := a.issuer.IssueAt(now, "alice", "user", map[string]any{"metadata": map[string]any{"auth_mode": "enabled"}}); err != nil {
				b.Fatal(err)
			}
		}
	})

	// sign: golang-jwt signing the claims of a renewed token.
	b.Run("sign", func(b *testing.B) {
		now := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			claims := jwt.MapClaims{
				"sub": "alice", "role": "user", "metadata": map[string]any{"auth_mode": "enabled"},
				"iat": now.Unix(), "auth_time": now.Unix(), "exp": now.Add(48 * time.Hour).Unix(),
				"sid": "0123456789abcdefghijkl", "jti": "mnopqrstuvwxyz012345678",
			}
			if _, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// hmacVerify decodes tok's header and claims into seg and checks its
// HS256 signature with mac, using input and sum as scratch space.
func hmacVerify(mac hash.Hash, tok string, input, seg, sum []byte) bool {
	dot2 := strings.LastIndexByte(tok, '.')
	dot1 := strings.IndexByte(tok, '.')
	if dot1 < 0 || dot2 <= dot1 {
		return false
	}
	for _, part := range [...]string{tok[:dot1], tok[dot1+1 : dot2]} {
		if _, err := base64.RawURLEncoding.Decode(seg, []byte(part)); err != nil {
			return false
		}
	}
	n, err := base64.RawURLEncoding.Decode(seg, []byte(tok[dot2+1:]))
	if err != nil {
		return false
	}
	mac.Reset()
	mac.Write(append(input[:0], tok[:dot2]...))
	return hmac.Equal(mac.Sum(sum[:0]), seg[:n])
}
