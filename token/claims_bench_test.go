package token

import (
	"testing"
	"time"
)

// BenchmarkHitClaims: what a cache hit of a door that hands each request
// a *jwt.Token pays for the request's claims map, for the benchmarks'
// token: copy-frozen, a deep copy of a map the cache keeps; decode-payload,
// decoding the signed payload again with JSON v2, what a hit pays for an
// entry beyond the cache's share of kept maps (cacheMapShare).
func BenchmarkHitClaims(b *testing.B) {
	s, issuer := sizeIssuer(b)
	now := time.Now()
	raw := issueBenchToken(b, issuer, now)
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
