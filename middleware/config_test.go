package middleware_test

import (
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

func validSettings() config.Settings {
	s := config.Default()
	s.Secret = "middleware-test-secret-0123456789abcdef"
	return s
}

// TestToMiddlewareErrors: every bad configuration is an error naming the
// problem, never a panic.
func TestToMiddlewareErrors(t *testing.T) {
	t.Parallel()
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	tests := []struct {
		name string
		cfg  func() middleware.Config
		want string
	}{
		{"no settings", func() middleware.Config { return middleware.Config{Store: st} }, "start from config.Default()"},
		{"no secret", func() middleware.Config { return middleware.Config{Settings: config.Default(), Store: st} }, "TOKEN_SECRET"},
		{"alg none", func() middleware.Config {
			s := validSettings()
			s.Algorithm = "none"
			return middleware.Config{Settings: s, Store: st}
		}, "unsigned tokens are never accepted"},
		{"no store", func() middleware.Config { return middleware.Config{Settings: validSettings()} }, "Config.Store is required"},
		{"bad lookup", func() middleware.Config {
			return middleware.Config{Settings: validSettings(), Store: st, TokenLookup: "body:jwt"}
		}, "TokenLookup"},
		{"negative size", func() middleware.Config {
			return middleware.Config{Settings: validSettings(), Store: st, MaxTokenSize: -1}
		}, "MaxTokenSize"},
		{"bad mount prefix", func() middleware.Config {
			return middleware.Config{Settings: validSettings(), Store: st, MountPrefix: "api/"}
		}, "MountPrefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := tt.cfg().ToMiddleware()
			if err == nil || mw != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ToMiddleware = %v, %v; want an error mentioning %q", mw != nil, err, tt.want)
			}
		})
	}
}

func TestWithConfigPanicsOnBadConfig(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("WithConfig did not panic on a config without a secret")
		}
	}()
	middleware.WithConfig(middleware.Config{})
}

func TestRenewalOffNeedsNoStore(t *testing.T) {
	t.Parallel()
	s := validSettings()
	s.AutoRenew = false
	if _, err := (middleware.Config{Settings: s}).ToMiddleware(); err != nil {
		t.Fatalf("ToMiddleware without a store, renewal off: %v", err)
	}
}

func TestIssuerRefusesReservedClaims(t *testing.T) {
	t.Parallel()
	iss, err := middleware.NewIssuer(validSettings(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, claim := range []string{"exp", "sub", "sid", "iat", "auth_time"} {
		if _, err := iss.Issue("alice", "user", map[string]any{claim: 1}); err == nil || !strings.Contains(err.Error(), claim) {
			t.Errorf("Issue with extra %q: error = %v; want one naming it", claim, err)
		}
	}
	if _, err := iss.Issue("", "user", nil); err == nil {
		t.Error("Issue with an empty subject succeeded")
	}
}
