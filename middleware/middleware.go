package middleware

import (
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// HeaderNewToken is the response header that carries a renewed token: the
// raw JWT, without a "Bearer " prefix.
const HeaderNewToken = engine.HeaderNewToken

// Context keys and defaults.
const (
	// DefaultContextKey is where the *jwt.Token goes, as with echo-jwt.
	DefaultContextKey = "user"
	// ClaimsContextKey is where the *Claims go; read them with ClaimsFrom.
	ClaimsContextKey = "slidingjwt.claims"
	// DefaultTokenLookup reads "Authorization: Bearer <token>".
	DefaultTokenLookup = "header:" + echo.HeaderAuthorization + ":Bearer "
	// DefaultMaxTokenSize is the largest token accepted, checked before
	// parsing: 8 KiB.
	DefaultMaxTokenSize = token.DefaultMaxTokenSize
	// DefaultVerifiedCacheSize is the number of verified tokens the
	// middleware remembers when Config.VerifiedCacheSize is zero.
	DefaultVerifiedCacheSize = token.DefaultCacheSize
)

// Errors passed to Config.ErrorHandler. Test them with errors.Is; an invalid
// token's error also wraps golang-jwt's reason (e.g. jwt.ErrTokenExpired).
var (
	ErrTokenMissing  = engine.ErrTokenMissing
	ErrTokenTooLarge = engine.ErrTokenTooLarge
	ErrTokenInvalid  = engine.ErrTokenInvalid
	// ErrSessionRevoked: the token's session was revoked (see
	// Config.Revocations); the default answer is 401.
	ErrSessionRevoked = engine.ErrSessionRevoked
	// ErrRevocationsNotReady: the revocation list is not loaded yet; the
	// default answer is 503.
	ErrRevocationsNotReady = engine.ErrRevocationsNotReady
	// ErrCrossOrigin: in cookie delivery, an unsafe request
	// authenticated by the session cookie came from an untrusted origin;
	// the default answer is 403.
	ErrCrossOrigin = engine.ErrCrossOrigin
)

// Config configures the sliding renewal middleware. Build the middleware
// with ToMiddleware (which returns an error) or WithConfig (which panics).
// A Config is read once when the middleware is built.
type Config struct {
	// Skipper decides whether the middleware runs at all for a request: a
	// skipped request is neither authenticated nor renewed. Optional.
	// Default echo's DefaultSkipper (never skip). For requests that must be
	// authenticated but never renewed, use Settings.RenewSkipPaths.
	Skipper echomw.Skipper

	// BeforeFunc runs first for every request the Skipper lets through.
	// Optional.
	BeforeFunc echomw.BeforeFunc

	// Settings are the lifetimes, threshold, interval and validation rules.
	// Required: start from config.Default() or config.FromEnv(). Validated
	// by ToMiddleware.
	Settings config.Settings

	// Store records each session's last renewal and decides, atomically,
	// whether it may renew again. Required when Settings.AutoRenew is on.
	// The middleware does not close it; the application owns it.
	Store store.Store

	// Keys verify tokens and sign renewals. Optional. Default: a one-key
	// set made from Settings.Secret and Settings.Algorithm. Share it with
	// the Issuer that mints login tokens so key rotation reaches both.
	Keys *KeySet

	// TokenLookup says where the token is found, in echo-jwt's grammar:
	// comma-separated "<source>:<name>[:<prefix>]" with source header,
	// query, param, cookie or form; a header's prefix is matched in any
	// case and cut off. As with echo-jwt, every value found is tried, source
	// by source from left to right and in the order of the request within a
	// source, until one verifies (at most 20 values a source, as echo-jwt
	// tries): an expired token in the header and a valid one in a cookie
	// is a valid request. Optional. Default DefaultTokenLookup, unless
	// TokenLookupFuncs is set: then only those are used, as with echo-jwt.
	TokenLookup string

	// TokenLookupFuncs are functions that return the values of a request
	// that may be its token (echo-jwt's field of the same name, with Echo's
	// extractor type). They are tried before TokenLookup's sources, in
	// order, as echo-jwt tries them; a function that returns an error
	// yields no value, and every value it returns is tried (none may be
	// nil). They run on the request's goroutine, so they may be called
	// concurrently for different requests. Optional. Default none.
	TokenLookupFuncs []echomw.ValuesExtractor

	// ContextKey is the context key of the verified *jwt.Token (with
	// jwt.MapClaims, or the claims NewClaimsFunc makes), so handlers written
	// for echo-jwt keep working. Each request gets its own token. Optional.
	// Default "user".
	ContextKey string

	// TypedClaimsOnly leaves the *jwt.Token out of the context: handlers
	// read the claims through ClaimsFrom only. It saves the per-request
	// copy of the token and its claims map, which is most of what a
	// request with a known token costs. Optional. Default false.
	TypedClaimsOnly bool

	// NewClaimsFunc returns a new, empty claims value (a pointer to a
	// struct embedding jwt.RegisteredClaims, for one) that each request's
	// claims are decoded into with encoding/json, as echo-jwt does; the
	// *jwt.Token under ContextKey then carries it. Optional. Default
	// jwt.MapClaims. It changes nothing of what is verified or renewed:
	// that is read from the signed payload.
	NewClaimsFunc func(c echo.Context) jwt.Claims

	// MaxTokenSize is the largest token, in bytes, that is parsed at all.
	// Optional. Default DefaultMaxTokenSize (8 KiB).
	MaxTokenSize int

	// VerifiedCacheSize is how many verified tokens the middleware
	// remembers, so that a token sent again (every request of an active
	// client) is not parsed and its signature not checked again. Only
	// tokens that verified are remembered; expiry, nbf and iat are checked
	// against Now on every request all the same, and the cache is emptied
	// whenever the key set changes, so a retired key stops verifying at
	// once. Each request still gets its own *jwt.Token and claims (deep
	// copies): nothing a handler changes reaches another request or a
	// renewal. The cache takes 16 bytes a slot as it fills and a byte a
	// slot up front (its doorkeeper), plus the remembered tokens (see
	// docs/performance.md for the measured size of one), and is safe for
	// concurrent use without a global lock. Optional. Default
	// DefaultVerifiedCacheSize (84 519, sized for 64 MiB). A size of 1 to
	// 8 is used as is, a larger one is rounded up to a
	// multiple of 8, and the largest allowed is 16 777 216. A negative
	// value turns the cache off: every request is verified from scratch.
	VerifiedCacheSize int

	// MountPrefix is the path prefix the protected routes are served
	// under, when a proxy or a parent router adds one (e.g. "/rag"): skip
	// paths then also match with it removed, so "/health" still skips
	// "/rag/health". Optional. Default "".
	MountPrefix string

	// Now is the clock for validation and renewal. Optional. Default
	// time.Now. Tests inject a fake clock here instead of sleeping.
	Now func() time.Time

	// SessionKey returns the identity whose renewals are rate limited
	// together. Optional. Default: Claims.Session, the session identity (the
	// sid claim, else one derived from jti, else from the token's signed
	// part), which a token and its renewals share. The result is hashed
	// before it reaches the store. Return, for example, claims.Subject to
	// limit per user instead of per session.
	SessionKey func(c echo.Context, claims *Claims) string

	// ErrorHandler handles a missing or invalid token instead of the
	// default 401 response, once every value found has been tried, as with
	// echo-jwt. err is ErrTokenMissing when no value was found, else the
	// error of the last value tried: ErrTokenTooLarge, or ErrTokenInvalid
	// wrapping golang-jwt's reason (test with errors.Is, e.g. against
	// jwt.ErrTokenExpired). Its error is returned to Echo. When it returns
	// nil and ContinueOnIgnoredError is set, the request goes on
	// unauthenticated; otherwise the request ends there. Optional. Without
	// it, a request without a token gets 401 {"message":"missing or
	// malformed jwt"}, one whose token does not verify 401
	// {"message":"invalid or expired jwt"} (echo-jwt's responses), both
	// with a WWW-Authenticate: Bearer header.
	ErrorHandler func(c echo.Context, err error) error

	// ContinueOnIgnoredError: see ErrorHandler. Optional. Default false.
	ContinueOnIgnoredError bool

	// SuccessHandler runs after a token is verified, before the handler.
	// Optional.
	SuccessHandler func(c echo.Context)

	// OnRenewal is told of every renewal and every request whose renewal
	// was skipped, with the reason. It runs on the request's goroutine and
	// must be quick. The event never holds a token; its Subject is
	// sanitised for logs. Optional. See LogRenewals for a slog observer.
	OnRenewal func(c echo.Context, ev RenewalEvent)

	// Observer is told every request's outcome, every renewal decision
	// and every store call, for metrics and tracing (the metrics/prometheus
	// and tracing/otel modules provide one). Optional.
	Observer engine.Observer

	// Revocations is the instance's copy of the revoked sessions (package
	// revocation; revocation.SignOut records them from a /logout handler).
	// A token of a revoked session gets 401 with a message saying the
	// session has ended, and is never renewed; until the copy is loaded,
	// requests get 503. The check reads memory only. With it, tokens with a
	// longer lifetime than the settings allow are refused, and no token is
	// renewed while the copy is stale. Optional. Default: none.
	Revocations *revocation.List

	// BeforeRenew runs once a renewal has been granted by the store and
	// before the new token is signed. It may change the claims (e.g.
	// reload a role: the renewal then gets that role's lifetime) or return
	// an error to refuse the renewal (reported as ReasonRefused). The map
	// is the renewal's own, decoded afresh from the signed payload, with
	// numbers as json.Number (exact), and iat, exp, jti, auth_time and sid
	// already set for the new token. The claims that make the session are
	// not the hook's: whatever it does to sub, sid, auth_time, iat, exp or
	// jti, the renewal sets them again after it (sub back to the old
	// token's; exp for the role the claims then name), so a hook cannot
	// split the session from its sign-outs, rate limit and cap. Optional.
	BeforeRenew func(c echo.Context, claims jwt.MapClaims) error
}

// DefaultConfig holds the defaults ToMiddleware fills in. Settings and
// Store must still be set.
var DefaultConfig = Config{
	Skipper:      echomw.DefaultSkipper,
	TokenLookup:  DefaultTokenLookup,
	ContextKey:   DefaultContextKey,
	MaxTokenSize: DefaultMaxTokenSize,
	Now:          time.Now,
}

// New returns the middleware for settings and st with every other option
// at its default. It panics on a bad setting, like WithConfig.
func New(settings config.Settings, st store.Store) echo.MiddlewareFunc {
	return WithConfig(Config{Settings: settings, Store: st})
}

// WithConfig returns the middleware for cfg, and panics when cfg is
// invalid. Use ToMiddleware to get the error instead.
func WithConfig(cfg Config) echo.MiddlewareFunc {
	mw, err := cfg.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates cfg once and returns the middleware. It never
// panics; every problem is returned, naming the setting.
func (cfg Config) ToMiddleware() (echo.MiddlewareFunc, error) {
	m, err := newMiddleware(cfg)
	if err != nil {
		return nil, err
	}
	return m.wrap, nil
}

// mw is a built middleware: the validated configuration, the engine, and
// Echo's extractors for the sources read the Echo way (by source index).
type mw struct {
	cfg        Config
	eng        *engine.Engine[echo.Context]
	extractors []echomw.ValuesExtractor
}

func newMiddleware(cfg Config) (*mw, error) {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultConfig.Skipper
	}
	if cfg.ContextKey == "" {
		cfg.ContextKey = DefaultConfig.ContextKey
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := checkFuncs(cfg.TokenLookupFuncs); err != nil {
		return nil, err
	}
	eng, err := engine.New(engine.Config[echo.Context]{
		Settings:          cfg.Settings,
		Store:             cfg.Store,
		Keys:              cfg.Keys,
		MaxTokenSize:      cfg.MaxTokenSize,
		VerifiedCacheSize: cfg.VerifiedCacheSize,
		TokenLookup:       cfg.TokenLookup,
		LookupFuncs:       len(cfg.TokenLookupFuncs),
		AllowParam:        true,
		MountPrefix:       cfg.MountPrefix,
		Now:               cfg.Now,
		Request:           echo.Context.Request,
		SessionKey:        cfg.SessionKey,
		OnRenewal:         cfg.OnRenewal,
		BeforeRenew:       cfg.BeforeRenew,
		Observer:          cfg.Observer,
		Revocations:       cfg.Revocations,
	})
	if err != nil {
		return nil, err
	}
	m := &mw{cfg: cfg, eng: eng}
	if m.extractors, err = echoExtractors(eng.Lookup(), cfg.TokenLookupFuncs); err != nil {
		return nil, err
	}
	return m, nil
}

// wrap is the middleware: the Skipper and BeforeFunc, then the engine.
func (m *mw) wrap(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m.cfg.Skipper(c) {
			return next(c)
		}
		if m.cfg.BeforeFunc != nil {
			m.cfg.BeforeFunc(c)
		}
		return m.eng.Serve(c, m, next)
	}
}

// Values reads the sources Echo reads its own way (see echoExtractors);
// headers are the engine's.
func (m *mw) Values(c echo.Context, s *engine.Source) ([]string, bool) {
	ex := m.extractors[s.Index]
	if ex == nil {
		return nil, false
	}
	values, err := ex(c)
	if err != nil {
		return nil, true
	}
	return values, true
}

// SetClaims puts the request's own token and claims in the context, then
// runs Config.SuccessHandler.
func (m *mw) SetClaims(c echo.Context, v *token.Verified) (echo.Context, error) {
	var newClaims jwt.Claims
	if m.cfg.NewClaimsFunc != nil {
		newClaims = m.cfg.NewClaimsFunc(c)
	}
	t, cl, err := engine.HandOver(v, m.cfg.TypedClaimsOnly, newClaims)
	if err != nil {
		return c, err
	}
	if t != nil {
		c.Set(m.cfg.ContextKey, t)
	}
	c.Set(ClaimsContextKey, cl)
	if m.cfg.SuccessHandler != nil {
		m.cfg.SuccessHandler(c)
	}
	return c, nil
}

// Fail answers through Config.ErrorHandler when set (going on to the
// handler when it returns nil and ContinueOnIgnoredError is set), else
// with the default answer as an *echo.HTTPError, err as its Internal, and
// the WWW-Authenticate header.
func (m *mw) Fail(c echo.Context, err error, def engine.Answer, next func(echo.Context) error) error {
	if m.cfg.ErrorHandler != nil {
		if herr := m.cfg.ErrorHandler(c, err); herr != nil || !m.cfg.ContinueOnIgnoredError {
			return herr
		}
		return next(c)
	}
	def.SetChallenge(c.Response().Header())
	return &echo.HTTPError{Code: def.Status, Message: def.Message, Internal: err}
}

// Watch swaps the response's writer for the renewal's.
func (m *mw) Watch(c echo.Context, p *engine.Pending[echo.Context]) echo.Context {
	res := c.Response()
	res.Writer = p.Writer(res.Writer, engine.WriterHooks{
		// A flush before any write goes through Echo, so that Echo
		// knows the headers left.
		BeforeFlush: func() {
			if !res.Committed {
				res.WriteHeader(res.Status)
			}
		},
		// A status written to the writer directly is Echo's too.
		OnStatus: func(status int) { res.Status = status },
	})
	return c
}

// Status is 200: what Echo sends for a handler that wrote nothing.
func (m *mw) Status(echo.Context) int { return http.StatusOK }

// Header is the Echo response's header.
func (m *mw) Header(c echo.Context) http.Header { return c.Response().Header() }
