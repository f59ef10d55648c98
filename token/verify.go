package token

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
)

// Errors of Verify. Test them with errors.Is; an invalid token's error also
// wraps golang-jwt's reason (jwt.ErrTokenMalformed,
// jwt.ErrTokenSignatureInvalid, jwt.ErrTokenExpired, ...).
var (
	ErrTokenTooLarge = errors.New("slidingjwt: token larger than the size limit")
	ErrTokenInvalid  = errors.New("slidingjwt: invalid or expired token")
)

// DefaultMaxTokenSize is the largest token accepted, checked before any
// parsing: 8 KiB.
const DefaultMaxTokenSize = 8 << 10

// maxHeaderSegment bounds the header segment: a JOSE header of a token this
// package verifies names alg, kid and typ; 1 KiB leaves room for more, and
// nothing larger is decoded.
const maxHeaderSegment = 1 << 10

// maxSubjectBytes bounds the sub claim of an accepted token.
const maxSubjectBytes = 1024

// VerifierOptions are the optional parts of a Verifier. The zero value, or
// nil, gives the defaults.
type VerifierOptions struct {
	// Keys verify tokens. Optional. Default: the key set of the settings
	// (KeySetFromSettings). Share one KeySet with the Issuer.
	Keys *KeySet
	// Now is the clock for the time claims. Optional. Default time.Now.
	Now func() time.Time
	// MaxTokenSize is the largest token, in bytes, that is parsed at all.
	// Optional. Default DefaultMaxTokenSize (8 KiB).
	MaxTokenSize int
	// CacheSize is how many verified tokens are remembered; see Verifier.
	// Optional. Default DefaultCacheSize (10 000). A negative value turns
	// the cache off.
	CacheSize int
	// TokensAreWhole tells the cache that every raw token given to Verify
	// is a string of its own (a whole header value past its prefix), which
	// it may keep; otherwise it keeps a copy, so that it never pins a larger
	// string (a Cookie header, a query) a token was cut from. Optional.
	// Default false.
	TokensAreWhole bool
}

// Verifier checks tokens: size, spelling, signature (first), then claims.
// It remembers the tokens that verified (see CacheSize), so that a client
// sending the same token again costs a lookup: the time claims are checked
// again on every hit, and the cache is emptied whenever the key set
// changes. A Verifier is safe for concurrent use.
type Verifier struct {
	settings config.Settings
	keys     *KeySet
	now      func() time.Time
	maxSize  int
	vopts    []jwt.ParserOption // golang-jwt's Validator, but for the clock
	// validator is vopts with the verifier's clock.
	validator *jwt.Validator
	cache     *verifiedCache
	// lastHeader is the header map of the last usual header verified,
	// which the next token with the same alg, typ and kid shares (see
	// header.tmpl): tokens signed with one key have one header.
	lastHeader atomic.Pointer[headerTemplate]
}

// NewVerifier returns a Verifier for the settings (validated first) and
// opts, which may be nil.
func NewVerifier(s config.Settings, opts *VerifierOptions) (*Verifier, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var o VerifierOptions
	if opts != nil {
		o = *opts
	}
	if o.Keys == nil {
		var err error
		if o.Keys, err = KeySetFromSettings(s); err != nil {
			return nil, err
		}
	}
	if o.Keys.snap.Load() == nil {
		return nil, errZeroKeySet
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.MaxTokenSize == 0:
		o.MaxTokenSize = DefaultMaxTokenSize
	case o.MaxTokenSize < 0:
		return nil, fmt.Errorf("slidingjwt: MaxTokenSize %d is negative", o.MaxTokenSize)
	}
	switch {
	case o.CacheSize == 0:
		o.CacheSize = DefaultCacheSize
	case o.CacheSize > MaxCacheSize:
		return nil, fmt.Errorf("slidingjwt: VerifiedCacheSize %d is larger than %d", o.CacheSize, MaxCacheSize)
	}
	vopts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.Leeway),
	}
	if s.Issuer != "" {
		vopts = append(vopts, jwt.WithIssuer(s.Issuer))
	}
	if s.Audience != "" {
		vopts = append(vopts, jwt.WithAudience(s.Audience))
	}
	return &Verifier{
		settings:  s,
		keys:      o.Keys,
		now:       o.Now,
		maxSize:   o.MaxTokenSize,
		vopts:     vopts[:len(vopts):len(vopts)],
		validator: jwt.NewValidator(append(vopts[:len(vopts):len(vopts)], jwt.WithTimeFunc(o.Now))...),
		cache:     newVerifiedCache(o.Keys, o.CacheSize, s.Leeway, !o.TokensAreWhole),
	}, nil
}

