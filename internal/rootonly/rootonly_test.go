package rootonly_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/store"
)

const secret = "rootonly-test-secret-0123456789abcdef-0"

// settings reads vars, plus a valid TOKEN_SECRET, as a program reads its
// environment.
func settings(t *testing.T, vars map[string]string) config.Settings {
	t.Helper()
	return testkit.Settings(t, secret, vars)
}

// TestLinkedBackends: this test binary, like a program that imports only
// the root package, has memory and lru registered and nothing else. The
// other tests rely on it.
func TestLinkedBackends(t *testing.T) {
	t.Parallel()
	if got, want := store.Backends(), []string{"lru", "memory"}; !slices.Equal(got, want) {
		t.Fatalf("store.Backends() = %q, want %q: a file of this package imports a backend", got, want)
	}
}

// TestOpenWithoutBackend: TOKEN_RENEW_STORE naming a backend the program
// does not import fails Open with an error that names the variable, its
// value and the import to add, and never shows a Redis password; the
// backends the root package links open.
func TestOpenWithoutBackend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string // "" when Open succeeds
	}{
		{
			name: "redis",
			vars: map[string]string{config.EnvStore: "redis", config.EnvRedisURL: "redis://app:s3cret-pass@localhost:6379/0"},
			wantErr: `slidingjwt: TOKEN_RENEW_STORE="redis", but this program does not link the redis backend (it links lru, memory): ` +
				`add import _ "github.com/slidingjwt/slidingjwt/store/redis" to the program`,
		},
		{
			name: "bolt",
			vars: map[string]string{config.EnvStore: "bolt", config.EnvStorePath: "renewals.db"},
			wantErr: `slidingjwt: TOKEN_RENEW_STORE="bolt", but this program does not link the bolt backend (it links lru, memory): ` +
				`add import _ "github.com/slidingjwt/slidingjwt/store/bolt" to the program`,
		},
		{name: "memory", vars: map[string]string{config.EnvStore: "memory"}},
		{name: "lru", vars: map[string]string{config.EnvStore: "lru"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := slidingjwt.Open(t.Context(), settings(t, tt.vars), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if got := a.Store().(store.Named).Name(); got != tt.name {
					t.Errorf("Store().Name() = %q, want %q", got, tt.name)
				}
				if err := a.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err == nil {
				_ = a.Close()
				t.Fatalf("Open = an Auth over a %T; want an error", a.Store())
			}
			if got := err.Error(); got != tt.wantErr {
				t.Errorf("Open error:\ngot  %s\nwant %s", got, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret-pass") {
				t.Errorf("error %q shows the Redis password", err)
			}
		})
	}
}
