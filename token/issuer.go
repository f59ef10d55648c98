package token

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
)

// Issuer mints the tokens an application hands out at login (and to
// guests), and signs renewals, with the same claims and keys: sub, role,
// iat, exp, auth_time, sid, jti, iss and aud when configured, and any extra
// claims such as "metadata".
//
// An Issuer is safe for concurrent use. Share its KeySet with the verifier
// (the middleware's Config.Keys) so both use the current key.
type Issuer struct {
	settings config.Settings
	keys     *KeySet
}

// reservedClaims are set by the Issuer and cannot be passed as extras.
var reservedClaims = map[string]bool{
	"sub": true, "role": true, "iat": true, "exp": true, "nbf": true,
	"auth_time": true, "sid": true, "jti": true, "iss": true, "aud": true,
}

// NewIssuer returns an Issuer for the settings, which it validates. keys may
// be nil: the settings' key set (KeySetFromSettings) is then used. A zero
// KeySet, which holds no keys, is an error.
func NewIssuer(s config.Settings, keys *KeySet) (*Issuer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if keys == nil {
		var err error
		if keys, err = KeySetFromSettings(s); err != nil {
			return nil, err
		}
	}
	if keys.snap.Load() == nil {
		return nil, errZeroKeySet
	}
	return &Issuer{settings: s, keys: keys}, nil
}

// Keys returns the key set the issuer signs with.
func (i *Issuer) Keys() *KeySet { return i.keys }

// Settings returns the settings the issuer was made with.
func (i *Issuer) Settings() config.Settings { return i.settings }

// Issue mints a token for a new session of sub with role, valid for the
// role's lifetime from now (capped by the settings' MaxSessionAge). extra
// adds claims such as {"metadata": {...}}; it may not set the claims the
// issuer owns (sub, role, iat, exp, nbf, auth_time, sid, jti, iss, aud).
func (i *Issuer) Issue(sub, role string, extra map[string]any) (string, error) {
	token, _, err := i.IssueAt(time.Now(), sub, role, extra)
	return token, err
}

// IssueAt is Issue at a given time; it also returns the token's expiry.
func (i *Issuer) IssueAt(now time.Time, sub, role string, extra map[string]any) (string, time.Time, error) {
	if sub == "" {
		return "", time.Time{}, fmt.Errorf("slidingjwt: Issue: empty subject")
	}
	claims := make(map[string]any, len(extra)+10)
	for k, v := range extra {
		if reservedClaims[k] {
			return "", time.Time{}, fmt.Errorf("slidingjwt: Issue: claim %q is set by the issuer, not by extra claims", k)
		}
		claims[k] = v
	}
	claims["sub"] = sub
	if role != "" {
		claims["role"] = role
	}
	exp := now.Add(i.settings.Lifetime(role))
	if i.settings.MaxSessionAge > 0 {
		exp = earliest(exp, now.Add(i.settings.MaxSessionAge))
	}
	own := renewedClaims{iat: now.Unix(), exp: exp.Unix(), jti: newID(), authTime: now, sid: newID()}
	own.set(claims, false)
	if i.settings.Issuer != "" {
		claims["iss"] = i.settings.Issuer
	}
	if i.settings.Audience != "" {
		claims["aud"] = i.settings.Audience
	}
	token, err := i.signMap(claims)
	if err != nil {
		return "", time.Time{}, err
	}
	return token, time.Unix(exp.Unix(), 0), nil
}

// expiryOfRenewal returns the expiry a renewal of v at now would get, and
// whether it extends the session at all: a session at its cap
// (auth_time + MaxSessionAge) is not renewed.
func (i *Issuer) expiryOfRenewal(v *Verified, now time.Time) (exp time.Time, extends bool) {
	return i.renewalExpiry(v, v.role, now)
}

func (i *Issuer) renewalExpiry(v *Verified, role string, now time.Time) (exp time.Time, extends bool) {
	exp = now.Add(i.settings.Lifetime(role))
	if i.settings.MaxSessionAge > 0 {
		exp = earliest(exp, v.sessionStart(now).Add(i.settings.MaxSessionAge))
	}
	// Tokens carry whole seconds: compare what would be written. A token
	// accepted within the leeway after its exp must not be renewed into
	// another token that has already expired.
	return exp, exp.Unix() > v.ExpiresAt().Unix() && exp.Unix() > now.Unix()
}

// renewedClaims are the claims a renewal sets; every other claim of the
// old token is kept as it was signed. This is the one definition of the
// renewed claim set: iat is now, exp the new expiry, jti new, auth_time
// kept (or derived: see Verified.sessionStart), written to the
// microsecond, and sid is the session identity, so that a token without
// sid and its renewal share one session.
type renewedClaims struct {
	iat, exp int64
	authTime time.Time
	jti, sid string
}

