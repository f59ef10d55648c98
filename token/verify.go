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
	"math"
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
	// Optional. Default DefaultCacheSize (84 519 tokens, sized for 64 MiB;
	// see CacheEntryBytes). A negative value turns the cache off.
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
	// wantMaps says whether the first request of the last token verified
	// wanted its claims as a map (a door that hands each request a
	// *jwt.Token), as claimsCopy and Claims report it; see parse. Written
	// only when it changes.
	wantMaps atomic.Bool
	// lastHead is the last plain header segment read, with what it holds
	// (see headMemo): the next token signed by the same key skips reading
	// it.
	lastHead atomic.Pointer[headMemo]
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
		cache:     newVerifiedCache(o.Keys, o.CacheSize, !o.TokensAreWhole),
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

// plain reports whether h holds string alg, kid and typ members only, the
// header a Verifier remembers (see headMemo).
func (h *joseHeader) plain() bool { return !h.other && !h.kidType && !h.crit && h.alg != nil }

// headMemo is a header segment and what read found in it, for
// Verifier.lastHead. Immutable: its slices are its own, never written.
type headMemo struct {
	seg string
	hdr joseHeader
}

func newHeadMemo(seg string, h joseHeader) *headMemo {
	own := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		return append([]byte{}, b...)
	}
	return &headMemo{seg: strings.Clone(seg), hdr: joseHeader{alg: own(h.alg), kid: own(h.kid), typ: own(h.typ)}}
}

