package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	slidingprom "github.com/slidingjwt/slidingjwt/metrics/prometheus"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
)

// account is one AUTH_ACCOUNTS entry; the password is kept as a digest.
type account struct {
	password [32]byte
	role     string
}

// options is everything the demo reads from its environment.
type options struct {
	settings config.Settings
	addr     string
	pageAddr string // PAGE_ADDR: a second listener that serves only the page
	accounts map[string]account
	origins  []string
}

// defaultRenewSkipPaths applies when TOKEN_RENEW_SKIP_PATHS is unset: the
// page polls /api/status in the background, and a poll must never keep an
// idle session alive.
const defaultRenewSkipPaths = "/api/status"

func loadOptions(lookup func(string) (string, bool), logger *slog.Logger) (options, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	o := options{addr: get("ADDR"), accounts: map[string]account{}}
	if o.addr == "" {
		o.addr = "localhost:8080"
	}
	for _, entry := range strings.Split(get("AUTH_ACCOUNTS"), ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return o, fmt.Errorf("AUTH_ACCOUNTS: entry %q is not user:pass or user:pass:role", middleware.SanitizeSubject(parts[0]))
		}
		acc := account{password: sha256.Sum256([]byte(parts[1])), role: config.RoleUser}
		if len(parts) == 3 && parts[2] != "" {
			acc.role = parts[2]
		}
		o.accounts[parts[0]] = acc
	}
	for _, origin := range strings.Split(get("CORS_ORIGINS"), ",") {
		if origin = strings.TrimSpace(origin); origin != "" {
			o.origins = append(o.origins, origin)
		}
	}
	o.pageAddr = get("PAGE_ADDR")
	if o.pageAddr != "" && len(o.origins) == 0 {
		return o, fmt.Errorf("PAGE_ADDR=%q needs CORS_ORIGINS to list the page's origin (e.g. http://localhost:8081), or the page cannot call the API", o.pageAddr)
	}

	env := func(name string) (string, bool) {
		v, ok := lookup(name)
		if name == config.EnvRenewSkipPaths && strings.TrimSpace(v) == "" {
			return defaultRenewSkipPaths, true
		}
		return v, ok
	}
	// Only an HMAC algorithm signs with TOKEN_SECRET: the others sign with
	// TOKEN_PRIVATE_KEY_FILE, which config and the issuer check, and must
	// not be handed a secret.
	alg := get(config.EnvAlgorithm)
	if alg == "" {
		alg = config.Default().Algorithm
	}
	if secret, ok := lookup(config.EnvSecret); config.IsHMAC(alg) && (!ok || secret == "") {
		if len(o.accounts) > 0 {
			return o, fmt.Errorf("%s is required for %s=%s when AUTH_ACCOUNTS is set: without it anyone could forge a login", config.EnvSecret, config.EnvAlgorithm, alg)
		}
		logger.Warn("TOKEN_SECRET is not set: guest mode with a random secret; tokens will not survive a restart", "algorithm", alg)
		generated, withSkips := randomSecret(), env
		env = func(name string) (string, bool) {
			if name == config.EnvSecret {
				return generated, true
			}
			return withSkips(name)
		}
	}
	s, err := config.FromLookup(env)
	if err != nil {
		return o, err
	}
	if s.UsesCookie() {
		// The demo serves plain HTTP on a developer's machine: unless told
		// otherwise, its cookie is not Secure (so no __Host- name), which
		// only plain-HTTP development may do. Behind HTTPS, set
		// TOKEN_COOKIE_SECURE=true and keep the default name.
		if _, set := lookup(config.EnvCookieSecure); !set && s.Cookie.Name == "" {
			s.Cookie.Insecure, s.Cookie.Name = true, "slidingjwt_session"
			logger.Warn("cookie delivery over plain HTTP: the session cookie is not Secure; set TOKEN_COOKIE_SECURE=true behind HTTPS", "cookie", s.Cookie.Name)
		}
		// The origins allowed to call the API are the ones trusted to send
		// it unsafe requests with the cookie.
		if len(s.TrustedOrigins) == 0 {
			s.TrustedOrigins = o.origins
		}
		if err := s.Validate(); err != nil {
			return o, fmt.Errorf("CORS_ORIGINS: %w", err)
		}
	}
	o.settings = s
	return o, nil
}

