package storeconfig_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/store/storeconfig"
)

const secret = "0123456789abcdef0123456789abcdef"

// t0 is the clock of every test: stores take the caller's time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// settings reads vars, plus a valid TOKEN_SECRET, the way a program reads
// its environment.
func settings(t *testing.T, vars map[string]string) config.Settings {
	t.Helper()
	return testkit.Settings(t, secret, vars)
}

// open calls storeconfig.Open and closes the store when the test ends.
func open(t *testing.T, s config.Settings, opts *storeconfig.Options) store.Store {
	t.Helper()
	st, err := storeconfig.Open(s, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", s.Store, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// renewOnce checks that st allows key one renewal per interval.
func renewOnce(t *testing.T, st store.Store, key string) {
	t.Helper()
	ctx := t.Context()
	for _, step := range []struct {
		at   time.Time
		want bool
	}{{t0, true}, {t0.Add(time.Second), false}, {t0.Add(time.Minute), true}} {
		got, err := st.Allow(ctx, key, step.at, time.Minute)
		if err != nil || got != step.want {
			t.Fatalf("Allow(%q) at %v = %v, %v; want %v, nil", key, step.at.Sub(t0), got, err, step.want)
		}
	}
}

// recorded reports whether st holds a renewal of key.
func recorded(t *testing.T, st store.Store, key string) bool {
	t.Helper()
	_, ok, err := st.Last(context.Background(), key)
	if err != nil {
		t.Fatalf("Last(%q): %v", key, err)
	}
	return ok
}

// TestOpen: each TOKEN_RENEW_STORE gives its backend, configured by the
// other variables and the Options, and the store works.
func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup returns the variables and options of the case; it may start
		// a redis-server.
		setup func(t *testing.T) (map[string]string, *storeconfig.Options)
		// check proves the store is the backend the settings name.
		check func(t *testing.T, s config.Settings, st store.Store)
	}{
		{
			name: "memory by default",
			setup: func(*testing.T) (map[string]string, *storeconfig.Options) {
				return nil, nil
			},
			check: func(t *testing.T, _ config.Settings, st store.Store) {
				if _, ok := st.(*memory.Store); !ok {
					t.Errorf("store is %T, want *memory.Store", st)
				}
			},
		},
		{
			name: "lru with TOKEN_RENEW_STORE_SIZE",
			setup: func(*testing.T) (map[string]string, *storeconfig.Options) {
				return map[string]string{config.EnvStore: "lru", config.EnvStoreSize: "300"}, nil
			},
			check: func(t *testing.T, _ config.Settings, st store.Store) {
				l, ok := st.(*lru.Store)
				if !ok {
					t.Fatalf("store is %T, want *lru.Store", st)
				}
				if got, want := l.Size(), 300; got != want {
					t.Errorf("Size() = %d, want %d", got, want)
				}
			},
		},
		{
			name: "lru without a size takes Options.LRU.Size",
			setup: func(*testing.T) (map[string]string, *storeconfig.Options) {
				return map[string]string{config.EnvStore: "lru"}, &storeconfig.Options{LRU: &lru.Options{Size: 500}}
			},
			check: func(t *testing.T, _ config.Settings, st store.Store) {
				if got, want := st.(*lru.Store).Size(), 500; got != want {
					t.Errorf("Size() = %d, want %d", got, want)
				}
			},
		},
		{
			name: "lru size from the variable over Options.LRU.Size",
			setup: func(*testing.T) (map[string]string, *storeconfig.Options) {
				return map[string]string{config.EnvStore: "lru", config.EnvStoreSize: "300"}, &storeconfig.Options{LRU: &lru.Options{Size: 500}}
			},
			check: func(t *testing.T, _ config.Settings, st store.Store) {
				if got, want := st.(*lru.Store).Size(), 300; got != want {
					t.Errorf("Size() = %d, want %d", got, want)
				}
			},
		},
		{
			name: "lru of the default size",
			setup: func(*testing.T) (map[string]string, *storeconfig.Options) {
				return map[string]string{config.EnvStore: "LRU", config.EnvStoreSize: "0"}, nil
			},
			check: func(t *testing.T, _ config.Settings, st store.Store) {
				if got, want := st.(*lru.Store).Size(), lru.DefaultSize; got != want {
					t.Errorf("Size() = %d, want %d", got, want)
				}
			},
		},
		{
			name: "bolt file at TOKEN_RENEW_STORE_PATH",
			setup: func(t *testing.T) (map[string]string, *storeconfig.Options) {
				path := filepath.Join(t.TempDir(), "renewals.db")
				return map[string]string{config.EnvStore: "bolt", config.EnvStorePath: path}, nil
			},
			check: func(t *testing.T, s config.Settings, st store.Store) {
				if _, ok := st.(*bolt.Store); !ok {
					t.Fatalf("store is %T, want *bolt.Store", st)
				}
				// The renewals are in that file: they are there after a
				// restart.
				if err := st.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				again, err := bolt.Open(s.StorePath, nil)
				if err != nil {
					t.Fatalf("bolt.Open(%q): %v", s.StorePath, err)
				}
				defer again.Close()
				if !recorded(t, again, "session") {
					t.Errorf("%s holds no renewal of the session after a restart; want the one recorded", s.StorePath)
				}
			},
		},
		{
			name: "bolt with Options.Bolt",
			setup: func(t *testing.T) (map[string]string, *storeconfig.Options) {
				path := filepath.Join(t.TempDir(), "renewals.db")
				return map[string]string{config.EnvStore: "bolt", config.EnvStorePath: path},
					&storeconfig.Options{Bolt: &bolt.Options{Bucket: "shop"}}
			},
			check: func(t *testing.T, s config.Settings, st store.Store) {
				if err := st.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				for _, tt := range []struct {
					bucket string
					want   bool
				}{{"shop", true}, {"", false}} {
					again, err := bolt.Open(s.StorePath, &bolt.Options{Bucket: tt.bucket})
					if err != nil {
						t.Fatalf("bolt.Open(%q, bucket %q): %v", s.StorePath, tt.bucket, err)
					}
					if got := recorded(t, again, "session"); got != tt.want {
						t.Errorf("bucket %q holds the renewal: got %v, want %v", tt.bucket, got, tt.want)
					}
					if err := again.Close(); err != nil {
						t.Fatalf("Close: %v", err)
					}
				}
			},
		},
		{
			name: "redis at TOKEN_RENEW_REDIS_URL",
			setup: func(t *testing.T) (map[string]string, *storeconfig.Options) {
				srv := redistest.Start(t)
				return map[string]string{config.EnvStore: "redis", config.EnvRedisURL: srv.URL()}, nil
			},
			check: func(t *testing.T, s config.Settings, st store.Store) {
				if _, ok := st.(*redis.Store); !ok {
					t.Fatalf("store is %T, want *redis.Store", st)
				}
				// Another instance on the same server sees the renewal.
				other, err := redis.Open(s.RedisURL, nil)
				if err != nil {
					t.Fatalf("redis.Open: %v", err)
				}
				defer other.Close()
				if !recorded(t, other, "session") {
					t.Error("another store on the server sees no renewal of the session; want the one recorded")
				}
			},
		},
		{
			name: "redis cluster at TOKEN_RENEW_REDIS_URL",
			setup: func(t *testing.T) (map[string]string, *storeconfig.Options) {
				c := redistest.SharedCluster(t)
				return map[string]string{config.EnvStore: "redis", config.EnvRedisURL: c.URL()}, nil
			},
			check: func(t *testing.T, s config.Settings, st store.Store) {
				if _, ok := st.(*redis.Store); !ok {
					t.Fatalf("store is %T, want *redis.Store", st)
				}
				// Another instance, knowing one node only, sees the renewal.
				one, _, _ := strings.Cut(strings.TrimPrefix(s.RedisURL, "redis-cluster://"), ",")
				other, err := redis.Open("redis-cluster://"+one, nil)
				if err != nil {
					t.Fatalf("redis.Open: %v", err)
				}
				defer other.Close()
				if !recorded(t, other, "session") {
					t.Error("another store on the cluster sees no renewal of the session; want the one recorded")
				}
			},
		},
		{
			name: "redis with Options.Redis",
			setup: func(t *testing.T) (map[string]string, *storeconfig.Options) {
				srv := redistest.Start(t)
				return map[string]string{config.EnvStore: "redis", config.EnvRedisURL: srv.URL()},
					&storeconfig.Options{Redis: &redis.Options{KeyPrefix: "shop:"}}
			},
			check: func(t *testing.T, s config.Settings, _ store.Store) {
				for _, tt := range []struct {
					prefix string
					want   bool
				}{{"shop:", true}, {"", false}} {
					other, err := redis.Open(s.RedisURL, &redis.Options{KeyPrefix: tt.prefix})
					if err != nil {
						t.Fatalf("redis.Open: %v", err)
					}
					if got := recorded(t, other, "session"); got != tt.want {
						t.Errorf("a store with key prefix %q sees the renewal: got %v, want %v", tt.prefix, got, tt.want)
					}
					_ = other.Close()
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars, opts := tt.setup(t)
			s := settings(t, vars)
			st := open(t, s, opts)
			renewOnce(t, st, "session")
			tt.check(t, s, st)
		})
	}
}

// TestOpenErrors: a store that cannot be built is an error that names the
// variables involved, and never shows a Redis password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	const password = "s3cret-pass"
	tests := []struct {
		name string
		// setup returns the settings and options of the case.
		setup     func(t *testing.T) (config.Settings, *storeconfig.Options)
		wantVar   string // a *config.Error about this variable, or "" for another error
		wantText  []string
		wantIs    error // when set, errors.Is(err, wantIs)
		forbidden string
	}{
		{
			name:    "unknown store",
			setup:   withStore("etcd", nil),
			wantVar: config.EnvStore, wantText: []string{"TOKEN_RENEW_STORE", `"etcd"`, "one of memory, lru, bolt, redis"},
		},
		{
			name: "zero Settings name no store",
			setup: func(*testing.T) (config.Settings, *storeconfig.Options) {
				return config.Settings{}, nil
			},
			wantVar: config.EnvStore, wantText: []string{"TOKEN_RENEW_STORE"},
		},
		{
			name:    "bolt without a path",
			setup:   withStore(config.StoreBolt, nil),
			wantVar: config.EnvStorePath, wantText: []string{"TOKEN_RENEW_STORE_PATH", "required when TOKEN_RENEW_STORE=bolt"},
		},
		{
			name:    "redis without a URL",
			setup:   withStore(config.StoreRedis, nil),
			wantVar: config.EnvRedisURL, wantText: []string{"TOKEN_RENEW_REDIS_URL", "required when TOKEN_RENEW_STORE=redis"},
		},
		{
			name:    "negative lru size",
			setup:   withStore(config.StoreLRU, func(s *config.Settings) { s.StoreSize = -5 }),
			wantVar: config.EnvStoreSize, wantText: []string{"TOKEN_RENEW_STORE_SIZE", `"-5"`},
		},
		{
			name: "lru options out of range",
			setup: func(*testing.T) (config.Settings, *storeconfig.Options) {
				s := config.Default()
				s.Store = config.StoreLRU
				return s, &storeconfig.Options{LRU: &lru.Options{Shards: -1}}
			},
			wantText: []string{"TOKEN_RENEW_STORE=lru", "TOKEN_RENEW_STORE_SIZE=0", "Options.Shards"},
		},
		{
			name: "bolt file in a missing directory",
			setup: func(t *testing.T) (config.Settings, *storeconfig.Options) {
				return boltAt(filepath.Join(t.TempDir(), "missing", "renewals.db")), nil
			},
			wantText: []string{"TOKEN_RENEW_STORE=bolt", "TOKEN_RENEW_STORE_PATH=", filepath.Join("missing", "renewals.db")},
		},
		{
			name: "bolt file held by another store",
			setup: func(t *testing.T) (config.Settings, *storeconfig.Options) {
				path := filepath.Join(t.TempDir(), "renewals.db")
				holder, err := bolt.Open(path, nil)
				if err != nil {
					t.Fatalf("bolt.Open: %v", err)
				}
				t.Cleanup(func() { _ = holder.Close() })
				// A negative timeout tries the lock once.
				return boltAt(path), &storeconfig.Options{Bolt: &bolt.Options{Timeout: -1}}
			},
			wantText: []string{"TOKEN_RENEW_STORE_PATH=", "renewals.db"},
			wantIs:   bolt.ErrLocked,
		},
		{
			name: "bolt file that is not a store",
			setup: func(t *testing.T) (config.Settings, *storeconfig.Options) {
				path := filepath.Join(t.TempDir(), "notes.txt")
				if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
					t.Fatal(err)
				}
				return boltAt(path), nil
			},
			wantText: []string{"TOKEN_RENEW_STORE_PATH=", "notes.txt"},
			wantIs:   bolt.ErrCorrupt,
		},
		{
			name: "redis URL of another scheme, with a password",
			setup: withStore(config.StoreRedis, func(s *config.Settings) {
				s.RedisURL = "http://app:" + password + "@localhost:6379/0"
			}),
			wantText:  []string{"TOKEN_RENEW_STORE=redis", "TOKEN_RENEW_REDIS_URL", "scheme"},
			forbidden: password,
		},
		{
			name: "redis URL that does not parse, with a password",
			setup: withStore(config.StoreRedis, func(s *config.Settings) {
				s.RedisURL = "redis://app:" + password + "@local host:6379/0"
			}),
			wantText:  []string{"TOKEN_RENEW_REDIS_URL"},
			forbidden: password,
		},
		{
			name: "redis options out of range",
			setup: func(*testing.T) (config.Settings, *storeconfig.Options) {
				s := config.Default()
				s.Store, s.RedisURL = config.StoreRedis, "redis://localhost:6379/0"
				return s, &storeconfig.Options{Redis: &redis.Options{Timeout: -time.Second}}
			},
			wantText: []string{"TOKEN_RENEW_STORE=redis", "Options.Timeout"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, opts := tt.setup(t)
			st, err := storeconfig.Open(s, opts)
			if err == nil {
				_ = st.Close()
				t.Fatalf("Open(%s) = %T, nil; want an error", s.Store, st)
			}
			if st != nil {
				t.Errorf("Open returned a store (%T) with its error; want nil", st)
			}
			var ce *config.Error
			if got := errors.As(err, &ce); got != (tt.wantVar != "") || (got && ce.Var != tt.wantVar) {
				t.Errorf("error %q: *config.Error %v; want one about %q (\"\" for none)", err, got, tt.wantVar)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tt.wantIs)
			}
			if tt.forbidden != "" && strings.Contains(err.Error(), tt.forbidden) {
				t.Errorf("error %q shows the Redis password", err)
			}
		})
	}
}

// withStore returns a setup of the default settings with Store name, then
// changed by mutate when it is not nil, and no options.
func withStore(name string, mutate func(*config.Settings)) func(*testing.T) (config.Settings, *storeconfig.Options) {
	return func(*testing.T) (config.Settings, *storeconfig.Options) {
		s := config.Default()
		s.Store = name
		if mutate != nil {
			mutate(&s)
		}
		return s, nil
	}
}

// boltAt returns the default settings with a bolt store at path.
func boltAt(path string) config.Settings {
	s := config.Default()
	s.Store, s.StorePath = config.StoreBolt, path
	return s
}

// TestEveryBackendRegistered: importing storeconfig registers the four
// backends (each package's init), so store.Open, and slidingjwt.Open, can
// build any value of TOKEN_RENEW_STORE in a program that imports it.
func TestEveryBackendRegistered(t *testing.T) {
	t.Parallel()
	got := store.Backends()
	want := []string{config.StoreBolt, config.StoreLRU, config.StoreMemory, config.StoreRedis}
	if !slices.Equal(got, want) {
		t.Errorf("store.Backends() = %q, want %q", got, want)
	}
}