// lookup returns the header read from seg when m remembers seg.
func (m *headMemo) lookup(seg string) (joseHeader, bool) {
	if m == nil || m.seg != seg {
		return joseHeader{}, false
	}
	return m.hdr, true
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
	// Tokens signed by one key share their header segment: the last plain
	// one read is remembered, as read.
	var buf []byte
	var err error
	hdr, known := vf.lastHead.Load().lookup(head)
	if !known {
		buf, err = strictBase64.AppendDecode((*bp)[:0], []byte(head))
		*bp = buf
		if err != nil {
			return nil, jwtError("could not base64 decode header", jwt.ErrTokenMalformed, err)
		}
		hd := headerDecoders.Get().(*headerDecoder)
		defer headerDecoders.Put(hd)
		if hdr, err = hd.read(buf); err != nil {
			return nil, jwtError("could not JSON decode header", jwt.ErrTokenMalformed, err)
		}
		if hdr.plain() {
			vf.lastHead.Store(newHeadMemo(head, hdr))
		}
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
	var other map[string]any
	usual := !hdr.other && !hdr.kidType && string(hdr.alg) == key.alg &&
		(hdr.typ == nil || string(hdr.typ) == "JWT") && (hdr.kid == nil || string(hdr.kid) == key.id)
	if !usual {
		if known {
			// Read from the memo: decode the segment for the map.
			if buf, err = strictBase64.AppendDecode((*bp)[:0], []byte(head)); err != nil {
				return nil, jwtError("could not base64 decode header", jwt.ErrTokenMalformed, err)
			}
			*bp = buf
		}
		if err := json.Unmarshal(buf, &other); err != nil {
			return nil, jwtError("could not JSON decode header", jwt.ErrTokenMalformed, err)
		}
	}
	v := &Verified{raw: raw, key: key, header: other, typJWT: hdr.typ != nil, kid: hdr.kid != nil, wantMaps: &vf.wantMaps}
	buf, err = strictBase64.AppendDecode((*bp)[:0], []byte(payload))
	*bp = buf
	if err != nil {
		return nil, jwtError("could not base64 decode claim", jwt.ErrTokenMalformed, err)
	}
	// The claims: when the first request of a token is expected to want
	// them as a map, they are decoded into one, handed to that request
	// without a copy, and read from it; otherwise only the claims the
	// verification needs are read, and a map is decoded for the request
	// that asks for one. Either way the same claims verify.
	cd := claimsDecoders.Get().(*claimsDecoder)
	defer claimsDecoders.Put(cd)
	rc := &cd.claims
	if vf.wantMaps.Load() {
		m, err := cd.readMap(buf)
		if err != nil {
			return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
		}
		v.claims.Store(&claimSet{m: m, fresh: true})
	} else if err := cd.read(buf); err != nil {
		return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
	}
	// golang-jwt's Validator reads its own clock: the verifier's, when now
	// is that clock's reading (within a millisecond: the engine reads it
	// just before), else one that answers now.
	validator := vf.validator
	if d := vf.now().Sub(now); d <= -time.Millisecond || d >= time.Millisecond {
		validator = jwt.NewValidator(append(vf.vopts, jwt.WithTimeFunc(func() time.Time { return now }))...)
	}
	if err := validator.Validate(rc); err != nil {
		return nil, jwtError("", jwt.ErrTokenInvalidClaims, err)
	}
	if err := vf.extract(v, rc, now); err != nil {
		return nil, err
	}
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

// extract fills v with the typed claims of rc and checks what golang-jwt
// does not: string-typed sub, sid and jti when present, sane dates and a
// positive lifetime. A role that is not a string means no role. It also
// sets the instants between which the cache may answer for the token.
func (vf *Verifier) extract(v *Verified, rc *readClaims, now time.Time) error {
	if rc.sub.kind != 0 && (rc.sub.kind != '"' || rc.sub.s == "" || len(rc.sub.s) > maxSubjectBytes) {
		return errBadSubject
	}
	exp, _, ok4 := rc.exp.date()
	iat, hasIAT, ok5 := rc.iat.date()
	authTime, hasAuth, ok6 := rc.authTime.date()
	nbf, hasNBF, ok7 := rc.nbf.date() // golang-jwt converts huge dates with overflow
	if !(rc.sid.optional() && rc.jti.optional() && ok4 && ok5 && ok6 && ok7) {
		return errBadClaim
	}
	authTime = toMicroseconds(authTime)
	v.sub, v.jti = rc.sub.s, rc.jti.s
	if rc.role.kind == '"' {
		v.role = rc.role.s
	}
	v.expSec, v.expNsec = unixParts(exp)
	v.iatSec, v.iatNsec = unixParts(iat)
	v.authSec, v.authNsec = unixParts(authTime)
	v.hasIAT, v.hasAuth = hasIAT, hasAuth
	v.lifetime = vf.settings.Lifetime(v.role)
	if hasIAT {
		v.lifetime = exp.Sub(iat)
		if v.lifetime <= 0 {
			return errBadClaim
		}
	}
	if hasAuth {
		// A session cannot begin after its token was issued, nor in the
		// future: a later start would escape every "log out everywhere"
		// whose cut-off precedes it. auth_time may carry a fraction of a
		// second that iat, in whole seconds, lacks.
		authSec := authTime.Truncate(time.Second)
		if hasIAT && authSec.Sub(iat) > vf.settings.Leeway || authSec.Sub(now) > vf.settings.Leeway {
			return errAuthTime
		}
	}
	switch {
	case rc.sid.s != "":
		v.session, v.hasSID = rc.sid.s, true
	case v.jti != "":
		v.session = derivedSession("jti", v.jti)
	default:
		// The signed part, not the whole token: one token can be sent
		// with another, equally valid signature (an ECDSA signature's
		// second form), and must not become a second session.
		v.session = derivedSession("tok", v.raw[:strings.LastIndexByte(v.raw, '.')])
	}
	v.sessionRK = store.SessionRevocationKey(v.session)
	if v.sub != "" {
		v.subjectRK = store.SubjectRevocationKey(v.sub)
	}

	// The instants at which the time claims pass golang-jwt's checks, as
	// its validator reads them (truncated to jwt.TimePrecision), leeway
	// included, and auth_time's check above: the cache answers for the
	// token only between them.
	leeway := vf.settings.Leeway
	until := exp.Truncate(jwt.TimePrecision).Add(leeway)
	var from time.Time
	for _, t := range [...]struct {
		t       time.Time
		present bool
	}{{nbf, hasNBF}, {iat, hasIAT}} {
		if f := t.t.Truncate(jwt.TimePrecision).Add(-leeway); t.present && f.After(from) {
			from = f
		}
	}
	if hasAuth {
		if f := authTime.Truncate(time.Second).Add(-leeway); f.After(from) {
			from = f
		}
	}
	v.validFrom, v.validUntil = unixNanos(from), unixNanos(until)
	return nil
}

// unixNanos returns t in Unix nanoseconds, saturated to the int64 range
// (years 1678 to 2262).
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minUnixNano):
		return math.MinInt64
	case t.After(maxUnixNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minUnixNano = time.Unix(0, math.MinInt64)
	maxUnixNano = time.Unix(0, math.MaxInt64)
)

// Verified is one token that verified. It is immutable, and may be shared
// by concurrent requests through the verifier's cache: nothing it returns
// shares mutable state with it or with another caller.
//
// It keeps what a cache hit needs in a compact form: the token (whose
// payload segment is the signed JSON a claims map is decoded from), the
// key that verified it, the typed claims with the times in Unix seconds
// and nanoseconds, and the digests; the cache may add a claims map and the
// decoded signature (see claimsCopy). Everything else is made per caller.
type Verified struct {
	raw string
	key *checked // the key whose signature verified: the method, and the usual header's values
	// header is the JOSE header when it is not the usual one (string alg
	// of the key, typ "JWT" or none, kid of the key or none), as decoded;
	// never handed out: Token copies it. nil for the usual header, which
	// typJWT and kid describe.
	header map[string]any
	// claims holds the map the verification decoded, until its first
	// caller takes it, or the cache's own claims map once a second caller
	// has wanted one (see claimsCopy).
	claims   atomic.Pointer[claimSet]
	wantMaps *atomic.Bool // the verifier's; see Verifier.wantMaps
	// The typed claims: the strings as written; session is Claims.Session,
	// the sid claim itself when hasSID. The times as golang-jwt converts
	// the claims' seconds, in Unix seconds and nanoseconds (auth_time
	// rounded to the microsecond), so that a hit makes a time.Time
	// without converting a float.
	sub, role, jti, session    string
	expSec, iatSec, authSec    int64
	lifetime                   time.Duration // exp - iat, or the role's configured lifetime
	expNsec, iatNsec, authNsec int32
	// evicted is set when the cache drops v (see release).
	evicted atomic.Bool
	// typJWT and kid describe the usual header (see header); hasIAT,
	// hasAuth and hasSID say whether iat, auth_time and sid are present.
	typJWT, kid, hasIAT, hasAuth, hasSID bool
	// sessionRK and subjectRK are the digests of session and of sub (zero
	// without one), by which stores and revocations know them.
	sessionRK, subjectRK store.RevocationKey
	// gen is the cache generation that took v (nil until then, or for
	// good), which counts the claims maps its entries keep.
	gen *cacheGen
	// renewedAt is when (Unix nanoseconds of the caller's clock) a store
	// last granted a renewal asked with this token, or 0; see RenewedAt.
	renewedAt atomic.Int64
	// validFrom and validUntil (Unix nanoseconds, saturated) bound the
	// instants at which the token's time claims pass, leeway included:
	// valid when validFrom <= now < validUntil.
	validFrom, validUntil int64
}

// secondsTime returns the time of a NumericDate claim of f seconds, as
// golang-jwt converts it.
func secondsTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// unixParts returns t's Unix seconds and nanoseconds, for time.Unix;
// the zero time gives zeros.
func unixParts(t time.Time) (int64, int32) {
	if t.IsZero() {
		return 0, 0
	}
	return t.Unix(), int32(t.Nanosecond())
}

// Raw returns the token as it was verified.
func (v *Verified) Raw() string { return v.raw }

// ExpiresAt returns the token's exp.
func (v *Verified) ExpiresAt() time.Time { return time.Unix(v.expSec, int64(v.expNsec)) }

// issuedAt returns the token's iat; the caller checks hasIAT.
func (v *Verified) issuedAt() time.Time { return time.Unix(v.iatSec, int64(v.iatNsec)) }

// ExpiresText returns the token's exp in decimal Unix seconds, for a
// response header (engine.HeaderSessionExpires). It is made on each call:
// only the requests that ask for the expiry need it, so a verification
// does not pay for it.
func (v *Verified) ExpiresText() string {
	return strconv.FormatInt(v.ExpiresAt().Unix(), 10)
}

// Subject returns the token's sub ("" when it has none).
func (v *Verified) Subject() string { return v.sub }

// Role returns the token's role ("" when it has none, or one that is not a
// string).
func (v *Verified) Role() string { return v.role }

// Session returns the session identity (see Claims.Session).
func (v *Verified) Session() string { return v.session }

// sessionKey returns the fixed-length digest of Session that identifies the
// session in a store: the hex of store.SessionRevocationKey(v.Session()).
func (v *Verified) sessionKey() string { return v.sessionRK.String() }

// sessionRevKey returns store.SessionRevocationKey(v.Session()),
// computed once.
func (v *Verified) sessionRevKey() store.RevocationKey { return v.sessionRK }

// subjectRevKey returns store.SubjectRevocationKey of the token's
// sub, computed once; the zero key when the token has no sub.
func (v *Verified) subjectRevKey() store.RevocationKey { return v.subjectRK }

// lifetimeLen returns the token's lifetime: exp - iat, or the configured
// lifetime of its role when it has no iat.
func (v *Verified) lifetimeLen() time.Duration { return v.lifetime }

// authStart returns when the session began, as a subject revocation's
// cut-off is compared with it: auth_time (to the microsecond), else iat;
// the zero time, before every cut-off, when the token has neither.
func (v *Verified) authStart() time.Time {
	switch {
	case v.hasAuth:
		return time.Unix(v.authSec, int64(v.authNsec)) // rounded already
	case v.hasIAT:
		return toMicroseconds(v.issuedAt()) // as a renewal writes it into auth_time
	}
	// Neither: the start is unknown, and stays the zero time (see
	// AuthTime); exp - lifetime would put it in the future for a token
	// with more time left than its role's lifetime.
	return time.Time{}
}

// sessionStart returns the start a renewal at now writes into auth_time
// and caps the session from: AuthTime, or for a token without auth_time
// and iat, exp minus its role's lifetime, but no later than now.
func (v *Verified) sessionStart(now time.Time) time.Time {
	if at := v.authStart(); !at.IsZero() {
		return at
	}
	return earliest(v.ExpiresAt().Add(-v.lifetime), now)
}

// renewedAtNanos returns when (Unix nanoseconds) a renewal asked with this very
// token was last granted, as recorded with MarkRenewed, or 0.
func (v *Verified) renewedAtNanos() int64 { return v.renewedAt.Load() }

// markRenewed records that a store granted a renewal asked with this token
// at now. Safe for concurrent use.
func (v *Verified) markRenewed(now time.Time) { v.renewedAt.Store(now.UnixNano()) }

// typedClaims sets c to the typed claims, without a map.
func (v *Verified) typedClaims(c *Claims) {
	*c = Claims{
		Subject: v.sub, Role: v.role, ID: v.jti,
		ExpiresAt: v.ExpiresAt(), Session: v.session, v: v,
	}
	if v.hasSID {
		c.SessionID = v.session
	}
	if v.hasIAT {
		c.IssuedAt = v.issuedAt()
	}
	if v.hasAuth {
		c.AuthTime = time.Unix(v.authSec, int64(v.authNsec))
	}
}

// Claims returns the typed claims, a copy of the caller's own. Its Map is
// made on demand (a deep copy).
func (v *Verified) Claims() *Claims {
	if p := v.claims.Load(); p == nil || p.fresh {
		// The first request of the token, or one before any wanted a
		// map: a map the verification decoded is dropped, and decoded
		// again for a caller that asks.
		v.firstWants(false)
		if p != nil {
			v.claims.CompareAndSwap(p, nil)
		}
	}
	c := new(Claims)
	v.typedClaims(c)
	return c
}

// firstWants records whether the first request of a token wanted its
// claims as a map, for the verifier's next first sight (see parse).
func (v *Verified) firstWants(maps bool) {
	if v.wantMaps != nil && v.wantMaps.Load() != maps {
		v.wantMaps.Store(maps)
	}
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
		sig [sha512.Size]byte // the Signature, when it fits (HMAC, ES256, ES384, EdDSA)
	})
	c := &both.c
	v.typedClaims(c)
	var sig string
	c.m, sig = v.claimsAndSignature()
	buf := both.sig[:0]
	if sig != "" {
		buf = append(buf, sig...)
	}
	v.fillToken(&both.tok, c.m, buf)
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

