package middleware

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
)

// HeaderNewToken is the response header that carries a renewed token: the
// raw JWT, without a "Bearer " prefix.
const HeaderNewToken = "X-New-Token"

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
	DefaultMaxTokenSize = 8 << 10
	// maxSubjectBytes bounds the sub claim of an accepted token.
	maxSubjectBytes = 1024
)

// Errors passed to Config.ErrorHandler. Test them with errors.Is; an invalid
// token's error also wraps golang-jwt's reason (e.g. jwt.ErrTokenExpired).
var (
	ErrTokenMissing  = errors.New("slidingjwt: missing or malformed token")
	ErrTokenTooLarge = errors.New("slidingjwt: token larger than the size limit")
	ErrTokenInvalid  = errors.New("slidingjwt: invalid or expired token")
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
	// jwt.MapClaims), so handlers written for echo-jwt keep working.
	// Optional. Default "user".
	ContextKey string

	// MaxTokenSize is the largest token, in bytes, that is parsed at all.
	// Optional. Default DefaultMaxTokenSize (8 KiB).
	MaxTokenSize int

	// VerifiedCacheSize is how many verified tokens the middleware
	// remembers, so that a token sent again (every request of an active
	// client) is not parsed and its signature not checked again. Only
	// tokens that verified are remembered; expiry, nbf and iat are checked
	// against Now on every request all the same, and the cache is emptied
	// whenever the key set changes, so a retired key stops verifying at
	// once. The handlers of requests that carry the same token then share
	// one *jwt.Token and one *Claims: treat them as read-only. The cache
	// takes 16 bytes a slot up front, plus the remembered tokens (about
	// 2 KB each for a typical token with its decoded claims; MaxTokenSize
	// bounds one), and is safe for concurrent use without a global lock.
	// Optional. Default DefaultVerifiedCacheSize (10 000). A size of 1 to 8
	// is used as is, a larger one is rounded up to a multiple of 8, and the
	// largest allowed is 16 777 216. A negative value turns the cache off:
	// every request is verified from scratch.
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
	// together. Optional. Default: the sid claim, else jti, else the
	// token's signed part (its header and claims, so that another valid
	// signature of the same claims is the same session). The result is
	// hashed before it reaches the store. Return, for
	// example, claims.Subject to limit per user instead of per session.
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

	// BeforeRenew runs once a renewal has been granted by the store and
	// before the new token is signed. It may change the claims (e.g.
	// reload a role) or return an error to refuse the renewal (reported as
	// ReasonRefused). The map is the renewal's own, but nested values
	// (e.g. a "metadata" object) are shared with the verified token that
	// other requests may be reading: replace them, never modify them in
	// place. Optional.
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

// mw is a built middleware: the validated configuration and what it
// precomputed.
type mw struct {
	cfg       Config
	settings  config.Settings
	issuer    *Issuer
	lookup    tokenLookup
	validator *jwt.Validator
	cache     *verifiedCache
	threshold float64
	skipPaths []string
	mount     string
}

func newMiddleware(cfg Config) (*mw, error) {
	if cfg.Settings.Algorithm == "" && cfg.Settings.UserLifetime == 0 && cfg.Settings.RenewThreshold == 0 {
		return nil, errors.New("slidingjwt: Config.Settings is empty: start from config.Default() or config.FromEnv()")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if cfg.Settings.AutoRenew && cfg.Store == nil {
		return nil, errors.New("slidingjwt: Config.Store is required when renewal is on: e.g. memory.New(nil)")
	}
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultConfig.Skipper
	}
	if cfg.TokenLookup == "" && len(cfg.TokenLookupFuncs) == 0 {
		cfg.TokenLookup = DefaultConfig.TokenLookup
	}
	if cfg.ContextKey == "" {
		cfg.ContextKey = DefaultConfig.ContextKey
	}
	if cfg.MaxTokenSize == 0 {
		cfg.MaxTokenSize = DefaultConfig.MaxTokenSize
	}
	if cfg.MaxTokenSize < 0 {
		return nil, fmt.Errorf("slidingjwt: Config.MaxTokenSize %d is negative", cfg.MaxTokenSize)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.VerifiedCacheSize == 0 {
		cfg.VerifiedCacheSize = DefaultVerifiedCacheSize
	}
	if cfg.VerifiedCacheSize > maxVerifiedCacheSize {
		return nil, fmt.Errorf("slidingjwt: Config.VerifiedCacheSize %d is larger than %d", cfg.VerifiedCacheSize, maxVerifiedCacheSize)
	}
	if cfg.MountPrefix != "" && (!strings.HasPrefix(cfg.MountPrefix, "/") || strings.HasSuffix(cfg.MountPrefix, "/")) {
		return nil, fmt.Errorf("slidingjwt: Config.MountPrefix %q must start with / and not end with one", cfg.MountPrefix)
	}
	issuer, err := NewIssuer(cfg.Settings, cfg.Keys)
	if err != nil {
		return nil, err
	}
	lookup, err := newLookup(cfg.TokenLookup, cfg.TokenLookupFuncs)
	if err != nil {
		return nil, err
	}
	s := cfg.Settings
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	}
	if s.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(s.Issuer))
	}
	if s.Audience != "" {
		opts = append(opts, jwt.WithAudience(s.Audience))
	}
	return &mw{
		cfg:       cfg,
		settings:  s,
		issuer:    issuer,
		lookup:    lookup,
		validator: jwt.NewValidator(opts...),
		cache:     newVerifiedCache(issuer.keys, cfg.VerifiedCacheSize, s.Leeway, cacheLookup(cfg)),
		threshold: s.RenewThreshold,
		skipPaths: s.RenewSkipPaths,
		mount:     cfg.MountPrefix,
	}, nil
}

