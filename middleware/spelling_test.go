package middleware_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// lightragClaims are dueClaims without sid and jti, as LightRAG's tokens
// come: the session is then keyed by the token.
func lightragClaims() jwt.MapClaims {
	return with(dueClaims(), "sid", remove, "jti", remove)
}

// TestOneTokenOneSession re-spells a due token without sid or jti in
// every way that keeps its signature valid, or that base64 decoding would
// overlook, and sends each within one interval: the token renews once, and
// a spelling that is not the canonical one is refused outright.
func TestOneTokenOneSession(t *testing.T) {
	t.Parallel()
	secret := []byte(hostileSecret)
	tok := sign(t, jwt.SigningMethodHS256, secret, "", lightragClaims())
	dot := strings.LastIndexByte(tok, '.')
	sig := tok[dot+1:]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])

	tests := []struct {
		name     string
		spelling string
	}{
		{"unused bits set in the signature", tok[:len(tok)-1] + string(alphabet[last|1])},
		{"more unused bits set", tok[:len(tok)-1] + string(alphabet[last|15])},
		{"a line break in the signature", tok[:dot+1] + sig[:10] + "\n" + sig[10:]},
		{"a CRLF in the signature", tok[:dot+1] + sig[:10] + "\r\n" + sig[10:]},
		{"a line break in the header", strings.Replace(tok, ".", "\n.", 1)},
	}
	// The query lookup carries any byte; the header lookup could not.
	a := newHostileApp(t, nil, func(_ *config.Settings, cfg *middleware.Config) {
		cfg.TokenLookup = "query:token"
	})
	a.clock.Set(epoch.Add(dueAt))
	get := func(token string) *httptest.ResponseRecorder {
		return a.serve(httptest.NewRequest(http.MethodGet, "/api/me?token="+url.QueryEscape(token), nil))
	}
	if rec := get(tok); rec.Code != http.StatusOK || rec.Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatalf("the token itself: status %d, renewed %v; want 200 and renewed", rec.Code, rec.Header().Get(middleware.HeaderNewToken) != "")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(tt.spelling)
			if got, want := rec.Code, http.StatusUnauthorized; got != want {
				t.Errorf("status %d, want %d", got, want)
			}
			if h := rec.Header().Get(middleware.HeaderNewToken); h != "" {
				t.Errorf("renewed again")
			}
		})
	}
	if got, want := a.store.Allows(), int64(1); got != want {
		t.Errorf("the store was asked %d times, want %d", got, want)
	}
}

// TestECDSASecondSignatureSameSession sends a due ES256 token without sid
// or jti with its other valid signature, (r, N-s): both verify, as ECDSA
// allows, but they are one session and renew once.
func TestECDSASecondSignatureSameSession(t *testing.T) {
	t.Parallel()
	k := keys(t)
	ks := keySet(t, middleware.Key{ID: "ec", Algorithm: "ES256", Material: k.ec})
	a := newHostileApp(t, ks)
	a.clock.Set(epoch.Add(dueAt))
	tok := sign(t, jwt.SigningMethodES256, k.ec, "ec", lightragClaims())
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("ES256 signature of %d bytes, %v", len(sig), err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	flipped := append(sig[:32:32], new(big.Int).Sub(elliptic.P256().Params().N, s).FillBytes(make([]byte, 32))...)
	other := tok[:dot+1] + base64.RawURLEncoding.EncodeToString(flipped)
	if _, _, err := verifyToken(other, "ES256", &k.ec.PublicKey, epoch.Add(dueAt), 0); err != nil {
		t.Fatalf("the second signature does not verify, so this test proves nothing: %v", err)
	}

	first := a.get(dueAt, tok)
	second := a.get(dueAt, other)
	if first.Code != http.StatusOK || first.Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatalf("first signature: status %d, renewed %v; want 200 and renewed", first.Code, first.Header().Get(middleware.HeaderNewToken) != "")
	}
	if second.Code != http.StatusOK || second.Header().Get(middleware.HeaderNewToken) != "" {
		t.Errorf("second signature: status %d, renewed %v; want 200 and not renewed", second.Code, second.Header().Get(middleware.HeaderNewToken) != "")
	}
	if ev, _ := a.lastEvent(); ev.Reason != engine.ReasonRateLimited {
		t.Errorf("second signature: reason %q, want %q", ev.Reason, engine.ReasonRateLimited)
	}
}