// fillToken sets t to a copy of the token whose Claims are claims. Its
// Signature is sig when that holds the decoded signature already, else the
// signature decoded into sig's room when it fits.
func (v *Verified) fillToken(t *jwt.Token, claims jwt.Claims, sig []byte) {
	if len(sig) == 0 {
		sig = v.appendSignature(sig[:0:cap(sig)])
	}
	*t = jwt.Token{
		Raw:       v.raw,
		Method:    v.key.method,
		Header:    v.headerCopy(),
		Claims:    claims,
		Signature: sig,
		Valid:     true,
	}
}

// headerCopy returns the header as a map of the caller's own: a clone of
// the key's usual header with the same members, or a copy of the header
// decoded.
func (v *Verified) headerCopy() map[string]any {
	if v.header != nil {
		return copyObject(v.header)
	}
	i := 0
	if v.typJWT {
		i |= 2
	}
	if v.kid {
		i |= 1
	}
	return maps.Clone(v.key.headers[i])
}

// appendSignature appends the decoded signature to dst.
func (v *Verified) appendSignature(dst []byte) []byte {
	// The segment decoded when the token verified: it cannot fail.
	sig, _ := strictBase64.AppendDecode(dst, []byte(v.raw[strings.LastIndexByte(v.raw, '.')+1:]))
	return sig
}

