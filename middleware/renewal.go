package middleware

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// candidate decides, before the handler runs, whether this request should
// renew its token if the response succeeds. It returns nil (after telling
// the observer why) when it should not.
func (m *mw) candidate(c echo.Context, v *token.Verified, now time.Time) *renewal {
	s := &m.settings
	if !s.AutoRenew {
		m.observe(c, v, RenewalEvent{Reason: ReasonDisabled})
		return nil
	}
	remaining := v.ExpiresAt().Sub(now)
	if float64(remaining) >= m.threshold*float64(v.Lifetime()) {
		m.observe(c, v, RenewalEvent{Reason: ReasonThreshold})
		return nil
	}
	if m.skipped(c.Request().URL.Path) {
		m.observe(c, v, RenewalEvent{Reason: ReasonSkippedPath})
		return nil
	}
	exp, extends := m.issuer.RenewalExpiry(v, now)
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
	if !m.fits(v, now, exp) {
		// The renewal would be refused by this very middleware: do not
		// spend the session's slot on it.
		m.observe(c, v, RenewalEvent{Reason: ReasonTooLarge})
		return nil
	}
	return &renewal{m: m, c: c, v: v, now: now, exp: exp}
}

// fits reports whether v's renewal at now, with expiry exp, is no larger
// than MaxTokenSize. Most tokens are far enough below the limit to need
// no computation.
func (m *mw) fits(v *token.Verified, now, exp time.Time) bool {
	if len(v.Raw())+m.issuer.HeadroomFor() <= m.cfg.MaxTokenSize {
		return true
	}
	n, err := m.issuer.RenewedSize(v, now, exp)
	return err == nil && n <= m.cfg.MaxTokenSize
}

// renewedHere reports whether the store granted a renewal of v's session,
// asked with v itself, less than MinRenewInterval before now (in either
// direction, as store.Refused). It knows only of renewals this process
// made with a token it still holds in the verified-token cache, and only
// with the default session key, which depends on the claims alone.
func (m *mw) renewedHere(v *token.Verified, now time.Time) bool {
	at := v.RenewedAt()
	return at != 0 && m.cfg.SessionKey == nil && store.Refused(time.Unix(0, at), now, m.settings.MinRenewInterval)
}

// sessionKey returns the fixed-length digest that identifies v's session in
// the store: no raw claim or token ever reaches it.
func (m *mw) sessionKey(c echo.Context, v *token.Verified) string {
	if m.cfg.SessionKey != nil {
		sum := sha256.Sum256([]byte("key\x00" + m.cfg.SessionKey(c, v.Claims())))
		return hex.EncodeToString(sum[:16])
	}
	return v.SessionKey()
}

// renewal is a renewal decided before the handler ran and committed, or
// not, when the response status is known.
type renewal struct {
	m    *mw
	c    echo.Context
	v    *token.Verified
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

// commit runs just before the response header is written: only a final
// response below 400 consumes the session's renewal slot and gets a token.
func (r *renewal) commit() {
	if r.done {
		return
	}
	m, c, v := r.m, r.c, r.v
	res := c.Response()
	if res.Status >= 100 && res.Status < 200 && res.Status != http.StatusSwitchingProtocols {
		return // informational: wait for the final status
	}
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
	v.MarkRenewed(r.now)
	var tok string
	exp := r.exp
	if m.cfg.BeforeRenew == nil {
		tok, err = m.issuer.SignRenewal(v, r.now, r.exp)
	} else {
		var claims jwt.MapClaims
		if claims, err = m.issuer.RenewalClaims(v, r.now, r.exp); err == nil {
			if err := m.cfg.BeforeRenew(c, claims); err != nil {
				m.observe(c, v, RenewalEvent{Reason: ReasonRefused, Session: key, Err: err})
				return
			}
			tok, exp, err = m.issuer.SignRenewalClaims(v, claims, r.now)
		}
	}
	if err != nil {
		m.observe(c, v, RenewalEvent{Reason: ReasonSignError, Session: key, Err: err})
		return
	}
	h := res.Header()
	// The three values share one allocation; each slice has a capacity of
	// one, so appending to one never writes into the next. The names are
	// canonical, so h[name] = ... is h.Set.
	vals := []string{tok, "no-store", echo.HeaderAuthorization}
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
	m.observe(c, v, RenewalEvent{Renewed: true, Session: key, NewExpiresAt: time.Unix(exp.Unix(), 0)})
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
