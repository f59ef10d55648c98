package middleware

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// parsed is what parseToken yields besides the token: the claims, and
// whether the header repeats a name (the claims decoder says it for the
// claims).
type parsed struct {
	claims  decodedClaims
	headDup bool
}

// parseToken verifies a compact JWS token as golang-jwt's
// Parser.ParseWithClaims does, with golang-jwt's signing methods and
// Validator and the key set's key function, and returns the token with
// jwt.MapClaims, as echo-jwt's handlers expect. It differs in two ways:
//
//   - The signature is checked before the claims are decoded, so a token
//     that is not signed with one of our keys costs a header decode and a
//     MAC, and nothing an attacker sends in the claims is ever parsed.
//   - JSON is decoded by decodedClaims, after encoding/json has checked it
//     is valid, instead of by reflection, and HMACs come from a pool: this
//     is the cost of the first request of every token.
//
// The key function sees the header and the algorithm only (Claims is nil):
// nothing in the claims is trusted, or read, before the signature is.
//
// Errors wrap the same golang-jwt sentinels (jwt.ErrTokenMalformed,
// jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
// jwt.ErrTokenInvalidClaims and the validator's, e.g. jwt.ErrTokenExpired)
// with golang-jwt's messages; when a token has several faults, the one
// reported may differ.
func (m *mw) parseToken(raw string, g *cacheGen, p *parsed) (*jwt.Token, error) {
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

	scratch := getBuf()
	defer putBuf(scratch)
	enc := strictBase64

	// The header: golang-jwt's map, decoded like the claims.
	buf, err := enc.AppendDecode((*scratch)[:0], []byte(head))
	*scratch = buf
	if err != nil {
		return nil, jwtError("could not base64 decode header", jwt.ErrTokenMalformed, err)
	}
	var hdr decodedClaims
	if err := decodeJSON(&hdr, buf); err != nil {
		return nil, jwtError("could not JSON decode header", jwt.ErrTokenMalformed, err)
	}
	p.headDup = hdr.duplicate
	t := &jwt.Token{Raw: raw, Header: hdr.MapClaims}
	alg, ok := t.Header["alg"].(string)
	if !ok {
		return nil, errAlgUnspecified
	}
	if t.Method = g.methods[alg]; t.Method == nil {
		if t.Method = jwt.GetSigningMethod(alg); t.Method == nil {
			return nil, errAlgUnavailable
		}
	}

	// The signature, with the key the key set picks.
	key, err := g.keyFunc(t)
	if err != nil {
		return nil, jwtError("error while executing keyfunc", jwt.ErrTokenUnverifiable, err)
	}
	if t.Signature, err = enc.DecodeString(sigSeg); err != nil {
		return nil, jwtError("could not base64 decode signature", jwt.ErrTokenMalformed, err)
	}
	signing := raw[:len(head)+1+len(payload)]
	if set, isSet := key.(jwt.VerificationKeySet); isSet {
		if len(set.Keys) == 0 {
			return nil, errEmptyKeySet
		}
		for _, k := range set.Keys {
			if err = g.verify(t.Method, signing, t.Signature, k, scratch); err == nil {
				break
			}
		}
	} else {
		err = g.verify(t.Method, signing, t.Signature, key, scratch)
	}
	if err != nil {
		if err == jwt.ErrSignatureInvalid {
			return nil, errBadSignature
		}
		return nil, jwtError("", jwt.ErrTokenSignatureInvalid, err)
	}

	// The claims, now that they are known to be ours.
	buf, err = enc.AppendDecode((*scratch)[:0], []byte(payload))
	*scratch = buf
	if err != nil {
		return nil, jwtError("could not base64 decode claim", jwt.ErrTokenMalformed, err)
	}
	if err := decodeJSON(&p.claims, buf); err != nil {
		return nil, jwtError("could not JSON decode claim", jwt.ErrTokenMalformed, err)
	}
	if p.claims.MapClaims == nil { // "null": it cannot pass the exp check
		p.claims.MapClaims = jwt.MapClaims{}
	}
	t.Claims = p.claims.MapClaims
	if err := m.validator.Validate(p.claims.MapClaims); err != nil {
		return nil, jwtError("", jwt.ErrTokenInvalidClaims, err)
	}
	t.Valid = true
	return t, nil
}

// strictBase64 decodes the segments: unpadded base64url whose unused
// trailing bits are zero. With compactAlphabet, which keeps out the line
// breaks base64 decoding skips, a token has one spelling only: the same
// signed bytes cannot be sent as several strings, each taking its own
// cache slot. (An ECDSA signature still has two valid forms; the default
// session key is therefore taken from the signed part, see sessionKey.)
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

// decodeJSON decodes data into c as json.Unmarshal would, with its error
// for text that is not JSON.
func decodeJSON(c *decodedClaims, data []byte) error {
	if !json.Valid(data) {
		var discard any
		return json.Unmarshal(data, &discard) // the syntax error
	}
	return c.UnmarshalJSON(data)
}

// verify checks sig over signing with key, as method.Verify does; an HMAC
// key of the generation's key set uses a pooled state.
func (g *cacheGen) verify(method jwt.SigningMethod, signing string, sig []byte, key any, scratch *[]byte) error {
	hm, isHMAC := method.(*jwt.SigningMethodHMAC)
	secret, isBytes := key.([]byte)
	if !isHMAC || !isBytes || len(secret) == 0 {
		return method.Verify(signing, sig, key)
	}
	pool := g.macs[&secret[0]]
	if pool == nil || pool.hash != hm.Hash || len(pool.secret) != len(secret) {
		return method.Verify(signing, sig, key)
	}
	mac := pool.get()
	*scratch = append((*scratch)[:0], signing...) // Write takes bytes
	mac.Write(*scratch)
	var sum [sha512.Size]byte
	ok := hmac.Equal(sig, mac.Sum(sum[:0]))
	pool.put(mac)
	if !ok {
		return jwt.ErrSignatureInvalid
	}
	return nil
}

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

// The errors parseToken returns without a cause of their own, made once.
var (
	errSegments       = jwtError("token contains an invalid number of segments", jwt.ErrTokenMalformed, nil)
	errAlphabet       = jwtError("token contains a character outside base64url and '.'", jwt.ErrTokenMalformed, nil)
	errAlgUnspecified = jwtError("signing method (alg) is unspecified", jwt.ErrTokenUnverifiable, nil)
	errAlgUnavailable = jwtError("signing method (alg) is unavailable", jwt.ErrTokenUnverifiable, nil)
	errEmptyKeySet    = jwtError("keyfunc returned empty verification key set", jwt.ErrTokenUnverifiable, nil)
	errBadSignature   = jwtError("", jwt.ErrTokenSignatureInvalid, jwt.ErrSignatureInvalid)
)