// Keys returns the key set the verifier checks signatures with.
func (vf *Verifier) Keys() *KeySet { return vf.keys }

// MaxTokenSize returns the largest token the verifier parses.
func (vf *Verifier) MaxTokenSize() int { return vf.maxSize }

// Verify checks raw at now and returns what the token holds. A token that
// verified before, with the same key set, is answered from the cache once
// its time claims pass at now. Errors are ErrTokenTooLarge or wrap
// ErrTokenInvalid and golang-jwt's reason.
//
// The checks, in order: the size; the alphabet (base64url and dots only)
// and the header segment's size; the header's alg, kid and crit; the
// signature, with golang-jwt's SigningMethod.Verify and the key the set
// binds to that algorithm (so a forged token costs a header decode and one
// signature check, and none of its claims is read); the claims, decoded by
// the Go team's JSON v2 (duplicate names and invalid UTF-8 refused);
// golang-jwt's Validator (exp required, nbf, iat, leeway, iss, aud); then
// what golang-jwt does not check: a crit header, dates outside years
// 0-9999, iat not before exp, and the types of sub, sid and jti.
func (vf *Verifier) Verify(raw string, now time.Time) (*Verified, error) {
	v, _, err := vf.verifyHit(raw, now)
	return v, err
}

// verifyHit is Verify, and also reports whether the answer came from the
// cache of verified tokens.
func (vf *Verifier) verifyHit(raw string, now time.Time) (v *Verified, hit bool, err error) {
	if len(raw) > vf.maxSize {
		return nil, false, ErrTokenTooLarge
	}
	g := vf.cache.generation()
	if v := vf.cache.get(g, raw, now); v != nil {
		return v, true, nil
	}
	v, err = vf.parse(raw, g.snap, now)
	if err != nil {
		return nil, false, &invalidToken{reason: err}
	}
	vf.cache.put(g, v, now)
	return v, false, nil
}

// joseHeader is what verification reads of a token's header before the
// signature is checked.
type joseHeader struct {
	alg, kid []byte // the strings, unquoted; nil when absent or not strings
	typ      []byte // typ, unquoted, when a string
	kidType  bool   // kid is present but not a string
	crit     bool   // crit is present
	// other is set when the header holds more than string alg, kid and
	// typ members: it is then decoded in full for the *jwt.Token.
	other bool
}

// headerDecoder reads headers without allocating; see read.
type headerDecoder struct {
	dec  jsontext.Decoder
	in   bytes.Reader
	name []byte
	alg  []byte
	kid  []byte
	typ  []byte
}

var headerDecoders = sync.Pool{New: func() any { return new(headerDecoder) }}

