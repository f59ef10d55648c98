// Package engine is the renewal core every front door shares: it verifies
// the token a door looked up, decides whether the request is due for
// renewal, and commits the renewal where the response's headers leave,
// on net/http types only (*http.Request, http.ResponseWriter,
// http.Header). The Echo v4 middleware (package middleware), the net/http
// middleware (package nethttp), the Echo v5 middleware (module echov5) and
// the Gin middleware (module slidinggin) are thin doors over it; none
// holds a copy of the decision.
//
// Applications meet this package through what the doors report: Event,
// Reason and Outcome for OnRenewal and an Observer, the errors an
// ErrorHandler receives, the header names, and Delivery for cookie
// sessions. The rest (Config, New, Engine.Serve, Door, HandOver, Pending,
// Answer, SignOut, the lookup) is the kit a door is made of, for a door
// over another framework: docs/doors.md says how, and doortest checks one.
//
// An Engine is generic in C, the value a door hands to the application's
// callbacks: *http.Request for net/http, echo.Context for Echo. Config.Request
// gets the *http.Request from it.
package engine

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/internal/tokenops"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// HeaderNewToken is the response header that carries a renewed token: the
// raw JWT, without a "Bearer " prefix.
const HeaderNewToken = "X-New-Token"

// HeaderBackground marks a request the client makes of its own accord (a
// poll, a refresh of a panel), not because the user acted: any non-empty
// value. Such a request is authenticated as any other but never renewed
// (ReasonBackground), like a renewal skip path, so that a tab left open
// still expires. The client package sends it for requests marked
// background; allow it in CORS preflights (Access-Control-Allow-Headers)
// when the client calls from another origin.
const HeaderBackground = "X-Slidingjwt-Background"

// DefaultTokenLookup reads "Authorization: Bearer <token>".
const DefaultTokenLookup = "header:Authorization:Bearer "

// Errors a door passes to its error handling. Test them with errors.Is; an
// invalid token's error also wraps golang-jwt's reason (e.g.
// jwt.ErrTokenExpired).
var (
	ErrTokenMissing  = errors.New("slidingjwt: missing or malformed token")
	ErrTokenTooLarge = token.ErrTokenTooLarge
	ErrTokenInvalid  = token.ErrTokenInvalid
	// ErrSessionRevoked: the token verified, but its session, or every
	// session of its subject, was revoked (signed out). Doors answer 401
	// with WWW-Authenticate: Bearer error="invalid_token".
	ErrSessionRevoked = errors.New("slidingjwt: the session has ended")
	// ErrRevocationsNotReady: the instance has not loaded the revocation
	// list yet, so it cannot tell a revoked token from a good one. Doors
	// answer 503.
	ErrRevocationsNotReady = errors.New("slidingjwt: the revocation list is not loaded yet")
)

// The messages of the default answers to ErrSessionRevoked and
// ErrRevocationsNotReady, which every door sends as {"message": ...}.
const (
	MessageSessionEnded = "the session has ended: sign in again"
	MessageNotReady     = "authentication is not available yet: retry shortly"
)

// Config configures an Engine. A door fills it from its own Config.
type Config[C any] struct {
	// Settings: lifetimes, threshold, interval, validation rules.
	// Required (config.Default or config.FromEnv), validated by New.
	Settings config.Settings
	// Store records renewals. Required when Settings.AutoRenew is on. The
	// engine does not close it.
	Store store.Store
	// Keys verify tokens and sign renewals. Optional. Default: the
	// settings' key set.
	Keys *token.KeySet
	// MaxTokenSize: the largest token parsed. Optional. Default
	// token.DefaultMaxTokenSize (8 KiB).
	MaxTokenSize int
	// VerifiedCacheSize: see token.VerifierOptions.CacheSize. Optional.
	VerifiedCacheSize int
	// TokenLookup says where tokens are found, in echo-jwt's grammar (see
	// ParseLookup). Optional. Default "header:Authorization:Bearer ",
	// unless LookupFuncs is set.
	TokenLookup string
	// LookupFuncs is how many lookup functions the door has: they are
	// tried first, through Door.Values (Source.Kind "func").
	LookupFuncs int
	// AllowParam lets TokenLookup name "param" sources, which the door
	// reads (a router's path parameters).
	AllowParam bool
	// MountPrefix is the path prefix the protected routes are served under
	// (e.g. "/rag"): renewal skip paths also match with it removed.
	// Optional.
	MountPrefix string
	// Now is the clock. Optional. Default time.Now.
	Now func() time.Time

	// Request returns the request of a door's value. Required.
	Request func(C) *http.Request
	// SessionKey returns the identity whose renewals are rate limited
	// together. Optional. Default: Claims.Session. Hashed before use.
	SessionKey func(c C, claims *token.Claims) string
	// OnRenewal is told of every renewal and every request whose token was
	// not renewed, with the reason. Optional.
	OnRenewal func(c C, ev Event)
	// BeforeRenew may change a renewal's claims or refuse it. Optional.
	BeforeRenew func(c C, claims jwt.MapClaims) error
	// Observer is told every request's outcome, every renewal decision and
	// every store call, for metrics and tracing. Optional.
	Observer Observer
	// Revocations is the instance's copy of the revoked sessions (see
	// package revocation): a token of a revoked session, or of a subject
	// signed out everywhere, gets ErrSessionRevoked (401) and is never
	// renewed; while the list is not loaded, requests get
	// ErrRevocationsNotReady (503). The check reads memory only. With it,
	// a token whose lifetime is longer than the settings allow
	// (revocation.LongestLifetime plus the leeway; for a token without
	// iat, exp that far from now) is refused as invalid, so that no
	// revoked token outlives its revocation; and no token is renewed while
	// the list is stale. Optional.
	Revocations *revocation.List
}