// newServer wires the demo's routes. now is the clock that tokens are
// issued, checked and renewed by; nil means time.Now. The returned func
// stops the revocation list; call it before closing st.
func newServer(o options, st store.Store, logger *slog.Logger, now func() time.Time) (*echo.Echo, func(), error) {
	if now == nil {
		now = time.Now
	}
	issuer, err := middleware.NewIssuer(o.settings, nil)
	if err != nil {
		return nil, nil, err
	}
	// Sign-out: every store of this module also keeps revocations. The
	// list loads them before the first request that needs it; until then
	// those requests get 503.
	var list *revocation.List
	var signOut *revocation.SignOut
	closeList := func() {}
	if rev, ok := st.(store.Revoker); ok {
		// The list's own clock is the real one: it judges how fresh its
		// copy is by the catch-up reads it made. Revocations carry the
		// demo's clock (SignOut below, and each request's check).
		list, err = revocation.New(context.Background(), revocation.Options{
			Backend: rev,
			OnError: func(err error) { logger.Warn("revocation list", "error", err.Error()) },
		})
		if err != nil {
			return nil, nil, err
		}
		closeList = func() { _ = list.Close() }
		if signOut, err = revocation.NewSignOut(list, o.settings, &revocation.SignOutOptions{Now: now}); err != nil {
			closeList()
			return nil, nil, err
		}
	}
	// How tokens travel (TOKEN_DELIVERY): in cookie delivery /login sets
	// the session cookie and the sign-out routes delete it.
	delivery, err := engine.NewDelivery(o.settings, issuer.Keys(), now, list)
	if err != nil {
		closeList()
		return nil, nil, err
	}
	metrics, err := newMetrics(st)
	if err != nil {
		closeList()
		return nil, nil, err
	}
	protect, err := middleware.Config{
		Settings:    o.settings,
		Store:       st,
		Keys:        issuer.Keys(),
		Now:         now,
		OnRenewal:   middleware.LogRenewals(logger),
		Observer:    metrics.observer,
		Revocations: list,
	}.ToMiddleware()
	if err != nil {
		closeList()
		return nil, nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	if len(o.origins) > 0 {
		e.Use(echomw.CORSWithConfig(echomw.CORSConfig{
			AllowOrigins: o.origins,
			// The client package marks its polls with HeaderBackground,
			// and in cookie delivery asks for the session's expiry with
			// HeaderSessionExpires; LightRAG's web UI sends
			// X-Skip-Interceptor on its silent guest refresh.
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, engine.HeaderBackground, engine.HeaderSessionExpires, "X-Skip-Interceptor"},
			ExposeHeaders: []string{middleware.HeaderNewToken, engine.HeaderSessionExpires},
			// In cookie delivery the page calls with credentials (the
			// cookie); the cross-origin check of the middleware trusts
			// these same origins for unsafe requests.
			AllowCredentials: delivery.UsesCookie(),
		}))
	}
	d := &demo{opts: o, issuer: issuer, now: now, delivery: delivery}
	e.GET("/health", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.POST("/login", d.login)
	e.GET("/auth-status", d.authStatus)
	// Outside the middleware: scrapes and the page's panel need no token
	// and never renew one.
	e.GET("/metrics", echo.WrapHandler(metrics.handler))
	e.GET("/metrics/summary", metrics.summary)

	// LightRAG's web UI calls its API at the root; its document list
	// answers here too, behind the middleware, so that the UI's own API
	// module can be pointed at the demo (docs/client.md).
	e.GET("/documents", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"statuses": map[string]any{}})
	}, protect)
	api := e.Group("/api", protect)
	api.GET("/me", func(c echo.Context) error { return c.JSON(http.StatusOK, middleware.ClaimsFrom(c).Map()) })
	api.GET("/status", func(c echo.Context) error {
		cl := middleware.ClaimsFrom(c)
		return c.JSON(http.StatusOK, map[string]any{"status": "ok", "exp": cl.ExpiresAt.Unix()})
	})
	if signOut != nil {
		// POST /api/logout ends the caller's session on every instance;
		// POST /api/logout-all every session of the caller's subject,
		// except for a guest, whose subject every guest shares (403). A
		// full list, or a store that is down, is a 503: try again.
		api.POST("/logout", func(c echo.Context) error {
			return d.signedOut(signOut.Session(c.Request().Context(), middleware.ClaimsFrom(c)), c)
		})
		api.POST("/logout-all", func(c echo.Context) error {
			return d.signedOut(signOut.Everywhere(c.Request().Context(), middleware.ClaimsFrom(c)), c)
		})
	}
	api.GET("/admin", func(c echo.Context) error {
		if middleware.ClaimsFrom(c).Role != "admin" {
			return echo.NewHTTPError(http.StatusForbidden, "admins only")
		}
		return c.JSON(http.StatusOK, map[string]string{"message": "welcome, admin"})
	})
	registerPage(e, o.settings.Delivery)
	return e, closeList, nil
}

