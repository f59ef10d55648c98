package bolt

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/slidingjwt/slidingjwt/store"
)

// TestNoSyncDatabaseIsSynced: on an application's database opened with
// NoSync, which skips bbolt's fsync at commit, a revocation and a granted
// renewal are synced to the file before Revoke or Allow returns, after
// their commit. A kill -9 cannot show it (the page cache outlives the
// process), so the test watches the sync call itself: how often it comes,
// and that the change is committed when it does. On a database that syncs
// at commit, no extra sync is made.
func TestNoSyncDatabaseIsSynced(t *testing.T) {
	t.Parallel()
	for _, noSync := range []bool{true, false} {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "app.db"), 0o600, &bbolt.Options{NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		s, err := New(db, &Options{PrunePeriod: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		var syncs atomic.Int64
		var counted func() int // entries committed in the bucket under test
		s.syncDB = func() error {
			syncs.Add(1)
			if counted() == 0 {
				t.Errorf("NoSync %v: synced before the change was committed", noSync)
			}
			return db.Sync()
		}
		bucketKeys := func(name []byte) func() int {
			return func() int {
				n := 0
				_ = db.View(func(tx *bbolt.Tx) error {
					if b := tx.Bucket(name); b != nil {
						n = b.Stats().KeyN
					}
					return nil
				})
				return n
			}
		}
		want := int64(0)
		if noSync {
			want = 1
		}
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

		counted = bucketKeys(s.revBucket)
		r := store.Revocation{Kind: store.RevokeSession, Key: store.SessionRevocationKey("s-1"), Before: now, Until: now.Add(time.Hour)}
		if err := s.Revoke(context.Background(), r, now); err != nil {
			t.Fatal(err)
		}
		if got := syncs.Load(); got != want {
			t.Errorf("NoSync %v: Revoke synced %d times before it returned, want %d", noSync, got, want)
		}

		counted = bucketKeys(s.bucket)
		syncs.Store(0)
		if ok, err := s.Allow(context.Background(), "session-key", now, time.Minute); !ok || err != nil {
			t.Fatalf("Allow: %v, %v", ok, err)
		}
		if got := syncs.Load(); got != want {
			t.Errorf("NoSync %v: a granted Allow synced %d times before it returned, want %d", noSync, got, want)
		}
	}
}
