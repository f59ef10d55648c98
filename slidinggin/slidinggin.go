package slidinggin

import (
	"bufio"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// HeaderNewToken is the response header that carries a renewed token: the
// raw JWT, without a "Bearer " prefix.
const HeaderNewToken = engine.HeaderNewToken

// Config configures the Gin middleware. Build it with ToMiddleware, which
// returns an error, or New, which panics. A Config is read once, when the
// middleware is built; the middleware is safe for concurrent use.
type Config struct {
	// Skipper decides whether the middleware runs at all for a request: a
	// skipped request is neither authenticated nor renewed. For requests
	// that must be authenticated but never renewed, use
	// Settings.RenewSkipPaths. Optional. Default: never skip.
	Skipper func(c *gin.Context) bool

	// Settings are the lifetimes, threshold, interval and validation
	// rules. Required: start from config.Default() or config.FromEnv().
	// Validated by ToMiddleware.
	Settings config.Settings

	// Store records each session's last renewal and decides, atomically,
	// whether it may renew again. Required when Settings.AutoRenew is on.
	// The middleware does not close it: the application owns it.
	Store store.Store

	// Keys verify tokens and sign renewals. Share them with the Issuer
	// that mints login tokens, so that key rotation reaches both.
	// Optional. Default: a one-key set made from Settings.Secret and
	// Settings.Algorithm.
	Keys *token.KeySet

	// TokenLookup says where the token is found, in echo-jwt's grammar:
	// comma-separated "<source>:<name>[:<prefix>]" with source header,
	// query, param (the route's path parameter, c.Param), cookie or form;
	// a header's prefix is matched in any case and cut off. Every value
	// found is tried, source by source, until one verifies (at most 20 a
	// source). Optional. Default "header:Authorization:Bearer ".
	TokenLookup string

	// ContextKey, when set, is the gin.Context key under which each
	// request gets its own *jwt.Token (with jwt.MapClaims), for handlers
	// written to read c.Get(key), as echo-jwt's do with "user". The token
	// and its claims map are copied for every request, which costs about
	// as much as the rest of the middleware (see docs/performance.md).
	// Optional. Default "": no token in the context; handlers read the
	// claims with ClaimsFrom, and ClaimsFrom(c).Map() makes the request its
	// own jwt.MapClaims when it wants one.
	ContextKey string

	// MaxTokenSize is the largest token, in bytes, that is parsed at all.
	// Optional. Default 8 KiB.
	MaxTokenSize int

	// VerifiedCacheSize is how many verified tokens are remembered, so
	// that a token sent again is not parsed and its signature not checked
	// again (expiry is still checked on every request). Optional. Default
	// 84 519 (64 MiB); negative turns the cache off.
	VerifiedCacheSize int

	// MountPrefix is the path prefix the protected routes are served
	// under when a proxy or a parent router adds one (e.g. "/rag"):
	// renewal skip paths then also match with it removed. Optional.
	// Default "".
	MountPrefix string

	// Now is the clock for validation and renewal; tests inject a fake
	// one. Optional. Default time.Now.
	Now func() time.Time

	// SessionKey returns the identity whose renewals are rate limited
	// together, e.g. claims.Subject to limit per user. The result is
	// hashed before it reaches the store. Optional. Default:
	// claims.Session (the sid claim, else one derived from jti or the
	// token).
	SessionKey func(c *gin.Context, claims *token.Claims) string

	// ErrorHandler answers a request whose authentication failed; the
	// middleware aborts the chain after it returns. err is, tested with
	// errors.Is, engine.ErrTokenMissing, engine.ErrTokenTooLarge,
	// engine.ErrTokenInvalid (wrapping golang-jwt's reason, such as
	// jwt.ErrTokenExpired), engine.ErrSessionRevoked or
	// engine.ErrRevocationsNotReady. Optional. Default:
	// c.AbortWithStatusJSON with echo-jwt's answers, 401 {"message":
	// "missing or malformed jwt"} or {"message": "invalid or expired
	// jwt"} with a WWW-Authenticate: Bearer header, 401 for a revoked
	// session and 503 while the revocations are not loaded.
	ErrorHandler func(c *gin.Context, err error)

	// OnRenewal is told of every renewal and every request whose token was
	// not renewed, with the reason. It runs on the request's goroutine and
	// must be quick. Optional.
	OnRenewal func(c *gin.Context, ev engine.Event)

	// BeforeRenew runs once the store has granted a renewal, before the
	// new token is signed: it may change the app's claims (e.g. reload a
	// role) or return an error to refuse the renewal. The claims that make
	// the session (sub, sid, auth_time, iat, exp, jti) are set again after
	// it. Optional.
	BeforeRenew func(c *gin.Context, claims jwt.MapClaims) error

	// Observer is told every request's outcome, every renewal decision and
	// every store call, for metrics and tracing. Optional.
	Observer engine.Observer

	// Revocations is the instance's copy of the revoked sessions (package
	// revocation; revocation.SignOut records them from a /logout handler).
	// A token of a revoked session gets 401 and is never renewed; until
	// the copy is loaded, requests get 503. With it, tokens longer-lived
	// than the settings allow are refused, and no token is renewed while
	// the copy is stale. The check reads memory only. Optional. Default:
	// none.
	Revocations *revocation.List
}

// DefaultConfig holds the defaults ToMiddleware fills in for zero fields.
// Settings and Store must still be set.
var DefaultConfig = Config{
	TokenLookup:  engine.DefaultTokenLookup,
	MaxTokenSize: token.DefaultMaxTokenSize,
	Now:          time.Now,
}

// New returns the middleware for cfg and panics when cfg is invalid, as
// Echo's WithConfig does. Use ToMiddleware to get the error instead.
func New(cfg Config) gin.HandlerFunc {
	h, err := cfg.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return h
}

// ToMiddleware validates cfg once and returns the middleware. It never
// panics; every problem is returned, naming the setting.
func (cfg Config) ToMiddleware() (gin.HandlerFunc, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	eng, err := engine.New(engine.Config[*gin.Context]{
		Settings:          cfg.Settings,
		Store:             cfg.Store,
		Keys:              cfg.Keys,
		MaxTokenSize:      cfg.MaxTokenSize,
		VerifiedCacheSize: cfg.VerifiedCacheSize,
		TokenLookup:       cfg.TokenLookup,
		AllowParam:        true,
		MountPrefix:       cfg.MountPrefix,
		Now:               cfg.Now,
		Request:           func(c *gin.Context) *http.Request { return c.Request },
		SessionKey:        cfg.SessionKey,
		OnRenewal:         cfg.OnRenewal,
		BeforeRenew:       cfg.BeforeRenew,
		Observer:          cfg.Observer,
		Revocations:       cfg.Revocations,
	})
	if err != nil {
		return nil, err
	}
	d := &door{cfg: cfg, eng: eng}
	return d.handle, nil
}

// claimsKey is the gin.Context key of the request's *token.Claims.
type claimsKey struct{}

// ClaimsFrom returns the request's own claims of the token the middleware
// verified, or nil when it verified none (a skipped request, a route
// without the middleware).
func ClaimsFrom(c *gin.Context) *token.Claims {
	v, _ := c.Get(claimsKey{})
	claims, _ := v.(*token.Claims)
	return claims
}

// door adapts Gin to the engine (engine.Door).
type door struct {
	cfg Config
	eng *engine.Engine[*gin.Context]
}

func (d *door) handle(c *gin.Context) {
	if d.cfg.Skipper != nil && d.cfg.Skipper(c) {
		c.Next()
		return
	}
	_ = d.eng.Serve(c, d, next)
}

// next runs the rest of the chain. When a handler recorded an error with
// c.Error, it returns the last one, so that the engine does not decide a
// response that wrote nothing on the status as it stands: the middleware
// that handles the error (after this one returns, before Gin sends the
// headers) writes its own status through the watched writer, which
// decides then.
func next(c *gin.Context) error {
	n := len(c.Errors)
	c.Next()
	if len(c.Errors) > n {
		return c.Errors.Last()
	}
	return nil
}

// Values reads param sources, the route's path parameters; the engine
// reads the others from the request.
func (d *door) Values(c *gin.Context, s *engine.Source) ([]string, bool) {
	if s.Kind != "param" {
		return nil, false
	}
	if v := c.Param(s.Name); v != "" {
		return []string{v}, true
	}
	return nil, true
}

// SetClaims puts the request's own claims (for ClaimsFrom) and, when
// ContextKey is set, its *jwt.Token under ContextKey.
func (d *door) SetClaims(c *gin.Context, v *token.Verified) (*gin.Context, error) {
	t, claims, _ := engine.HandOver(v, d.cfg.ContextKey == "", nil) // no claims type to fail
	if t != nil {
		c.Set(d.cfg.ContextKey, t)
	}
	c.Set(claimsKey{}, claims)
	return c, nil
}

// Fail answers through ErrorHandler when set, else with the default
// answer as Gin JSON, and aborts the chain either way.
func (d *door) Fail(c *gin.Context, err error, def engine.Answer, _ func(*gin.Context) error) error {
	if d.cfg.ErrorHandler != nil {
		d.cfg.ErrorHandler(c, err)
		c.Abort()
		return nil
	}
	def.SetChallenge(c.Writer.Header())
	c.AbortWithStatusJSON(def.Status, gin.H{"message": def.Message})
	return nil
}

// Watch hands the rest of the chain a writer that decides the renewal
// where Gin sends the headers.
//
// Gin's writer differs from net/http's: its WriteHeader only records the
// status, which a handler may change until something is written (c.Status
// then c.AbortWithStatus), and its Write sends the recorded status, not
// 200. Pending.Writer decides on the first WriteHeader, and on 200 for a
// Write, so it would judge the wrong status; the writer here instead
// calls Pending.Decide with the status Gin recorded, on the calls that
// send the headers (Write, WriteString, WriteHeaderNow, Flush). The
// engine's writer is still made, over Gin's, for the two things only it
// gives: the response's headers for Serve's fallback (a handler that
// wrote nothing is sent by Gin after the chain, below c.Writer, and
// Status tells the engine what it sends), and a Hijack that drops the
// renewal without asking the store.
func (d *door) Watch(c *gin.Context, p *engine.Pending[*gin.Context]) *gin.Context {
	c.Writer = &writer{ResponseWriter: c.Writer, p: p, eng: p.Writer(c.Writer, engine.WriterHooks{})}
	return c
}

// Status is the status Gin recorded: what it sends, after the chain, for
// a handler that wrote nothing.
func (d *door) Status(c *gin.Context) int { return c.Writer.Status() }

// Header is the Gin writer's header.
func (d *door) Header(c *gin.Context) http.Header { return c.Writer.Header() }

// writer is c.Writer while a renewal is pending; see door.Watch. Once the
// renewal is decided, every call passes through.
type writer struct {
	gin.ResponseWriter
	p   *engine.Pending[*gin.Context]
	eng http.ResponseWriter // the engine's writer over ResponseWriter
}

// decide decides the renewal on the status Gin recorded, before the
// headers leave.
func (w *writer) decide() {
	if !w.p.Done() {
		w.p.Decide(w.ResponseWriter.Status(), w.ResponseWriter.Header())
	}
}

func (w *writer) WriteHeaderNow() {
	w.decide()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *writer) Write(b []byte) (int, error) {
	w.decide()
	return w.ResponseWriter.Write(b)
}

func (w *writer) WriteString(s string) (int, error) {
	w.decide()
	return w.ResponseWriter.WriteString(s)
}

func (w *writer) Flush() {
	w.decide()
	w.ResponseWriter.Flush()
}

// Hijack drops a pending renewal (engine.ReasonHijacked), then hijacks
// Gin's writer.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	// gin.ResponseWriter is an http.Hijacker, so the engine's writer over
	// it is one too.
	return w.eng.(http.Hijacker).Hijack()
}

// Unwrap returns Gin's writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
