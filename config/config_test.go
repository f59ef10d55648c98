package config_test

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
)

const secret = "0123456789abcdef0123456789abcdef"

// withSecret reads the settings from vars plus a valid TOKEN_SECRET, which
// vars may override.
func withSecret(vars map[string]string) (config.Settings, error) {
	all := map[string]string{config.EnvSecret: secret}
	maps.Copy(all, vars)
	return config.FromLookup(env(all))
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := config.FromLookup(env(map[string]string{config.EnvSecret: secret}))
	if err != nil {
		t.Fatalf("FromLookup: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Algorithm", got.Algorithm, "HS256"},
		{"UserLifetime", got.UserLifetime, 48 * time.Hour},
		{"GuestLifetime", got.GuestLifetime, 24 * time.Hour},
		{"AutoRenew", got.AutoRenew, true},
		{"RenewThreshold", got.RenewThreshold, 0.5},
		{"MinRenewInterval", got.MinRenewInterval, time.Minute},
		{"MaxSessionAge", got.MaxSessionAge, time.Duration(0)},
		{"Store", got.Store, "memory"},
		{"Secret", got.Secret, secret},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestFromLookupParses(t *testing.T) {
	t.Parallel()
	got, err := config.FromLookup(env(map[string]string{
		config.EnvSecret:           secret,
		config.EnvAlgorithm:        "HS512",
		config.EnvUserLifetime:     "0.5",
		config.EnvGuestLifetime:    "0.0333",
		config.EnvAutoRenew:        "ON",
		config.EnvRenewThreshold:   "0.25",
		config.EnvMinRenewInterval: "2.5",
		config.EnvRenewSkipPaths:   " /health, /api/status ,,",
		config.EnvMaxSessionAge:    "720",
		config.EnvLeeway:           "30",
		config.EnvIssuer:           "https://auth.example",
		config.EnvAudience:         "api",
		config.EnvStore:            "LRU",
		config.EnvStoreSize:        "5000",
	}))
	if err != nil {
		t.Fatalf("FromLookup: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Algorithm", got.Algorithm, "HS512"},
		{"UserLifetime", got.UserLifetime, 30 * time.Minute},
		{"GuestLifetime", got.GuestLifetime, 119880 * time.Millisecond},
		{"AutoRenew", got.AutoRenew, true},
		{"RenewThreshold", got.RenewThreshold, 0.25},
		{"MinRenewInterval", got.MinRenewInterval, 2500 * time.Millisecond},
		{"RenewSkipPaths", strings.Join(got.RenewSkipPaths, "|"), "/health|/api/status"},
		{"MaxSessionAge", got.MaxSessionAge, 720 * time.Hour},
		{"Leeway", got.Leeway, 30 * time.Second},
		{"Issuer", got.Issuer, "https://auth.example"},
		{"Audience", got.Audience, "api"},
		{"Store", got.Store, "lru"},
		{"StoreSize", got.StoreSize, 5000},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"true", true, false}, {"TRUE", true, false}, {"1", true, false}, {"yes", true, false},
		{"t", true, false}, {"On", true, false},
		{"false", false, false}, {"0", false, false}, {"no", false, false}, {"f", false, false},
		{"OFF", false, false},
		{"enabled", false, true}, {"2", false, true}, {"y", false, true}, {"", false, true},
	}
	for _, tt := range tests {
		got, err := config.ParseBool(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestBadValues checks that each bad value is rejected with an error that
// names its variable, shows the value (never a secret) and says what is
// allowed.
func TestBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		vars     map[string]string
		wantVar  string
		wantText string
	}{
		{"threshold not a number", map[string]string{config.EnvRenewThreshold: "half"}, config.EnvRenewThreshold, `"half"`},
		{"threshold zero", map[string]string{config.EnvRenewThreshold: "0"}, config.EnvRenewThreshold, "greater than 0 and at most 1"},
		{"threshold above one", map[string]string{config.EnvRenewThreshold: "1.5"}, config.EnvRenewThreshold, "at most 1"},
		{"threshold NaN", map[string]string{config.EnvRenewThreshold: "NaN"}, config.EnvRenewThreshold, "at most 1"},
		{"threshold negative", map[string]string{config.EnvRenewThreshold: "-0.5"}, config.EnvRenewThreshold, "-0.5"},
		{"auto renew garbage", map[string]string{config.EnvAutoRenew: "enabled"}, config.EnvAutoRenew, "true, 1, yes"},
		{"lifetime zero", map[string]string{config.EnvUserLifetime: "0"}, config.EnvUserLifetime, "from 2s"},
		{"lifetime negative", map[string]string{config.EnvGuestLifetime: "-1"}, config.EnvGuestLifetime, "from 2s"},
		{"lifetime text", map[string]string{config.EnvUserLifetime: "two days"}, config.EnvUserLifetime, "hours as a number"},
		{"lifetime infinite", map[string]string{config.EnvUserLifetime: "Inf"}, config.EnvUserLifetime, "hours as a number"},
		{"lifetime huge", map[string]string{config.EnvUserLifetime: "1e300"}, config.EnvUserLifetime, "hours as a number"},
		{"lifetime over ten years", map[string]string{config.EnvUserLifetime: "100000"}, config.EnvUserLifetime, "to 87600h"},
		{"interval zero", map[string]string{config.EnvMinRenewInterval: "0"}, config.EnvMinRenewInterval, "greater than 0"},
		{"interval text", map[string]string{config.EnvMinRenewInterval: "1 minute"}, config.EnvMinRenewInterval, "seconds as a number"},
		{"cap negative", map[string]string{config.EnvMaxSessionAge: "-2"}, config.EnvMaxSessionAge, "0 (no cap)"},
		{"leeway too big", map[string]string{config.EnvLeeway: "3600"}, config.EnvLeeway, "from 0 to 300"},
		{"algorithm none", map[string]string{config.EnvAlgorithm: "none"}, config.EnvAlgorithm, "unsigned tokens are never accepted"},
		{"algorithm None", map[string]string{config.EnvAlgorithm: "None"}, config.EnvAlgorithm, "unsigned tokens are never accepted"},
		{"algorithm unknown", map[string]string{config.EnvAlgorithm: "HS1"}, config.EnvAlgorithm, "one of HS256"},
		{"skip path relative", map[string]string{config.EnvRenewSkipPaths: "health"}, config.EnvRenewSkipPaths, "start with /"},
		{"store unknown", map[string]string{config.EnvStore: "etcd"}, config.EnvStore, "one of memory, lru, bolt, redis"},
		{"bolt without path", map[string]string{config.EnvStore: "bolt"}, config.EnvStorePath, "required when TOKEN_RENEW_STORE=bolt"},
		{"redis without url", map[string]string{config.EnvStore: "redis"}, config.EnvRedisURL, "required when TOKEN_RENEW_STORE=redis"},
		{"store size negative", map[string]string{config.EnvStoreSize: "-1"}, config.EnvStoreSize, "0 (the lru default size)"},
		{"store size text", map[string]string{config.EnvStoreSize: "big"}, config.EnvStoreSize, "positive whole number"},
		{"interval too long for guest lifetime", map[string]string{
			config.EnvGuestLifetime: "0.02", config.EnvMinRenewInterval: "60",
		}, config.EnvMinRenewInterval, "GUEST_TOKEN_EXPIRE_HOURS"},
		{"LightRAG's fixed 60 s with a 2 minute lifetime", map[string]string{
			config.EnvUserLifetime: "0.0333", config.EnvGuestLifetime: "0.0333",
		}, config.EnvMinRenewInterval, "could expire between two renewals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(tt.vars)
			if err == nil {
				t.Fatalf("FromLookup(%v) succeeded, want an error about %s", tt.vars, tt.wantVar)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != tt.wantVar {
				t.Fatalf("error = %v; want a *config.Error for %s", err, tt.wantVar)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error = %q; want it to mention %q", err, tt.wantText)
			}
		})
	}
}

func TestSecretRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, alg, want string
	}{
		{"missing", "", "HS256", "required for HS256"},
		{"short", "hunter2", "HS256", "at least 32 bytes"},
		{"pem as hmac", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----", "HS256", "not a PEM key"},
	}
	for _, tt := range tests {
		s := config.Default()
		s.Secret, s.Algorithm = tt.secret, tt.alg
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v; want an error mentioning %q", tt.name, err, tt.want)
			continue
		}
		if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
			t.Errorf("%s: error %q shows the secret", tt.name, err)
		}
	}
}

