package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
)

// Key is one signing or verification key, bound to exactly one algorithm: a
// token is checked with a key only when its alg header names that algorithm,
// so an HMAC token can never be checked against a public key.
type Key struct {
	// ID is the key's "kid", written into the header of the tokens it signs.
	// Optional for one key of a set; the others need distinct IDs, so
	// tokens name the key that verifies them and old keys can be retired.
	ID string
	// Algorithm is the JWT algorithm, e.g. "HS256", "RS256", "ES256",
	// "EdDSA". "none" is refused.
	Algorithm string
	// Material is the key: for HS* a []byte secret of at least
	// config.MinSecretBytes; for RS*/PS* an *rsa.PrivateKey (can sign) or
	// *rsa.PublicKey (verify only); for ES* an *ecdsa.PrivateKey or
	// *ecdsa.PublicKey on the algorithm's curve; for EdDSA an
	// ed25519.PrivateKey or ed25519.PublicKey.
	Material any
}

// checked is a Key after validation, with what the verifier and signer
// need.
type checked struct {
	id     string
	alg    string
	method jwt.SigningMethod
	// signer signs and verifies: method itself, or for an HMAC key a
	// keyedHMAC bound to it (hmac.go), which computes the same MACs.
	signer jwt.SigningMethod
	sign   any // nil for a verify-only key
	verify any
	// head is the base64url header of the tokens the key signs:
	// {"alg":...,"kid":...,"typ":"JWT"}, kid only when the key has an ID.
	head string
	// headers are the usual headers of the tokens the key verifies, as
	// maps never handed out (a caller gets a clone, cheaper than building
	// a map): alg, then typ "JWT" when bit 1 of the index is set, then kid
	// when bit 0 is set (see Verified.headerCopy).
	headers [4]map[string]any
	// sigLen is the length of the signatures the key makes, base64url
	// encoded: what a renewal's size is computed with.
	sigLen int
}

type keySnapshot struct {
	version uint64
	current *checked
	byID    map[string]*checked
	// one holds, for each key, a slice of that key alone, so that keyFor
	// does not allocate one.
	one map[*checked][]*checked
}

// KeySet holds the keys that verify tokens and the current key that signs
// new and renewed ones. Because every renewal signs with the current key,
// rotating means: Rotate to a new key, wait until active sessions have
// renewed (one renewal each), then Retire the old key.
//
// A KeySet is safe for concurrent use; changes take effect for the next
// request. Its Version changes with every change, which is how caches of
// verified tokens know to forget what an old key set verified.
//
// Build a KeySet with NewKeySet, HMACKeySet or KeySetFromSettings. The zero
// KeySet holds no keys: NewIssuer and Config.ToMiddleware refuse it, and
// its Rotate and Retire return an error.
type KeySet struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[keySnapshot]
}

// NewKeySet returns a key set that signs with current and also verifies
// with others. current must be able to sign.
func NewKeySet(current Key, others ...Key) (*KeySet, error) {
	ks := &KeySet{}
	if err := ks.replace(0, current, others); err != nil {
		return nil, err
	}
	return ks, nil
}

// HMACKeySet returns a one-key set for an HS* algorithm and secret.
func HMACKeySet(alg string, secret []byte) (*KeySet, error) {
	return NewKeySet(Key{Algorithm: alg, Material: secret})
}

func (ks *KeySet) replace(version uint64, current Key, others []Key) error {
	snap := &keySnapshot{version: version + 1, byID: map[string]*checked{}, one: map[*checked][]*checked{}}
	all := append([]Key{current}, others...)
	for i, k := range all {
		c, err := checkKey(k)
		if err != nil {
			return err
		}
		if i == 0 {
			if c.sign == nil {
				return fmt.Errorf("slidingjwt: current key %q (%s) cannot sign: give its private key", k.ID, k.Algorithm)
			}
			snap.current = c
		}
		if _, dup := snap.byID[c.id]; dup {
			if c.id == "" {
				return fmt.Errorf("slidingjwt: key %d (%s) has no ID, and at most one key of a set may lack one", i, k.Algorithm)
			}
			return fmt.Errorf("slidingjwt: key ID %q is used twice", c.id)
		}
		snap.byID[c.id] = c
		snap.one[c] = []*checked{c}
	}
	ks.snap.Store(snap)
	return nil
}

