package engine

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/token"
)

// MaxCookieSize is the longest Set-Cookie value the engine sends: browsers
// drop a cookie over about 4 096 bytes. In cookie delivery a token whose
// Set-Cookie would be longer is neither issued (ErrCookieTooLarge) nor
// renewed (ReasonTooLarge).
const MaxCookieSize = 4096

// HeaderSessionExpires is both the question and the answer that tell a
// page in cookie delivery, whose script cannot read the token, when its
// session ends. As a response header it is the token's exp in Unix seconds
// (the renewed token's after a renewal); it holds no token material. It is
// sent on every response that sets the session cookie (Delivery.SignIn, a
// renewal), and, in cookie and both delivery, on an authenticated
// response to a request that asks for it by carrying a request header of
// the same name with any non-empty value (the JS client sends "?"); a
// plain authenticated response does not carry it. It is listed in
// Access-Control-Expose-Headers whenever it is sent to a request with an
// Origin; a page of another origin must be allowed to send it in the
// CORS preflight (Access-Control-Allow-Headers).
const HeaderSessionExpires = "X-Session-Expires"

// Errors of cookie delivery.
var (
	// ErrCrossOrigin: an unsafe request (POST, PUT, PATCH, DELETE, ...)
	// authenticated by the session cookie, or a sign-in, came from an
	// origin that is neither the request's own nor trusted
	// (config.Settings.TrustedOrigins), as http.CrossOriginProtection
	// judges it. Doors answer 403.
	ErrCrossOrigin = errors.New("slidingjwt: cross-origin request refused")
	// ErrCookieTooLarge: the token's Set-Cookie would be longer than
	// MaxCookieSize, which browsers drop.
	ErrCookieTooLarge = errors.New("slidingjwt: the token is too large for a cookie")
	// ErrSignInMethod: a session cookie is set only in answer to a POST.
	ErrSignInMethod = errors.New("slidingjwt: a session cookie is set only in answer to a POST")
	// ErrSessionExists: a guest token would replace the request's valid
	// session cookie.
	ErrSessionExists = errors.New("slidingjwt: the request already holds a valid session cookie; a guest token does not replace it")
	// ErrNoCookieDelivery: the settings deliver tokens in headers only
	// (TOKEN_DELIVERY=header), so there is no cookie to set.
	ErrNoCookieDelivery = errors.New("slidingjwt: TOKEN_DELIVERY=header: there is no session cookie to set; return the token in the response body")
)

// MessageCrossOrigin is the message of the 403 answer to ErrCrossOrigin.
const MessageCrossOrigin = "cross-origin request refused: this request must come from the site's own origin or a trusted one"

var answerCrossOrigin = Answer{http.StatusForbidden, MessageCrossOrigin, ""}

// Delivery is how tokens travel for one set of settings: in headers, in
// the session cookie, or both (config.Settings.Delivery), with the
// cookie's attributes and the cross-origin protection of cookie delivery.
// The engine holds one for its requests; slidingjwt.Auth holds one for the
// doors' sign-in helpers and sign-out handlers. It is immutable and safe
// for concurrent use.
type Delivery struct {
	mode     string // config.DeliveryHeader, DeliveryCookie or DeliveryBoth
	name     string
	attrs    string // "; Path=/; HttpOnly; Secure; SameSite=Lax", Domain included
	csrf     *http.CrossOriginProtection
	verifier *token.Verifier // nil until NewDelivery, for SignIn
	now      func() time.Time
	rev      *revocation.List
	// tokenRoom is the longest token whose Set-Cookie fits MaxCookieSize.
	tokenRoom int
}

// NewDelivery returns the Delivery of settings s (validated here), with
// keys and now for the tokens SignIn is given, and rev, when not nil, for
// telling a revoked session cookie from a valid one. keys may be nil (the
// settings' keys); now may be nil (time.Now).
func NewDelivery(s config.Settings, keys *token.KeySet, now func() time.Time, rev *revocation.List) (*Delivery, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	d := newDelivery(s)
	d.now, d.rev = now, rev
	vf, err := token.NewVerifier(s, &token.VerifierOptions{Keys: keys, Now: now, CacheSize: -1})
	if err != nil {
		return nil, err
	}
	d.verifier = vf
	return d, nil
}

// newDelivery builds the request-path part of a Delivery from validated
// settings.
func newDelivery(s config.Settings) *Delivery {
	d := &Delivery{mode: s.Delivery}
	if d.mode == "" {
		d.mode = config.DeliveryHeader
	}
	if !s.UsesCookie() {
		return d
	}
	c := s.CookieWithDefaults()
	d.name = c.Name
	var b strings.Builder
	b.WriteString("; Path=" + c.Path)
	if c.Domain != "" {
		b.WriteString("; Domain=" + c.Domain)
	}
	b.WriteString("; HttpOnly")
	if !c.Insecure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=" + strings.ToUpper(c.SameSite[:1]) + c.SameSite[1:])
	d.attrs = b.String()
	d.csrf = http.NewCrossOriginProtection()
	for _, o := range s.TrustedOrigins {
		_ = d.csrf.AddTrustedOrigin(o) // validated by s.Validate
	}
	// name=<token>; Expires=<29 bytes>; Max-Age=<up to 10 digits><attrs>
	overhead := len(d.name) + 1 + len("; Expires=") + len(http.TimeFormat) + len("; Max-Age=") + 10 + len(d.attrs)
	d.tokenRoom = MaxCookieSize - overhead
	return d
}