func TestAllErrorsReported(t *testing.T) {
	t.Parallel()
	_, err := config.FromLookup(env(map[string]string{
		config.EnvSecret:         secret,
		config.EnvRenewThreshold: "2",
		config.EnvUserLifetime:   "-1",
		config.EnvStore:          "etcd",
	}))
	for _, name := range []string{config.EnvRenewThreshold, config.EnvUserLifetime, config.EnvStore} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

// TestParseErrorsDoNotHideOthers: a variable that does not parse is
// reported together with every other bad variable, whether it too does not
// parse or is out of range, each error naming its variable, its value as
// written and what is allowed.
func TestParseErrorsDoNotHideOthers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		want []string // VAR=value of each error, sorted
	}{
		{"threshold not a number, lifetime out of range", map[string]string{
			config.EnvRenewThreshold: "half", config.EnvUserLifetime: "-1",
		}, []string{"TOKEN_EXPIRE_HOURS=-1", "TOKEN_RENEW_THRESHOLD=half"}},
		{"store size not a number, store unknown", map[string]string{
			config.EnvStoreSize: "big", config.EnvStore: "etcd",
		}, []string{"TOKEN_RENEW_STORE=etcd", "TOKEN_RENEW_STORE_SIZE=big"}},
		{"auto renew not a boolean, leeway out of range", map[string]string{
			config.EnvAutoRenew: "maybe", config.EnvLeeway: "3600",
		}, []string{"TOKEN_AUTO_RENEW=maybe", "TOKEN_LEEWAY_SECONDS=3600"}},
		{"key file entry without kid, algorithm none", map[string]string{
			config.EnvVerifyKeyFiles: "old.pem", config.EnvAlgorithm: "none",
		}, []string{"JWT_ALGORITHM=none", "TOKEN_VERIFY_KEY_FILES=old.pem"}},
		{"leeway not a number, bolt without a path", map[string]string{
			config.EnvLeeway: "5 s", config.EnvStore: "bolt",
		}, []string{"TOKEN_LEEWAY_SECONDS=5 s", "TOKEN_RENEW_STORE_PATH="}},
		{"two that do not parse, two out of range", map[string]string{
			config.EnvUserLifetime: "2d", config.EnvMinRenewInterval: "1min",
			config.EnvRenewSkipPaths: "health", config.EnvMaxSessionAge: "-2h",
		}, []string{"TOKEN_EXPIRE_HOURS=2d", "TOKEN_MAX_SESSION_HOURS=-2h", "TOKEN_RENEW_MIN_INTERVAL_SECONDS=1min", "TOKEN_RENEW_SKIP_PATHS=health"}},
		{"one that does not parse is reported once", map[string]string{
			config.EnvRenewThreshold: "half",
		}, []string{"TOKEN_RENEW_THRESHOLD=half"}},
		// The interval is judged against the lifetimes only when every
		// variable is fine alone: here renewal may have been meant off.
		{"combination not judged beside a variable that does not parse", map[string]string{
			config.EnvAutoRenew: "maybe", config.EnvUserLifetime: "0.02", config.EnvMinRenewInterval: "60",
		}, []string{"TOKEN_AUTO_RENEW=maybe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := withSecret(tt.vars)
			var got []string
			for _, ce := range configErrors(err) {
				got = append(got, ce.Var+"="+ce.Value)
				if ce.Allowed == "" {
					t.Errorf("%s=%q: Allowed is empty; want what would be accepted", ce.Var, ce.Value)
				}
				if msg := ce.Error(); !strings.Contains(msg, ce.Var) || !strings.Contains(msg, strconv.Quote(ce.Value)) {
					t.Errorf("error %q does not show %s and %q", msg, ce.Var, ce.Value)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("FromLookup(%q) errors = %q, want %q (error: %v)", tt.vars, got, tt.want, err)
			}
		})
	}
}

