package token

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestKeyedHMACMatchesGolangJWT: for each HMAC algorithm, the MAC a key's
// keyedHMAC makes is golang-jwt's, byte for byte, and each verdict (good,
// wrong signature, truncated, empty, another key's MAC) is golang-jwt's,
// with the same error.
func TestKeyedHMACMatchesGolangJWT(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef-hmac")
	other := []byte("fedcba9876543210fedcba9876543210-hmac")
	inputs := []string{"", "a.b", strings.Repeat("x", 1000), "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"}
	for _, m := range []*jwt.SigningMethodHMAC{jwt.SigningMethodHS256, jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
		k := newKeyedHMAC(m, secret)
		for i, in := range inputs {
			name := fmt.Sprintf("%s/input %d", m.Alg(), i)
			want, err := m.Sign(in, secret)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Sign(in, secret)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: Sign: got %x, %v; want %x", name, got, err, want)
			}
			if got := k.appendMAC([]byte("prefix"), []byte(in)); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("%s: appendMAC: got %x, want prefix then %x", name, got, want)
			}
			otherMAC, _ := m.Sign(in, other)
			flipped := bytes.Clone(want)
			flipped[0] ^= 1
			for _, sig := range [][]byte{want, flipped, want[:len(want)-1], nil, otherMAC} {
				gotErr, wantErr := k.Verify(in, sig, secret), m.Verify(in, sig, secret)
				if !sameError(gotErr, wantErr) {
					t.Errorf("%s: Verify(%x): got %v, want %v", name, sig, gotErr, wantErr)
				}
			}
			// Another key, or a key of another type, is golang-jwt's case.
			if got, want := k.Verify(in, otherMAC, other), m.Verify(in, otherMAC, other); !sameError(got, want) {
				t.Errorf("%s: Verify with another key: got %v, want %v", name, got, want)
			}
			if got, want := k.Verify(in, want, "not bytes"), m.Verify(in, want, "not bytes"); !sameError(got, want) || !errors.Is(got, jwt.ErrInvalidKeyType) {
				t.Errorf("%s: Verify with a string key: got %v, want %v", name, got, want)
			}
			if got, _ := k.Sign(in, other); !bytes.Equal(got, otherMAC) {
				t.Errorf("%s: Sign with another key: got %x, want %x", name, got, otherMAC)
			}
		}
	}
}

// sameError reports whether a and b are both nil, or say the same.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// TestKeyedHMACIsBoundToItsKey: a keyedHMAC uses its pooled state only for
// the very secret it was made for; an equal secret in other memory, as
// anyone could pass, goes to golang-jwt, so the pool never serves a key it
// was not made for.
func TestKeyedHMACIsBoundToItsKey(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := newKeyedHMAC(jwt.SigningMethodHS256, secret)
	if !k.own(secret) {
		t.Error("own(its secret) = false")
	}
	for _, key := range []any{bytes.Clone(secret), secret[:31], []byte{}, nil, "0123456789abcdef0123456789abcdef"} {
		if k.own(key) {
			t.Errorf("own(%#v) = true, want false", key)
		}
	}
}

// TestKeyedHMACConcurrent: goroutines signing and verifying at once with
// one key get golang-jwt's answers (run with -race).
func TestKeyedHMACConcurrent(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := newKeyedHMAC(jwt.SigningMethodHS256, secret)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				in := fmt.Sprintf("%d.%d", g, i)
				want, _ := jwt.SigningMethodHS256.Sign(in, secret)
				got, err := k.Sign(in, secret)
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Sign(%q): got %x, want %x", in, got, want)
					return
				}
				if err := k.Verify(in, want, secret); err != nil {
					errs <- fmt.Errorf("Verify(%q): %v", in, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestKeyedHMACAllocations: verifying with a key's keyedHMAC allocates
// nothing once its pool holds a state; golang-jwt's method allocates a new
// MAC state each time, which is why keyedHMAC exists.
func TestKeyedHMACAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := newKeyedHMAC(jwt.SigningMethodHS256, secret)
	in := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
	msg := []byte(in)
	sig, _ := k.Sign(in, secret)
	if got := testing.AllocsPerRun(200, func() {
		if err := k.Verify(in, sig, secret); err != nil {
			t.Fatal(err)
		}
	}); got != 0 {
		t.Errorf("Verify: %v allocations, want 0", got)
	}
	if got := testing.AllocsPerRun(200, func() {
		var tmp [64]byte
		if len(k.appendMAC(tmp[:0], msg)) != 32 {
			t.Fatal("short MAC")
		}
	}); got != 0 {
		t.Errorf("appendMAC: %v allocations, want 0", got)
	}
}
