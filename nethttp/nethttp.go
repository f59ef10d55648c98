// Package nethttp is the net/http front door of slidingjwt: a
// func(http.Handler) http.Handler middleware for the standard mux, chi, or
// anything else that speaks net/http. It verifies the request's token,
// puts the request's own claims in its context (ClaimsFrom, TokenFrom),
// and sends a renewed token in the X-New-Token header when one is due,
// with the same decision as the Echo middleware: both are doors over
// package engine.
package nethttp

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// HeaderNewToken is the response header that carries a renewed token.
const HeaderNewToken = engine.HeaderNewToken

// DefaultTokenLookup reads "Authorization: Bearer <token>".
const DefaultTokenLookup = "header:Authorization:Bearer "

// Errors passed to Config.ErrorHandler; see package engine.
var (
	ErrTokenMissing        = engine.ErrTokenMissing
	ErrTokenTooLarge       = engine.ErrTokenTooLarge
	ErrTokenInvalid        = engine.ErrTokenInvalid
	ErrSessionRevoked      = engine.ErrSessionRevoked
	ErrRevocationsNotReady = engine.ErrRevocationsNotReady
	ErrCrossOrigin         = engine.ErrCrossOrigin
)

// Config configures the net/http middleware; its fields mean what the
// Echo middleware's fields of the same names mean. Build the middleware
// with ToMiddleware (which returns an error) or New (which panics). A
// Config is read once.
type Config struct {
	// Skipper decides whether the middleware runs at all for a request.
	// Optional. Default: never skip.
	Skipper func(r *http.Request) bool

	// Settings are the lifetimes, threshold, interval and validation
	// rules. Required: config.Default() or config.FromEnv().
	Settings config.Settings

	// Store records each session's last renewal. Required when
	// Settings.AutoRenew is on. The middleware does not close it.
	Store store.Store

	// Keys verify tokens and sign renewals. Optional. Default: the
	// settings' key set. Share it with the Issuer that mints login tokens.
	Keys *token.KeySet

	// TokenLookup says where the token is found: comma-separated
	// "<source>:<name>[:<prefix>]" with source header, query, cookie or
	// form. Every value found is tried, source by source, until one
	// verifies (at most 20 a source). Optional. Default
	// DefaultTokenLookup.
	TokenLookup string

	// TypedClaimsOnly leaves the *jwt.Token out of the request's context:
	// handlers read claims with ClaimsFrom only, which saves the per-request
	// copy of the token and its claims map. Optional. Default false.
	TypedClaimsOnly bool

	// MaxTokenSize is the largest token, in bytes, parsed at all.
	// Optional. Default 8 KiB.
	MaxTokenSize int

	// VerifiedCacheSize is how many verified tokens are remembered.
	// Optional. Default 84 519 (64 MiB); negative turns the cache off.
	VerifiedCacheSize int

	// MountPrefix is the path prefix the protected routes are served
	// under, when a proxy or a parent router adds one. Optional.
	MountPrefix string

	// Now is the clock for validation and renewal. Optional. Default
	// time.Now.
	Now func() time.Time

	// SessionKey returns the identity whose renewals are rate limited
	// together. Optional. Default: Claims.Session. Hashed before use.
	SessionKey func(r *http.Request, claims *token.Claims) string

	// ErrorHandler answers a request whose token is missing or invalid
	// (err: ErrTokenMissing, ErrTokenTooLarge, or ErrTokenInvalid wrapping
	// golang-jwt's reason). Optional. Default: 401 with a
	// WWW-Authenticate: Bearer header and a JSON message, as the Echo
	// middleware answers.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// OnRenewal is told of every renewal and every request whose token was
	// not renewed, with the reason. It runs on the request's goroutine and
	// must be quick. Optional.
	OnRenewal func(r *http.Request, ev engine.Event)

	// Observer is told every request's outcome, every renewal decision and
	// every store call, for metrics and tracing. Optional.
	Observer engine.Observer

	// Revocations is the instance's copy of the revoked sessions (package
	// revocation; revocation.SignOut records them from a /logout handler).
	// A token of a revoked session gets 401 with a message saying the
	// session has ended, and is never renewed; until the copy is loaded,
	// requests get 503. The check reads memory only. With it, tokens with a
	// longer lifetime than the settings allow are refused, and no token is
	// renewed while the copy is stale. Optional. Default: none.
	Revocations *revocation.List

	// BeforeRenew runs once a renewal has been granted, before the new
	// token is signed; see the Echo middleware's field. Optional.
	BeforeRenew func(r *http.Request, claims jwt.MapClaims) error
}

