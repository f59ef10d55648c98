package middleware_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// pemFile writes PEM blocks to a new file in dir and returns its path.
func pemFile(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var data []byte
	for _, b := range blocks {
		data = append(data, pem.EncodeToMemory(b)...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pkcs8Block(t *testing.T, key any) *pem.Block {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("MarshalPKCS8PrivateKey: %v", err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func sec1Block(t *testing.T, key *ecdsa.PrivateKey) *pem.Block {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("MarshalECPrivateKey: %v", err)
	}
	return &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
}

func pkixBlock(t *testing.T, pub any) *pem.Block {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	return &pem.Block{Type: "PUBLIC KEY", Bytes: der}
}

// envSettings reads settings from vars through config.FromLookup, on top
// of the hostile apps' lifetimes and leeway.
func envSettings(t *testing.T, vars map[string]string) (config.Settings, error) {
	t.Helper()
	base := map[string]string{
		config.EnvUserLifetime:  "24",
		config.EnvGuestLifetime: "2",
		config.EnvLeeway:        "30",
	}
	for k, v := range vars {
		base[k] = v
	}
	return config.FromLookup(func(name string) (string, bool) {
		v, ok := base[name]
		return v, ok
	})
}

// TestAlgorithmsFromEnvironment configures each algorithm the way a
// deployment does, from the environment and PEM files, then checks that a
// token issued with it verifies independently with the public key, and
// that its renewal is signed the same way.
func TestAlgorithmsFromEnvironment(t *testing.T) {
	t.Parallel()
	k := keys(t)
	dir := t.TempDir()
	secret := "an-hmac-secret-of-at-least-32-bytes-0123456789"
	tests := []struct {
		name   string
		vars   map[string]string
		alg    string
		verify any // the key an independent verifier uses
	}{
		{"HS256", map[string]string{config.EnvSecret: secret}, "HS256", []byte(secret)},
		{"HS384 with a kid", map[string]string{config.EnvSecret: secret, config.EnvAlgorithm: "HS384", config.EnvKeyID: "h-1"}, "HS384", []byte(secret)},
		{"HS512", map[string]string{config.EnvSecret: secret, config.EnvAlgorithm: "HS512"}, "HS512", []byte(secret)},
		{"RS256, PKCS#8", map[string]string{config.EnvAlgorithm: "RS256", config.EnvKeyID: "r-1",
			config.EnvPrivateKeyFile: pemFile(t, dir, "rsa8.pem", pkcs8Block(t, k.rsa))}, "RS256", &k.rsa.PublicKey},
		{"RS256, PKCS#1", map[string]string{config.EnvAlgorithm: "RS256",
			config.EnvPrivateKeyFile: pemFile(t, dir, "rsa1.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsa)})}, "RS256", &k.rsa.PublicKey},
		{"PS256", map[string]string{config.EnvAlgorithm: "PS256", config.EnvKeyID: "p-1",
			config.EnvPrivateKeyFile: filepath.Join(dir, "rsa8.pem")}, "PS256", &k.rsa.PublicKey},
		{"ES256, SEC1 after EC PARAMETERS", map[string]string{config.EnvAlgorithm: "ES256", config.EnvKeyID: "e-1",
			config.EnvPrivateKeyFile: pemFile(t, dir, "ec1.pem", &pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}, sec1Block(t, k.ec))}, "ES256", &k.ec.PublicKey},
		{"ES256, PKCS#8", map[string]string{config.EnvAlgorithm: "ES256",
			config.EnvPrivateKeyFile: pemFile(t, dir, "ec8.pem", pkcs8Block(t, k.ec))}, "ES256", &k.ec.PublicKey},
		{"EdDSA, PKCS#8", map[string]string{config.EnvAlgorithm: "EdDSA", config.EnvKeyID: "d-1",
			config.EnvPrivateKeyFile: pemFile(t, dir, "ed.pem", pkcs8Block(t, k.ed))}, "EdDSA", k.ed.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := envSettings(t, tt.vars)
			if err != nil {
				t.Fatalf("FromLookup: %v", err)
			}
			a := newHostileApp(t, nil, func(dst *config.Settings, _ *middleware.Config) { *dst = s })
			token, _, err := a.issuer.IssueAt(epoch, "alice", "user", nil)
			if err != nil {
				t.Fatalf("IssueAt: %v", err)
			}
			for _, tok := range []string{token, renew(t, a, token)} {
				_, parsed, err := verifyToken(tok, tt.alg, tt.verify, epoch.Add(dueAt), 0)
				if err != nil {
					t.Fatalf("token does not verify with the %s public key: %v", tt.alg, err)
				}
				if got, want := parsed.Header["kid"], tt.vars[config.EnvKeyID]; (want == "" && got != nil) || (want != "" && got != want) {
					t.Errorf("kid = %v, want %q", got, want)
				}
			}
		})
	}
}

// renew sends token through a when it is due and returns the new token.
func renew(t *testing.T, a *hostileApp, token string) string {
	t.Helper()
	rec := a.get(dueAt, token)
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	if rec.Code != http.StatusOK || fresh == "" {
		t.Fatalf("status %d, renewed %v; want 200 and a new token", rec.Code, fresh != "")
	}
	return fresh
}

// TestKeyFileErrors: every unusable key file is reported as a *config.Error
// that names the variable and the file, and never shows key material.
func TestKeyFileErrors(t *testing.T) {
	t.Parallel()
	k := keys(t)
	dir := t.TempDir()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pemFile(t, dir, "rsa.pem", pkcs8Block(t, k.rsa))
	ecPEM := pemFile(t, dir, "ec.pem", pkcs8Block(t, k.ec))
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	encrypted := pemFile(t, dir, "enc.pem", &pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{
		"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"}, Bytes: []byte("opaque")})
	corrupt := pemFile(t, dir, "corrupt.pem", &pem.Block{Type: "PRIVATE KEY", Bytes: []byte("definitely not DER")})
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string
		value   string // the value the error must show
		want    string
	}{
		{"no key file", map[string]string{config.EnvAlgorithm: "RS256"}, config.EnvPrivateKeyFile, "", "required for JWT_ALGORITHM=RS256"},
		{"missing file", map[string]string{config.EnvAlgorithm: "RS256", config.EnvPrivateKeyFile: filepath.Join(dir, "nope.pem")},
			config.EnvPrivateKeyFile, filepath.Join(dir, "nope.pem"), "no such file"},
		{"not PEM", map[string]string{config.EnvAlgorithm: "ES256", config.EnvPrivateKeyFile: garbage}, config.EnvPrivateKeyFile, garbage, "no PEM block"},
		{"too large", map[string]string{config.EnvAlgorithm: "ES256", config.EnvPrivateKeyFile: huge}, config.EnvPrivateKeyFile, huge, "not a key file"},
		{"encrypted", map[string]string{config.EnvAlgorithm: "RS256", config.EnvPrivateKeyFile: encrypted}, config.EnvPrivateKeyFile, encrypted, "encrypted"},
		{"corrupt DER", map[string]string{config.EnvAlgorithm: "RS256", config.EnvPrivateKeyFile: corrupt}, config.EnvPrivateKeyFile, corrupt, "PKCS#8"},
		{"public key as the signing key", map[string]string{config.EnvAlgorithm: "RS256",
			config.EnvPrivateKeyFile: pemFile(t, dir, "pub.pem", pkixBlock(t, &k.rsa.PublicKey))}, config.EnvPrivateKeyFile, filepath.Join(dir, "pub.pem"), "not a private key"},
		{"two keys in one file", map[string]string{config.EnvAlgorithm: "ES256",
			config.EnvPrivateKeyFile: pemFile(t, dir, "two.pem", pkcs8Block(t, k.ec), pkcs8Block(t, k.ecOther))}, config.EnvPrivateKeyFile, filepath.Join(dir, "two.pem"), "one key in a file"},
		{"EC key for RS256", map[string]string{config.EnvAlgorithm: "RS256", config.EnvPrivateKeyFile: ecPEM}, config.EnvPrivateKeyFile, ecPEM, "does not fit RS256"},
		{"RSA key for EdDSA", map[string]string{config.EnvAlgorithm: "EdDSA", config.EnvPrivateKeyFile: rsaPEM}, config.EnvPrivateKeyFile, rsaPEM, "does not fit EdDSA"},
		{"P-384 key for ES256", map[string]string{config.EnvAlgorithm: "ES256",
			config.EnvPrivateKeyFile: pemFile(t, dir, "p384.pem", pkcs8Block(t, p384))}, config.EnvPrivateKeyFile, filepath.Join(dir, "p384.pem"), "curve does not fit ES256"},
		{"RSA-1024", map[string]string{config.EnvAlgorithm: "RS256",
			config.EnvPrivateKeyFile: pemFile(t, dir, "small.pem", pkcs8Block(t, small))}, config.EnvPrivateKeyFile, filepath.Join(dir, "small.pem"), "at least 2048"},
		{"verify key missing", map[string]string{config.EnvAlgorithm: "ES256", config.EnvPrivateKeyFile: ecPEM,
			config.EnvVerifyKeyFiles: "old=" + filepath.Join(dir, "gone.pem")}, config.EnvVerifyKeyFiles, "old=" + filepath.Join(dir, "gone.pem"), "no such file"},
		{"RSA verify key without an algorithm next to ES256", map[string]string{config.EnvAlgorithm: "ES256", config.EnvPrivateKeyFile: ecPEM,
			config.EnvVerifyKeyFiles: "old=" + rsaPEM}, config.EnvVerifyKeyFiles, "old=" + rsaPEM, "kid=RS256:path"},
		{"verify key of the wrong type for its algorithm", map[string]string{config.EnvAlgorithm: "ES256", config.EnvPrivateKeyFile: ecPEM,
			config.EnvVerifyKeyFiles: "old=EdDSA:" + rsaPEM}, config.EnvVerifyKeyFiles, "old=EdDSA:" + rsaPEM, "does not fit EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := envSettings(t, tt.vars)
			if err != nil {
				t.Fatalf("FromLookup: %v (the file is read later, by KeySetFromSettings)", err)
			}
			_, err = middleware.KeySetFromSettings(s)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("KeySetFromSettings error = %v, want a *config.Error", err)
			}
			if ce.Var != tt.wantVar || ce.Value != tt.value {
				t.Errorf("error names %s=%q, want %s=%q", ce.Var, ce.Value, tt.wantVar, tt.value)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to mention %q", err, tt.want)
			}
			// No key material: neither PEM armour nor base64 of a key.
			der, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
			if msg := err.Error(); strings.Contains(msg, "BEGIN") || strings.Contains(msg, base64.StdEncoding.EncodeToString(der)[:40]) {
				t.Errorf("error shows key material: %q", msg)
			}
			// Building the middleware reports the same problem.
			if _, err := (middleware.Config{Settings: s, Store: memory.New(nil)}).ToMiddleware(); !errors.As(err, &ce) {
				t.Errorf("ToMiddleware error = %v, want a *config.Error", err)
			}
		})
	}
}

// TestRotationFromEnvironment is a key rotation done with the environment
// alone: the new key signs (TOKEN_PRIVATE_KEY_FILE, TOKEN_KEY_ID) and the
// old one only verifies (TOKEN_VERIFY_KEY_FILES). A token of the old key
// keeps working and its renewal moves it to the new key; once the old key
// is removed from the environment, an old token that was never renewed is
// refused.
func TestRotationFromEnvironment(t *testing.T) {
	t.Parallel()
	k := keys(t)
	dir := t.TempDir()
	oldPriv := pemFile(t, dir, "old.pem", pkcs8Block(t, k.ec))
	oldPub := pemFile(t, dir, "old.pub.pem", pkixBlock(t, &k.ec.PublicKey))
	newPriv := pemFile(t, dir, "new.pem", pkcs8Block(t, k.ed))
	// Before: ES256 with kid "2026-01".
	before, err := envSettings(t, map[string]string{config.EnvAlgorithm: "ES256", config.EnvKeyID: "2026-01", config.EnvPrivateKeyFile: oldPriv})
	if err != nil {
		t.Fatal(err)
	}
	oldApp := newHostileApp(t, nil, func(dst *config.Settings, _ *middleware.Config) { *dst = before })
	oldToken, _, err := oldApp.issuer.IssueAt(epoch, "alice", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	unrenewed, _, err := oldApp.issuer.IssueAt(epoch, "bob", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	// During: EdDSA signs with kid "2026-06"; the old public key verifies.
	during, err := envSettings(t, map[string]string{config.EnvAlgorithm: "EdDSA", config.EnvKeyID: "2026-06", config.EnvPrivateKeyFile: newPriv,
		config.EnvVerifyKeyFiles: "2026-01=" + oldPub})
	if err != nil {
		t.Fatal(err)
	}
	a := newHostileApp(t, nil, func(dst *config.Settings, _ *middleware.Config) { *dst = during })
	if rec := a.get(time.Hour, unrenewed); rec.Code != http.StatusOK {
		t.Fatalf("an old-key token during the rotation: status %d, want 200", rec.Code)
	}
	fresh := renew(t, a, oldToken)
	_, parsed, err := verifyToken(fresh, "EdDSA", k.ed.Public(), epoch.Add(dueAt), 0)
	if err != nil {
		t.Fatalf("renewed token does not verify with the new key: %v", err)
	}
	if got, want := parsed.Header["kid"], "2026-06"; got != want {
		t.Errorf("renewed token kid = %v, want %q", got, want)
	}
	// After: the old key is gone.
	after := during
	after.VerifyKeys = nil
	b := newHostileApp(t, nil, func(dst *config.Settings, _ *middleware.Config) { *dst = after })
	if rec := b.get(dueAt+time.Minute, fresh); rec.Code != http.StatusOK {
		t.Errorf("renewed token after the old key was removed: status %d, want 200", rec.Code)
	}
	if rec := b.get(dueAt+time.Minute, unrenewed); rec.Code != http.StatusUnauthorized || rec.Header().Get(middleware.HeaderNewToken) != "" {
		t.Errorf("unrenewed old-key token after the old key was removed: status %d, renewed %v; want 401 and no token",
			rec.Code, rec.Header().Get(middleware.HeaderNewToken) != "")
	}
	if _, _, err := verifyToken(oldToken, "ES256", &k.ec.PublicKey, epoch, 0); err != nil {
		t.Errorf("the old token was not an ES256 token of the old key: %v", err)
	}
}