// read reads alg, kid and crit of the JSON header in buf with the JSON v2
// decoder (duplicate names and invalid UTF-8 are errors, names are
// compared unescaped), and checks that the rest is valid JSON. The
// returned slices belong to d: valid until d is used again.
func (d *headerDecoder) read(buf []byte) (joseHeader, error) {
	d.in.Reset(buf)
	d.dec.Reset(&d.in)
	var h joseHeader
	if tok, err := d.dec.ReadToken(); err != nil {
		return h, err
	} else if tok.Kind() != '{' {
		return h, errors.New("the header is not a JSON object")
	}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadValue() // valid until the next read
		if err != nil {
			return h, err
		}
		if d.name, err = jsontext.AppendUnquote(d.name[:0], name); err != nil {
			return h, err
		}
		val, err := d.dec.ReadValue()
		if err != nil {
			return h, err
		}
		switch string(d.name) {
		case "alg":
			if val.Kind() == '"' {
				d.alg, _ = jsontext.AppendUnquote(d.alg[:0], val)
				h.alg = d.alg
			}
		case "kid":
			if val.Kind() == '"' {
				d.kid, _ = jsontext.AppendUnquote(d.kid[:0], val)
				h.kid = d.kid
			} else {
				h.kidType = true
			}
		case "typ":
			if val.Kind() == '"' {
				d.typ, _ = jsontext.AppendUnquote(d.typ[:0], val)
				h.typ = d.typ
			} else {
				h.other = true
			}
		case "crit":
			h.crit = true
			h.other = true
		default:
			h.other = true
		}
	}
	if _, err := d.dec.ReadToken(); err != nil { // '}'
		return h, err
	}
	if _, err := d.dec.ReadToken(); err != io.EOF {
		return h, errors.New("data after the header object")
	}
	return h, nil
}

// scratch holds the buffers a verification decodes segments into.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// parse verifies raw from scratch with the keys of snap.
func (vf *Verifier) parse(raw string, snap *keySnapshot, now time.Time) (*Verified, error) {
	if !compactAlphabet(raw) {
		return nil, errAlphabet
	}
	head, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return nil, errSegments
	}
	payload, sigSeg, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sigSeg, '.') >= 0 {
		return nil, errSegments
	}
	if len(head) > maxHeaderSegment {
		return nil, errHeaderSize
	}
	bp := scratch.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<10 {
			scratch.Put(bp)
		}
	}()

	// The header: alg, kid and crit only, until the signature is checked.
	buf, err := strictBase64.AppendDecode((*bp)[:0], []byte(head))
	*bp = buf
	if err != nil {
		return nil, jwtError("could not base64 decode header", jwt.ErrTokenMalformed, err)
	}
	hd := headerDecoders.Get().(*headerDecoder)
	defer headerDecoders.Put(hd)
	hdr, err := hd.read(buf)
	if err != nil {
		return nil, jwtError("could not JSON decode header", jwt.ErrTokenMalformed, err)
	}
	if hdr.alg == nil {
		return nil, errAlgUnspecified
	}
	alg, kid, hasKID := hdr.alg, hdr.kid, hdr.kid != nil
	if hdr.kidType {
		return nil, jwtError("error while executing keyfunc", jwt.ErrTokenUnverifiable, errUnknownKey)
	}
	keys, err := snap.keyFor(alg, kid, hasKID)
	if err != nil {
		if jwt.GetSigningMethod(string(alg)) == nil {
			return nil, errAlgUnavailable
		}
		return nil, jwtError("error while executing keyfunc", jwt.ErrTokenUnverifiable, err)
	}

	// The signature, with golang-jwt's method for the key's algorithm.
	sig, err := strictBase64.DecodeString(sigSeg)
	if err != nil {
		return nil, jwtError("could not base64 decode signature", jwt.ErrTokenMalformed, err)
	}
	signing := raw[:len(head)+1+len(payload)]
	var key *checked
	for _, k := range keys {
		if err = k.signer.Verify(signing, sig, k.verify); err == nil {
			key = k
			break
		}
	}
	if key == nil {
		if errors.Is(err, jwt.ErrSignatureInvalid) {
			return nil, errBadSignature
		}
		return nil, jwtError("", jwt.ErrTokenSignatureInvalid, err)
	}
	if hdr.crit {
		return nil, errCritical
	}

	// The header in full, and the claims, now that they are known to be
	// signed by one of our keys.
	var header header
	if hdr.other || hdr.kidType {
		var m map[string]any
		if err := json.Unmarshal(buf, &m); err != nil {
			return nil, jwtError("could not JSON decode header", jwt.ErrTokenMalformed, err)
		}
		header = compactHeader(m)
	} else {
		// The usual header: its strings, read already.
		header.alg = string(hdr.alg)
		if hdr.typ != nil {
			header.typ = string(hdr.typ)
		}
		if hdr.kid != nil {
			header.kid = string(hdr.kid)
		}
		header.tmpl = vf.headerTemplate(&header)
	}
	buf, err = strictBase64.AppendDecode((*bp)[:0], []byte(payload))
	*bp = buf
	if err != nil {
		return nil, jwtError("could not base64 decode claim", jwt.ErrTokenMalformed, err)
	}
	// Decoded into an any, not a map[string]any: JSON v2 builds the
	// objects of an any directly, a third faster than through a map type.
	var decoded any
	if err := json.Unmarshal(buf, &decoded); err != nil {
		return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
	}
	claims, ok := decoded.(map[string]any)
	switch {
	case decoded == nil: // "null": it cannot pass the exp check
		claims = map[string]any{}
	case !ok:
		return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, errClaimsNotObject)
	}
	// golang-jwt's Validator reads its own clock: the verifier's, when now
	// is that clock's reading (within a millisecond: the engine reads it
	// just before), else one that answers now.
	validator := vf.validator
	if d := vf.now().Sub(now); d <= -time.Millisecond || d >= time.Millisecond {
		validator = jwt.NewValidator(append(vf.vopts, jwt.WithTimeFunc(func() time.Time { return now }))...)
	}
	if err := validator.Validate(jwt.MapClaims(claims)); err != nil {
		return nil, jwtError("", jwt.ErrTokenInvalidClaims, err)
	}
	v, err := vf.extract(raw, key.method, header, claims, now)
	if err != nil {
		return nil, err
	}
	v.sig = sig
	return v, nil
}

