package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// begin decides, before the handler runs, whether the request c, whose
// token v verified at now, should renew its token if the response
// succeeds. It returns nil, after telling OnRenewal why, when it should
// not; otherwise the returned Pending decides when the status is known
// (see Pending.Writer and Pending.Decide).
func (e *Engine[C]) begin(c C, v *token.Verified, now time.Time, byCookie bool) *Pending[C] {
	s := &e.settings
	if !s.AutoRenew {
		e.observe(c, v, Event{Reason: ReasonDisabled})
		return nil
	}
	remaining := v.ExpiresAt().Sub(now)
	if float64(remaining) >= s.RenewThreshold*float64(ops.Lifetime(v)) {
		e.observe(c, v, Event{Reason: ReasonThreshold})
		return nil
	}
	r := e.cfg.Request(c)
	if e.skipped(r.URL.Path) {
		e.observe(c, v, Event{Reason: ReasonSkippedPath})
		return nil
	}
	if bg := r.Header[HeaderBackground]; len(bg) > 0 && bg[0] != "" {
		e.observe(c, v, Event{Reason: ReasonBackground})
		return nil
	}
	if e.cfg.Revocations != nil && e.cfg.Revocations.Stale() {
		// Revocations made elsewhere meanwhile are unknown here: a
		// renewal could outlive one.
		e.observe(c, v, Event{Reason: ReasonRevocationsStale})
		return nil
	}
	exp, extends := ops.RenewalExpiry(e.issuer, v, now)
	if !extends {
		e.observe(c, v, Event{Reason: ReasonSessionCap})
		return nil
	}
	if e.renewedHere(v, now) {
		// The store would refuse: this process recorded the session's
		// renewal, with this very token, less than an interval ago. Its
		// concurrent requests, and a client that keeps the old token,
		// cost neither a store call nor a deferred commit.
		ev := Event{Reason: ReasonRateLimited}
		if e.cfg.OnRenewal != nil {
			ev.Session = e.sessionKey(c, v)
		}
		e.observe(c, v, ev)
		return nil
	}
	if !e.fits(v, now, exp, byCookie) {
		// The renewal would be refused by this very engine, or dropped by
		// the browser: do not spend the session's slot on it.
		e.observe(c, v, Event{Reason: ReasonTooLarge})
		return nil
	}
	return &Pending[C]{e: e, c: c, v: v, now: now, exp: exp, byCookie: byCookie}
}

// fits reports whether v's renewal at now, with expiry exp, is no larger
// than MaxTokenSize and, when it goes in the cookie, leaves a Set-Cookie
// no longer than MaxCookieSize. Most tokens are far enough below the limit
// to need no computation.
func (e *Engine[C]) fits(v *token.Verified, now, exp time.Time, byCookie bool) bool {
	limit := e.maxSize
	if byCookie {
		limit = min(limit, e.delivery.tokenRoom)
	}
	if len(v.Raw())+ops.Headroom(e.issuer) <= limit {
		return true
	}
	n, err := ops.RenewedSize(e.issuer, v, now, exp)
	return err == nil && n <= limit
}

// renewedHere reports whether the store granted a renewal of v's session,
// asked with v itself, less than MinRenewInterval before now (in either
// direction, as store.Refused). It knows only of renewals this process
// made with a token it still holds in the verified-token cache, and only
// with the default session key, which depends on the claims alone.
func (e *Engine[C]) renewedHere(v *token.Verified, now time.Time) bool {
	at := ops.RenewedAt(v)
	return at != 0 && e.cfg.SessionKey == nil && store.Refused(time.Unix(0, at), now, e.settings.MinRenewInterval)
}

// sessionKey returns the fixed-length digest that identifies v's session in
// the store: no raw claim or token ever reaches it.
func (e *Engine[C]) sessionKey(c C, v *token.Verified) string {
	if e.cfg.SessionKey != nil {
		sum := sha256.Sum256([]byte("key\x00" + e.cfg.SessionKey(c, v.Claims())))
		return hex.EncodeToString(sum[:16])
	}
	return ops.SessionKey(v)
}

// Pending is a renewal decided before the handler ran and committed, or
// not, when the response status is known. It belongs to one request and
// is not safe for concurrent use.
type Pending[C any] struct {
	header http.Header // of the first writer Writer wrapped
	e      *Engine[C]
	c      C
	v      *token.Verified
	now    time.Time
	exp    time.Time
	done   bool
	// byCookie: the token came in the session cookie, so its renewal
	// goes there (Set-Cookie) rather than in X-New-Token.
	byCookie bool
}

// WriterHooks let a front door keep its own response type in step with
// what the renewal writer sees. Both are optional.
type WriterHooks struct {
	// BeforeFlush runs when the handler flushes before anything was
	// written: it should write the headers through the front door's
	// response type (Echo's Response.WriteHeader), which reaches the
	// renewal writer's WriteHeader. Only a response type whose writes pass
	// through this writer may be used: writing one below it sends the
	// headers before the renewal is decided, and the store's slot is spent
	// on a token the client never gets. Without it, the writer writes 200
	// through itself.
	BeforeFlush func()
	// OnStatus is told the status the renewal is decided on.
	OnStatus func(status int)
}