// claimSet is a claims map of a Verified: with fresh, the map the
// verification decoded, for the first caller to take; otherwise the
// cache's own, never handed out, kept with the decoded signature, which
// each request's *jwt.Token gets a copy of.
type claimSet struct {
	m      map[string]any
	nested []string // m's members that hold an object or an array (see freeze)
	sig    string
	fresh  bool
}

// claimsTaken marks a verification whose claims one caller has had: the
// cache keeps a map only for a token wanted again.
var claimsTaken = new(claimSet)

// claimsCopy returns claims of the caller's own. The first caller gets the
// map the verification decoded, or one decoded from the payload for it;
// nothing keeps it: most tokens are seen once (a renewal replaces them),
// and keep no map. A later caller gets a deep copy of the cache's map,
// which the second call decodes (concurrent calls may each decode; one
// result is kept), compacted by freeze; when the cache keeps as many maps
// as it may (see reserveMap), each later caller gets a map decoded for it.
func (v *Verified) claimsCopy() jwt.MapClaims {
	m, _ := v.claimsAndSignature()
	return m
}

// claimsAndSignature is claimsCopy, and also returns the decoded signature
// when the cache keeps it with its map ("" otherwise), for the caller to
// copy.
func (v *Verified) claimsAndSignature() (jwt.MapClaims, string) {
	for {
		p := v.claims.Load()
		switch {
		case p == nil:
			if v.claims.CompareAndSwap(nil, claimsTaken) {
				v.firstWants(true)
				return jwt.MapClaims(v.decodeClaims()), ""
			}
		case p.fresh:
			if v.claims.CompareAndSwap(p, claimsTaken) {
				// The only caller that reaches p: nobody else reads it.
				v.firstWants(true)
				return jwt.MapClaims(p.m), ""
			}
		case p == claimsTaken:
			m := v.decodeClaims()
			if !v.reserveMap() {
				// The cache keeps as many maps as it has room for; this
				// caller's is its own.
				return jwt.MapClaims(m), ""
			}
			nested := freeze(m) // nested objects take a fraction of the memory
			set := &claimSet{m: m, nested: nested, sig: string(v.appendSignature(nil))}
			if !v.claims.CompareAndSwap(claimsTaken, set) {
				v.unreserveMap() // another caller kept one meanwhile
				continue
			}
			if v.evicted.Load() {
				// Evicted meanwhile: unless the eviction took the map
				// back already, take it back here (see release).
				if v.claims.CompareAndSwap(set, claimsTaken) {
					v.unreserveMap()
				}
			}
			return jwt.MapClaims(copyFrozen(m, nested)), set.sig
		default:
			return jwt.MapClaims(copyFrozen(p.m, p.nested)), p.sig
		}
	}
}

