package token

import (
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
)

// BenchmarkHitClaims: what a cache hit of a door that hands each request
// a *jwt.Token pays for the request's claims map, for the benchmarks'
// token: copy-frozen, a deep copy of a map the cache keeps; decode-payload,
// decoding the signed payload again with JSON v2, what a hit pays for an
// entry beyond the cache's share of kept maps (cacheMapShare).
func BenchmarkHitClaims(b *testing.B) {
	s := config.Default()
	s.Secret = string(cacheSecret("size"))
	issuer, err := NewIssuer(s, nil)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	raw, _, err := issuer.IssueAt(now, "alice", "user", map[string]any{"metadata": map[string]any{"auth_mode": "enabled"}})
	if err != nil {
		b.Fatal(err)
	}
	vf, err := NewVerifier(s, &VerifierOptions{Keys: issuer.Keys(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	v, _ := vf.Verify(raw, now)
	v.Token()
	v.Token() // the cache now keeps a frozen map
	b.Run("copy-frozen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.claimsCopy()
		}
	})
	b.Run("decode-payload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.decodeClaims()
		}
	})
}