var (
	errClaimsNotObject = errors.New("the claims are not a JSON object")
	errBadSubject      = jwtError("", jwt.ErrTokenInvalidClaims, errors.New("sub must be a non-empty string of at most 1024 bytes"))
	errBadClaim        = jwtError("", jwt.ErrTokenInvalidClaims, errors.New("a registered claim has the wrong type or range"))
	errAuthTime        = jwtError("", jwt.ErrTokenInvalidClaims, errors.New("auth_time is after iat, or in the future, by more than the leeway"))
	// errCritical: the header has a "crit" member. It lists extensions the
	// reader must understand (RFC 7515, 4.1.11); this one understands none.
	errCritical = jwtError("", jwt.ErrTokenUnverifiable, errors.New(`the header lists "crit" extensions, none of which is supported`))
)

// extract builds the typed claims and checks what golang-jwt does not:
// string-typed sub, sid and jti when present, sane dates and a positive
// lifetime. A role that is not a string means no role.
func (vf *Verifier) extract(raw string, method jwt.SigningMethod, header header, mc map[string]any, now time.Time) (*Verified, error) {
	sub, ok0 := optionalString(mc, "sub")
	if !ok0 || (sub == "" && mc["sub"] != nil) || len(sub) > maxSubjectBytes {
		return nil, errBadSubject
	}
	role, _ := mc["role"].(string)
	sid, ok2 := optionalString(mc, "sid")
	jti, ok3 := optionalString(mc, "jti")
	exp, _, ok4 := numericDate(mc, "exp")
	iat, hasIAT, ok5 := numericDate(mc, "iat")
	authTime, hasAuth, ok6 := numericDate(mc, "auth_time")
	authTime = toMicroseconds(authTime)
	_, _, ok7 := numericDate(mc, "nbf") // golang-jwt converts huge dates with overflow
	if !(ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return nil, errBadClaim
	}
	lifetime := vf.settings.Lifetime(role)
	if hasIAT {
		lifetime = exp.Sub(iat)
		if lifetime <= 0 {
			return nil, errBadClaim
		}
	}
	if hasAuth {
		// A session cannot begin after its token was issued, nor in the
		// future: a later start would escape every "log out everywhere"
		// whose cut-off precedes it. auth_time may carry a fraction of a
		// second that iat, in whole seconds, lacks.
		authSec := authTime.Truncate(time.Second)
		if hasIAT && authSec.Sub(iat) > vf.settings.Leeway || authSec.Sub(now) > vf.settings.Leeway {
			return nil, errAuthTime
		}
	}
	v := &Verified{
		raw:      raw,
		method:   method,
		header:   header,
		lifetime: lifetime,
		typed: Claims{
			Subject: sub, Role: role, SessionID: sid, ID: jti, ExpiresAt: exp,
		},
	}
	v.claims.Store(&claimSet{m: mc, fresh: true})
	if hasIAT {
		v.typed.IssuedAt = iat
	}
	switch {
	case hasAuth:
		v.typed.AuthTime = authTime
		v.authTime = authTime
	case hasIAT:
		v.authTime = toMicroseconds(iat) // as a renewal writes it into auth_time
	}
	// Neither: the start is unknown, and stays the zero time (see
	// AuthTime); exp - lifetime would put it in the future for a token
	// with more time left than its role's lifetime.
	switch {
	case sid != "":
		v.typed.Session = sid
	case jti != "":
		v.typed.Session = derivedSession("jti", jti)
	default:
		// The signed part, not the whole token: one token can be sent
		// with another, equally valid signature (an ECDSA signature's
		// second form), and must not become a second session.
		v.typed.Session = derivedSession("tok", raw[:strings.LastIndexByte(raw, '.')])
	}
	v.session = store.SessionRevocationKey(v.typed.Session)
	if sub != "" {
		v.subject = store.SubjectRevocationKey(sub)
	}
	return v, nil
}