// reserveMap reports whether the cache may keep a claims map for v, and
// counts it when so: while v is in the cache, not evicted, and its
// generation keeps fewer maps than its limit. A verification the cache did
// not take keeps its map: nothing else sees it, and it goes with its
// request.
func (v *Verified) reserveMap() bool {
	g := v.gen
	switch {
	case g == nil:
		return true
	case v.evicted.Load():
		return false
	case g.maps.Add(1) > g.mapLimit:
		g.maps.Add(-1)
		return false
	}
	return true
}

// unreserveMap undoes a reserveMap that kept no map.
func (v *Verified) unreserveMap() {
	if g := v.gen; g != nil {
		g.maps.Add(-1)
	}
}

// release is called once, by the cache, when it drops v: the claims map it
// keeps, if any, is let go and no longer counted. A claimsCopy that keeps
// one at the same time sees evicted and takes its map back itself.
func (v *Verified) release() {
	v.evicted.Store(true)
	if p := v.claims.Load(); p != nil && !p.fresh && p != claimsTaken && v.claims.CompareAndSwap(p, claimsTaken) {
		v.unreserveMap()
	}
}

// decodeClaims decodes the claims from the payload as golang-jwt's parser
// hands them out (numbers as float64), with JSON v2.
func (v *Verified) decodeClaims() map[string]any {
	bp := scratch.Get().(*[]byte)
	payload, err := v.appendPayload((*bp)[:0])
	// Decoded into an any, not a map[string]any: JSON v2 builds the
	// objects of an any directly, a third faster than through a map type.
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
		// Not reached: these very bytes were read as an object when the
		// token verified. An empty map hands out no claim of another
		// token.
		m = map[string]any{}
	}
	return m
}

