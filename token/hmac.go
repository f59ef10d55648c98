package token

import (
	"crypto/hmac"
	"hash"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// keyedHMAC is the jwt.SigningMethod an HMAC key signs and verifies with:
// golang-jwt's SigningMethodHMAC computes the same MAC, but builds a new
// crypto/hmac state (about ten allocations) for every token, which is most
// of what a renewal allocates. keyedHMAC keeps the states of its one key in
// a pool of its own, so two keys, or two key sets, never share one.
//
// It is bound to its key: only the very secret it was made for (the
// KeySet's own copy) uses the pool; given any other key, Sign and Verify
// do what golang-jwt's method does with it. Tokens handed to handlers still
// name golang-jwt's method (jwt.SigningMethodHS256, ...).
//
// keyedHMAC is safe for concurrent use.
type keyedHMAC struct {
	*jwt.SigningMethodHMAC
	secret []byte
	pool   sync.Pool // of *hmacState
}

// hmacState is one MAC state with the buffers it needs, so that neither
// the string to sign nor the sum allocates.
type hmacState struct {
	mac  hash.Hash
	in   []byte
	sum  []byte
	size int
}

func newKeyedHMAC(m *jwt.SigningMethodHMAC, secret []byte) *keyedHMAC {
	k := &keyedHMAC{SigningMethodHMAC: m, secret: secret}
	k.pool.New = func() any {
		mac := hmac.New(m.Hash.New, secret)
		return &hmacState{mac: mac, size: mac.Size()}
	}
	return k
}

// sumOf returns the MAC of msg in a buffer of the pool's state s, valid
// until s is put back.
func (s *hmacState) sumOf(msg []byte) []byte {
	s.mac.Reset()
	s.mac.Write(msg)
	s.sum = s.mac.Sum(s.sum[:0])
	return s.sum
}

// sumOfString is sumOf for a string, copied into the state's buffer so
// that it does not allocate.
func (s *hmacState) sumOfString(msg string) []byte {
	s.in = append(s.in[:0], msg...)
	sum := s.sumOf(s.in)
	// A token far larger than usual must not keep its buffer in the pool.
	if cap(s.in) > 64<<10 {
		s.in = nil
	}
	return sum
}

// appendMAC appends the MAC of msg under k's key to dst.
func (k *keyedHMAC) appendMAC(dst, msg []byte) []byte {
	s := k.pool.Get().(*hmacState)
	dst = append(dst, s.sumOf(msg)...)
	k.pool.Put(s)
	return dst
}

// own reports whether key is the secret k is bound to (the same bytes in
// the same memory: the KeySet hands its own copy to both).
func (k *keyedHMAC) own(key any) bool {
	b, ok := key.([]byte)
	return ok && len(b) == len(k.secret) && (len(b) == 0 || &b[0] == &k.secret[0])
}

// Verify reports whether sig is the MAC of signingString under k's key,
// with the errors golang-jwt's SigningMethodHMAC.Verify returns.
func (k *keyedHMAC) Verify(signingString string, sig []byte, key any) error {
	if !k.own(key) {
		return k.SigningMethodHMAC.Verify(signingString, sig, key)
	}
	s := k.pool.Get().(*hmacState)
	ok := hmac.Equal(sig, s.sumOfString(signingString))
	k.pool.Put(s)
	if !ok {
		return jwt.ErrSignatureInvalid
	}
	return nil
}

// Sign returns the MAC of signingString under k's key.
func (k *keyedHMAC) Sign(signingString string, key any) ([]byte, error) {
	if !k.own(key) {
		return k.SigningMethodHMAC.Sign(signingString, key)
	}
	s := k.pool.Get().(*hmacState)
	sig := append(make([]byte, 0, s.size), s.sumOfString(signingString)...)
	k.pool.Put(s)
	return sig, nil
}
