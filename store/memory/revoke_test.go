package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

func TestRevokerConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRevoker(t, func(_ testing.TB, maxRevocations int) store.Revoker {
		return memory.New(&memory.Options{MaxRevocations: maxRevocations})
	})
}

// TestRevocationsApartFromRenewals: revocations and renewals share a Store
// but neither bounds the other: a full revocation table refuses no renewal,
// and a burst of renewals evicts no revocation.
func TestRevocationsApartFromRenewals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memory.New(&memory.Options{MaxRevocations: 1})
	t.Cleanup(func() { _ = s.Close() })
	rv := storetest.SessionRevocation(1)
	storetest.MustRevoke(t, s, rv, storetest.Base)
	if err := s.Revoke(ctx, storetest.SessionRevocation(2), storetest.Base); !errors.Is(err, store.ErrRevocationsFull) {
		t.Fatalf("second Revoke with MaxRevocations 1 = %v; want store.ErrRevocationsFull", err)
	}
	for _, k := range storetest.Keys(1000) {
		if ok, err := s.Allow(ctx, k, storetest.Base, storetest.Interval); !ok || err != nil {
			t.Fatalf("Allow(%s) = %v, %v; want true, nil", k, ok, err)
		}
	}
	storetest.WantRevocations(t, s, storetest.Base.Add(storetest.Interval), rv)
}

// TestExpiredRevocationsDropped: the table shrinks back as revocations
// expire and new ones arrive, rather than holding every one it was given.
func TestExpiredRevocationsDropped(t *testing.T) {
	t.Parallel()
	const n = 3000
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	for i := range n {
		rv := storetest.SessionRevocation(i)
		rv.Until = storetest.Base.Add(time.Minute)
		storetest.MustRevoke(t, s, rv, storetest.Base)
	}
	later := storetest.Base.Add(time.Minute)
	for i := range 3 {
		rv := storetest.SubjectRevocation(i)
		rv.Until = later.Add(time.Hour)
		storetest.MustRevoke(t, s, rv, later)
	}
	if got, want := s.RevocationsLen(), 3; got != want {
		t.Errorf("RevocationsLen after %d expired and 3 new = %d, want %d", n, got, want)
	}
}