// Mode returns the delivery: config.DeliveryHeader, DeliveryCookie or
// DeliveryBoth.
func (d *Delivery) Mode() string { return d.mode }

// CookieName returns the session cookie's name, "" in header delivery.
func (d *Delivery) CookieName() string { return d.name }

// UsesCookie reports whether the delivery is cookie or both.
func (d *Delivery) UsesCookie() bool { return d.name != "" }

// CheckOrigin runs the cross-origin check of cookie delivery on r: nil for
// a safe method (GET, HEAD, OPTIONS), for a request from the same origin
// or a trusted one, and for a request without Sec-Fetch-Site and Origin
// (not from a browser); ErrCrossOrigin otherwise. In header delivery it
// is always nil: a bearer header is not sent by the browser on its own.
func (d *Delivery) CheckOrigin(r *http.Request) error {
	if d.csrf == nil {
		return nil
	}
	if err := d.csrf.Check(r); err != nil {
		return fmt.Errorf("%w: %v", ErrCrossOrigin, err)
	}
	return nil
}

// setCookie returns the Set-Cookie value that stores tok, expiring at
// exp, as seen at now (the cookie's name and attributes, HttpOnly, Max-Age
// and Expires), and exp in decimal Unix seconds, both cut from one
// allocation.
func (d *Delivery) setCookie(tok string, exp, now time.Time) (cookie, expText string) {
	age := int64(exp.Sub(now) / time.Second)
	if age < 1 {
		age = 1 // the token is valid now: keep it until exp, which the browser judges on its clock
	}
	var scratch [32]byte
	var b strings.Builder
	b.Grow(len(d.name) + 1 + len(tok) + len("; Expires=") + len(http.TimeFormat) + len("; Max-Age=") + len(d.attrs) + 40)
	b.WriteString(d.name)
	b.WriteByte('=')
	b.WriteString(tok)
	b.WriteString("; Expires=")
	b.Write(exp.UTC().AppendFormat(scratch[:0], http.TimeFormat))
	b.WriteString("; Max-Age=")
	b.Write(strconv.AppendInt(scratch[:0], age, 10))
	b.WriteString(d.attrs)
	n := b.Len()
	b.Write(strconv.AppendInt(scratch[:0], exp.Unix(), 10))
	all := b.String()
	return all[:n], all[n:]
}

// setRenewal puts the Set-Cookie value sc in h with the headers that go
// with it (Cache-Control: no-store, Vary: Cookie) and the new expiry
// expText in HeaderSessionExpires; the four values share one allocation
// where h has none of them yet. Each slice has a capacity of one, so
// appending to one never writes into the next.
func setRenewal(h http.Header, sc, expText string) {
	vals := []string{sc, "no-store", headerCookie, expText}
	if len(h[headerSetCookie]) == 0 {
		h[headerSetCookie] = vals[0:1:1]
	} else {
		h[headerSetCookie] = append(h[headerSetCookie], sc)
	}
	h[headerCacheControl] = vals[1:2:2]
	if len(h[headerVary]) == 0 {
		h[headerVary] = vals[2:3:3]
	} else {
		addToList(h, headerVary, headerCookie)
	}
	h[HeaderSessionExpires] = vals[3:4:4]
}

// clearCookie is the Set-Cookie value that deletes the session cookie:
// the same name, Path, Domain, Secure and SameSite, an empty value and
// Max-Age=0.
func (d *Delivery) clearCookie() string {
	return d.name + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0" + d.attrs
}

// ClearCookie adds to h the Set-Cookie that deletes the session cookie,
// with Cache-Control: no-store and Vary: Cookie. It does nothing in header
// delivery. The sign-out handlers of every door call it.
func (d *Delivery) ClearCookie(h http.Header) {
	if d.name == "" {
		return
	}
	d.addCookie(h, d.clearCookie())
}

// addCookie adds the Set-Cookie value sc to h, and the headers every
// response that sets the cookie carries.
func (d *Delivery) addCookie(h http.Header, sc string) {
	h[headerSetCookie] = append(h[headerSetCookie], sc)
	h[headerCacheControl] = []string{"no-store"}
	addToList(h, headerVary, headerCookie)
}

