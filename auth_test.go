package slidingjwt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// The helpers of this file start with "auth" so they stay apart from the
// package's other tests.

const authSecret = "auth-test-secret-0123456789abcdef-0123"

// authSettings reads vars, plus a valid TOKEN_SECRET, the way a program
// reads its environment.
func authSettings(t *testing.T, vars map[string]string) config.Settings {
	t.Helper()
	return testkit.Settings(t, authSecret, vars)
}

// authOpen opens an Auth and closes it when the test ends.
func authOpen(t *testing.T, s config.Settings, opts *slidingjwt.Options) *slidingjwt.Auth {
	t.Helper()
	a, err := slidingjwt.Open(t.Context(), s, opts)
	if err != nil {
		t.Fatalf("Open(TOKEN_RENEW_STORE=%s): %v", s.Store, err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// authFixedClock returns a clock that always reads at.
func authFixedClock(at time.Time) func() time.Time {
	return func() time.Time { return at }
}

// authNow is a clock near the wall clock, fixed for the test, so that a
// Redis server's expiries, which follow real time, agree with it.
func authNow() func() time.Time {
	return authFixedClock(time.Now().Truncate(time.Second))
}

// authVerified issues a token for sub with a's Issuer at issued and
// verifies it with a's keys at a's clock, as a door would.
func authVerified(t *testing.T, a *slidingjwt.Auth, sub string, issued time.Time) *token.Verified {
	t.Helper()
	raw, _, err := a.Issuer().IssueAt(issued, sub, config.RoleUser, nil)
	if err != nil {
		t.Fatalf("IssueAt: %v", err)
	}
	vf, err := token.NewVerifier(a.Settings(), &token.VerifierOptions{Keys: a.Keys(), Now: a.Clock()})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	v, err := vf.Verify(raw, a.Now())
	if err != nil {
		t.Fatalf("a token of the Auth's Issuer does not verify with its Keys: %v", err)
	}
	return v
}

// authCheck asks a's list about v at now.
func authCheck(a *slidingjwt.Auth, v *token.Verified, now time.Time) revocation.Verdict {
	return a.Revocations().Check(store.SessionRevocationKey(v.Session()), store.SubjectRevocationKey(v.Subject()), v.Claims().AuthTime, now)
}

// TestOpenEachBackend: TOKEN_RENEW_STORE gives its backend, opened with the
// other store variables; sign-out is on for each (they all keep
// revocations) and reaches the list; Close closes what Open opened.
func TestOpenEachBackend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    func(t *testing.T) map[string]string
		want    string // the store's type
		backend string // its Name
		check   func(t *testing.T, st store.Store)
	}{
		{
			name: "memory by default",
			vars: func(*testing.T) map[string]string { return nil },
			want: "*memory.Store", backend: "memory",
		},
		{
			name: "memory",
			vars: func(*testing.T) map[string]string { return map[string]string{config.EnvStore: "memory"} },
			want: "*memory.Store", backend: "memory",
		},
		{
			name: "lru of TOKEN_RENEW_STORE_SIZE entries",
			vars: func(*testing.T) map[string]string {
				return map[string]string{config.EnvStore: "lru", config.EnvStoreSize: "300"}
			},
			want: "*lru.Store", backend: "lru",
			check: func(t *testing.T, st store.Store) {
				if got, want := st.(*lru.Store).Size(), 300; got != want {
					t.Errorf("Size() = %d, want %d", got, want)
				}
			},
		},
		{
			name: "lru of the default size",
			vars: func(*testing.T) map[string]string { return map[string]string{config.EnvStore: "lru"} },
			want: "*lru.Store", backend: "lru",
			check: func(t *testing.T, st store.Store) {
				if got, want := st.(*lru.Store).Size(), lru.DefaultSize; got != want {
					t.Errorf("Size() = %d, want %d", got, want)
				}
			},
		},
		{
			name: "bolt at TOKEN_RENEW_STORE_PATH",
			vars: func(t *testing.T) map[string]string {
				return map[string]string{config.EnvStore: "bolt", config.EnvStorePath: filepath.Join(t.TempDir(), "renewals.db")}
			},
			want: "*bolt.Store", backend: "bolt",
		},
		{
			name: "redis at TOKEN_RENEW_REDIS_URL",
			vars: func(t *testing.T) map[string]string {
				return map[string]string{config.EnvStore: "redis", config.EnvRedisURL: redistest.Start(t).URL()}
			},
			want: "*redis.Store", backend: "redis",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := authSettings(t, tt.vars(t))
			a, err := slidingjwt.Open(t.Context(), s, &slidingjwt.Options{Now: authNow()})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			st := a.Store()
			if got := fmt.Sprintf("%T", st); got != tt.want {
				t.Fatalf("Store() is %s, want %s", got, tt.want)
			}
			if got := st.(store.Named).Name(); got != tt.backend {
				t.Errorf("Store().Name() = %q, want %q", got, tt.backend)
			}
			if got := a.Settings().Store; got != tt.backend {
				t.Errorf("Settings().Store = %q, want %q", got, tt.backend)
			}
			if tt.check != nil {
				tt.check(t, st)
			}
			if ok, err := st.Allow(t.Context(), "session", a.Now(), time.Minute); !ok || err != nil {
				t.Errorf("Store().Allow = %v, %v; want true, nil", ok, err)
			}

			// Sign-out is on, and reaches the list once a door enforces it.
			if a.Revocations() == nil || a.SignOut() == nil {
				t.Fatalf("Revocations() set: %v, SignOut() set: %v; want both set: sign-out is on by default", a.Revocations() != nil, a.SignOut() != nil)
			}
			if !a.Revocations().Ready() {
				t.Errorf("Revocations().Ready() = false after Open with the backend up; want true")
			}
			v := authVerified(t, a, "alice", a.Now())
			if err := a.SignOut().Session(t.Context(), v.Claims()); !errors.Is(err, revocation.ErrNotEnforced) {
				t.Errorf("SignOut().Session before any door enforces the list = %v; want ErrNotEnforced", err)
			}
			a.Revocations().Enforce() // what every door built from the Auth does
			if err := a.SignOut().Session(t.Context(), v.Claims()); err != nil {
				t.Fatalf("SignOut().Session: %v", err)
			}
			if got, want := authCheck(a, v, a.Now()), revocation.Revoked; got != want {
				t.Errorf("the list's verdict on the signed-out token = %v, want %v", got, want)
			}

			// Close closes the list and the store Open opened.
			if err := a.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := st.Allow(context.Background(), "session", a.Now().Add(time.Hour), time.Minute); !errors.Is(err, store.ErrClosed) {
				t.Errorf("Store().Allow after Close: %v; want store.ErrClosed", err)
			}
			if a.Revocations().Ready() {
				t.Error("Revocations().Ready() = true after Close; want false")
			}
			if err := a.Close(); err != nil {
				t.Errorf("second Close = %v, want nil", err)
			}
		})
	}
}