// New returns the middleware for cfg and panics when cfg is invalid. Use
// ToMiddleware to get the error instead.
func New(cfg Config) func(http.Handler) http.Handler {
	mw, err := cfg.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates cfg once and returns the middleware. It never
// panics; every problem is returned, naming the setting.
func (cfg Config) ToMiddleware() (func(http.Handler) http.Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ec := engine.Config[call]{
		Settings:          cfg.Settings,
		Store:             cfg.Store,
		Keys:              cfg.Keys,
		MaxTokenSize:      cfg.MaxTokenSize,
		VerifiedCacheSize: cfg.VerifiedCacheSize,
		TokenLookup:       cfg.TokenLookup,
		MountPrefix:       cfg.MountPrefix,
		Now:               cfg.Now,
		Request:           func(c call) *http.Request { return c.r },
		Observer:          cfg.Observer,
		Revocations:       cfg.Revocations,
	}
	if f := cfg.SessionKey; f != nil {
		ec.SessionKey = func(c call, claims *token.Claims) string { return f(c.r, claims) }
	}
	if f := cfg.OnRenewal; f != nil {
		ec.OnRenewal = func(c call, ev engine.Event) { f(c.r, ev) }
	}
	if f := cfg.BeforeRenew; f != nil {
		ec.BeforeRenew = func(c call, claims jwt.MapClaims) error { return f(c.r, claims) }
	}
	eng, err := engine.New(ec)
	if err != nil {
		return nil, err
	}
	d := &door{cfg: cfg, eng: eng}
	return d.wrap, nil
}

// call is one request as the engine sees it: the writer and the request.
type call struct {
	w http.ResponseWriter
	r *http.Request
}

// door adapts net/http to the engine (engine.Door).
type door struct {
	cfg Config
	eng *engine.Engine[call]
}

// ctxKey is the context key of the request's claims.
type ctxKey struct{}

// claimsContext is the request's context with the request's claims: one
// allocation where context.WithValue and a struct for its value would be
// two. Everything but the claims' key goes to the parent, cancellation
// included.
type claimsContext struct {
	context.Context
	claims *token.Claims
	// token is the request's *jwt.Token, made on the first TokenFrom when
	// withToken is set (the default config), so that a request whose
	// handlers read ClaimsFrom only pays for no copy of the token.
	token     *jwt.Token
	withToken bool
	once      sync.Once
}

// jwtToken makes the request's *jwt.Token, sharing the claims' map.
func (c *claimsContext) jwtToken() { c.token = c.claims.JWT() }

// Value returns the claimsContext itself for ctxKey, else the parent's
// value for key.
func (c *claimsContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// String names the context, as context.WithValue's does.
func (c *claimsContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(nethttp claims)"
}

// ClaimsFrom returns the request's own claims of the token the middleware
// verified, or nil when it verified none.
func ClaimsFrom(ctx context.Context) *token.Claims {
	v, _ := ctx.Value(ctxKey{}).(*claimsContext)
	if v == nil {
		return nil
	}
	return v.claims
}

// TokenFrom returns the request's own *jwt.Token (with jwt.MapClaims, the
// same map as ClaimsFrom's Claims.Map), or nil when the middleware verified
// none or runs with TypedClaimsOnly. The token is made on the first call,
// so a request whose handlers never ask for it does not pay for it; later
// calls return the same token. Safe for concurrent use.
func TokenFrom(ctx context.Context) *jwt.Token {
	v, _ := ctx.Value(ctxKey{}).(*claimsContext)
	if v == nil {
		return nil
	}
	if v.withToken {
		v.once.Do(v.jwtToken)
	}
	return v.token
}

func (d *door) wrap(next http.Handler) http.Handler {
	serve := func(c call) error {
		next.ServeHTTP(c.w, c.r)
		return nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.cfg.Skipper != nil && d.cfg.Skipper(r) {
			next.ServeHTTP(w, r)
			return
		}
		_ = d.eng.Serve(call{w, r}, d, serve)
	})
}

// Values lets the engine read every source from the request.
func (d *door) Values(call, *engine.Source) ([]string, bool) { return nil, false }

// SetClaims gives the request a context holding its claims (and its
// *jwt.Token unless TypedClaimsOnly is set).
func (d *door) SetClaims(c call, v *token.Verified) (call, error) {
	ctx := &claimsContext{Context: c.r.Context(), claims: v.Claims(), withToken: !d.cfg.TypedClaimsOnly}
	c.r = c.r.WithContext(ctx)
	return c, nil
}

// Fail answers through Config.ErrorHandler when set, else with the
// default answer as JSON.
func (d *door) Fail(c call, err error, def engine.Answer, _ func(call) error) error {
	if d.cfg.ErrorHandler != nil {
		d.cfg.ErrorHandler(c.w, c.r, err)
		return nil
	}
	def.Write(c.w)
	return nil
}

// Watch hands the handler the renewal's writer.
func (d *door) Watch(c call, p *engine.Pending[call]) call {
	c.w = p.Writer(c.w, engine.WriterHooks{})
	return c
}

// Status is 200: net/http's answer for a handler that wrote nothing.
func (d *door) Status(call) int { return http.StatusOK }

// Header is the response writer's header.
func (d *door) Header(c call) http.Header { return c.w.Header() }