// Verified is one token that verified. It is immutable, and may be shared
// by concurrent requests through the verifier's cache: nothing it returns
// shares mutable state with it or with another caller.
type Verified struct {
	raw    string
	method jwt.SigningMethod
	header header // never handed out: Token copies it
	sig    []byte // the decoded signature; never handed out: Token copies it
	// claims holds first the map the verification decoded (fresh), until
	// the first caller that wants claims takes it, without a copy (a
	// compare-and-swap to nil: one caller only): most tokens are seen once
	// (a renewal replaces them), and their request then pays no copy.
	// After that it holds the cache's own map, decoded again from the
	// payload on the next demand (see claimsCopy), compacted by freeze,
	// and only ever copied.
	claims   atomic.Pointer[claimSet]
	typed    Claims        // values only: Claims copies it
	lifetime time.Duration // exp - iat, or the role's configured lifetime
	authTime time.Time     // auth_time (to the microsecond), else iat, else zero: unknown
	// session and subject are the digests of typed.Session and of sub
	// (zero without one), by which stores and revocations know them.
	session, subject store.RevocationKey
	// renewedAt is when (Unix nanoseconds of the caller's clock) a store
	// last granted a renewal asked with this token, or 0; see RenewedAt.
	renewedAt atomic.Int64
	cached    // set when the verification goes into the cache
}

// Raw returns the token as it was verified.
func (v *Verified) Raw() string { return v.raw }

// ExpiresAt returns the token's exp.
func (v *Verified) ExpiresAt() time.Time { return v.typed.ExpiresAt }

// ExpiresText returns the token's exp in decimal Unix seconds, for a
// response header (engine.HeaderSessionExpires). It is made on each call:
// only the requests that ask for the expiry need it, so a verification
// does not pay for it.
func (v *Verified) ExpiresText() string {
	return strconv.FormatInt(v.typed.ExpiresAt.Unix(), 10)
}