// TestOpenNoSignOut: NoSignOut, or a store that keeps no revocations,
// leaves sign-out off (no list, no SignOut); the store is opened and used
// as without it.
func TestOpenNoSignOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		opts func() *slidingjwt.Options
	}{
		{"NoSignOut, memory", nil, func() *slidingjwt.Options { return &slidingjwt.Options{NoSignOut: true} }},
		{"NoSignOut, lru", map[string]string{config.EnvStore: "lru"}, func() *slidingjwt.Options {
			return &slidingjwt.Options{NoSignOut: true}
		}},
		{"a given store that keeps no revocations", nil, func() *slidingjwt.Options {
			return &slidingjwt.Options{Store: renewalsOnly{memory.New(nil)}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts()
			if opts.Store != nil {
				t.Cleanup(func() { _ = opts.Store.Close() })
			}
			a := authOpen(t, authSettings(t, tt.vars), opts)
			if a.Revocations() != nil || a.SignOut() != nil {
				t.Errorf("Revocations() set: %v, SignOut() set: %v; want both nil: sign-out is off", a.Revocations() != nil, a.SignOut() != nil)
			}
			if ok, err := a.Store().Allow(t.Context(), "session", a.Now(), time.Minute); !ok || err != nil {
				t.Errorf("Store().Allow = %v, %v; want true, nil", ok, err)
			}
		})
	}
}

// renewalsOnly is a store.Store that is not a store.Revoker (nor
// store.Named): only the Store methods of the store it holds.
type renewalsOnly struct{ store.Store }