// errZeroKeySet is the error for a KeySet that was never built.
var errZeroKeySet = errors.New("slidingjwt: KeySet is empty: build it with NewKeySet, HMACKeySet or KeySetFromSettings")

// Rotate makes next the signing key and keeps every key held so far for
// verification. next needs an ID different from the keys already held. On
// a zero KeySet, which holds no keys, it returns an error and changes
// nothing.
func (ks *KeySet) Rotate(next Key) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old := ks.snap.Load()
	if old == nil {
		return errZeroKeySet
	}
	others := make([]Key, 0, len(old.byID))
	for _, c := range old.byID {
		others = append(others, c.key())
	}
	return ks.replace(old.version, next, others)
}

// Retire drops the key with the given ID ("" for the key without one), so
// tokens signed with it no longer verify. The current signing key cannot be
// retired. On a zero KeySet, which holds no keys, it returns an error.
func (ks *KeySet) Retire(id string) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	old := ks.snap.Load()
	if old == nil {
		return errZeroKeySet
	}
	if _, ok := old.byID[id]; !ok {
		return fmt.Errorf("slidingjwt: no key with ID %q to retire", id)
	}
	if old.current.id == id {
		return fmt.Errorf("slidingjwt: key %q signs new tokens: Rotate to another key before retiring it", id)
	}
	others := make([]Key, 0, len(old.byID))
	for kid, c := range old.byID {
		if kid != id && c != old.current {
			others = append(others, c.key())
		}
	}
	return ks.replace(old.version, old.current.key(), others)
}

// Version counts the changes made to the set, starting at 1. It is 0 for
// a zero KeySet, which holds no keys.
func (ks *KeySet) Version() uint64 {
	snap := ks.snap.Load()
	if snap == nil {
		return 0
	}
	return snap.version
}

// CurrentID returns the ID of the signing key: "" for a one-key set
// without one, and for a zero KeySet, which holds no keys.
func (ks *KeySet) CurrentID() string {
	snap := ks.snap.Load()
	if snap == nil {
		return ""
	}
	return snap.current.id
}

func (c *checked) key() Key {
	m := c.sign
	if m == nil {
		m = c.verify
	}
	return Key{ID: c.id, Algorithm: c.alg, Material: m}
}

var (
	errUnknownKey = errors.New("no key verifies this token")
	errAlgorithm  = errors.New("token algorithm does not match its key")
)

// keyFor returns the key that may verify a token whose header names alg
// and, when hasKID, the key ID kid. A token with a kid is checked with the
// key of that ID; one without, with the key that has no ID, or else with
// the only key of a one-key set: in a set of several keys that all have
// IDs, a token must name its key (as echo-jwt requires with SigningKeys).
// The algorithm the token names must be the one its key is bound to.
func (s *keySnapshot) keyFor(alg, kid []byte, hasKID bool) ([]*checked, error) {
	var c *checked
	switch {
	case hasKID:
		c = s.byID[string(kid)]
	case s.byID[""] != nil:
		c = s.byID[""]
	case len(s.byID) == 1:
		c = s.current
	}
	if c == nil {
		return nil, errUnknownKey
	}
	if c.alg != string(alg) {
		return nil, errAlgorithm
	}
	return s.one[c], nil
}

