package revtab

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

var base = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// TestRepeatedExtensionsStayBounded: extending one revocation many times
// leaves stale items in the heap and the log; compaction keeps both
// proportional to what the table holds, and the feed still lists the
// latest form once.
func TestRepeatedExtensionsStayBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tab := New("test", 10, nil)
	r := store.Revocation{Kind: store.RevokeSubject, Key: store.SubjectRevocationKey("guest"), Before: base, Until: base.Add(time.Hour)}
	const extensions = 10_000
	for i := range extensions {
		r.Until = base.Add(time.Hour + time.Duration(i)*time.Second)
		if err := tab.Revoke(ctx, r, base); err != nil {
			t.Fatalf("Revoke #%d: %v", i, err)
		}
	}
	tab.mu.Lock()
	heapLen, logLen := len(tab.expiry), len(tab.log)
	tab.mu.Unlock()
	if limit := 2*1 + 64; heapLen > limit || logLen > limit {
		t.Errorf("after %d extensions: heap %d, log %d items; want at most %d each", extensions, heapLen, logLen, limit)
	}
	page, err := tab.Since(ctx, store.RevocationCursor{}, base, 0)
	if err != nil || len(page.Revocations) != 1 || !page.Revocations[0].Until.Equal(r.Until) {
		t.Fatalf("Since = %+v, %v; want the latest form of the one revocation", page, err)
	}
}

// TestPersistFailureChangesNothing: when Persist fails, the revocation is
// not applied and the error is returned as is.
func TestPersistFailureChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	boom := errors.New("disk full")
	fail := false
	tab := New("test", 10, func(*Record, []Field) error {
		if fail {
			return boom
		}
		return nil
	})
	r := store.Revocation{Kind: store.RevokeSession, Key: store.SessionRevocationKey("s"), Before: base, Until: base.Add(time.Hour)}
	if err := tab.Revoke(ctx, r, base); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	fail = true
	longer := r
	longer.Until = r.Until.Add(time.Hour)
	other := r
	other.Key = store.SessionRevocationKey("t")
	for _, x := range []store.Revocation{longer, other} {
		if err := tab.Revoke(ctx, x, base); !errors.Is(err, boom) {
			t.Errorf("Revoke with a failing Persist = %v; want its error", err)
		}
	}
	got, err := tab.Revocations(ctx, base)
	if err != nil || len(got) != 1 || !got[0].Until.Equal(r.Until) {
		t.Errorf("Revocations = %+v, %v; want only the first revocation, unchanged", got, err)
	}
}