func TestAutoRenewOffSkipsWindowCheck(t *testing.T) {
	t.Parallel()
	// With renewal off, the interval cannot cause an expiry: no error.
	_, err := config.FromLookup(env(map[string]string{
		config.EnvSecret: secret, config.EnvAutoRenew: "false",
		config.EnvUserLifetime: "0.01", config.EnvGuestLifetime: "0.01",
	}))
	if err != nil {
		t.Fatalf("FromLookup: %v", err)
	}
}

func TestLifetimeByRole(t *testing.T) {
	t.Parallel()
	s := config.Default()
	tests := []struct {
		role string
		want time.Duration
	}{
		{"guest", 24 * time.Hour}, {"user", 48 * time.Hour}, {"admin", 48 * time.Hour}, {"", 48 * time.Hour},
	}
	for _, tt := range tests {
		if got := s.Lifetime(tt.role); got != tt.want {
			t.Errorf("Lifetime(%q) = %v, want %v", tt.role, got, tt.want)
		}
	}
}

// TestValidateStore: ValidateStore judges the store settings alone, as
// Validate does, and nothing else (a missing secret is not its business).
func TestValidateStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*config.Settings)
		want   []string // VAR=value of each error, sorted
	}{
		{"default memory", func(*config.Settings) {}, nil},
		{"lru with a size", func(s *config.Settings) { s.Store, s.StoreSize = config.StoreLRU, 10 }, nil},
		{"bolt with a path", func(s *config.Settings) { s.Store, s.StorePath = config.StoreBolt, "renewals.db" }, nil},
		{"redis with a URL", func(s *config.Settings) { s.Store, s.RedisURL = config.StoreRedis, "redis://localhost:6379/0" }, nil},
		{"empty store name", func(s *config.Settings) { s.Store = "" }, []string{"TOKEN_RENEW_STORE="}},
		{"unknown store", func(s *config.Settings) { s.Store = "etcd" }, []string{"TOKEN_RENEW_STORE=etcd"}},
		{"bolt without a path", func(s *config.Settings) { s.Store = config.StoreBolt }, []string{"TOKEN_RENEW_STORE_PATH="}},
		{"redis without a URL", func(s *config.Settings) { s.Store = config.StoreRedis }, []string{"TOKEN_RENEW_REDIS_URL="}},
		{"negative size and unknown store", func(s *config.Settings) { s.Store, s.StoreSize = "etcd", -3 },
			[]string{"TOKEN_RENEW_STORE=etcd", "TOKEN_RENEW_STORE_SIZE=-3"}},
		{"other settings are not judged", func(s *config.Settings) { s.Algorithm, s.UserLifetime = "none", 0 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := config.Default() // no secret: Validate would fail
			tt.mutate(&s)
			err := s.ValidateStore()
			var got []string
			for _, ce := range configErrors(err) {
				got = append(got, ce.Var+"="+ce.Value)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || (err == nil) != (len(tt.want) == 0) {
				t.Errorf("ValidateStore() = %v; errors %q, want %q", err, got, tt.want)
			}
		})
	}
}
