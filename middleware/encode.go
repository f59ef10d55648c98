package middleware

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// signJWT returns the compact JWT of claims signed by method with key, and
// the key ID in the header when kid is not empty: the very string golang-jwt
// would produce with jwt.NewWithClaims(method, claims), Header["kid"] = kid
// and SignedString(key), without the reflection. Renewals sign a token for
// every session that renews, so this is on the renewal path.
func signJWT(method jwt.SigningMethod, kid string, claims jwt.MapClaims, key any) (string, error) {
	bp := getBuf()
	defer putBuf(bp)
	body, err := appendJSON((*bp)[:0], claims, 0)
	*bp = body
	if err != nil {
		return "", err
	}
	return signBody(method, kid, body, key)
}

// bufs holds the scratch buffers a signature is built in; only the token
// string is allocated for good.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getBuf() *[]byte { return bufs.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 { // keep the pool's memory small
		*b = (*b)[:0]
		bufs.Put(b)
	}
}

// signBody is signJWT for claims already encoded as JSON.
func signBody(method jwt.SigningMethod, kid string, body []byte, key any) (string, error) {
	// The header golang-jwt writes, with its keys in encoding/json's order.
	head := make([]byte, 0, 64)
	head = append(head, `{"alg":`...)
	head = appendJSONString(head, method.Alg())
	if kid != "" {
		head = append(head, `,"kid":`...)
		head = appendJSONString(head, kid)
	}
	head = append(head, `,"typ":"JWT"}`...)

	// One scratch buffer for the whole token.
	enc := base64.RawURLEncoding
	bp := getBuf()
	defer putBuf(bp)
	buf := enc.AppendEncode((*bp)[:0], head)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, body)
	var sig []byte
	if hm, ok := method.(*jwt.SigningMethodHMAC); ok {
		secret, isBytes := key.([]byte)
		if !isBytes || !hm.Hash.Available() {
			return "", fmt.Errorf("HMAC sign expects []byte: %w", jwt.ErrInvalidKeyType)
		}
		pool := hmacs.pool(hm.Hash, secret)
		mac := pool.get()
		mac.Write(buf)
		// The sum goes into buf's spare room, past the end of the token
		// that ".", and the sum base64 encoded, will reach.
		if off := len(buf) + 1 + enc.EncodedLen(mac.Size()); off+mac.Size() <= cap(buf) {
			sig = mac.Sum(buf[off:off])
		} else {
			sig = mac.Sum(nil)
		}
		pool.put(mac)
	} else {
		var err error
		if sig, err = method.Sign(string(buf), key); err != nil {
			return "", err
		}
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	*bp = buf
	return string(buf), nil
}

// hmacs keeps HMAC states of the key signing renewals, so that a renewal
// neither allocates one nor repeats the key schedule (crypto/hmac resets a
// used state to the keyed one). It holds states of one key, the latest
// asked for: every renewal signs with the current key.
var hmacs hmacCache

type hmacCache struct {
	cur atomic.Pointer[hmacPool]
}

// pool returns the pool of states for hash h keyed with secret.
func (c *hmacCache) pool(h crypto.Hash, secret []byte) *hmacPool {
	p := c.cur.Load()
	if p == nil || p.hash != h || !bytes.Equal(p.secret, secret) {
		p = &hmacPool{hash: h, secret: bytes.Clone(secret)}
		c.cur.Store(p)
	}
	return p
}

// hmacPool holds HMAC states for one hash and key.
type hmacPool struct {
	hash   crypto.Hash
	secret []byte
	pool   sync.Pool // of hash.Hash, keyed and reset
}

func (p *hmacPool) get() hash.Hash {
	if m, ok := p.pool.Get().(hash.Hash); ok {
		return m
	}
	return hmac.New(p.hash.New, p.secret)
}

// put resets m and keeps it for the next get.
func (p *hmacPool) put(m hash.Hash) {
	m.Reset()
	p.pool.Put(m)
}

// signRenewal signs, with the current key, the claims renewedClaims(v, now,
// exp) would return, encoded straight from v.
func (i *Issuer) signRenewal(v *verified, now, exp time.Time) (string, error) {
	cur := i.keys.snap.Load().current
	var sid string
	if v.claims.SessionID == "" {
		sid = newID()
	}
	var jti [22]byte // newID, without a string of its own
	var rnd [16]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails (Go 1.24+)
	base64.RawURLEncoding.Encode(jti[:], rnd[:])
	bp := getBuf()
	defer putBuf(bp)
	body, err := appendRenewedClaims((*bp)[:0], v, now, exp, string(jti[:]), sid)
	*bp = body
	if err == nil {
		var token string
		if token, err = signBody(cur.method, cur.id, body, cur.sign); err == nil {
			return token, nil
		}
	}
	return "", fmt.Errorf("slidingjwt: signing with key %q (%s): %w", cur.id, cur.alg, err)
}

// appendRenewedClaims appends the JSON of renewedClaims(v, now, exp), with
// the given jti and, when v has no sid, the given sid, without building the
// map: the claims of v in name order, with iat, exp, jti, auth_time and sid
// replaced or added.
func appendRenewedClaims(b []byte, v *verified, now, exp time.Time, jti, sid string) ([]byte, error) {
	type claim struct { // a number, or a string when str is set
		name string
		num  int64
		str  string
	}
	set := [...]claim{ // in name order
		{name: "auth_time", num: v.authTime.Unix()},
		{name: "exp", num: exp.Unix()},
		{name: "iat", num: now.Unix()},
		{name: "jti", str: jti},
		{name: "sid", str: sid},
	}
	over := set[:]
	if v.claims.SessionID != "" {
		over = set[:4] // the sid is kept
	}
	find := func(name string) int {
		for i := range over {
			if over[i].name == name {
				return i
			}
		}
		return -1
	}
	var small [24]string
	names := small[:0]
	for k := range v.claims.Map {
		if find(k) < 0 {
			names = append(names, k)
		}
	}
	for _, c := range over {
		names = append(names, c.name)
	}
	slices.Sort(names)
	b = append(b, '{')
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch j := find(k); {
		case j < 0:
			var err error
			if b, err = appendJSON(b, v.claims.Map[k], 1); err != nil {
				return b, err
			}
		case over[j].str != "":
			b = appendJSONString(b, over[j].str)
		default:
			b = strconv.AppendInt(b, over[j].num, 10)
		}
	}
	return append(b, '}'), nil
}

// maxFastDepth is how deep appendJSON follows maps and slices itself; below
// it encoding/json takes over, which detects cycles.
const maxFastDepth = 64

// appendJSON appends the JSON of v to b exactly as encoding/json.Marshal
// writes it: map keys sorted, HTML characters and invalid UTF-8 escaped,
// numbers in the same format. It handles the types that decoded claims and
// the issuer's own claims hold (nil, bool, string, float64, int, int64,
// maps of string to any and slices of any) and hands anything else to
// encoding/json.
func appendJSON(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxFastDepth {
		return appendMarshal(b, v)
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendJSONString(b, v), nil
	case float64:
		return appendJSONFloat(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case jwt.MapClaims:
		return appendJSONObject(b, v, depth)
	case map[string]any:
		return appendJSONObject(b, v, depth)
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	return appendMarshal(b, v)
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, data...), nil
}

func appendJSONObject(b []byte, m map[string]any, depth int) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONFloat is encoding/json's float64 encoder.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoder with HTML escaping,
// as Marshal uses it.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