// signedOut answers a sign-out: 204 (deleting the session cookie in
// cookie delivery), or 503 when it could not be recorded.
func (d *demo) signedOut(err error, c echo.Context) error {
	if errors.Is(err, revocation.ErrSharedSubject) {
		return echo.NewHTTPError(http.StatusForbidden, "guests share one account: sign out this session instead").SetInternal(err)
	}
	if err != nil {
		msg := "could not sign out, try again"
		if errors.Is(err, store.ErrRevocationsFull) {
			msg = "too many sessions signed out at once, try again later"
		}
		return echo.NewHTTPError(http.StatusServiceUnavailable, msg).SetInternal(err)
	}
	d.delivery.ClearCookie(c.Response().Header())
	return c.NoContent(http.StatusNoContent)
}

type demo struct {
	opts   options
	issuer *middleware.Issuer
	now    func() time.Time // the middleware's clock too
	// delivery is how tokens travel: in cookie delivery no answer carries
	// a token; /login sets the session cookie.
	delivery *engine.Delivery
}

// issue mints a token for a new session at the demo's clock.
func (d *demo) issue(sub, role string, extra map[string]any) (string, error) {
	tok, _, err := d.issuer.IssueAt(d.now(), sub, role, extra)
	return tok, err
}

type tokenResponse struct {
	AuthConfigured *bool  `json:"auth_configured,omitempty"`
	AccessToken    string `json:"access_token,omitempty"`
	TokenType      string `json:"token_type,omitempty"`
	AuthMode       string `json:"auth_mode"`
	// TokenDelivery is "cookie" in cookie delivery (no access_token then:
	// the token is in the HttpOnly session cookie).
	TokenDelivery string `json:"token_delivery,omitempty"`
}

// answerToken answers a sign-in (password or guest) with tok: in the body
// in header delivery; in cookie delivery in the session cookie only, which
// SetSessionCookie refuses to set for anything but a same-origin (or
// trusted) POST, or for a guest over a valid session (409).
func (d *demo) answerToken(c echo.Context, tok, mode string) error {
	if !d.delivery.UsesCookie() {
		return c.JSON(http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "bearer", AuthMode: mode})
	}
	if err := middleware.SetSessionCookie(c, d.delivery, tok); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tokenResponse{AuthMode: mode, TokenDelivery: config.DeliveryCookie})
}

func (d *demo) guestMode() bool { return len(d.opts.accounts) == 0 }

// guestToken mints a token for a new guest session: each guest has its own
// sid, so guests never share a renewal slot.
func (d *demo) guestToken() (string, error) {
	return d.issue("guest", config.RoleGuest, map[string]any{"metadata": map[string]any{"auth_mode": "disabled"}})
}

func (d *demo) login(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if d.guestMode() {
		tok, err := d.guestToken()
		if err != nil {
			return err
		}
		return d.answerToken(c, tok, "disabled")
	}
	var in struct {
		Username string `json:"username" form:"username"`
		Password string `json:"password" form:"password"`
	}
	if err := c.Bind(&in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "send username and password as JSON or a form")
	}
	acc, known := d.opts.accounts[in.Username]
	given := sha256.Sum256([]byte(in.Password))
	// Compare even for unknown users, so timing does not reveal names.
	match := subtle.ConstantTimeCompare(given[:], acc.password[:]) == 1
	if !known || !match {
		return echo.NewHTTPError(http.StatusUnauthorized, "incorrect username or password")
	}
	tok, err := d.issue(in.Username, acc.role, map[string]any{"metadata": map[string]any{"auth_mode": "enabled"}})
	if err != nil {
		return err
	}
	return d.answerToken(c, tok, "enabled")
}

