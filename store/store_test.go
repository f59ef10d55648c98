package store_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// TestRefusedNanosAgreesWithRefused compares the nanosecond form, which
// backends use, with Refused on time.Time, which saturates instead of
// overflowing, at the window's edges and at the extremes of the range.
func TestRefusedNanosAgreesWithRefused(t *testing.T) {
	t.Parallel()
	const longest = time.Duration(math.MaxInt64)
	base := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		name      string
		last, now int64
		interval  time.Duration
	}{
		{"same instant", base, base, time.Minute},
		{"one ns inside, after", base, base + int64(time.Minute) - 1, time.Minute},
		{"on the upper edge", base, base + int64(time.Minute), time.Minute},
		{"one ns inside, before", base, base - int64(time.Minute) + 1, time.Minute},
		{"on the lower edge", base, base - int64(time.Minute), time.Minute},
		{"zero interval", base, base, 0},
		{"negative interval", base, base, -time.Second},
		{"extremes, longest interval", math.MinInt64, math.MaxInt64, longest},
		{"extremes reversed", math.MaxInt64, math.MinInt64, longest},
		{"near the extremes", math.MinInt64, -1, longest},
		{"one past", math.MinInt64, 0, longest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.RefusedNanos(tt.last, tt.now, tt.interval)
			want := store.Refused(time.Unix(0, tt.last), time.Unix(0, tt.now), tt.interval)
			if got != want {
				t.Errorf("RefusedNanos(%d, %d, %v) = %v, want %v (as Refused)", tt.last, tt.now, tt.interval, got, want)
			}
			gotExp := store.ExpiredNanos(tt.last, tt.now, tt.interval)
			wantExp := !time.Unix(0, tt.now).Before(time.Unix(0, tt.last)) && !want
			if gotExp != wantExp {
				t.Errorf("ExpiredNanos(%d, %d, %v) = %v, want %v", tt.last, tt.now, tt.interval, gotExp, wantExp)
			}
		})
	}
}

func TestCheckTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		now  time.Time
		want bool // accepted
	}{
		{time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), true},
		{time.Unix(0, math.MinInt64), true},
		{time.Unix(0, math.MaxInt64), true},
		{time.Unix(0, math.MaxInt64).Add(time.Nanosecond), false},
		{time.Unix(0, math.MinInt64).Add(-time.Nanosecond), false},
		{time.Time{}, false},
	}
	for _, tt := range tests {
		err := store.CheckTime(tt.now)
		if got := err == nil; got != tt.want {
			t.Errorf("CheckTime(%v) = %v, want accepted %v", tt.now, err, tt.want)
			continue
		}
		if err != nil && (!errors.Is(err, store.ErrTimeRange) || !strings.Contains(err.Error(), tt.now.Format(time.RFC3339Nano))) {
			t.Errorf("CheckTime(%v) = %q; want an error wrapping ErrTimeRange that names the time", tt.now, err)
		}
	}
}