// renewedNames are the names renewedClaims sets, in the order written.
var renewedNames = [...]string{"iat", "exp", "jti", "auth_time", "sid"}

func renewalOf(v *Verified, now, exp time.Time) renewedClaims {
	return renewedClaims{iat: now.Unix(), exp: exp.Unix(), jti: newID(), authTime: v.sessionStart(now), sid: v.session}
}

// set writes the claims into m; exact writes the numbers as json.Number,
// as a map decoded with UseNumber holds them.
func (r renewedClaims) set(m map[string]any, exact bool) {
	num := func(n int64) any {
		if exact {
			return stdjson.Number(strconv.FormatInt(n, 10))
		}
		return n
	}
	m["iat"] = num(r.iat)
	m["exp"] = num(r.exp)
	m["jti"] = r.jti
	m["auth_time"] = stdjson.Number(appendMicros(nil, r.authTime)) // exact either way
	m["sid"] = r.sid
}

// write appends the claims as object members to enc.
func (r renewedClaims) write(enc *jsontext.Encoder) error {
	for _, t := range [...]jsontext.Token{
		jsontext.String("iat"), jsontext.Int(r.iat),
		jsontext.String("exp"), jsontext.Int(r.exp),
		jsontext.String("jti"), jsontext.String(r.jti),
		jsontext.String("auth_time"),
	} {
		if err := enc.WriteToken(t); err != nil {
			return err
		}
	}
	var num [32]byte
	if err := enc.WriteValue(jsontext.Value(appendMicros(num[:0], r.authTime))); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.String("sid")); err != nil {
		return err
	}
	return enc.WriteToken(jsontext.String(r.sid))
}

// renewedName reports whether the JSON string name (raw, quoted) decodes to
// one of renewedNames; scratch is reused for the unquoted name.
func renewedName(name jsontext.Value, scratch *[]byte) bool {
	b, err := jsontext.AppendUnquote((*scratch)[:0], name)
	*scratch = b
	if err != nil {
		return false
	}
	for _, n := range renewedNames {
		if string(b) == n {
			return true
		}
	}
	return false
}

// coder is the JSON decoder and encoder a renewal copies claims with, kept
// in a pool so that a renewal allocates neither.
type coder struct {
	dec     jsontext.Decoder
	enc     jsontext.Encoder
	in      bytes.Reader
	out     bytes.Buffer
	scratch []byte
	payload []byte // the verified token's claims, decoded
	token   []byte // the renewed token, while it is built
}

var coders = sync.Pool{New: func() any { return new(coder) }}

// signRenewal signs the renewal of v at now with expiry exp (from
// RenewalExpiry) with the current key. The new claims are the verified
// payload's members, copied token by token with their exact JSON
// (integers of any size, strings byte for byte), without the claims the
// renewal sets, followed by those (see renewedClaims).
func (i *Issuer) signRenewal(v *Verified, now, exp time.Time) (string, error) {
	body, c, err := i.renewedPayload(v, renewalOf(v, now, exp))
	defer coders.Put(c)
	if err != nil {
		return "", fmt.Errorf("slidingjwt: renewal: %w", err)
	}
	return i.signInto(&c.token, body)
}

// renewedPayload returns the JSON claims of v's renewal with own claims,
// in the returned coder's buffer (valid until the coder goes back to the
// pool).
func (i *Issuer) renewedPayload(v *Verified, own renewedClaims) ([]byte, *coder, error) {
	c := coders.Get().(*coder)
	payload, err := v.appendPayload(c.payload[:0])
	c.payload = payload
	if err != nil {
		return nil, c, err
	}
	c.in.Reset(payload)
	c.dec.Reset(&c.in)
	c.out.Reset()
	c.enc.Reset(&c.out, jsontext.PreserveRawStrings(true))
	if _, err := c.dec.ReadToken(); err != nil { // '{'
		return nil, c, err
	}
	if err := c.enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, c, err
	}
	for c.dec.PeekKind() != '}' {
		name, err := c.dec.ReadValue()
		if err != nil {
			return nil, c, err
		}
		if renewedName(name, &c.scratch) {
			if err := c.dec.SkipValue(); err != nil {
				return nil, c, err
			}
			continue
		}
		if err := c.enc.WriteValue(name); err != nil {
			return nil, c, err
		}
		val, err := c.dec.ReadValue()
		if err != nil {
			return nil, c, err
		}
		if err := c.enc.WriteValue(val); err != nil {
			return nil, c, err
		}
	}
	if err := own.write(&c.enc); err != nil {
		return nil, c, err
	}
	if err := c.enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, c, err
	}
	return bytes.TrimSuffix(c.out.Bytes(), []byte("\n")), c, nil
}

