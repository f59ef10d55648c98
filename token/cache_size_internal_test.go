package token

import (
	"testing"
	"time"
	"unsafe"
)

// TestVerifiedCacheSlots pins what the docs of MaxCacheSize,
// newVerifiedCache and Config.VerifiedCacheSize state: a slot takes 16
// bytes, a size of at most cacheWays (8) is used as is, and a larger one
// is rounded up to a multiple of 8.
func TestVerifiedCacheSlots(t *testing.T) {
	t.Parallel()
	if got, want := unsafe.Sizeof(cacheSlot{}), uintptr(16); got != want {
		t.Errorf("unsafe.Sizeof(cacheSlot{}) = %d, want %d", got, want)
	}
	keys, err := HMACKeySet("HS256", cacheSecret("k"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		size int
		want int // slots
	}{
		{-1, 0}, {0, 0}, {1, 1}, {3, 3}, {7, 7}, {8, 8}, {9, 16}, {15, 16}, {16, 16}, {17, 24},
		{10_000, 10_000}, {10_001, 10_008}, {DefaultCacheSize, 84_520},
	}
	for _, tt := range tests {
		c := newVerifiedCache(keys, tt.size, false)
		if got := c.slotCount(); got != tt.want {
			t.Errorf("newVerifiedCache(size %d): %d slots, want %d", tt.size, got, tt.want)
		}
		// The table is allocated as tokens are put in it.
		allocated := 0
		c.generation().each(func(*cacheSlot) { allocated++ })
		if allocated != 0 {
			t.Errorf("newVerifiedCache(size %d): %d slots allocated before any token, want 0", tt.size, allocated)
		}
	}
}

// TestNowNanos: the cache answers only at instants whose Unix nanoseconds
// fit an int64.
func TestNowNanos(t *testing.T) {
	tests := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 5, 1, 12, 0, 0, 7, time.UTC), true},
		{time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(1677, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{time.Time{}, false},
	}
	for _, tt := range tests {
		ns, ok := nowNanos(tt.now)
		if ok != tt.want || ok && ns != tt.now.UnixNano() {
			t.Errorf("nowNanos(%v) = %d, %v; want ok %v", tt.now, ns, ok, tt.want)
		}
	}
}
