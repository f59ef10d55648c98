//lint:file-ignore SA1019 the tests build broken ECDSA keys, which only the deprecated fields X, Y and D can express

package middleware_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// outcome runs f and describes what it did: its result, or the panic it
// raised, so that a table can compare it with what is wanted.
func outcome(f func() any) (got string) {
	defer func() {
		if p := recover(); p != nil {
			got = fmt.Sprintf("panic: %v", p)
		}
	}()
	switch v := f().(type) {
	case error:
		return "error: " + v.Error()
	case nil:
		return "<nil>"
	default:
		return fmt.Sprint(v)
	}
}

// TestZeroKeySet: a KeySet that was never built (&middleware.KeySet{}) is
// an error wherever the public API can reach it, never a panic.
func TestZeroKeySet(t *testing.T) {
	t.Parallel()
	const empty = "error: slidingjwt: KeySet is empty: build it with NewKeySet, HMACKeySet or KeySetFromSettings"
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	secret := []byte("middleware-test-secret-0123456789abcdef")
	tests := []struct {
		name string
		run  func(ks *middleware.KeySet) any
		want string
	}{
		{"ToMiddleware", func(ks *middleware.KeySet) any {
			s := validSettings()
			_, err := middleware.Config{Settings: s, Store: st, Keys: ks}.ToMiddleware()
			return err
		}, empty},
		{"ToMiddleware without the cache", func(ks *middleware.KeySet) any {
			_, err := middleware.Config{Settings: validSettings(), Store: st, Keys: ks, VerifiedCacheSize: -1}.ToMiddleware()
			return err
		}, empty},
		{"NewIssuer", func(ks *middleware.KeySet) any {
			_, err := middleware.NewIssuer(validSettings(), ks)
			return err
		}, empty},
		{"Rotate", func(ks *middleware.KeySet) any {
			return ks.Rotate(middleware.Key{ID: "next", Algorithm: "HS256", Material: secret})
		}, empty},
		{"Retire", func(ks *middleware.KeySet) any { return ks.Retire("old") }, empty},
		{"Retire without an ID", func(ks *middleware.KeySet) any { return ks.Retire("") }, empty},
		{"Version", func(ks *middleware.KeySet) any { return ks.Version() }, "0"},
		{"CurrentID", func(ks *middleware.KeySet) any { return fmt.Sprintf("%q", ks.CurrentID()) }, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks := &middleware.KeySet{}
			if got := outcome(func() any { return tt.run(ks) }); got != tt.want {
				t.Errorf("%s on a zero KeySet: got %s, want %s", tt.name, got, tt.want)
			}
			// A refused call leaves the set as it was: still empty.
			if got := outcome(func() any { return ks.Version() }); got != "0" {
				t.Errorf("after %s, Version() = %s, want 0", tt.name, got)
			}
		})
	}
}