// claimsDecoder reads the claims of a token whose signature verified; see
// read. Pooled.
type claimsDecoder struct {
	texts  claimTexts
	claims readClaims
	dec    jsontext.Decoder // for checkNumbers
	in     bytes.Reader
	buf    []byte
}

var claimsDecoders = sync.Pool{New: func() any { return new(claimsDecoder) }}

// claimTexts are the JSON texts of the claims a verification reads, as
// json.Unmarshal finds them in the claims object: empty when absent. The
// other members are kept together in Unknown, as a JSON object.
type claimTexts struct {
	Exp      jsontext.Value `json:"exp"`
	NBF      jsontext.Value `json:"nbf"`
	IAT      jsontext.Value `json:"iat"`
	AuthTime jsontext.Value `json:"auth_time"`
	Sub      jsontext.Value `json:"sub"`
	Role     jsontext.Value `json:"role"`
	SID      jsontext.Value `json:"sid"`
	JTI      jsontext.Value `json:"jti"`
	Iss      jsontext.Value `json:"iss"`
	Aud      jsontext.Value `json:"aud"`
	Unknown  jsontext.Value `json:",embed"`
}

// reset empties every text, keeping its buffer.
func (t *claimTexts) reset() {
	for _, v := range t.all() {
		*v = (*v)[:0]
	}
}

func (t *claimTexts) all() [11]*jsontext.Value {
	return [...]*jsontext.Value{&t.Exp, &t.NBF, &t.IAT, &t.AuthTime, &t.Sub, &t.Role, &t.SID, &t.JTI, &t.Iss, &t.Aud, &t.Unknown}
}

// readClaims are the claims a verification reads, each with the kind of
// JSON value it had (0 when absent). It is a jwt.Claims with the semantics
// of jwt.MapClaims holding the same JSON decoded by JSON v2: a date that
// is not a number, or an iss that is not a string, is an error; a date of
// 0 is absent; an aud that is neither a string nor an array is none.
type readClaims struct {
	exp, nbf, iat, authTime  numberClaim
	sub, role, sid, jti, iss stringClaim
	aud                      any // as JSON v2 decodes it into an any
}

type numberClaim struct {
	kind jsontext.Kind
	f    float64 // when kind is '0'
}

type stringClaim struct {
	kind jsontext.Kind
	s    string // when kind is '"'
}