func checkKey(k Key) (*checked, error) {
	name := k.Algorithm
	if k.ID != "" {
		name = fmt.Sprintf("%q (%s)", k.ID, k.Algorithm)
	}
	if k.Algorithm == "" || k.Algorithm == "none" || k.Algorithm == "None" || k.Algorithm == "NONE" {
		return nil, fmt.Errorf("slidingjwt: key %s: algorithm %q is not allowed: unsigned tokens are never accepted", name, k.Algorithm)
	}
	method := jwt.GetSigningMethod(k.Algorithm)
	if method == nil || method == jwt.SigningMethodNone {
		return nil, fmt.Errorf("slidingjwt: key %s: unknown algorithm %q", name, k.Algorithm)
	}
	c := &checked{id: k.ID, alg: k.Algorithm, method: method, signer: method}
	for i := range c.headers {
		h := map[string]any{"alg": k.Algorithm}
		if i&2 != 0 {
			h["typ"] = "JWT"
		}
		if i&1 != 0 {
			h["kid"] = k.ID
		}
		c.headers[i] = h
	}
	if k.Material == nil {
		return nil, fmt.Errorf("slidingjwt: key %s has no material", name)
	}
	wrongType := func() error {
		return fmt.Errorf("slidingjwt: key %s: material of type %T does not fit %s", name, k.Material, k.Algorithm)
	}
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("slidingjwt: key %s: %s", name, fmt.Sprintf(format, args...))
	}
	nilPointer := func() error { return invalid("material is a nil %T", k.Material) }
	switch m := method.(type) {
	case *jwt.SigningMethodHMAC:
		b, ok := k.Material.([]byte)
		if !ok {
			return nil, wrongType()
		}
		if len(b) < config.MinSecretBytes {
			return nil, fmt.Errorf("slidingjwt: key %s: HMAC secret of %d bytes is too short: use at least %d", name, len(b), config.MinSecretBytes)
		}
		if bytes.Contains(b, []byte("-----BEGIN")) {
			return nil, fmt.Errorf("slidingjwt: key %s: a PEM key is not an HMAC secret", name)
		}
		secret := bytes.Clone(b)
		c.sign, c.verify = secret, secret
		c.signer = newKeyedHMAC(m, secret)
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		var priv *rsa.PrivateKey
		var pub *rsa.PublicKey
		switch key := k.Material.(type) {
		case *rsa.PrivateKey:
			if key == nil {
				return nil, nilPointer()
			}
			priv, pub = key, &key.PublicKey
		case *rsa.PublicKey:
			if key == nil {
				return nil, nilPointer()
			}
			pub = key
		default:
			return nil, wrongType()
		}
		switch {
		case pub.N == nil:
			return nil, invalid("RSA key has no modulus (N is nil)")
		case pub.N.Sign() == 0:
			return nil, invalid("RSA modulus is 0")
		case pub.N.Sign() < 0:
			return nil, invalid("RSA modulus is negative")
		case pub.N.BitLen() < 2048:
			return nil, invalid("RSA key of %d bits is too small: use at least 2048", pub.N.BitLen())
		case pub.N.Bit(0) == 0:
			return nil, invalid("RSA modulus of %d bits is even", pub.N.BitLen())
		case pub.E < 3 || pub.E%2 == 0:
			return nil, invalid("RSA public exponent %d is not an odd number of at least 3", pub.E)
		}
		if priv != nil {
			if err := priv.Validate(); err != nil {
				return nil, invalid("RSA private key is not usable: %v", err)
			}
			c.sign = priv
		}
		c.verify = pub
	case *jwt.SigningMethodECDSA:
		var priv *ecdsa.PrivateKey
		var pub *ecdsa.PublicKey
		switch key := k.Material.(type) {
		case *ecdsa.PrivateKey:
			if key == nil {
				return nil, nilPointer()
			}
			priv, pub = key, &key.PublicKey
		case *ecdsa.PublicKey:
			if key == nil {
				return nil, nilPointer()
			}
			pub = key
		default:
			return nil, wrongType()
		}
		if pub.Curve == nil || pub.Curve.Params() == nil || pub.Curve.Params().BitSize != m.CurveBits {
			return nil, invalid("curve does not fit %s (want %s)", k.Algorithm, curveName(m.CurveBits))
		}
		// The coordinates and the scalar are deprecated fields, but reading
		// them is the only way to refuse a zero key before crypto/ecdsa
		// dereferences them.
		//lint:ignore SA1019 a nil check, before crypto/ecdsa would panic on nil
		if pub.X == nil || pub.Y == nil {
			return nil, invalid("ECDSA public key has no point (X or Y is nil)")
		}
		//lint:ignore SA1019 a nil check, before crypto/ecdsa would panic on nil
		if priv != nil && priv.D == nil {
			return nil, invalid("ECDSA private key has no scalar (D is nil)")
		}
		// crypto/ecdsa checks keys on crypto/elliptic's own curves only; a
		// key on another implementation of the curve, such as
		// elliptic.P256().Params(), is checked no further.
		if pub.Curve == curveFor(m.CurveBits) {
			point, err := pub.Bytes()
			if err != nil {
				return nil, invalid("ECDSA public key is not a point of %s: %v", curveName(m.CurveBits), err)
			}
			if priv != nil {
				derived, err := priv.ECDH()
				if err != nil {
					return nil, invalid("ECDSA private key is not usable: %v", err)
				}
				if !bytes.Equal(derived.PublicKey().Bytes(), point) {
					return nil, invalid("ECDSA private key does not match its public key (X, Y)")
				}
			}
		}
		if priv != nil {
			c.sign = priv
		}
		c.verify = pub
	case *jwt.SigningMethodEd25519:
		switch key := k.Material.(type) {
		case ed25519.PrivateKey:
			if len(key) != ed25519.PrivateKeySize {
				return nil, invalid("Ed25519 private key of %d bytes: want %d", len(key), ed25519.PrivateKeySize)
			}
			if !bytes.Equal(ed25519.NewKeyFromSeed(key.Seed())[ed25519.SeedSize:], key[ed25519.SeedSize:]) {
				return nil, invalid("Ed25519 private key does not match its public half")
			}
			c.sign, c.verify = key, key.Public()
		case ed25519.PublicKey:
			if len(key) != ed25519.PublicKeySize {
				return nil, invalid("Ed25519 public key of %d bytes: want %d", len(key), ed25519.PublicKeySize)
			}
			c.verify = key
		default:
			return nil, wrongType()
		}
	default:
		return nil, fmt.Errorf("slidingjwt: key %s: unsupported algorithm %q", name, k.Algorithm)
	}
	hdr := map[string]string{"alg": k.Algorithm, "typ": "JWT"}
	if k.ID != "" {
		hdr["kid"] = k.ID
	}
	hj, err := json.Marshal(hdr)
	if err != nil {
		return nil, invalid("header: %v", err)
	}
	c.head = base64.RawURLEncoding.EncodeToString(hj)
	c.sigLen = base64.RawURLEncoding.EncodedLen(signatureBytes(c.verify, method))
	return c, nil
}

// curveFor returns crypto/elliptic's curve of the given size, the one the
// ES* algorithm of that size needs, or nil.
func curveFor(bits int) elliptic.Curve {
	switch bits {
	case 256:
		return elliptic.P256()
	case 384:
		return elliptic.P384()
	case 521:
		return elliptic.P521()
	}
	return nil
}

func curveName(bits int) string {
	switch bits {
	case 256:
		return elliptic.P256().Params().Name
	case 384:
		return elliptic.P384().Params().Name
	case 521:
		return elliptic.P521().Params().Name
	}
	return fmt.Sprintf("%d-bit curve", bits)
}

// signatureBytes returns the length of the signatures method makes with the
// key whose public (or HMAC) part is verify.
func signatureBytes(verify any, method jwt.SigningMethod) int {
	switch m := method.(type) {
	case *jwt.SigningMethodHMAC:
		return m.Hash.Size()
	case *jwt.SigningMethodECDSA:
		return 2 * ((m.CurveBits + 7) / 8)
	case *jwt.SigningMethodEd25519:
		return ed25519.SignatureSize
	}
	if pub, ok := verify.(*rsa.PublicKey); ok {
		return pub.Size()
	}
	return 0
}
