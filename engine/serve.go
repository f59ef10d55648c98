package engine

import (
	"errors"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
	"github.com/slidingjwt/slidingjwt/token"
)

// Door is what the engine needs of a framework to run a request: what only
// the framework knows. A door's middleware is its Config, a Door, and a
// call to Engine.Serve; the lookup, the verification, the revocation
// check, the renewal decision, the writer and the default answers are the
// engine's.
type Door[C any] interface {
	// Values returns the values of source s, a source that is not a
	// header, when the door reads it (its lookup functions, a router's path
	// parameters, or sources it reads its framework's way), and reports
	// true; false lets the engine read s from the *http.Request
	// (RequestValues). The engine reads headers and cookies itself,
	// without allocating.
	Values(c C, s *Source) ([]string, bool)
	// SetClaims puts the request's own token and claims of v where the
	// handlers look, and returns the value the handler gets (net/http: the
	// request with a new context). An error, such as claims that do not
	// decode into the application's type, fails the request as an invalid
	// token.
	SetClaims(c C, v *token.Verified) (C, error)
	// Fail answers a request whose authentication failed with err; def is
	// the default answer (echo-jwt's for a missing or invalid token, 401 for
	// a revoked session, 503 for a list not loaded). next is the handler, for a
	// door whose error handling may let the request through.
	Fail(c C, err error, def Answer, next func(C) error) error
	// Watch makes every way c's response can leave go through w, the
	// renewal's writer made from the one it gives (see Pending.Writer),
	// and returns the value the handler gets.
	Watch(c C, p *Pending[C]) C
	// Status is the status the response gets when the handler wrote
	// nothing: 200 for net/http and Echo, the status set for Gin.
	Status(c C) int
	// Header returns the header of c's response, which the engine adds to
	// before the handler runs or the failure is answered (cookie
	// delivery: the session's expiry, a cookie deleted).
	Header(c C) http.Header
}

// Answer is a door's answer to a failed authentication.
type Answer struct {
	Status int
	// Message is the body's message: {"message": Message}.
	Message string
	// Challenge is the WWW-Authenticate header; "" for none.
	Challenge string
}

// The default answers, as echo-jwt gives them (missing: 401 "missing or
// malformed jwt"; invalid or too large: 401 "invalid or expired jwt"),
// and for a revoked session (401) and a list not loaded yet (503).
var (
	answerMissing = Answer{http.StatusUnauthorized, "missing or malformed jwt", "Bearer"}
	answerInvalid = Answer{http.StatusUnauthorized, "invalid or expired jwt", `Bearer error="invalid_token"`}
	answerRevoked = Answer{http.StatusUnauthorized, MessageSessionEnded, `Bearer error="invalid_token", error_description="the session has ended"`}
	answerUnready = Answer{http.StatusServiceUnavailable, MessageNotReady, ""}
)

// defaultAnswer returns the default answer to err.
func defaultAnswer(err error) Answer {
	switch {
	case errors.Is(err, ErrTokenMissing):
		return answerMissing
	case errors.Is(err, ErrSessionRevoked):
		return answerRevoked
	case errors.Is(err, ErrRevocationsNotReady):
		return answerUnready
	case errors.Is(err, ErrCrossOrigin):
		return answerCrossOrigin
	}
	return answerInvalid
}

// headerWWWAuthenticate and headerContentType are canonical.
const (
	headerWWWAuthenticate = "Www-Authenticate"
	headerContentType     = "Content-Type"
)

// SetChallenge sets a's WWW-Authenticate header in h, when it has one,
// without the allocation h.Set makes for the name.
func (a Answer) SetChallenge(h http.Header) {
	if a.Challenge != "" {
		h[headerWWWAuthenticate] = []string{a.Challenge}
	}
}

// Write answers with a on w: the challenge, a JSON body {"message": ...}
// and the status. The messages need no escaping.
func (a Answer) Write(w http.ResponseWriter) {
	h := w.Header()
	a.SetChallenge(h)
	h[headerContentType] = []string{"application/json; charset=UTF-8"}
	w.WriteHeader(a.Status)
	_, _ = w.Write([]byte(`{"message":"` + a.Message + `"}` + "\n"))
}