// renewedSize returns the length of the token SignRenewal would sign for v
// at now with expiry exp, without signing it.
func (i *Issuer) renewedSize(v *Verified, now, exp time.Time) (int, error) {
	body, c, err := i.renewedPayload(v, renewalOf(v, now, exp))
	defer coders.Put(c)
	if err != nil {
		return 0, err
	}
	cur := i.keys.snap.Load().current
	enc := base64.RawURLEncoding
	return len(cur.head) + 1 + enc.EncodedLen(len(body)) + 1 + cur.sigLen, nil
}

// maxRenewalGrowth bounds how many bytes longer than the token it replaces
// a renewal can be, apart from a change of key: the five claims a renewal
// sets, written in full, base64url encoded.
const maxRenewalGrowth = 4 * (len(`,"iat":-9223372036854775808,"exp":-9223372036854775808,"jti":"0123456789012345678901","auth_time":-9223372036854775808,"sid":"0123456789012345678901"`) + 2) / 3

// headroom returns how much shorter than limit a token must be for its
// renewal, signed with the current key, to fit in limit for sure; longer
// tokens need RenewedSize.
func (i *Issuer) headroom() int {
	cur := i.keys.snap.Load().current
	return maxRenewalGrowth + len(cur.head) + cur.sigLen
}

// renewalClaims returns the claims of v's renewal at now with expiry exp
// as a map, for a hook that may change them (the middleware's
// BeforeRenew): numbers are json.Number, exact. Sign the result with
// SignRenewalClaims.
func (i *Issuer) renewalClaims(v *Verified, now, exp time.Time) (jwt.MapClaims, error) {
	payload, err := v.payload()
	if err != nil {
		return nil, err
	}
	dec := stdjson.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m jwt.MapClaims
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	renewalOf(v, now, exp).set(m, true)
	return m, nil
}

// signRenewalClaims signs claims (from RenewalClaims, maybe changed) as the
// renewal of v at now, and returns the token and its expiry. The claims
// that make the session are not the hook's to change: sub is set back to
// v's (removed when v has none), and iat, exp, jti, auth_time and sid are
// set again as RenewalClaims set them, whatever the hook did to them; exp
// is computed for the role the claims name, so a role change gets that
// role's lifetime.
func (i *Issuer) signRenewalClaims(v *Verified, claims jwt.MapClaims, now time.Time) (string, time.Time, error) {
	role, _ := claims["role"].(string)
	exp, _ := i.renewalExpiry(v, role, now)
	renewalOf(v, now, exp).set(claims, true)
	if v.sub != "" {
		claims["sub"] = v.sub
	} else {
		delete(claims, "sub")
	}
	body, err := encodeClaims(claims)
	if err != nil {
		return "", time.Time{}, err
	}
	// The expiry as signed, whatever type the hook wrote it with.
	var signed struct {
		Exp *jwt.NumericDate `json:"exp"`
	}
	if err := stdjson.Unmarshal(body, &signed); err != nil || signed.Exp == nil {
		return "", time.Time{}, fmt.Errorf("slidingjwt: renewal claims: exp must be a NumericDate: %v", claims["exp"])
	}
	token, err := i.sign(body)
	return token, time.Unix(signed.Exp.Unix(), 0), err
}

// signMap encodes claims and signs them.
func (i *Issuer) signMap(claims map[string]any) (string, error) {
	body, err := encodeClaims(claims)
	if err != nil {
		return "", err
	}
	return i.sign(body)
}

// encodeClaims encodes claims with encoding/json: names sorted, no HTML
// escaping, json.Number exact.
func encodeClaims(claims map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := stdjson.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(claims); err != nil {
		return nil, fmt.Errorf("slidingjwt: encoding claims: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sign returns the compact JWS of the JSON claims body, signed with the
// current key by its SigningMethod.
func (i *Issuer) sign(body []byte) (string, error) {
	var scratch []byte
	return i.signInto(&scratch, body)
}

// signInto is sign, building the token in *scratch (grown as needed, and
// left for the caller to reuse) before it is copied into the string.
func (i *Issuer) signInto(scratch *[]byte, body []byte) (string, error) {
	cur := i.keys.snap.Load().current
	enc := base64.RawURLEncoding
	n := len(cur.head) + 1 + enc.EncodedLen(len(body))
	buf := slices.Grow((*scratch)[:0], n+1+cur.sigLen)
	buf = append(buf, cur.head...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, body)
	var sig []byte
	if h, ok := cur.signer.(*keyedHMAC); ok && h.own(cur.sign) {
		// The same MAC as Sign, without a copy of buf as a string.
		var tmp [sha512.Size]byte
		sig = h.appendMAC(tmp[:0], buf)
	} else {
		var err error
		if sig, err = cur.signer.Sign(string(buf), cur.sign); err != nil {
			return "", fmt.Errorf("slidingjwt: signing with key %q (%s): %w", cur.id, cur.alg, err)
		}
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	if cap(buf) <= 64<<10 { // a huge token does not keep its buffer
		*scratch = buf
	}
	return string(buf), nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