// date reads an optional NumericDate claim: present is false when the
// claim is absent; ok is false when it is present but not a sane date
// (not a number, negative, or after year 9999: golang-jwt would convert it
// with overflow). Unlike golang-jwt, it reads 0 as a date.
func (c numberClaim) date() (t time.Time, present, ok bool) {
	if c.kind == 0 {
		return time.Time{}, false, true
	}
	if c.kind != '0' || math.IsNaN(c.f) || c.f < 0 || c.f > maxNumericDate {
		return time.Time{}, true, false
	}
	return secondsTime(c.f), true, true
}

// optional reports whether the claim is absent or a string.
func (c stringClaim) optional() bool { return c.kind == 0 || c.kind == '"' }

// numericDate is jwt.MapClaims' reading of a date claim: absent or 0 is
// none, a number a date, anything else invalid.
func (c numberClaim) numericDate(invalid error) (*jwt.NumericDate, error) {
	switch {
	case c.kind == 0, c.kind == '0' && c.f == 0:
		return nil, nil
	case c.kind == '0':
		return jwt.NewNumericDate(secondsTime(c.f)), nil
	}
	return nil, invalid
}

// The errors of jwt.MapClaims for a claim of the wrong type, with its text.
var (
	errExpType = claimTypeError("exp")
	errNbfType = claimTypeError("nbf")
	errIatType = claimTypeError("iat")
	errIssType = claimTypeError("iss")
	errSubType = claimTypeError("sub")
	errAudType = claimTypeError("aud")
)

func claimTypeError(name string) error {
	return fmt.Errorf("%w: %s is invalid", jwt.ErrInvalidType, name)
}

func (c *readClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.exp.numericDate(errExpType)
}

func (c *readClaims) GetNotBefore() (*jwt.NumericDate, error) { return c.nbf.numericDate(errNbfType) }

func (c *readClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.iat.numericDate(errIatType) }

func (c *readClaims) GetIssuer() (string, error) { return c.iss.mapString(errIssType) }

func (c *readClaims) GetSubject() (string, error) { return c.sub.mapString(errSubType) }

func (c *readClaims) GetAudience() (jwt.ClaimStrings, error) {
	var cs []string
	switch v := c.aud.(type) {
	case string:
		cs = append(cs, v)
	case []any:
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				return nil, errAudType
			}
			cs = append(cs, s)
		}
	}
	return cs, nil
}

// mapString is jwt.MapClaims' reading of a string claim.
func (c stringClaim) mapString(invalid error) (string, error) {
	switch c.kind {
	case 0:
		return "", nil
	case '"':
		return c.s, nil
	}
	return "", invalid
}

// readMap decodes the claims in buf into a map as golang-jwt's parser hands
// them out (JSON v2, numbers as float64), and reads d.claims from it: the
// same claims verify as with read. JSON null is no claims at all, an
// empty map.
func (d *claimsDecoder) readMap(buf []byte) (map[string]any, error) {
	d.claims = readClaims{}
	// Decoded into an any, not a map[string]any: JSON v2 builds the
	// objects of an any directly, a third faster than through a map type.
	var decoded any
	if err := json.Unmarshal(buf, &decoded); err != nil {
		return nil, err
	}
	m, ok := decoded.(map[string]any)
	switch {
	case decoded == nil:
		return map[string]any{}, nil
	case !ok:
		return nil, errClaimsNotObject
	}
	c := &d.claims
	for _, n := range [...]struct {
		name  string
		claim *numberClaim
	}{{"exp", &c.exp}, {"nbf", &c.nbf}, {"iat", &c.iat}, {"auth_time", &c.authTime}} {
		if v, ok := m[n.name]; ok {
			n.claim.kind = kindOf(v)
			n.claim.f, _ = v.(float64)
		}
	}
	for _, s := range [...]struct {
		name  string
		claim *stringClaim
	}{{"sub", &c.sub}, {"role", &c.role}, {"sid", &c.sid}, {"jti", &c.jti}, {"iss", &c.iss}} {
		if v, ok := m[s.name]; ok {
			s.claim.kind = kindOf(v)
			s.claim.s, _ = v.(string)
		}
	}
	c.aud = m["aud"]
	return m, nil
}