// SignIn puts tok, a token just issued (token.Issuer.Issue) for the
// request r, in the session cookie of the response whose header is h, with
// Cache-Control: no-store and Vary: Cookie, and the expiry in
// HeaderSessionExpires (listed in Access-Control-Expose-Headers when r has
// an Origin). It refuses, setting nothing, and returns a
// *SignInError (its Status is the answer to give) when:
//
//   - the delivery is header only (ErrNoCookieDelivery, 500);
//   - r is not a POST (ErrSignInMethod, 405), so that a cross-site link or
//     image cannot sign a visitor into another account;
//   - r fails the cross-origin check (ErrCrossOrigin, 403);
//   - tok does not verify (ErrTokenInvalid, 500: the program's issuer and
//     settings disagree);
//   - its Set-Cookie would be longer than MaxCookieSize
//     (ErrCookieTooLarge, 500);
//   - tok is a guest's (role "guest") and the request carries a session
//     cookie that is still valid and not revoked (ErrSessionExists, 409):
//     a guest token never replaces a signed-in session.
//
// The application answers with no token in the body. It is safe for
// concurrent use.
func (d *Delivery) SignIn(h http.Header, r *http.Request, tok string) error {
	const unusable = "the session cannot be started: see the server's log"
	switch {
	case d.name == "":
		return &SignInError{http.StatusInternalServerError, unusable, ErrNoCookieDelivery}
	case r.Method != http.MethodPost:
		return &SignInError{http.StatusMethodNotAllowed, "sign in with a POST", ErrSignInMethod}
	}
	if err := d.CheckOrigin(r); err != nil {
		return &SignInError{http.StatusForbidden, MessageCrossOrigin, err}
	}
	now := d.now()
	v, _, err := ops.VerifyHit(d.verifier, tok, now)
	if err != nil {
		return &SignInError{http.StatusInternalServerError, unusable, err}
	}
	if len(tok) > d.tokenRoom {
		return &SignInError{http.StatusInternalServerError, unusable, ErrCookieTooLarge}
	}
	if v.Role() == config.RoleGuest && d.validCookie(r, now) {
		return &SignInError{http.StatusConflict, "a session is already signed in here", ErrSessionExists}
	}
	sc, expText := d.setCookie(tok, v.ExpiresAt(), now)
	setRenewal(h, sc, expText)
	exposeExpires(h, r)
	return nil
}

// validCookie reports whether r carries a session cookie that verifies at
// now and whose session is not known to be revoked.
func (d *Delivery) validCookie(r *http.Request, now time.Time) bool {
	for _, raw := range cookieValues(r, d.name, nil) {
		v, _, err := ops.VerifyHit(d.verifier, raw, now)
		if err != nil {
			continue
		}
		// A list not loaded yet cannot tell: the cookie counts as valid.
		if d.rev == nil || d.rev.Check(ops.SessionRevKey(v), ops.SubjectRevKey(v), ops.AuthTime(v), now) != revocation.Revoked {
			return true
		}
	}
	return false
}

// SignInError is Delivery.SignIn's refusal: the status and message to
// answer with ({"message": Message}) and the reason, for the logs.
type SignInError struct {
	Status  int
	Message string
	Err     error
}

// AsSignInError returns err's *SignInError, or one with status 500 for
// any other error.
func AsSignInError(err error) *SignInError {
	var se *SignInError
	if errors.As(err, &se) {
		return se
	}
	return &SignInError{http.StatusInternalServerError, "the session cannot be started: see the server's log", err}
}

func (e *SignInError) Error() string { return e.Err.Error() }

func (e *SignInError) Unwrap() error { return e.Err }

// Canonical header names of cookie delivery.
const (
	headerSetCookie = "Set-Cookie"
	headerCookie    = "Cookie"
	headerOrigin    = "Origin"
)

// cookieValues appends to dst the values of the cookies named name in r's
// Cookie headers, as net/http reads them (a value's surrounding quotes
// removed), empty values left out, at most maxSourceValues; it allocates
// nothing when dst has room.
func cookieValues(r *http.Request, name string, dst []string) []string {
	n := 0
	for _, line := range r.Header[headerCookie] {
		for line != "" {
			// One IndexByte for the end of the part (most lines hold only
			// the session cookie, whose value is the long part), and the
			// name compared in place: strings.Cut costs twice as much here.
			part := line
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				line = ""
			}
			part = textproto.TrimString(part)
			if len(part) <= len(name) || part[len(name)] != '=' || part[:len(name)] != name {
				continue
			}
			v := part[len(name)+1:]
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if v == "" {
				continue
			}
			dst = append(dst, v)
			if n++; n == maxSourceValues {
				return dst
			}
		}
	}
	return dst
}

// clearsCookie reports whether a failed authentication by the session
// cookie deletes it: a malformed, oversized or badly signed token, or a
// revoked session. An expired token does not (a concurrent renewal may
// have set a newer cookie already), nor one that fails for another reason
// (an unknown key during a rotation, a list not loaded).
func clearsCookie(err error) bool {
	switch {
	case errors.Is(err, ErrSessionRevoked), errors.Is(err, ErrTokenTooLarge):
		return true
	case errors.Is(err, jwt.ErrTokenExpired):
		return false
	}
	return errors.Is(err, jwt.ErrTokenMalformed) || errors.Is(err, jwt.ErrTokenSignatureInvalid)
}

// unsafeMethod reports whether method may change state: every method but
// GET, HEAD and OPTIONS, as http.CrossOriginProtection judges.
func unsafeMethod(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}
