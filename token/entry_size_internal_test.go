package token

import (
	"runtime"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
)

// TestVerifiedEntrySize: what a remembered token weighs in the cache of
// verified tokens, its slot and its own copy of the token included, for
// the benchmarks' token (8 claims, one a nested object, about 340 bytes):
// at most entryBytes (700) without a claims map, and what a claims map
// the cache keeps for a default-mode door adds, at most claimsMapBytes;
// DefaultCacheSize is computed from both. It also checks that no more
// maps are kept than the generation's limit. The live heap is counted
// after a full collection, so the test is skipped under the race detector
// (whose pool drops and bookkeeping move it) and in -short mode.
func TestVerifiedEntrySize(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("heap counts need a run without -race and -short")
	}
	s, issuer := sizeIssuer(t)
	now := time.Now()
	const n = 8192
	raws := make([]string, n)
	for i := range raws {
		raws[i] = issueBenchToken(t, issuer, now)
	}
	if l := len(raws[0]); l < 300 || l > 360 {
		t.Fatalf("the token is %d bytes long, not the benchmarks' (about 340)", l)
	}
	// Four slots a token, so that no set overflows; the slots beyond one
	// a token are not the entries' own, and are taken off, with their
	// share of the doorkeeper (sized by slots).
	before := testkit.LiveHeap()
	vf, err := NewVerifier(s, &VerifierOptions{Keys: issuer.Keys(), CacheSize: 4 * n, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const slotBytes = 16
	slots := vf.cache.slotCount()
	// Verified once: the cache keeps no claims map.
	for _, raw := range raws {
		if _, err := vf.Verify(raw, now); err != nil {
			t.Fatal(err)
		}
	}
	held, allocated := 0, 0
	vf.cache.generation().each(func(sl *cacheSlot) {
		allocated++
		if sl.v.Load() != nil {
			held++
		}
	})
	if allocated != slots {
		t.Fatalf("%d of %d slots allocated: the count below assumes all", allocated, slots)
	}
	if held < n*9/10 {
		t.Fatalf("the cache holds %d of %d tokens", held, n)
	}
	perEntry := func() float64 {
		spare := (slots - held) * slotBytes
		spare += len(vf.cache.door.words) * 8 * (slots - held) / slots
		return float64(testkit.LiveHeap()-before-uint64(spare)) / float64(held)
	}
	lean := perEntry()
	// Each token's claims handed out twice, as a door without
	// TypedClaimsOnly does for two requests: the second keeps a map.
	for _, raw := range raws {
		for range 2 {
			v, err := vf.Verify(raw, now)
			if err != nil {
				t.Fatal(err)
			}
			v.Token()
		}
	}
	g := vf.cache.generation()
	kept := g.maps.Load()
	if kept != g.mapLimit || kept >= int64(held) {
		t.Fatalf("the cache keeps %d claims maps for %d tokens, want its limit %d", kept, held, g.mapLimit)
	}
	mapBytes := (perEntry() - lean) * float64(held) / float64(kept)
	runtime.KeepAlive(raws)
	runtime.KeepAlive(vf)
	t.Logf("bytes a remembered token: %.0f; a claims map kept adds %.0f (%d maps for %d tokens)", lean, mapBytes, kept, held)
	if lean > entryBytes {
		t.Errorf("a remembered token without a claims map takes %.0f bytes, want at most %d", lean, entryBytes)
	}
	if mapBytes > claimsMapBytes {
		t.Errorf("a claims map kept takes %.0f bytes, want at most %d", mapBytes, claimsMapBytes)
	}
}
