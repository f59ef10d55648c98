package redis

import (
	"math"
	"testing"
	"time"
)

func TestTTLMillis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval time.Duration
		want     int64
	}{
		{-time.Hour, 1000},
		{0, 1000},
		{time.Nanosecond, 1000},
		{500 * time.Millisecond, 1000},
		{500*time.Millisecond + 1, 1001},
		{time.Minute, 120_000},
		{math.MaxInt64 / 2, math.MaxInt64/2*2/int64(time.Millisecond) + 1},
		{math.MaxInt64/2 + 1, math.MaxInt64/int64(time.Millisecond) + 1},
		{math.MaxInt64, math.MaxInt64/int64(time.Millisecond) + 1},
	}
	for _, tt := range tests {
		if got := ttlMillis(tt.interval); got != tt.want {
			t.Errorf("ttlMillis(%v) = %d, want %d", tt.interval, got, tt.want)
		}
	}
}

func TestAddSat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		d    time.Duration
		want int64
	}{
		{0, time.Second, int64(time.Second)},
		{-5, 3, -2},
		{math.MaxInt64 - 1, 1, math.MaxInt64},
		{math.MaxInt64 - 1, 2, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{math.MinInt64 + 1, -1, math.MinInt64},
		{math.MinInt64 + 1, -2, math.MinInt64},
		{math.MinInt64, -math.MaxInt64, math.MinInt64},
		{math.MinInt64, math.MaxInt64, -1},
	}
	for _, tt := range tests {
		if got := addSat(tt.n, tt.d); got != tt.want {
			t.Errorf("addSat(%d, %d) = %d, want %d", tt.n, tt.d, got, tt.want)
		}
	}
}

func TestMaskRaw(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"redis://host:notaport/0", "redis://host:notaport/0"},
		{"redis://:pw@host:x", "redis://xxxxx@host:x"},
		{"redis://u:p/w@host/0", "redis://xxxxx@host/0"},
		{"redis://u:p@w@host", "redis://xxxxx@host"},
		{"u:pw@host", "xxxxx@host"},
		{"a@b://host", "xxxxx@b://host"},
	}
	for _, tt := range tests {
		if got := maskRaw(tt.raw); got != tt.want {
			t.Errorf("maskRaw(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