// Subject returns the token's sub ("" when it has none).
func (v *Verified) Subject() string { return v.typed.Subject }

// Role returns the token's role ("" when it has none, or one that is not a
// string).
func (v *Verified) Role() string { return v.typed.Role }

// Session returns the session identity (see Claims.Session).
func (v *Verified) Session() string { return v.typed.Session }

// sessionKey returns the fixed-length digest of Session that identifies the
// session in a store: the hex of store.SessionRevocationKey(v.Session()).
func (v *Verified) sessionKey() string { return v.session.String() }

// sessionRevKey returns store.SessionRevocationKey(v.Session()),
// computed once.
func (v *Verified) sessionRevKey() store.RevocationKey { return v.session }

// subjectRevKey returns store.SubjectRevocationKey of the token's
// sub, computed once; the zero key when the token has no sub.
func (v *Verified) subjectRevKey() store.RevocationKey { return v.subject }

// lifetimeLen returns the token's lifetime: exp - iat, or the configured
// lifetime of its role when it has no iat.
func (v *Verified) lifetimeLen() time.Duration { return v.lifetime }

// authStart returns when the session began, as a subject revocation's
// cut-off is compared with it: auth_time (to the microsecond), else iat;
// the zero time, before every cut-off, when the token has neither.
func (v *Verified) authStart() time.Time { return v.authTime }

// sessionStart returns the start a renewal at now writes into auth_time
// and caps the session from: AuthTime, or for a token without auth_time
// and iat, exp minus its role's lifetime, but no later than now.
func (v *Verified) sessionStart(now time.Time) time.Time {
	if !v.authTime.IsZero() {
		return v.authTime
	}
	return earliest(v.typed.ExpiresAt.Add(-v.lifetime), now)
}

// renewedAtNanos returns when (Unix nanoseconds) a renewal asked with this very
// token was last granted, as recorded with MarkRenewed, or 0.
func (v *Verified) renewedAtNanos() int64 { return v.renewedAt.Load() }

// markRenewed records that a store granted a renewal asked with this token
// at now. Safe for concurrent use.
func (v *Verified) markRenewed(now time.Time) { v.renewedAt.Store(now.UnixNano()) }

// Claims returns the typed claims, a copy of the caller's own. Its Map is
// made on demand (a deep copy).
func (v *Verified) Claims() *Claims {
	c := new(Claims)
	*c = v.typed
	c.v = v
	return c
}

// Token returns a new *jwt.Token for the caller alone, as golang-jwt's
// parser makes it (Raw, Method, Header, Claims as jwt.MapClaims with
// numbers as float64, Signature, Valid), and the typed Claims sharing its
// claims map. Nothing in either is shared with another caller.
func (v *Verified) Token() (*jwt.Token, *Claims) {
	// One allocation for both: they belong to the same request.
	both := new(struct {
		tok jwt.Token
		c   Claims
		sig [sha512.Size]byte // the Signature's copy, when it fits (HMAC, ES256, ES384, EdDSA)
	})
	c := &both.c
	*c = v.typed
	c.v = v
	c.m = v.claimsCopy()
	v.fillToken(&both.tok, c.m, both.sig[:0])
	return &both.tok, c
}

// TokenWith returns a new *jwt.Token whose Claims are claims, decoded from
// the token's payload with encoding/json as golang-jwt would decode them
// (for custom claims types, echo-jwt's NewClaimsFunc), and the typed
// Claims.
func (v *Verified) TokenWith(claims jwt.Claims) (*jwt.Token, *Claims, error) {
	payload, err := v.payload()
	if err != nil {
		return nil, nil, err
	}
	if err := stdjson.Unmarshal(payload, claims); err != nil {
		return nil, nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
	}
	return v.token(claims), v.Claims(), nil
}

func (v *Verified) token(claims jwt.Claims) *jwt.Token {
	t := new(jwt.Token)
	v.fillToken(t, claims, nil)
	return t
}