// verified is what one successful verification of a token yields. It may be
// shared by concurrent requests through the verified-token cache: nothing
// in it changes once it is cached, except the atomic session and renewedAt.
type verified struct {
	raw      string
	token    *jwt.Token
	claims   *Claims
	lifetime time.Duration // exp - iat, or the role's configured lifetime
	authTime time.Time
	// session memoises the default session key (see sessionKey), which
	// depends on the claims only.
	session atomic.Pointer[string]
	// renewedAt is when (Unix nanoseconds of Config.Now) the store last
	// granted a renewal asked with this token, or 0; see renewedHere.
	renewedAt atomic.Int64
	typed     Claims // what claims points to
	cached           // set when the verification goes into the cache
}

func (m *mw) wrap(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m.cfg.Skipper(c) {
			return next(c)
		}
		if m.cfg.BeforeFunc != nil {
			m.cfg.BeforeFunc(c)
		}
		// Each value found is tried until one verifies, as with echo-jwt;
		// err is then the last value's error. buf holds the values of one
		// header source without an allocation.
		now := m.cfg.Now()
		var (
			buf [2]string
			v   *verified
			err error = ErrTokenMissing
		)
	lookup:
		for i := range m.lookup {
			for _, raw := range m.lookup[i].values(c, buf[:0]) {
				if len(raw) > m.cfg.MaxTokenSize {
					err = ErrTokenTooLarge
					continue
				}
				if v, err = m.verify(raw, now); err == nil {
					break lookup
				}
			}
		}
		if err != nil {
			return m.fail(c, next, err)
		}
		c.Set(m.cfg.ContextKey, v.token)
		c.Set(ClaimsContextKey, v.claims)
		if m.cfg.SuccessHandler != nil {
			m.cfg.SuccessHandler(c)
		}

		r := m.candidate(c, v, now)
		if r == nil {
			return next(c)
		}
		res := c.Response()
		res.Before(r.commit)
		res.Writer = wrapWriter(&renewalWriter{ResponseWriter: res.Writer, res: res, r: r})
		err = next(c)
		if err == nil && !c.Response().Committed {
			// The handler wrote nothing; net/http will send 200 with the
			// headers as they are now, so decide here.
			r.commit()
		}
		return err
	}
}