// Serve runs request c through the engine with door d in front of next:
// the lookup (each value found is tried until one verifies, source by
// source, as echo-jwt does), the verification, the revocation check, the
// claims handed over, the renewal decided before next runs and committed
// where the headers leave, and the renewal of a response the handler wrote
// nothing to.
func (e *Engine[C]) Serve(c C, d Door[C], next func(C) error) error {
	now := e.cfg.Now()
	// The request as it came: its header and method are all Serve reads
	// of it (SetClaims may give c a new request, with the same header).
	r := e.cfg.Request(c)
	var (
		buf       [2]string
		v         *token.Verified
		hit       bool
		err       error   = ErrTokenMissing
		via       *Source // the source v came from
		sawCookie bool    // the session cookie was there
	)
	for i := range e.lookup.sources {
		s := &e.lookup.sources[i]
		// A header or a cookie is read here into buf, on the stack; the
		// door is not handed buf, which would make it escape on every
		// request.
		var vals []string
		switch s.Kind {
		case "header":
			vals = RequestValues(r, s, buf[:0])
		case "cookie":
			vals = cookieValues(r, s.Name, buf[:0])
			sawCookie = sawCookie || s == e.cookie && len(vals) > 0
		default:
			var ok bool
			if vals, ok = d.Values(c, s); !ok {
				vals = RequestValues(r, s, nil)
			}
		}
		if len(vals) == 0 {
			continue
		}
		if v, hit, err = e.verifyAny(vals, now); err == nil {
			via = s
			break
		}
	}
	byCookie := via != nil && via == e.cookie
	if byCookie && unsafeMethod(r.Method) {
		err = e.delivery.CheckOrigin(r)
	}
	if err = e.admit(c, v, hit, err, now); err == nil {
		c, err = d.SetClaims(c, v)
	}
	if err != nil {
		if sawCookie && clearsCookie(err) {
			e.delivery.ClearCookie(d.Header(c))
		}
		return d.Fail(c, err, defaultAnswer(err), next)
	}
	// One map lookup, in cookie and both delivery only: the page asks
	// for its session's expiry with the request header of the same name.
	if e.cookie != nil && askedExpires(r) {
		setExpires(d.Header(c), r, v.ExpiresText())
	}
	p := e.begin(c, v, now, byCookie)
	if p == nil {
		return next(c)
	}
	c = d.Watch(c, p)
	err = next(c)
	if err == nil && !p.Done() && p.header != nil {
		// The handler wrote nothing: the framework sends its status with
		// the headers as they are now.
		p.Decide(d.Status(c), p.header)
	}
	return err
}

// askedExpires reports whether r asks for its session's expiry: a
// non-empty HeaderSessionExpires request header.
func askedExpires(r *http.Request) bool {
	vals := r.Header[HeaderSessionExpires]
	return len(vals) > 0 && vals[0] != ""
}

// setExpires tells the page when its session ends, in
// HeaderSessionExpires, exposed to a page of another origin.
func setExpires(h http.Header, r *http.Request, exp string) {
	h[HeaderSessionExpires] = []string{exp}
	exposeExpires(h, r)
}

// exposeExpires lists HeaderSessionExpires in h's
// Access-Control-Expose-Headers when r has an Origin, so that a page of
// another origin can read it.
func exposeExpires(h http.Header, r *http.Request) {
	if len(r.Header[headerOrigin]) > 0 {
		addToList(h, headerExposeHeaders, HeaderSessionExpires)
	}
}

// HandOver returns what a door puts where handlers look for v: the
// request's own *jwt.Token, whose Claims are a jwt.MapClaims (numbers as
// float64) or, when newClaims is not nil, newClaims with the payload
// decoded into it by encoding/json, as echo-jwt does; and the typed Claims,
// sharing the token's map. With typedOnly, only the Claims (tok is nil):
// no copy of the map is made unless Claims.Map asks for one. Nothing
// returned is shared with another request. The error, for claims that do
// not decode into newClaims, wraps ErrTokenInvalid: answer it as an invalid
// token.
func HandOver(v *token.Verified, typedOnly bool, newClaims jwt.Claims) (tok *jwt.Token, claims *token.Claims, err error) {
	switch {
	case typedOnly:
		return nil, v.Claims(), nil
	case newClaims != nil:
		if tok, claims, err = v.TokenWith(newClaims); err != nil {
			return nil, nil, &undecodable{reason: err}
		}
		return tok, claims, nil
	}
	tok, claims = v.Token()
	return tok, claims, nil
}

// undecodable is the error of a token whose claims could not be decoded
// into the application's claims type: ErrTokenInvalid, wrapping the
// reason.
type undecodable struct{ reason error }

func (e *undecodable) Error() string { return ErrTokenInvalid.Error() + ": " + e.reason.Error() }

func (e *undecodable) Is(target error) bool { return target == ErrTokenInvalid }

func (e *undecodable) Unwrap() error { return e.reason }