// fillToken sets t to a copy of the token whose Claims are claims, its
// Signature a copy in buf when it fits.
func (v *Verified) fillToken(t *jwt.Token, claims jwt.Claims, buf []byte) {
	sig := append(buf[:0:cap(buf)], v.sig...)
	*t = jwt.Token{
		Raw:       v.raw,
		Method:    v.method,
		Header:    v.header.copy(),
		Claims:    claims,
		Signature: sig,
		Valid:     true,
	}
}

// header is a verified token's JOSE header. The usual one, string alg and
// typ and an optional string kid, is kept as those strings, and made into
// a map per request: it weighs about 400 bytes less in the cache than the
// decoded map. Any other header is kept decoded.
type header struct {
	alg, typ, kid any            // strings, boxed once (boxing allocates)
	other         map[string]any // set when the header is not the usual one
	// tmpl is the usual header as a map, shared with the tokens verified
	// before and after it with the same alg, typ and kid, and never handed
	// out: copy clones it, cheaper than building a map.
	tmpl map[string]any
}

// headerTemplate is a usual header's map, for Verifier.lastHeader; it is
// never changed once made.
type headerTemplate struct {
	alg, typ, kid any
	m             map[string]any
}

// headerTemplate returns the map of h, a usual header: the last one's
// when it is the same header, else a new one, kept as the last.
func (vf *Verifier) headerTemplate(h *header) map[string]any {
	if t := vf.lastHeader.Load(); t != nil && t.alg == h.alg && t.typ == h.typ && t.kid == h.kid {
		return t.m
	}
	t := &headerTemplate{alg: h.alg, typ: h.typ, kid: h.kid, m: h.build()}
	vf.lastHeader.Store(t)
	return t.m
}

// compactHeader returns m as a header.
func compactHeader(m map[string]any) header {
	var h header
	for name, val := range m {
		_, ok := val.(string)
		switch {
		case !ok:
			return header{other: m}
		case name == "alg":
			h.alg = val
		case name == "typ":
			h.typ = val
		case name == "kid":
			h.kid = val
		default:
			return header{other: m}
		}
	}
	if _, ok := m["alg"]; !ok {
		return header{other: m}
	}
	return h
}

// copy returns the header as a map of the caller's own.
func (h *header) copy() map[string]any {
	switch {
	case h.other != nil:
		return copyObject(h.other)
	case h.tmpl != nil:
		return maps.Clone(h.tmpl)
	}
	return h.build()
}

// build makes the usual header's map.
func (h *header) build() map[string]any {
	m := make(map[string]any, 3)
	m["alg"] = h.alg
	if h.typ != nil {
		m["typ"] = h.typ
	}
	if h.kid != nil {
		m["kid"] = h.kid
	}
	return m
}

// claimSet is the claims map of a Verified. fresh says whether m is the
// map the verification decoded, for the caller that takes it; otherwise m
// is the cache's map, never handed out.
type claimSet struct {
	m      map[string]any
	nested []string // m's members that hold an object or an array (see freeze)
	fresh  bool
}

// claimsCopy returns claims of the caller's own: the map the verification
// decoded, when no caller has taken it yet, else a deep copy of the cache's
// map, which the first such call decodes (concurrent first calls may each
// decode; one result is kept).
func (v *Verified) claimsCopy() jwt.MapClaims {
	for {
		p := v.claims.Load()
		switch {
		case p == nil:
			m, nested := v.frozenClaims()
			v.claims.CompareAndSwap(nil, &claimSet{m: m, nested: nested})
		case !p.fresh:
			return jwt.MapClaims(copyFrozen(p.m, p.nested))
		case v.claims.CompareAndSwap(p, nil):
			// The only caller that reaches p: nobody else reads it now.
			return jwt.MapClaims(p.m)
		}
	}
}