// verify checks a token's signature and claims and extracts what the
// renewal decision needs. A token verified before, with the same keys, is
// answered from the cache after its time claims are checked at now.
func (m *mw) verify(raw string, now time.Time) (*verified, error) {
	g := m.cache.generation()
	if v := m.cache.get(g, raw, now); v != nil {
		return v, nil
	}
	var p parsed
	t, err := m.parseToken(raw, g, &p)
	if err != nil {
		return nil, &invalidToken{reason: err}
	}
	// checkJOSE, with the decoders' findings on duplicate names.
	if err := checkDecoded(t.Header, p.headDup, p.claims.duplicate); err != nil {
		return nil, &invalidToken{reason: err}
	}
	v, err := m.extract(raw, t, p.claims.MapClaims)
	if err != nil {
		return nil, err
	}
	m.cache.put(g, v, now)
	return v, nil
}

var (
	errBadSubject = errors.New("sub must be a non-empty string of at most 1024 bytes")
	errBadClaim   = errors.New("a registered claim has the wrong type or range")
)

// extract builds the typed claims and checks what golang-jwt does not: a
// subject, string-typed sid/jti/role, sane dates and a positive lifetime.
func (m *mw) extract(raw string, t *jwt.Token, mc jwt.MapClaims) (*verified, error) {
	invalid := func(err error) (*verified, error) {
		return nil, &invalidToken{reason: err}
	}
	sub, ok := mc["sub"].(string)
	if !ok || sub == "" || len(sub) > maxSubjectBytes {
		return invalid(errBadSubject)
	}
	role, ok1 := optionalString(mc, "role")
	sid, ok2 := optionalString(mc, "sid")
	jti, ok3 := optionalString(mc, "jti")
	exp, _, ok4 := numericDate(mc, "exp")
	iat, hasIAT, ok5 := numericDate(mc, "iat")
	authTime, hasAuth, ok6 := numericDate(mc, "auth_time")
	_, _, ok7 := numericDate(mc, "nbf") // golang-jwt converts huge dates with overflow
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return invalid(errBadClaim)
	}
	lifetime := m.settings.Lifetime(role)
	if hasIAT {
		lifetime = exp.Sub(iat)
		if lifetime <= 0 {
			return invalid(errBadClaim)
		}
	}
	v := &verified{
		raw:      raw,
		token:    t,
		lifetime: lifetime,
		typed: Claims{
			Subject: sub, Role: role, SessionID: sid, ID: jti,
			ExpiresAt: exp, Map: mc,
		},
	}
	v.claims = &v.typed // one allocation for both
	if hasIAT {
		v.claims.IssuedAt = iat
	}
	switch {
	case hasAuth:
		v.claims.AuthTime = authTime
		v.authTime = authTime
	case hasIAT:
		v.authTime = iat
	default:
		v.authTime = exp.Add(-m.settings.Lifetime(role))
	}
	return v, nil
}

// candidate decides, before the handler runs, whether this request should
// renew its token if the response succeeds. It returns nil (after telling
// the observer why) when it should not.
func (m *mw) candidate(c echo.Context, v *verified, now time.Time) *renewal {
	s := &m.settings
	if !s.AutoRenew {
		m.observe(c, v, RenewalEvent{Reason: ReasonDisabled})
		return nil
	}
	remaining := v.claims.ExpiresAt.Sub(now)
	if float64(remaining) >= m.threshold*float64(v.lifetime) {
		m.observe(c, v, RenewalEvent{Reason: ReasonThreshold})
		return nil
	}
	if m.skipped(c.Request().URL.Path) {
		m.observe(c, v, RenewalEvent{Reason: ReasonSkippedPath})
		return nil
	}
	exp, extends := m.issuer.renewal(v, now)
	if !extends {
		m.observe(c, v, RenewalEvent{Reason: ReasonSessionCap})
		return nil
	}
	if m.renewedHere(v, now) {
		// The store would refuse: this process recorded the session's
		// renewal, with this very token, less than an interval ago. Its
		// concurrent requests, and a client that keeps the old token,
		// cost neither a store call nor a deferred commit.
		ev := RenewalEvent{Reason: ReasonRateLimited}
		if m.cfg.OnRenewal != nil {
			ev.Session = m.sessionKey(c, v)
		}
		m.observe(c, v, ev)
		return nil
	}
	return &renewal{m: m, c: c, v: v, now: now, exp: exp}
}