// TestOpenGivenStore: Options.Store is used as it is, sign-out is on over
// it, and Close closes the list but leaves the store open for its owner.
func TestOpenGivenStore(t *testing.T) {
	t.Parallel()
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	a, err := slidingjwt.Open(t.Context(), authSettings(t, nil), &slidingjwt.Options{Store: st})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got := a.Store(); got != st {
		t.Errorf("Store() = %p, want Options.Store %p", got, st)
	}
	if a.Revocations() == nil || a.SignOut() == nil {
		t.Fatalf("Revocations() set: %v, SignOut() set: %v; want both set over a store that keeps revocations", a.Revocations() != nil, a.SignOut() != nil)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if a.Revocations().Ready() {
		t.Error("Revocations().Ready() = true after Close; want false: the list is the Auth's")
	}
	now := time.Now()
	if ok, err := st.Allow(t.Context(), "session", now, time.Minute); !ok || err != nil {
		t.Errorf("Options.Store.Allow after Close = %v, %v; want true, nil: the store is its owner's", ok, err)
	}
	if _, err := st.Revocations(t.Context(), now); err != nil {
		t.Errorf("Options.Store.Revocations after Close: %v; want the store open", err)
	}
}

// TestOpenGivenStoreOfAnotherBackend: a given store that says it is another
// backend than TOKEN_RENEW_STORE names is refused, unless the variable
// names the default, memory; a store without a name is taken.
func TestOpenGivenStoreOfAnotherBackend(t *testing.T) {
	t.Parallel()
	newLRU := func(t *testing.T) store.Store {
		st, err := lru.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	tests := []struct {
		name     string
		vars     map[string]string
		store    func(t *testing.T) store.Store
		wantText []string // nil: Open succeeds
	}{
		{
			name:     "redis asked, memory given",
			vars:     map[string]string{config.EnvStore: "redis", config.EnvRedisURL: "redis://localhost:6379/0"},
			store:    func(*testing.T) store.Store { return memory.New(nil) },
			wantText: []string{`TOKEN_RENEW_STORE="redis"`, `Options.Store is a "memory" store`, "TOKEN_RENEW_STORE=memory"},
		},
		{
			name:     "lru asked, memory given",
			vars:     map[string]string{config.EnvStore: "lru"},
			store:    func(*testing.T) store.Store { return memory.New(nil) },
			wantText: []string{`TOKEN_RENEW_STORE="lru"`, `"memory"`},
		},
		{
			name:  "lru asked, lru given",
			vars:  map[string]string{config.EnvStore: "lru"},
			store: newLRU,
		},
		{
			name:  "the default, memory, with lru given",
			store: newLRU,
		},
		{
			name:  "redis asked, a store without a name given",
			vars:  map[string]string{config.EnvStore: "redis", config.EnvRedisURL: "redis://localhost:6379/0"},
			store: func(*testing.T) store.Store { return renewalsOnly{memory.New(nil)} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := tt.store(t)
			t.Cleanup(func() { _ = st.Close() })
			a, err := slidingjwt.Open(t.Context(), authSettings(t, tt.vars), &slidingjwt.Options{Store: st})
			if tt.wantText == nil {
				if err != nil {
					t.Fatalf("Open: %v; want an Auth", err)
				}
				_ = a.Close()
				return
			}
			if err == nil {
				_ = a.Close()
				t.Fatalf("Open = an Auth over a %T; want an error", st)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestOpenErrors: a bad setting or option fails Open with an error that
// names it; a bad setting is a *config.Error about its variable.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	const password = "s3cret-pass"
	tests := []struct {
		name      string
		settings  func(t *testing.T) config.Settings
		opts      *slidingjwt.Options
		wantVar   string   // the *config.Error's variable; "" for none
		wantText  []string // what the message says
		forbidden string   // what it must not show
		wantIs    error
	}{
		{
			name:     "empty settings",
			settings: func(*testing.T) config.Settings { return config.Settings{} },
			wantText: []string{"settings are empty", "config.Default()", "config.FromEnv()"},
		},
		{
			name:     "no secret",
			settings: func(*testing.T) config.Settings { return config.Default() },
			wantVar:  config.EnvSecret,
			wantText: []string{"TOKEN_SECRET"},
		},
		{
			name: "interval too long for the lifetime",
			settings: func(t *testing.T) config.Settings {
				s := authSettings(t, nil)
				s.MinRenewInterval = 30 * time.Hour
				return s
			},
			wantVar:  config.EnvMinRenewInterval,
			wantText: []string{"TOKEN_RENEW_MIN_INTERVAL_SECONDS", `"108000"`},
		},
		{
			name: "no such backend",
			settings: func(t *testing.T) config.Settings {
				s := authSettings(t, nil)
				s.Store = "etcd"
				return s
			},
			wantVar:  config.EnvStore,
			wantText: []string{`TOKEN_RENEW_STORE="etcd"`, "memory, lru, bolt, redis"},
		},
		{
			name: "bolt without a path",
			settings: func(t *testing.T) config.Settings {
				s := authSettings(t, nil)
				s.Store = config.StoreBolt
				return s
			},
			wantVar:  config.EnvStorePath,
			wantText: []string{"TOKEN_RENEW_STORE_PATH"},
		},
		{
			name: "bolt file in a missing directory",
			settings: func(t *testing.T) config.Settings {
				return authSettings(t, map[string]string{
					config.EnvStore: "bolt", config.EnvStorePath: filepath.Join(t.TempDir(), "missing", "renewals.db"),
				})
			},
			wantText: []string{"TOKEN_RENEW_STORE=bolt", "TOKEN_RENEW_STORE_PATH=", filepath.Join("missing", "renewals.db")},
		},
		{
			name: "bolt file that is not a store",
			settings: func(t *testing.T) config.Settings {
				path := filepath.Join(t.TempDir(), "notes.txt")
				if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 1000)), 0o600); err != nil {
					t.Fatal(err)
				}
				return authSettings(t, map[string]string{config.EnvStore: "bolt", config.EnvStorePath: path})
			},
			wantText: []string{"TOKEN_RENEW_STORE_PATH=", "notes.txt"},
			wantIs:   bolt.ErrCorrupt,
		},
		{
			name: "negative lru size",
			settings: func(t *testing.T) config.Settings {
				s := authSettings(t, map[string]string{config.EnvStore: "lru"})
				s.StoreSize = -5
				return s
			},
			wantVar:  config.EnvStoreSize,
			wantText: []string{"TOKEN_RENEW_STORE_SIZE", `"-5"`},
		},
		{
			name: "redis URL of another scheme, with a password",
			settings: func(t *testing.T) config.Settings {
				return authSettings(t, map[string]string{
					config.EnvStore: "redis", config.EnvRedisURL: "http://app:" + password + "@localhost:6379/0",
				})
			},
			wantText:  []string{"TOKEN_RENEW_STORE=redis", "TOKEN_RENEW_REDIS_URL", "scheme"},
			forbidden: password,
		},
		{
			name:     "Options.Revocations.Backend set",
			settings: func(t *testing.T) config.Settings { return authSettings(t, nil) },
			opts:     &slidingjwt.Options{Revocations: revocation.Options{Backend: memory.New(nil)}},
			wantText: []string{"Options.Revocations.Backend", "Options.Store"},
		},
		{
			name:     "Options.Revocations.Now set",
			settings: func(t *testing.T) config.Settings { return authSettings(t, nil) },
			opts:     &slidingjwt.Options{Revocations: revocation.Options{Now: time.Now}},
			wantText: []string{"Options.Revocations.Now", "Options.Now"},
		},
		{
			name:     "negative catch-up period",
			settings: func(t *testing.T) config.Settings { return authSettings(t, nil) },
			opts:     &slidingjwt.Options{Revocations: revocation.Options{CatchUp: -time.Second}},
			wantText: []string{"Options.Revocations", "Options.CatchUp", "-1s"},
		},
		{
			name:     "an empty shared subject",
			settings: func(t *testing.T) config.Settings { return authSettings(t, nil) },
			opts:     &slidingjwt.Options{SharedSubjects: []string{"guest", ""}},
			wantText: []string{"Options.SharedSubjects", `lists ""`},
		},
		{
			name:     "an empty key set",
			settings: func(t *testing.T) config.Settings { return authSettings(t, nil) },
			opts:     &slidingjwt.Options{Keys: &token.KeySet{}},
			wantText: []string{"KeySet is empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.settings(t)
			a, err := slidingjwt.Open(t.Context(), s, tt.opts)
			if err == nil {
				_ = a.Close()
				t.Fatalf("Open = an Auth; want an error")
			}
			if a != nil {
				t.Errorf("Open returned an Auth with its error; want nil")
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
			if tt.forbidden != "" && strings.Contains(err.Error(), tt.forbidden) {
				t.Errorf("error %q shows %q", err, tt.forbidden)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

// TestOpenFailureClosesStore: when a step after opening the store fails,
// Open closes the store again: the bbolt file's lock is free at once.
func TestOpenFailureClosesStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "renewals.db")
	s := authSettings(t, map[string]string{config.EnvStore: "bolt", config.EnvStorePath: path})
	tests := []struct {
		name string
		opts *slidingjwt.Options
	}{
		{"bad revocation options", &slidingjwt.Options{Revocations: revocation.Options{MaxRevocations: -1}}},
		{"bad shared subjects", &slidingjwt.Options{SharedSubjects: []string{""}}},
	}
	for _, tt := range tests { // not parallel: they open the same file
		t.Run(tt.name, func(t *testing.T) {
			if a, err := slidingjwt.Open(t.Context(), s, tt.opts); err == nil {
				_ = a.Close()
				t.Fatal("Open = an Auth; want an error")
			}
			// A negative timeout tries the lock once.
			st, err := bolt.Open(path, &bolt.Options{Timeout: -1})
			if err != nil {
				t.Fatalf("bolt.Open after the failed Open: %v; want the file free", err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenClock: Options.Now is the clock of the Auth, of its list and of
// its SignOut: with a clock years away from the wall clock, a sign-out is
// live at the clock's time, and the list ages by it.
func TestOpenClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	a := authOpen(t, authSettings(t, nil), &slidingjwt.Options{Now: authFixedClock(at)})
	if got := a.Now(); !got.Equal(at) {
		t.Errorf("Now() = %v, want %v", got, at)
	}
	if got := a.Clock()(); !got.Equal(at) {
		t.Errorf("Clock()() = %v, want %v", got, at)
	}
	if got, want := a.Revocations().Staleness(at.Add(5*time.Second)), 5*time.Second; got != want {
		t.Errorf("Revocations().Staleness(clock + 5s) = %v, want %v: the list's last load is by the Auth's clock", got, want)
	}
	// A session begun a minute before the clock's time, signed out
	// everywhere: the cut-off is the SignOut's now, so only the Auth's
	// clock puts the session before it.
	v := authVerified(t, a, "alice", at.Add(-time.Minute))
	a.Revocations().Enforce()
	if err := a.SignOut().Everywhere(t.Context(), v.Claims()); err != nil {
		t.Fatalf("SignOut().Everywhere: %v", err)
	}
	if got, want := authCheck(a, v, at), revocation.Revoked; got != want {
		t.Errorf("verdict on a session begun before the sign-out, by the Auth's clock = %v, want %v", got, want)
	}
}

// TestOpenWithBackendDown: with the backend unreachable, Open returns at
// once with the list not ready (the doors answer 503), and the list loads
// in the background when the backend comes back.
func TestOpenWithBackendDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.Stop()
	var failures atomic.Int64
	s := authSettings(t, map[string]string{config.EnvStore: "redis", config.EnvRedisURL: srv.URL()})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	a, err := slidingjwt.Open(ctx, s, &slidingjwt.Options{Revocations: revocation.Options{
		CatchUp: 20 * time.Millisecond,
		OnError: func(error) { failures.Add(1) },
	}})
	if err != nil {
		t.Fatalf("Open with Redis down: %v; want an Auth whose list loads later", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if ctx.Err() != nil {
		t.Fatalf("Open returned after its context ended (%v); want it to return while the backend refuses", ctx.Err())
	}
	if a.Revocations() == nil || a.SignOut() == nil {
		t.Fatal("sign-out is off with the backend down; want it on, the list not ready")
	}
	if a.Revocations().Ready() {
		t.Fatal("Revocations().Ready() = true with Redis down; want false")
	}
	if got := failures.Load(); got == 0 {
		t.Error("Options.Revocations.OnError was not told of the failed load")
	}
	srv.Restart()
	if err := a.Revocations().WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady after Redis came back: %v", err)
	}
}
