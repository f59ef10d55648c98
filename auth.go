package slidingjwt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"

	// The in-process backends are always there; bolt and redis are linked
	// only by programs that import them.
	_ "github.com/slidingjwt/slidingjwt/store/lru"
	_ "github.com/slidingjwt/slidingjwt/store/memory"
)

// modulePath is this module's path, for the import line an error suggests.
const modulePath = "github.com/slidingjwt/slidingjwt"

// Options tunes Open beyond the settings. A nil *Options, and the zero
// value of each field, give the defaults: the store the settings name, the
// settings' keys, sign-out on, the revocation list's defaults, the guests'
// subject shared, and time.Now.
type Options struct {
	// Store is the renewal store to use instead of opening the one the
	// settings name: a backend built with options of its own (a Redis
	// client, a bbolt file already open) or a store of the application's.
	// The store settings (TOKEN_RENEW_STORE_PATH, TOKEN_RENEW_STORE_SIZE,
	// TOKEN_RENEW_REDIS_URL) are then not used, and the Auth never closes
	// the store: its owner closes it after Auth.Close. Sign-out is on when
	// it is a store.Revoker. When TOKEN_RENEW_STORE names a backend other
	// than the default memory, a Store that reports another name
	// (store.Named) is refused, so that a fleet told to share Redis cannot
	// start with a store of its own on each instance. Optional. Default
	// nil.
	Store store.Store

	// Keys are the keys that sign and verify tokens, for a program that
	// rotates them at run time (token.KeySet.Rotate). Optional. Default
	// the settings' keys (token.KeySetFromSettings).
	Keys *token.KeySet

	// NoSignOut turns sign-out off: no revocation list, no SignOut, and no
	// revocation check in the doors built from the Auth. Optional. Default
	// false: sign-out is on whenever the store keeps revocations
	// (store.Revoker), as every backend of this module does.
	NoSignOut bool

	// Revocations tunes the revocation list: CatchUp, WhenStale,
	// StaleAfter, MaxRevocations and OnError (see revocation.Options).
	// Backend and Now must be left empty: Open sets them to the store and
	// to Options.Now. Optional. Default the list's defaults. Not used when
	// sign-out is off.
	Revocations revocation.Options

	// SharedSubjects are subjects that several users share, which a
	// sign-out everywhere refuses (see revocation.SignOutOptions).
	// Optional. Default revocation.DefaultSharedSubjects ("guest"); an
	// empty, non-nil slice lists none. Not used when sign-out is off.
	SharedSubjects []string

	// Now is the clock of the Auth: the revocation list and the SignOut
	// read it, and a door built from the Auth uses it for every request
	// (see Auth.Clock). Optional. Default time.Now.
	Now func() time.Time
}

// Auth owns what sliding-session authentication needs, once per process:
// the settings, the renewal store the settings name, the revocation list
// and the SignOut over it, the key set and the Issuer. A program opens it
// at start (Open), builds every door's middleware from it
// (middleware.From(auth) for Echo v4), uses Issuer in its login route and
// SignOut in its logout routes, and closes it when the server has stopped.
// Because every door and every sign-out share the one list, a sign-out
// made through the Auth reaches the check that every door runs.
//
// Sign-out is on by default (whenever the store keeps revocations), and it
// changes what a request can get from a door built from the Auth:
//
//   - 503 while the instance has not loaded the revocation list: at start
//     with the backend down, until a background retry loads it;
//   - 401 for a token whose lifetime (exp - iat) is longer than the
//     settings give any token, plus the leeway, as a token minted with
//     other settings may be: it could outlive its revocation;
//   - no renewal while the list is stale: the backend has been unreachable
//     for longer than revocation.Options.StaleAfter (and, with WhenStale:
//     Refuse, 503).
//
// Options.NoSignOut turns it off.
//
// An Auth is safe for concurrent use. Its accessors return the same values
// for its whole life; after Close those values still exist, but the store
// and the list refuse work (store.ErrClosed; the check answers 503).
type Auth struct {
	settings config.Settings
	store    store.Store
	owned    bool // Open opened the store, so Close closes it
	keys     *token.KeySet
	issuer   *token.Issuer
	list     *revocation.List    // nil when sign-out is off
	signOut  *revocation.SignOut // nil when sign-out is off
	delivery *engine.Delivery
	now      func() time.Time

	closeOnce sync.Once
	closeErr  error
}