// renewalWriter is the response's writer while a renewal waits for the
// status. Echo's Response.WriteHeader, where the renewal is decided, is
// bypassed by whatever reaches the writer directly: a Flush before any
// write, which sends the headers as they are; a handler, or a middleware
// registered after this one (Echo's Gzip), that writes to or sets the
// status on c.Response().Writer; a Hijack, which hands the connection to
// the handler. So the first WriteHeader or Write decides the renewal, on
// the status it sends (200 for a Write), before anything leaves; a Flush
// first writes the headers through Echo, whose Before hooks include the
// renewal's; and a Hijack, with no headers and no status to judge, drops
// the renewal without asking the store. Once the renewal is decided, every
// call passes through.
//
// wrapWriter gives it the optional interfaces (http.Flusher, http.Pusher)
// of the writer it wraps, and only those, so that a handler's type
// assertions answer the same whether or not a renewal is pending;
// http.Hijacker also when the wrapped writer only unwraps to one. Unwrap
// gives the wrapped writer, for http.ResponseController.
type renewalWriter struct {
	http.ResponseWriter
	res *echo.Response
	r   *renewal
}

// wrapWriter returns w with the optional interfaces of the writer it wraps.
func wrapWriter(w *renewalWriter) http.ResponseWriter {
	_, f := w.ResponseWriter.(http.Flusher)
	// A Hijacker also when one is only reachable through Unwrap, as
	// http.ResponseController reaches it: its Hijack must pass here.
	h := canHijack(w.ResponseWriter)
	_, p := w.ResponseWriter.(http.Pusher)
	fp, hp, pp := flushPart{w}, hijackPart{w}, pushPart{w}
	switch {
	case f && h && p:
		return struct {
			*renewalWriter
			flushPart
			hijackPart
			pushPart
		}{w, fp, hp, pp}
	case f && h:
		return struct {
			*renewalWriter
			flushPart
			hijackPart
		}{w, fp, hp}
	case f && p:
		return struct {
			*renewalWriter
			flushPart
			pushPart
		}{w, fp, pp}
	case h && p:
		return struct {
			*renewalWriter
			hijackPart
			pushPart
		}{w, hp, pp}
	case f:
		return struct {
			*renewalWriter
			flushPart
		}{w, fp}
	case h:
		return struct {
			*renewalWriter
			hijackPart
		}{w, hp}
	case p:
		return struct {
			*renewalWriter
			pushPart
		}{w, pp}
	}
	return w
}

// decide runs the renewal's commit for a response that leaves with status
// without going through Echo's Response.WriteHeader.
func (w *renewalWriter) decide(status int) {
	if w.r.done {
		return
	}
	w.res.Status = status
	w.r.commit()
}