// TestNewKeySetRefusesUnusableMaterial: nil, zero and inconsistent key
// material is an error naming the key and what is wrong, never a panic,
// whether the key is the signing key or one that only verifies; usable
// keys are still accepted.
func TestNewKeySetRefusesUnusableMaterial(t *testing.T) {
	t.Parallel()
	k := keys(t)
	pub := &k.rsa.PublicKey
	even := &rsa.PublicKey{N: new(big.Int).Add(pub.N, big.NewInt(1)), E: pub.E}
	tests := []struct {
		name     string
		alg      string
		material any
		// want is what the error says after the key's name; "" for no
		// error, and "cannot sign" for a usable public key, which only a
		// key other than the current one may be.
		want string
	}{
		{"nil material", "RS256", nil, "has no material"},
		{"nil HMAC secret", "HS256", []byte(nil), "HMAC secret of 0 bytes is too short"},
		{"nil *rsa.PrivateKey", "RS256", (*rsa.PrivateKey)(nil), "material is a nil *rsa.PrivateKey"},
		{"nil *rsa.PublicKey", "PS256", (*rsa.PublicKey)(nil), "material is a nil *rsa.PublicKey"},
		{"zero rsa.PublicKey", "RS256", &rsa.PublicKey{}, "RSA key has no modulus (N is nil)"},
		{"zero rsa.PrivateKey", "RS384", &rsa.PrivateKey{}, "RSA key has no modulus (N is nil)"},
		{"RSA modulus 0", "RS256", &rsa.PublicKey{N: new(big.Int), E: 65537}, "RSA modulus is 0"},
		{"RSA modulus negative", "RS256", &rsa.PublicKey{N: new(big.Int).Neg(pub.N), E: pub.E}, "RSA modulus is negative"},
		{"RSA modulus even", "RS256", even, "RSA modulus of 2048 bits is even"},
		{"RSA exponent 0", "RS512", &rsa.PublicKey{N: pub.N}, "RSA public exponent 0 is not an odd number of at least 3"},
		{"RSA exponent even", "PS384", &rsa.PublicKey{N: pub.N, E: 65536}, "RSA public exponent 65536 is not an odd number of at least 3"},
		{"RSA private key without D", "RS256", &rsa.PrivateKey{PublicKey: *pub}, "RSA private key is not usable"},
		{"RSA private key without primes", "RS256", &rsa.PrivateKey{PublicKey: *pub, D: k.rsa.D}, "RSA private key is not usable"},
		{"nil *ecdsa.PrivateKey", "ES256", (*ecdsa.PrivateKey)(nil), "material is a nil *ecdsa.PrivateKey"},
		{"nil *ecdsa.PublicKey", "ES256", (*ecdsa.PublicKey)(nil), "material is a nil *ecdsa.PublicKey"},
		{"zero ecdsa.PublicKey", "ES256", &ecdsa.PublicKey{}, "curve does not fit ES256 (want P-256)"},
		{"zero ecdsa.PrivateKey", "ES384", &ecdsa.PrivateKey{}, "curve does not fit ES384 (want P-384)"},
		{"ECDSA public key without a point", "ES256", &ecdsa.PublicKey{Curve: elliptic.P256()}, "ECDSA public key has no point (X or Y is nil)"},
		{"ECDSA private key without a point", "ES256", &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: elliptic.P256()}}, "ECDSA public key has no point (X or Y is nil)"},
		{"ECDSA point (0, 0)", "ES256", &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int), Y: new(big.Int)}, "ECDSA public key is not a point of P-256"},
		{"ECDSA private key without D", "ES256", &ecdsa.PrivateKey{PublicKey: k.ec.PublicKey}, "ECDSA private key has no scalar (D is nil)"},
		{"ECDSA private key with D 0", "ES256", &ecdsa.PrivateKey{PublicKey: k.ec.PublicKey, D: new(big.Int)}, "ECDSA private key is not usable"},
		{"ECDSA private key with another public key", "ES256", &ecdsa.PrivateKey{PublicKey: k.ecOther.PublicKey, D: k.ec.D}, "ECDSA private key does not match its public key (X, Y)"},
		{"nil ed25519.PrivateKey", "EdDSA", ed25519.PrivateKey(nil), "Ed25519 private key of 0 bytes: want 64"},
		{"nil ed25519.PublicKey", "EdDSA", ed25519.PublicKey(nil), "Ed25519 public key of 0 bytes: want 32"},
		{"zero ed25519.PrivateKey", "EdDSA", make(ed25519.PrivateKey, ed25519.PrivateKeySize), "Ed25519 private key does not match its public half"},
		{"RSA private key", "RS256", k.rsa, ""},
		{"RSA public key", "PS512", pub, "cannot sign"},
		{"ECDSA private key", "ES256", k.ec, ""},
		{"ECDSA public key", "ES256", &k.ec.PublicKey, "cannot sign"},
		{"Ed25519 private key", "EdDSA", k.ed, ""},
		{"Ed25519 public key", "EdDSA", k.ed.Public(), "cannot sign"},
	}
	signer := middleware.Key{ID: "signer", Algorithm: "HS256", Material: []byte("middleware-test-secret-0123456789abcdef")}
	for _, tt := range tests {
		for _, role := range []string{"current", "other"} {
			t.Run(tt.name+"/"+role, func(t *testing.T) {
				t.Parallel()
				key := middleware.Key{ID: "broken", Algorithm: tt.alg, Material: tt.material}
				build := func() any {
					var err error
					if role == "current" {
						_, err = middleware.NewKeySet(key)
					} else {
						_, err = middleware.NewKeySet(signer, key)
					}
					return err
				}
				got := outcome(build)
				want := fmt.Sprintf("error: slidingjwt: key %q (%s)", key.ID, key.Algorithm)
				switch {
				case tt.want == "cannot sign" && role == "current":
					want = fmt.Sprintf("error: slidingjwt: current key %q (%s) cannot sign: give its private key", key.ID, key.Algorithm)
					if got != want {
						t.Errorf("NewKeySet(%s key) = %s, want %s", role, got, want)
					}
				case tt.want == "" || tt.want == "cannot sign":
					if got != "<nil>" {
						t.Errorf("NewKeySet(%s key) = %s, want no error", role, got)
					}
				case tt.want == "has no material":
					if want += " " + tt.want; got != want {
						t.Errorf("NewKeySet(%s key) = %s, want %s", role, got, want)
					}
				default:
					if want += ": " + tt.want; !strings.HasPrefix(got, want) {
						t.Errorf("NewKeySet(%s key) = %s, want %s...", role, got, want)
					}
				}
			})
		}
	}
}