func (d *demo) authStatus(c echo.Context) error {
	configured := !d.guestMode()
	if configured {
		return c.JSON(http.StatusOK, tokenResponse{AuthConfigured: &configured, AuthMode: "enabled", TokenDelivery: d.cookieDelivery()})
	}
	if d.delivery.UsesCookie() {
		// A GET never sets the session cookie: the page POSTs /login for
		// a guest session.
		return c.JSON(http.StatusOK, tokenResponse{AuthConfigured: &configured, AuthMode: "disabled", TokenDelivery: config.DeliveryCookie})
	}
	tok, err := d.guestToken()
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, tokenResponse{AuthConfigured: &configured, AccessToken: tok, TokenType: "bearer", AuthMode: "disabled"})
}

// cookieDelivery is "cookie" in cookie delivery, else "" (left out of the
// answers).
func (d *demo) cookieDelivery() string {
	if d.delivery.UsesCookie() {
		return config.DeliveryCookie
	}
	return ""
}

// demoMetrics are the demo's Prometheus metrics: the slidingjwt counters
// (fed by the middleware's Observer) plus the Go runtime's and the
// process's, served at /metrics; and a JSON summary of the slidingjwt
// counters for the page's panel.
type demoMetrics struct {
	observer *slidingprom.Metrics
	handler  http.Handler         // GET /metrics
	own      *prometheus.Registry // the slidingjwt metrics alone, for the summary
}

// newMetrics builds the demo's metrics on registries of its own (never the
// global one), with the series of st's backend there from the start.
func newMetrics(st store.Store) (*demoMetrics, error) {
	var opts slidingprom.Options
	if n, ok := st.(store.Named); ok {
		opts.Backends = []string{n.Name()}
	}
	m, err := slidingprom.New(&opts)
	if err != nil {
		return nil, err
	}
	all, own := prometheus.NewRegistry(), prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := all.Register(c); err != nil {
			return nil, err
		}
	}
	if err := own.Register(m); err != nil {
		return nil, err
	}
	return &demoMetrics{
		observer: m,
		handler:  promhttp.HandlerFor(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
		own:      own,
	}, nil
}

// metricsSummary is the answer of GET /metrics/summary: the slidingjwt
// counters of this instance (all its clients, not only the caller), by
// label value.
type metricsSummary struct {
	// Requests counts requests by outcome: verified, cache_hit, and the
	// refusals (missing, invalid, too_large, revoked, not_ready).
	Requests map[string]uint64 `json:"requests"`
	// Renewals counts renewal decisions by result: renewed, or the reason
	// there was none (threshold, rate_limited, skipped_path, ...).
	Renewals map[string]uint64 `json:"renewals"`
	// StoreCalls and StoreErrors count the calls to the renewal store.
	StoreCalls  uint64 `json:"store_calls"`
	StoreErrors uint64 `json:"store_errors"`
}

// summary answers GET /metrics/summary from the same counters /metrics
// serves.
func (m *demoMetrics) summary(c echo.Context) error {
	families, err := m.own.Gather()
	if err != nil {
		return err
	}
	out := metricsSummary{Requests: map[string]uint64{}, Renewals: map[string]uint64{}}
	for _, mf := range families {
		for _, s := range mf.GetMetric() {
			label := ""
			if l := s.GetLabel(); len(l) > 0 {
				label = l[0].GetValue()
			}
			switch mf.GetName() {
			case "slidingjwt_requests_total":
				out.Requests[label] = uint64(s.GetCounter().GetValue())
			case "slidingjwt_renewals_total":
				out.Renewals[label] = uint64(s.GetCounter().GetValue())
			case "slidingjwt_store_call_duration_seconds":
				out.StoreCalls += s.GetHistogram().GetSampleCount()
			case "slidingjwt_store_call_errors_total":
				out.StoreErrors += uint64(s.GetCounter().GetValue())
			}
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, out)
}