// ops are package token's operations that only the engine uses.
var ops = tokenops.Table.(tokenops.Ops[*token.Verified, *token.Issuer, *token.Verifier])

// Engine is the renewal core for one configuration. It is safe for
// concurrent use; it holds no lock on the request path.
type Engine[C any] struct {
	cfg      Config[C]
	settings config.Settings
	// longest bounds the lifetime of a token accepted while Revocations
	// is set: revocation.LongestLifetime plus the leeway.
	longest   time.Duration
	issuer    *token.Issuer
	verifier  *token.Verifier
	maxSize   int
	skipPaths []string
	mount     string
	lookup    *Lookup
	storeName string // the store's Name() (store.Named), for StoreCall
	// delivery is how tokens travel; cookie is its cookie's source in
	// lookup (nil in header delivery).
	delivery *Delivery
	cookie   *Source
}

// New validates cfg and returns its Engine. Every problem is returned,
// naming the setting; New never panics.
func New[C any](cfg Config[C]) (*Engine[C], error) {
	if cfg.Settings.Algorithm == "" && cfg.Settings.UserLifetime == 0 && cfg.Settings.RenewThreshold == 0 {
		return nil, errors.New("slidingjwt: Config.Settings is empty: start from config.Default() or config.FromEnv()")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if cfg.Settings.AutoRenew && cfg.Store == nil {
		return nil, errors.New("slidingjwt: Config.Store is required when renewal is on: e.g. memory.New(nil)")
	}
	if cfg.Request == nil {
		return nil, errors.New("slidingjwt: engine.Config.Request is required")
	}
	if cfg.MaxTokenSize == 0 {
		cfg.MaxTokenSize = token.DefaultMaxTokenSize
	}
	if cfg.MaxTokenSize < 0 {
		return nil, fmt.Errorf("slidingjwt: Config.MaxTokenSize %d is negative", cfg.MaxTokenSize)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.VerifiedCacheSize > token.MaxCacheSize {
		return nil, fmt.Errorf("slidingjwt: Config.VerifiedCacheSize %d is larger than %d", cfg.VerifiedCacheSize, token.MaxCacheSize)
	}
	if cfg.MountPrefix != "" && (!strings.HasPrefix(cfg.MountPrefix, "/") || strings.HasSuffix(cfg.MountPrefix, "/")) {
		return nil, fmt.Errorf("slidingjwt: Config.MountPrefix %q must start with / and not end with one", cfg.MountPrefix)
	}
	delivery := newDelivery(cfg.Settings)
	if cfg.TokenLookup == "" {
		// The delivery's own sources: the session cookie in cookie
		// delivery (a header is read only when TokenLookup asks for one),
		// the bearer header and then the cookie in both.
		switch delivery.mode {
		case config.DeliveryCookie:
			cfg.TokenLookup = "cookie:" + delivery.name
		case config.DeliveryBoth:
			cfg.TokenLookup = DefaultTokenLookup + ",cookie:" + delivery.name
		default:
			if cfg.LookupFuncs == 0 {
				cfg.TokenLookup = DefaultTokenLookup
			}
		}
	}
	lookup, err := ParseLookup(cfg.TokenLookup, cfg.LookupFuncs, cfg.AllowParam)
	if err != nil {
		return nil, err
	}
	var cookie *Source
	if delivery.UsesCookie() {
		for i, s := range lookup.sources {
			if s.Kind == "cookie" && s.Name == delivery.name {
				cookie = &lookup.sources[i]
			}
		}
		if cookie == nil {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup %q has no source cookie:%s, the cookie %s=%s renews: add it, or leave TokenLookup empty",
				cfg.TokenLookup, delivery.name, config.EnvDelivery, delivery.mode)
		}
	}
	issuer, err := token.NewIssuer(cfg.Settings, cfg.Keys)
	if err != nil {
		return nil, err
	}
	verifier, err := token.NewVerifier(cfg.Settings, &token.VerifierOptions{
		Keys:           issuer.Keys(),
		Now:            cfg.Now,
		MaxTokenSize:   cfg.MaxTokenSize,
		CacheSize:      cfg.VerifiedCacheSize,
		TokensAreWhole: lookup.singleHeader(),
	})
	if err != nil {
		return nil, err
	}
	storeName := "unknown"
	if n, ok := cfg.Store.(store.Named); ok {
		storeName = n.Name()
	}
	if cfg.Revocations != nil {
		cfg.Revocations.Enforce()
	}
	return &Engine[C]{
		cfg:       cfg,
		settings:  cfg.Settings,
		issuer:    issuer,
		verifier:  verifier,
		maxSize:   cfg.MaxTokenSize,
		longest:   revocation.LongestLifetime(cfg.Settings) + cfg.Settings.Leeway,
		skipPaths: cfg.Settings.RenewSkipPaths,
		lookup:    lookup,
		storeName: storeName,
		mount:     cfg.MountPrefix,
		delivery:  delivery,
		cookie:    cookie,
	}, nil
}

// Lookup returns the compiled Config.TokenLookup, for a door that reads
// some of its sources itself (see Door.Values).
func (e *Engine[C]) Lookup() *Lookup { return e.lookup }

// Delivery returns how the engine's tokens travel.
func (e *Engine[C]) Delivery() *Delivery { return e.delivery }

// Now reads the engine's clock.
func (e *Engine[C]) Now() time.Time { return e.cfg.Now() }

// verifyAny tries each value in turn, as echo-jwt does, and returns the
// first that verifies; otherwise the last value's error, or
// ErrTokenMissing when there was none.
func (e *Engine[C]) verifyAny(values []string, now time.Time) (v *token.Verified, hit bool, err error) {
	err = ErrTokenMissing
	for _, raw := range values {
		if v, hit, err = ops.VerifyHit(e.verifier, raw, now); err == nil {
			return v, hit, nil
		}
	}
	return nil, false, err
}

// admit ends the authentication of request c: err is what the lookup and
// verification came to (ErrTokenMissing when no value was found), else v
// verified, from the cache when hit. It tells the Observer the outcome and
// returns the error the door must answer with, or nil.
func (e *Engine[C]) admit(c C, v *token.Verified, hit bool, err error, now time.Time) error {
	if err == nil && e.cfg.Revocations != nil {
		err = e.admitRevocable(v, now)
	}
	o := OutcomeVerified
	switch {
	case err != nil:
		o = outcomeOf(err)
	case hit:
		o = OutcomeCacheHit
	}
	if e.cfg.Observer != nil {
		e.cfg.Observer.Request(e.cfg.Request(c), o)
	}
	return err
}

// errLifetime is the reason a token with a longer lifetime than the
// settings allow is refused while revocations are checked.
var errLifetime = &lifetimeError{}

type lifetimeError struct{}

func (*lifetimeError) Error() string {
	return "slidingjwt: invalid or expired token: lifetime longer than the settings allow, so a revocation could not outlast it"
}

func (*lifetimeError) Is(target error) bool { return target == ErrTokenInvalid }

// admitRevocable checks v against the revocations: its lifetime, then the
// list.
func (e *Engine[C]) admitRevocable(v *token.Verified, now time.Time) error {
	if ops.Lifetime(v) > e.longest || v.ExpiresAt().Sub(now) > e.longest {
		return errLifetime
	}
	switch e.cfg.Revocations.Check(ops.SessionRevKey(v), ops.SubjectRevKey(v), ops.AuthTime(v), now) {
	case revocation.OK:
		return nil
	case revocation.Revoked:
		return ErrSessionRevoked
	}
	return ErrRevocationsNotReady
}

func (e *Engine[C]) observe(c C, v *token.Verified, ev Event) {
	if e.cfg.OnRenewal == nil && e.cfg.Observer == nil {
		return
	}
	ev.Subject = token.SanitizeSubject(v.Subject())
	ev.ExpiresAt = v.ExpiresAt()
	if e.cfg.Observer != nil {
		e.cfg.Observer.Renewal(e.cfg.Request(c), ev)
	}
	if e.cfg.OnRenewal != nil {
		e.cfg.OnRenewal(c, ev)
	}
}
