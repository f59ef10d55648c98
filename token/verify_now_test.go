package token

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifyChecksAtNow: Verify judges the time claims at its now
// argument, on a cold parse as on a cache hit.
func TestVerifyChecksAtNow(t *testing.T) {
	for _, cache := range []int{0, -1} {
		f := newVerifyFixture(t, cache) // clock stays at cacheStart
		later := cacheStart.Add(2 * time.Hour)
		expired := signParts(t, `{"alg":"HS256","kid":"a"}`, verifyClaims(""), cacheSecret("a"), jwt.SigningMethodHS256) // exp = start+1h
		if _, err := f.vf.Verify(expired, later); !errors.Is(err, jwt.ErrTokenExpired) {
			t.Errorf("cache %d: a token expired at now: %v, want jwt.ErrTokenExpired", cache, err)
		}
		fresh := signParts(t, `{"alg":"HS256","kid":"a"}`, `{"sub":"x","iss":"`+verifyIssuer+`","iat":`+itoa(later.Unix())+`,"exp":`+itoa(later.Add(time.Hour).Unix())+`}`, cacheSecret("a"), jwt.SigningMethodHS256)
		if _, err := f.vf.Verify(fresh, later); err != nil {
			t.Errorf("cache %d: a token valid at now: %v", cache, err)
		}
	}
}