// Writer returns w wrapped so that the renewal is decided where the
// response's headers leave: on the first WriteHeader with a final status,
// the first Write (200), or a Flush before either; a Hijack drops it. The
// returned writer has exactly the optional interfaces of w (http.Flusher,
// http.Hijacker, http.Pusher) and unwraps to it, for
// http.ResponseController.
//
// A door may wrap more than one writer of a response with the same Pending
// (the Echo v5 door wraps the context's writer and the one inside
// echo.Response): the first final status, write, flush or hijack any of
// them sees decides; the others then pass everything through.
func (p *Pending[C]) Writer(w http.ResponseWriter, hooks WriterHooks) http.ResponseWriter {
	if p.header == nil {
		p.header = w.Header()
	}
	return wrapWriter(&renewalWriter[C]{ResponseWriter: w, p: p, hooks: hooks})
}

// Done reports whether the renewal was decided (committed or dropped).
func (p *Pending[C]) Done() bool { return p.done }

// drop gives the renewal up before the store is asked, for reason.
func (p *Pending[C]) drop(reason Reason) {
	if p.done {
		return
	}
	p.done = true
	p.e.observe(p.c, p.v, Event{Reason: reason})
}

// Decide decides the renewal for a response with status whose headers are
// h, before they leave: only a final status below 400 asks the store for
// the session's slot and, when it is granted, gets the new token in h. An
// informational status (1xx but 101) decides nothing. A front door calls
// it for a handler that wrote nothing (status 200); the writer calls it
// for everything else. Later calls do nothing.
func (p *Pending[C]) Decide(status int, h http.Header) {
	if p.done || informational(status) {
		return
	}
	if status >= http.StatusBadRequest {
		p.drop(ReasonStatus)
		return
	}
	p.done = true
	e, c, v := p.e, p.c, p.v
	r := e.cfg.Request(c)
	if e.cfg.Revocations != nil {
		switch e.cfg.Revocations.Check(ops.SessionRevKey(v), ops.SubjectRevKey(v), ops.AuthTime(v), p.now) {
		case revocation.Revoked:
			// Revoked while the handler ran (its own /logout, say).
			e.observe(c, v, Event{Reason: ReasonRevoked})
			return
		case revocation.NotReady:
			e.observe(c, v, Event{Reason: ReasonRevocationsStale})
			return
		}
		if e.cfg.Revocations.Stale() {
			// It went stale while the handler ran: as in begin.
			e.observe(c, v, Event{Reason: ReasonRevocationsStale})
			return
		}
	}
	key := e.sessionKey(c, v)
	var start time.Time
	if e.cfg.Observer != nil {
		start = time.Now()
	}
	ok, err := e.cfg.Store.Allow(r.Context(), key, p.now, e.settings.MinRenewInterval)
	if e.cfg.Observer != nil {
		e.cfg.Observer.StoreCall(r, StoreCall{Op: "allow", Backend: e.storeName, Start: start, Duration: time.Since(start), Err: err})
	}
	if err != nil {
		e.observe(c, v, Event{Reason: ReasonStoreError, Session: key, Err: err})
		return
	}
	if !ok {
		e.observe(c, v, Event{Reason: ReasonRateLimited, Session: key})
		return
	}
	// The session's slot is taken from here on, whatever happens next.
	ops.MarkRenewed(v, p.now)
	var tok string
	exp := p.exp
	if e.cfg.BeforeRenew == nil {
		tok, err = ops.SignRenewal(e.issuer, v, p.now, p.exp)
	} else {
		var claims jwt.MapClaims
		if claims, err = ops.RenewalClaims(e.issuer, v, p.now, p.exp); err == nil {
			if err := e.cfg.BeforeRenew(c, claims); err != nil {
				e.observe(c, v, Event{Reason: ReasonRefused, Session: key, Err: err})
				return
			}
			tok, exp, err = ops.SignRenewalClaims(e.issuer, v, claims, p.now)
		}
	}
	if err != nil {
		e.observe(c, v, Event{Reason: ReasonSignError, Session: key, Err: err})
		return
	}
	if p.byCookie {
		sc, expText := e.delivery.setCookie(tok, exp, p.now)
		if len(sc) > MaxCookieSize {
			// BeforeRenew made it larger than begin foresaw.
			e.observe(c, v, Event{Reason: ReasonTooLarge, Session: key})
			return
		}
		setRenewal(h, sc, expText)
		exposeExpires(h, r)
		e.observe(c, v, Event{Renewed: true, Session: key, NewExpiresAt: time.Unix(exp.Unix(), 0)})
		return
	}
	// The three values share one allocation; each slice has a capacity of
	// one, so appending to one never writes into the next. The names are
	// canonical, so h[name] = ... is h.Set.
	vals := []string{tok, "no-store", headerAuthorization}
	h[HeaderNewToken] = vals[0:1:1]
	h[headerCacheControl] = vals[1:2:2]
	if len(h[headerVary]) == 0 {
		h[headerVary] = vals[2:3:3]
	} else {
		addToList(h, headerVary, headerAuthorization)
	}
	if r.Header.Get("Origin") != "" {
		addToList(h, headerExposeHeaders, HeaderNewToken)
	}
	e.observe(c, v, Event{Renewed: true, Session: key, NewExpiresAt: time.Unix(exp.Unix(), 0)})
}

// informational reports whether status is a 1xx response that precedes
// the final one (all but 101 Switching Protocols).
func informational(status int) bool {
	return status >= 100 && status < 200 && status != http.StatusSwitchingProtocols
}

// Canonical header names.
const (
	headerAuthorization = "Authorization"
	headerCacheControl  = "Cache-Control"
	headerVary          = "Vary"
	headerExposeHeaders = "Access-Control-Expose-Headers"
)

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