func (w *renewalWriter) WriteHeader(status int) {
	w.decide(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *renewalWriter) Write(b []byte) (int, error) {
	w.decide(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// FlushError is what http.ResponseController, and so Echo's
// Response.Flush, calls. It commits nothing when the writer it wraps
// cannot flush.
func (w *renewalWriter) FlushError() error {
	if !canFlush(w.ResponseWriter) {
		return http.ErrNotSupported
	}
	if !w.res.Committed {
		w.res.WriteHeader(w.res.Status)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// hijack is what http.ResponseController calls (through wrapWriter's
// http.Hijacker, when the wrapped writer has one).
func (w *renewalWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.r.drop(ReasonHijacked)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *renewalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The optional interfaces wrapWriter adds.
type (
	flushPart  struct{ w *renewalWriter }
	hijackPart struct{ w *renewalWriter }
	pushPart   struct{ w *renewalWriter }
)

func (p flushPart) Flush() { _ = p.w.FlushError() }

func (p hijackPart) Hijack() (net.Conn, *bufio.ReadWriter, error) { return p.w.hijack() }

func (p pushPart) Push(target string, opts *http.PushOptions) error {
	return p.w.ResponseWriter.(http.Pusher).Push(target, opts)
}

// unwrapsTo reports whether rw, or a writer it unwraps to, satisfies is,
// following Unwrap as http.ResponseController does.
func unwrapsTo(rw http.ResponseWriter, is func(http.ResponseWriter) bool) bool {
	for rw != nil {
		if is(rw) {
			return true
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		rw = u.Unwrap()
	}
	return false
}

// canHijack and canFlush report what http.ResponseController would find.
func canHijack(rw http.ResponseWriter) bool {
	return unwrapsTo(rw, func(w http.ResponseWriter) bool { _, ok := w.(http.Hijacker); return ok })
}

func canFlush(rw http.ResponseWriter) bool {
	return unwrapsTo(rw, func(w http.ResponseWriter) bool {
		switch w.(type) {
		case interface{ FlushError() error }, http.Flusher:
			return true
		}
		return false
	})
}

// renewedHere reports whether the store granted a renewal of v's session,
// asked with v itself, less than MinRenewInterval before now (in either
// direction, as store.Refused). It knows only of renewals this process
// made with a token it still holds in the verified-token cache, and only
// with the default session key, which depends on the claims alone.
func (m *mw) renewedHere(v *verified, now time.Time) bool {
	at := v.renewedAt.Load()
	return at != 0 && m.cfg.SessionKey == nil && store.Refused(time.Unix(0, at), now, m.settings.MinRenewInterval)
}

// skipped reports whether path is one of the renewal skip paths, or below
// one at a "/" boundary, with or without the mount prefix.
func (m *mw) skipped(path string) bool {
	if len(m.skipPaths) == 0 {
		return false
	}
	if m.mount != "" && underPrefix(path, m.mount) {
		if rest := path[len(m.mount):]; rest != "" && m.matchSkip(rest) {
			return true
		}
	}
	return m.matchSkip(path)
}

func (m *mw) matchSkip(path string) bool {
	for _, p := range m.skipPaths {
		if underPrefix(path, p) {
			return true
		}
	}
	return false
}

// underPrefix reports whether path is prefix or lies below it at a "/".
func underPrefix(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/' || strings.HasSuffix(prefix, "/")
}

// renewal is a renewal decided before the handler ran and committed, or
// not, when the response status is known.
type renewal struct {
	m    *mw
	c    echo.Context
	v    *verified
	now  time.Time
	exp  time.Time
	done bool
}

// drop gives the renewal up before the store is asked, for reason.
func (r *renewal) drop(reason Reason) {
	if r.done {
		return
	}
	r.done = true
	r.m.observe(r.c, r.v, RenewalEvent{Reason: reason})
}

// commit runs just before the response header is written: only a
// response below 400 consumes the session's renewal slot and gets a token.
func (r *renewal) commit() {
	if r.done {
		return
	}
	m, c, v := r.m, r.c, r.v
	res := c.Response()
	if res.Status >= http.StatusBadRequest {
		r.drop(ReasonStatus)
		return
	}
	r.done = true
	key := m.sessionKey(c, v)
	ok, err := m.cfg.Store.Allow(c.Request().Context(), key, r.now, m.settings.MinRenewInterval)
	if err != nil {
		m.observe(c, v, RenewalEvent{Reason: ReasonStoreError, Session: key, Err: err})
		return
	}
	if !ok {
		m.observe(c, v, RenewalEvent{Reason: ReasonRateLimited, Session: key})
		return
	}
	// The session's slot is taken from here on, whatever happens next.
	v.renewedAt.Store(r.now.UnixNano())
	var token string
	if m.cfg.BeforeRenew == nil {
		// The claims go from v straight to JSON, without a map.
		token, err = m.issuer.signRenewal(v, r.now, r.exp)
	} else {
		claims := renewedClaims(v, r.now, r.exp)
		if err := m.cfg.BeforeRenew(c, claims); err != nil {
			m.observe(c, v, RenewalEvent{Reason: ReasonRefused, Session: key, Err: err})
			return
		}
		token, err = m.issuer.sign(claims)
	}
	if err != nil {
		m.observe(c, v, RenewalEvent{Reason: ReasonSignError, Session: key, Err: err})
		return
	}
	h := res.Header()
	// The three values share one allocation; each slice has a capacity of
	// one, so appending to one never writes into the next. The names are
	// canonical, so h[name] = ... is h.Set.
	vals := []string{token, "no-store", echo.HeaderAuthorization}
	h[HeaderNewToken] = vals[0:1:1]
	h[echo.HeaderCacheControl] = vals[1:2:2]
	if len(h[echo.HeaderVary]) == 0 {
		h[echo.HeaderVary] = vals[2:3:3]
	} else {
		addToList(h, echo.HeaderVary, echo.HeaderAuthorization)
	}
	if c.Request().Header.Get(echo.HeaderOrigin) != "" {
		addToList(h, echo.HeaderAccessControlExposeHeaders, HeaderNewToken)
	}
	m.observe(c, v, RenewalEvent{Renewed: true, Session: key, NewExpiresAt: time.Unix(r.exp.Unix(), 0)})
}

// addToList adds item to the comma-separated header name, unless present.
func addToList(h http.Header, name, item string) {
	values := h.Values(name)
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), item) {
				return
			}
		}
	}
	if len(values) == 0 {
		h.Set(name, item)
		return
	}
	h[textproto.CanonicalMIMEHeaderKey(name)] = []string{strings.Join(values, ", ") + ", " + item}
}

// sessionKey returns the fixed-length digest that identifies v's session in
// the store: no raw claim or token ever reaches it.
func (m *mw) sessionKey(c echo.Context, v *verified) string {
	if m.cfg.SessionKey != nil {
		return digestKey("key\x00" + m.cfg.SessionKey(c, v.claims))
	}
	if p := v.session.Load(); p != nil {
		return *p
	}
	var id string
	switch {
	case v.claims.SessionID != "":
		id = "sid\x00" + v.claims.SessionID
	case v.claims.ID != "":
		id = "jti\x00" + v.claims.ID
	default:
		// The signed part, not the whole token: one token can be sent
		// with another, equally valid signature (an ECDSA signature's
		// second form), and must not become a second session.
		id = "tok\x00" + v.raw[:strings.LastIndexByte(v.raw, '.')]
	}
	key := digestKey(id)
	v.session.Store(&key)
	return key
}

// digestKey hashes a session identifier to the 32 hex digits the store
// sees.
func digestKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// fail answers a request whose token is missing or invalid: through
// Config.ErrorHandler when set, else with echo-jwt's status and messages
// (missing: 401 "missing or malformed jwt"; too large or invalid: 401
// "invalid or expired jwt"), err as the HTTPError's Internal, and a
// WWW-Authenticate header.
func (m *mw) fail(c echo.Context, next echo.HandlerFunc, err error) error {
	if m.cfg.ErrorHandler != nil {
		if herr := m.cfg.ErrorHandler(c, err); herr != nil || !m.cfg.ContinueOnIgnoredError {
			return herr
		}
		return next(c)
	}
	// The header is set by its canonical name, which h.Set would compute,
	// with an allocation, on every rejected request.
	h := c.Response().Header()
	if errors.Is(err, ErrTokenMissing) {
		h[headerWWWAuthenticate] = []string{"Bearer"}
		return &echo.HTTPError{Code: http.StatusUnauthorized, Message: "missing or malformed jwt", Internal: err}
	}
	h[headerWWWAuthenticate] = []string{`Bearer error="invalid_token"`}
	return &echo.HTTPError{Code: http.StatusUnauthorized, Message: "invalid or expired jwt", Internal: err}
}

// headerWWWAuthenticate is echo.HeaderWWWAuthenticate in canonical form.
var headerWWWAuthenticate = textproto.CanonicalMIMEHeaderKey(echo.HeaderWWWAuthenticate)

// invalidToken is the error of a token that did not verify: it is
// ErrTokenInvalid (errors.Is) and wraps the reason, as
// fmt.Errorf("%w: %w", ErrTokenInvalid, reason) would, with one allocation
// instead of four and the message built only when asked for.
type invalidToken struct{ reason error }

func (e *invalidToken) Error() string { return ErrTokenInvalid.Error() + ": " + e.reason.Error() }

func (e *invalidToken) Is(target error) bool { return target == ErrTokenInvalid }

func (e *invalidToken) Unwrap() error { return e.reason }