// frozenClaims decodes the claims from the payload again, in the compact
// form the cache keeps (see freeze).
func (v *Verified) frozenClaims() (m map[string]any, nested []string) {
	bp := scratch.Get().(*[]byte)
	payload, err := v.appendPayload((*bp)[:0])
	var decoded any
	if err == nil {
		err = json.Unmarshal(payload, &decoded)
	}
	*bp = payload
	if cap(payload) <= 16<<10 {
		scratch.Put(bp)
	}
	m, ok := decoded.(map[string]any)
	if err != nil || !ok {
		// Not reached: these very bytes decoded to an object when the
		// token verified. An empty map hands out no claim of another
		// token.
		m = map[string]any{}
	}
	return m, freeze(m) // nested objects take a fraction of the memory
}

// payload returns the token's claims segment, decoded: the signed JSON.
func (v *Verified) payload() ([]byte, error) {
	return v.appendPayload(nil)
}

// appendPayload appends the decoded claims segment to dst.
func (v *Verified) appendPayload(dst []byte) ([]byte, error) {
	_, rest, _ := strings.Cut(v.raw, ".")
	seg, _, _ := strings.Cut(rest, ".")
	return strictBase64.AppendDecode(dst, []byte(seg))
}

// strictBase64 decodes the segments: unpadded base64url whose unused
// trailing bits are zero. With compactAlphabet, which keeps out the line
// breaks base64 decoding skips, a token has one spelling only: the same
// signed bytes cannot be sent as several strings, each taking its own
// cache slot. (An ECDSA signature still has two valid forms; the default
// session identity is therefore taken from the signed part.)
var strictBase64 = base64.RawURLEncoding.Strict()

// compactAlphabet reports whether raw holds only base64url characters and
// dots, as a compact JWS does.
func compactAlphabet(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if !jwsByte[raw[i]] {
			return false
		}
	}
	return true
}

var jwsByte = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_." {
		t[c] = true
	}
	return t
}()

// invalidToken is the error of a token that did not verify: it is
// ErrTokenInvalid (errors.Is) and wraps the reason.
type invalidToken struct{ reason error }

func (e *invalidToken) Error() string { return ErrTokenInvalid.Error() + ": " + e.reason.Error() }

func (e *invalidToken) Is(target error) bool { return target == ErrTokenInvalid }

func (e *invalidToken) Unwrap() error { return e.reason }

// jwtErr is an error of golang-jwt's shape: kind, then a message, then the
// cause, each wrapped, with golang-jwt's text ("token is malformed: could
// not base64 decode header: illegal base64 data at input byte 4").
type jwtErr struct {
	msg  string
	errs [2]error // kind, cause (nil when none)
}

func jwtError(msg string, kind, cause error) error {
	return &jwtErr{msg: msg, errs: [2]error{kind, cause}}
}

func (e *jwtErr) Error() string {
	s := e.errs[0].Error()
	if e.msg != "" {
		s += ": " + e.msg
	}
	if e.errs[1] != nil {
		s += ": " + e.errs[1].Error()
	}
	return s
}

func (e *jwtErr) Unwrap() []error {
	if e.errs[1] == nil {
		return e.errs[:1]
	}
	return e.errs[:]
}

// The errors parse returns without a cause of their own, made once.
var (
	errSegments       = jwtError("token contains an invalid number of segments", jwt.ErrTokenMalformed, nil)
	errAlphabet       = jwtError("token contains a character outside base64url and '.'", jwt.ErrTokenMalformed, nil)
	errHeaderSize     = jwtError(fmt.Sprintf("header segment longer than %d bytes", maxHeaderSegment), jwt.ErrTokenMalformed, nil)
	errAlgUnspecified = jwtError("signing method (alg) is unspecified", jwt.ErrTokenUnverifiable, nil)
	errAlgUnavailable = jwtError("signing method (alg) is unavailable", jwt.ErrTokenUnverifiable, nil)
	errBadSignature   = jwtError("", jwt.ErrTokenSignatureInvalid, jwt.ErrSignatureInvalid)
)
