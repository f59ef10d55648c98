package token

import (
	"runtime/debug"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
)

// TestVerifiedAllocations: a cache hit of the benchmarks' token (8 claims,
// one nested object) allocates nothing, nor does a request's typed Claims
// beyond the struct itself. The race detector's sync.Pool drops items at
// random, so the counts are checked without it.
func TestVerifiedAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	f := newVerifyFixture(t, 0, func(s *config.Settings) { s.Issuer = "" })
	now := f.clock.Now()
	raw, v := f.verifyBenchToken(t, now)
	if n := len(v.Claims().Map()); n != 8 {
		t.Fatalf("the token has %d claims, want the benchmarks' 8", n)
	}
	tests := []struct {
		name string
		max  float64
		run  func()
	}{
		{"cache hit", 0, func() {
			if _, err := f.vf.Verify(raw, now); err != nil {
				t.Fatal(err)
			}
		}},
		{"Claims", 1, func() {
			if c := v.Claims(); c.Subject != "alice" {
				t.Fatal("Claims returned no subject")
			}
		}},
		{"Token", 7, func() {
			if tok, c := v.Token(); tok.Claims == nil || c.Subject != "alice" {
				t.Fatal("Token returned no claims")
			}
		}},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(200, tt.run); got > tt.max {
			t.Errorf("%s: %v allocations, want at most %v", tt.name, got, tt.max)
		}
	}
}

// TestExpiresTextAllocations: a verification allocates the same with
// settings that deliver tokens in a cookie as with header delivery: the
// expiry's text (X-Session-Expires) goes only on responses that set the
// cookie or that a request asked it for, so it is made when asked for
// (ExpiresText), never for every token. Both give the same text.
func TestExpiresTextAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	f := newVerifyFixture(t, -1)
	now := f.clock.Now()
	raw, _, err := f.issuer.IssueAt(now, "alice", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	cookieSettings := f.issuer.Settings()
	cookieSettings.Delivery = config.DeliveryCookie
	cookieVF, err := NewVerifier(cookieSettings, &VerifierOptions{Keys: f.keys, Now: f.clock.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	// No collection during the counts: it empties the verifiers' pools.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	count := func(vf *Verifier) (allocs float64, text string) {
		var v *Verified
		allocs = testing.AllocsPerRun(100, func() {
			if v, err = vf.Verify(raw, now); err != nil {
				t.Fatal(err)
			}
		})
		return allocs, v.ExpiresText()
	}
	header, hText := count(f.vf)
	cookie, cText := count(cookieVF)
	if got, want := cookie-header, 0.0; got != want {
		t.Errorf("verifying one token allocates %v more with cookie delivery than with header delivery (%v, %v), want %v", got, cookie, header, want)
	}
	if hText != cText || hText == "" {
		t.Errorf("ExpiresText: %q with header delivery, %q with cookie delivery; want the same exp", hText, cText)
	}
}
