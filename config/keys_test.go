package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
)

func TestKeyVariablesParse(t *testing.T) {
	t.Parallel()
	got, err := config.FromLookup(env(map[string]string{
		config.EnvAlgorithm:      "ES256",
		config.EnvPrivateKeyFile: "/etc/slidingjwt/2026-06.pem",
		config.EnvKeyID:          "2026-06",
		config.EnvVerifyKeyFiles: " 2026-01=/etc/slidingjwt/2026-01.pub.pem , legacy=RS256:/etc/slidingjwt/legacy.pem,, win=C:\\keys\\old.pem",
	}))
	if err != nil {
		t.Fatalf("FromLookup: %v", err)
	}
	want := []config.KeyFile{
		{ID: "2026-01", Path: "/etc/slidingjwt/2026-01.pub.pem"},
		{ID: "legacy", Algorithm: "RS256", Path: "/etc/slidingjwt/legacy.pem"},
		{ID: "win", Path: "C:\\keys\\old.pem"},
	}
	if len(got.VerifyKeys) != len(want) {
		t.Fatalf("VerifyKeys = %+v, want %+v", got.VerifyKeys, want)
	}
	for i := range want {
		if got.VerifyKeys[i] != want[i] {
			t.Errorf("VerifyKeys[%d] = %+v, want %+v", i, got.VerifyKeys[i], want[i])
		}
	}
	if got.PrivateKeyFile != "/etc/slidingjwt/2026-06.pem" || got.KeyID != "2026-06" {
		t.Errorf("PrivateKeyFile, KeyID = %q, %q", got.PrivateKeyFile, got.KeyID)
	}
	if s := got.VerifyKeys[1].String(); s != "legacy=RS256:/etc/slidingjwt/legacy.pem" {
		t.Errorf("KeyFile.String() = %q", s)
	}
}

// TestKeyVariablesRejected: each bad key setting is an error naming its
// variable, and none shows the secret.
func TestKeyVariablesRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vars     map[string]string
		wantVar  string
		wantText string
	}{
		{"key file with HS256", map[string]string{config.EnvSecret: secret, config.EnvPrivateKeyFile: "/k.pem"},
			config.EnvPrivateKeyFile, "empty for HS256"},
		{"secret with RS256", map[string]string{config.EnvSecret: secret, config.EnvAlgorithm: "RS256", config.EnvPrivateKeyFile: "/k.pem"},
			config.EnvSecret, "empty for RS256"},
		{"verify keys with HS512", map[string]string{config.EnvSecret: secret, config.EnvAlgorithm: "HS512", config.EnvVerifyKeyFiles: "old=/old.pem"},
			config.EnvVerifyKeyFiles, "empty for HS512"},
		{"kid with a space", map[string]string{config.EnvSecret: secret, config.EnvKeyID: "key one"}, config.EnvKeyID, "printable ASCII"},
		{"kid with a line break", map[string]string{config.EnvSecret: secret, config.EnvKeyID: "k\n1"}, config.EnvKeyID, "printable ASCII"},
		{"kid too long", map[string]string{config.EnvSecret: secret, config.EnvKeyID: strings.Repeat("k", 129)}, config.EnvKeyID, "1 to 128"},
		{"entry without =", map[string]string{config.EnvAlgorithm: "ES256", config.EnvVerifyKeyFiles: "/old.pem"},
			config.EnvVerifyKeyFiles, "kid=path"},
		{"entry without kid", map[string]string{config.EnvAlgorithm: "ES256", config.EnvVerifyKeyFiles: "=/old.pem"},
			config.EnvVerifyKeyFiles, "a key ID of"},
		{"entry without path", map[string]string{config.EnvAlgorithm: "ES256", config.EnvVerifyKeyFiles: "old="},
			config.EnvVerifyKeyFiles, "with a file path"},
		{"entry with an HMAC algorithm", map[string]string{config.EnvAlgorithm: "ES256", config.EnvVerifyKeyFiles: "old=HS256:/old.pem"},
			config.EnvVerifyKeyFiles, "one of RS256"},
		{"kid used twice", map[string]string{config.EnvAlgorithm: "ES256", config.EnvVerifyKeyFiles: "old=/a.pem,old=/b.pem"},
			config.EnvVerifyKeyFiles, `"old" is taken`},
		{"verify kid equal to the signing kid", map[string]string{config.EnvAlgorithm: "ES256", config.EnvKeyID: "k1",
			config.EnvPrivateKeyFile: "/k.pem", config.EnvVerifyKeyFiles: "k1=/old.pem"}, config.EnvVerifyKeyFiles, `"k1" is taken`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.FromLookup(env(tt.vars))
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != tt.wantVar {
				t.Fatalf("error = %v; want a *config.Error for %s", err, tt.wantVar)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error = %q; want it to mention %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

// TestAsymmetricAlgorithmsValidate: without a secret, every non-HMAC
// algorithm passes Validate; the key file is read and checked later, by
// middleware.KeySetFromSettings, unless the program supplies its own keys.
func TestAsymmetricAlgorithmsValidate(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		s := config.Default()
		s.Algorithm = alg
		s.PrivateKeyFile = "/etc/slidingjwt/key.pem"
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate = %v, want nil", alg, err)
		}
	}
}