// Open returns the Auth for the settings s; opts may be nil. It validates s
// first, and every bad setting is a *config.Error that names the variable,
// its value and what is allowed. Then it:
//
//   - builds the key set (Options.Keys, or the settings' keys) and an
//     Issuer over it;
//   - opens the store that s.Store names (TOKEN_RENEW_STORE; config.Default
//     and config.FromEnv give "memory"), with the settings' StorePath,
//     StoreSize and RedisURL, through the store registry (store.Open),
//     unless Options.Store gives one;
//   - when the store keeps revocations (store.Revoker) and
//     Options.NoSignOut is not set, creates the revocation list
//     (revocation.New) and the SignOut over it (revocation.NewSignOut).
//
// The memory and lru backends are always there; bolt and redis only in a
// program that imports them, as database/sql drivers are imported:
//
//	import _ "github.com/slidingjwt/slidingjwt/store/redis"
//
// Without that import, TOKEN_RENEW_STORE=redis makes Open fail with an
// error that names the variable, its value and the import line: it never
// falls back to another store. A backend that cannot be opened gives an
// error that names TOKEN_RENEW_STORE and the variable the backend reads
// (the Redis URL is never shown with its password).
//
// Open loads the revocations before it returns, waiting no longer than ctx
// allows (and the backend's own timeouts: a call to Redis fails after
// redis.DefaultTimeout). When the backend cannot be reached, Open still
// returns the Auth: its list is not ready, the doors answer 503 until a
// background retry, every revocation.Options.CatchUp, loads it, and
// Revocations().WaitReady waits for that. Opening a bbolt file that
// another process holds waits for the lock for bolt's default timeout,
// then fails. ctx is not kept after Open returns.
//
// On an error, whatever Open had opened is closed again. Open is safe to
// call from several goroutines; each call builds a new Auth, which the
// caller closes.
func Open(ctx context.Context, s config.Settings, opts *Options) (*Auth, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if s.Algorithm == "" && s.UserLifetime == 0 && s.RenewThreshold == 0 {
		return nil, errors.New("slidingjwt: Open: the settings are empty: start from config.Default() or config.FromEnv()")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if o.Revocations.Backend != nil {
		return nil, errors.New("slidingjwt: Options.Revocations.Backend is set; Open uses the store as the backend: give it as Options.Store")
	}
	if o.Revocations.Now != nil {
		return nil, errors.New("slidingjwt: Options.Revocations.Now is set; Open uses Options.Now for the list: set that instead")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	issuer, err := token.NewIssuer(s, o.Keys)
	if err != nil {
		return nil, err
	}

	a := &Auth{settings: s, keys: issuer.Keys(), issuer: issuer, now: o.Now}
	if o.Store != nil {
		if err := checkGivenStore(s, o.Store); err != nil {
			return nil, err
		}
		a.store = o.Store
	} else {
		if a.store, err = openStore(s); err != nil {
			return nil, err
		}
		a.owned = true
	}

	if rev, ok := a.store.(store.Revoker); ok && !o.NoSignOut {
		ro := o.Revocations
		ro.Backend, ro.Now = rev, o.Now
		if a.list, err = revocation.New(ctx, ro); err != nil {
			return nil, errors.Join(fmt.Errorf("slidingjwt: Options.Revocations: %w", err), a.Close())
		}
		a.signOut, err = revocation.NewSignOut(a.list, s, &revocation.SignOutOptions{
			Now:            o.Now,
			SharedSubjects: o.SharedSubjects,
		})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("slidingjwt: Options.SharedSubjects: %w", err), a.Close())
		}
	}
	if a.delivery, err = engine.NewDelivery(s, a.keys, o.Now, a.list); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	return a, nil
}

// openStore opens the backend s.Store names through the registry, with an
// error that names the variables when it is not linked or cannot be
// opened.
func openStore(s config.Settings) (store.Store, error) {
	if linked := store.Backends(); !slices.Contains(linked, s.Store) {
		return nil, fmt.Errorf("slidingjwt: %s=%q, but this program does not link the %s backend (it links %s): add import _ %q to the program",
			config.EnvStore, s.Store, s.Store, strings.Join(linked, ", "), modulePath+"/store/"+s.Store)
	}
	st, err := store.Open(s.Store, store.Params{Path: s.StorePath, Size: s.StoreSize, URL: s.RedisURL})
	if err != nil {
		return nil, fmt.Errorf("slidingjwt: %s: %w", storeSettings(s), err)
	}
	return st, nil
}