// kindOf returns the kind of JSON value v was decoded from.
func kindOf(v any) jsontext.Kind {
	switch v.(type) {
	case string:
		return '"'
	case float64:
		return '0'
	case map[string]any:
		return '{'
	case []any:
		return '['
	case bool:
		return 't'
	}
	return 'n'
}

// read reads the claims in buf into d.claims with JSON v2: json.Unmarshal
// finds the texts of the claims the verification needs in one pass
// (duplicate names, invalid UTF-8 and trailing data are errors, names are
// compared unescaped and exactly), and each is then read as JSON v2 reads
// it into an any: a number with strconv.ParseFloat, a string unquoted by
// jsontext, an aud decoded. What verifies here must also decode into the
// claims map a handler is given, which JSON v2 refuses for a number beyond
// a float64's range anywhere in the claims: the texts that may hold one
// are read through with jsontext (checkNumbers). JSON null is no claims at
// all, as decoding it into a map gives; any other value that is not an
// object is an error.
func (d *claimsDecoder) read(buf []byte) error {
	d.claims = readClaims{}
	d.texts.reset()
	if err := json.Unmarshal(buf, &d.texts); err != nil {
		if k := jsontext.Value(buf).Kind(); k != '{' && k != 'n' {
			return errClaimsNotObject
		}
		return err
	}
	t, c := &d.texts, &d.claims
	for _, n := range [...]struct {
		text  jsontext.Value
		claim *numberClaim
	}{{t.Exp, &c.exp}, {t.NBF, &c.nbf}, {t.IAT, &c.iat}, {t.AuthTime, &c.authTime}} {
		if err := d.number(n.text, n.claim); err != nil {
			return err
		}
	}
	for _, s := range [...]struct {
		text  jsontext.Value
		claim *stringClaim
	}{{t.Sub, &c.sub}, {t.Role, &c.role}, {t.SID, &c.sid}, {t.JTI, &c.jti}, {t.Iss, &c.iss}} {
		if err := d.string(s.text, s.claim); err != nil {
			return err
		}
	}
	if len(t.Aud) > 0 {
		if err := json.Unmarshal(t.Aud, &c.aud); err != nil {
			return err
		}
	}
	return d.checkNumbers(t.Unknown)
}

// number reads the claim of text into c.
func (d *claimsDecoder) number(text jsontext.Value, c *numberClaim) error {
	if len(text) == 0 {
		return nil
	}
	c.kind = text.Kind()
	if c.kind != '0' {
		return d.checkNumbers(text)
	}
	var err error
	c.f, err = strconv.ParseFloat(string(text), 64)
	return err
}

// string reads the claim of text into c.
func (d *claimsDecoder) string(text jsontext.Value, c *stringClaim) error {
	if len(text) == 0 {
		return nil
	}
	c.kind = text.Kind()
	if c.kind != '"' {
		return d.checkNumbers(text)
	}
	var err error
	d.buf, err = jsontext.AppendUnquote(d.buf[:0], text)
	c.s = string(d.buf)
	return err
}

// checkNumbers fails when the JSON text holds a number beyond a float64's
// range. Such a number has an exponent, which follows a digit, or more
// than 308 digits in a row; a text with neither (most: a string, a small
// object) is let through at a glance, and any other is read token by
// token with jsontext, each number parsed as JSON v2 parses it.
func (d *claimsDecoder) checkNumbers(text jsontext.Value) error {
	run := 0
	for _, c := range text {
		switch {
		case '0' <= c && c <= '9':
			run++
			if run <= 308 {
				continue
			}
		case run == 0 || c != 'e' && c != 'E':
			run = 0
			continue
		}
		return d.walk(text)
	}
	return nil
}

// walk reads text through, token by token, and fails on a number that does
// not fit a float64.
func (d *claimsDecoder) walk(text jsontext.Value) error {
	d.in.Reset(text)
	d.dec.Reset(&d.in)
	for {
		tok, err := d.dec.ReadToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if tok.Kind() == '0' {
			if _, err := tok.Float(); err != nil {
				return err
			}
		}
	}
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
