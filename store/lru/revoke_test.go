package lru_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

func TestRevokerConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		// A tiny Size: if revocations shared the renewals' bound, the
		// suite's revocations would be evicted.
		s, err := lru.New(&lru.Options{Size: 1, MaxRevocations: maxRevocations})
		if err != nil {
			tb.Fatalf("New: %v", err)
		}
		return s
	})
}

// TestRenewalsNeverEvictRevocations fills the renewal bound many times over
// while revocations are live: none of them is forgotten, and the renewals
// are still bounded by Size.
func TestRenewalsNeverEvictRevocations(t *testing.T) {
	t.Parallel()
	const size, revocations = 256, 500
	ctx := context.Background()
	s, err := lru.New(&lru.Options{Size: size, MaxRevocations: revocations})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var want []store.Revocation
	for i := range revocations {
		rv := storetest.SessionRevocation(i)
		want = append(want, rv)
		storetest.MustRevoke(t, s, rv, storetest.Base)
	}
	for _, k := range storetest.Keys(20 * size) {
		if ok, err := s.Allow(ctx, k, storetest.Base, storetest.Interval); !ok || err != nil {
			t.Fatalf("Allow(%s) = %v, %v; want true, nil", k, ok, err)
		}
	}
	storetest.WantRevocations(t, s, storetest.Base, want...)
	if got := s.Len(); got > size {
		t.Errorf("Len = %d renewals; want at most Size %d", got, size)
	}
	if got := s.RevocationsLen(); got != revocations {
		t.Errorf("RevocationsLen = %d, want %d", got, revocations)
	}
}

func TestNegativeMaxRevocations(t *testing.T) {
	t.Parallel()
	_, err := lru.New(&lru.Options{MaxRevocations: -3})
	if err == nil || !strings.Contains(err.Error(), "Options.MaxRevocations is -3") {
		t.Fatalf("New(MaxRevocations -3) = %v; want an error naming the value", err)
	}
}