// storeSettings names the settings that chose and configure the store:
// TOKEN_RENEW_STORE and the variable its backend reads. The Redis URL is
// named, not shown: it may hold a password (the redis backend's errors
// show it masked).
func storeSettings(s config.Settings) string {
	switch s.Store {
	case config.StoreLRU:
		return fmt.Sprintf("%s=%s, %s=%d", config.EnvStore, s.Store, config.EnvStoreSize, s.StoreSize)
	case config.StoreBolt:
		return fmt.Sprintf("%s=%s, %s=%q", config.EnvStore, s.Store, config.EnvStorePath, s.StorePath)
	case config.StoreRedis:
		return fmt.Sprintf("%s=%s, %s", config.EnvStore, s.Store, config.EnvRedisURL)
	}
	return fmt.Sprintf("%s=%s", config.EnvStore, s.Store)
}

// checkGivenStore refuses a given store that says it is another backend
// than the one TOKEN_RENEW_STORE asks for, unless that is the default.
func checkGivenStore(s config.Settings, st store.Store) error {
	named, ok := st.(store.Named)
	if !ok || s.Store == config.StoreMemory || named.Name() == s.Store {
		return nil
	}
	return fmt.Errorf("slidingjwt: %s=%q, but Options.Store is a %q store: give a %s store, or set %s=%s",
		config.EnvStore, s.Store, named.Name(), s.Store, config.EnvStore, named.Name())
}

// Close stops the revocation list's background work, then closes the store
// if Open opened it; a store given as Options.Store stays open, for its
// owner to close after Close. Call it once the server has stopped serving:
// a door built from the Auth answers 503 after it, and the store fails
// with store.ErrClosed. It is idempotent: later calls return nil. Errors
// of the list and the store are returned joined.
func (a *Auth) Close() error {
	first := false
	a.closeOnce.Do(func() {
		first = true
		var errs []error
		if a.list != nil {
			errs = append(errs, a.list.Close())
		}
		if a.owned {
			errs = append(errs, a.store.Close())
		}
		a.closeErr = errors.Join(errs...)
	})
	if !first {
		return nil
	}
	return a.closeErr
}

// Settings returns the settings the Auth was opened with, which the doors
// built from it verify and renew tokens with.
func (a *Auth) Settings() config.Settings { return a.settings }

// Store returns the renewal store: the one Open opened (a *memory.Store,
// *lru.Store, *bolt.Store or *redis.Store, which a program may assert to
// reach its extra methods) or Options.Store.
func (a *Auth) Store() store.Store { return a.store }

// Keys returns the key set that signs and verifies tokens: Options.Keys or
// the settings' keys. Rotating it (token.KeySet.Rotate) takes effect in
// the Issuer and in every door built from the Auth.
func (a *Auth) Keys() *token.KeySet { return a.keys }

// Issuer returns the Issuer that mints tokens with the Auth's settings and
// keys: call Issue in a login route, after checking the credentials. Issue
// reads time.Now; IssueAt(auth.Now(), ...) uses the Auth's clock.
func (a *Auth) Issuer() *token.Issuer { return a.issuer }

// Revocations returns the revocation list that every door built from the
// Auth checks, or nil when sign-out is off (Options.NoSignOut, or a store
// that keeps no revocations). Ready reports whether it has loaded;
// WaitReady waits for it.
func (a *Auth) Revocations() *revocation.List { return a.list }

// SignOut returns what a logout route calls to end a session
// (SignOut.Session) or every session of a user (SignOut.Everywhere), or
// nil when sign-out is off. It records only once a door built from the
// Auth checks the list (the door marks it, revocation.List.Enforce);
// before that it fails with revocation.ErrNotEnforced, so that a logout
// cannot succeed while no check would refuse the token.
func (a *Auth) SignOut() *revocation.SignOut { return a.signOut }

// Delivery returns how tokens travel with the Auth's settings
// (TOKEN_DELIVERY): a door's SetSessionCookie helper takes it, to put an
// issued token in the session cookie, and the ready-made sign-out handlers
// use it to delete the cookie.
func (a *Auth) Delivery() *engine.Delivery { return a.delivery }

// Now reads the Auth's clock (Options.Now, default time.Now).
func (a *Auth) Now() time.Time { return a.now() }

// Clock returns the Auth's clock itself, for a Config field such as a
// door's Now, so that the door, the list and the SignOut share one time.
func (a *Auth) Clock() func() time.Time { return a.now }
