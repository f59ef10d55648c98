package bolt_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

func TestRevokerConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		s, err := bolt.Open(dbPath(tb), &bolt.Options{MaxRevocations: maxRevocations, PrunePeriod: -1})
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestRevokerConformanceNew(t *testing.T) {
	t.Parallel()
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		db := openDB(tb, dbPath(tb), &bbolt.Options{NoSync: true})
		s, err := bolt.New(db, &bolt.Options{MaxRevocations: maxRevocations, PrunePeriod: -1})
		if err != nil {
			tb.Fatalf("New: %v", err)
		}
		return s
	})
}

// TestReopenKeepsRevocations: revocations come back after Close and Open,
// with a cap that was lowered meanwhile too: nothing is forgotten, and new
// ones wait until the live ones fit the new cap.
func TestReopenKeepsRevocations(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := []store.Revocation{storetest.SessionRevocation(1), storetest.SubjectRevocation(1), storetest.SessionRevocation(2)}
	for _, rv := range want {
		storetest.MustRevoke(t, s, rv, storetest.Base)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path, &bolt.Options{MaxRevocations: 2})
	storetest.WantRevocations(t, s, storetest.Base, want...)
	err = s.Revoke(ctx, storetest.SessionRevocation(3), storetest.Base)
	if !errors.Is(err, store.ErrRevocationsFull) {
		t.Fatalf("Revoke with 3 live and MaxRevocations 2 = %v; want store.ErrRevocationsFull", err)
	}
	storetest.WantRevocations(t, s, storetest.Base, want...)
}

// TestExpiredRevocationsLeaveTheFile: revocations that expired are deleted
// from the file as new ones are recorded, not only from memory.
func TestExpiredRevocationsLeaveTheFile(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const n = 50
	for i := range n {
		rv := storetest.SessionRevocation(i)
		rv.Until = storetest.Base.Add(time.Minute)
		storetest.MustRevoke(t, s, rv, storetest.Base)
	}
	later := storetest.Base.Add(time.Minute)
	kept := storetest.SubjectRevocation(1)
	kept.Until = later.Add(time.Hour)
	storetest.MustRevoke(t, s, kept, later)
	if got, want := s.RevocationsLen(), 1; got != want {
		t.Errorf("RevocationsLen = %d, want %d", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db := openDB(t, path, &bbolt.Options{ReadOnly: true})
	if got, want := countKeys(t, db, bolt.DefaultRevocationBucket), 1; got != want {
		t.Errorf("revocations in the file = %d, want %d (the %d expired ones deleted)", got, want, n)
	}
}

// TestRevokeWriteFailure: when the file cannot be written, Revoke returns
// an error that names the file and records nothing, in memory either.
func TestRevokeWriteFailure(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	held := storetest.SessionRevocation(1)
	storetest.MustRevoke(t, s, held, storetest.Base)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// bbolt opens the file read-write, but the writes fail.
	db := openDB(t, path, &bbolt.Options{
		OpenFile: func(name string, _ int, _ os.FileMode) (*os.File, error) {
			return os.OpenFile(name, os.O_RDONLY, 0)
		},
	})
	s, err = bolt.New(db, &bolt.Options{PrunePeriod: -1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	extended := held
	extended.Until = held.Until.Add(time.Hour)
	for _, rv := range []store.Revocation{storetest.SubjectRevocation(1), extended} {
		err := s.Revoke(ctx, rv, storetest.Base)
		if err == nil {
			t.Fatalf("Revoke(%s) on a file that cannot be written = nil; want an error", rv.Kind)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file %s", err, path)
		}
	}
	storetest.WantRevocations(t, s, storetest.Base, held)
}

func TestRevocationOptionsChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts bolt.Options
		want string
	}{
		{"negative cap", bolt.Options{MaxRevocations: -1}, "Options.MaxRevocations is -1"},
		{"shared bucket", bolt.Options{Bucket: "b", RevocationBucket: "b"}, `Options.RevocationBucket "b" is also Options.Bucket`},
		{"default bucket shared", bolt.Options{Bucket: bolt.DefaultRevocationBucket}, "is also Options.Bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := bolt.Open(dbPath(t), &tt.opts)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%+v) succeeded; want an error", tt.opts)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestCorruptRevocationRecord: a record in the revocation bucket that is not
// a revocation makes Open fail with ErrCorrupt, naming the bucket.
func TestCorruptRevocationRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		k, v []byte
	}{
		{"short value", append([]byte{1}, make([]byte, 16)...), []byte("short")},
		{"short key", []byte("k"), make([]byte, 16)},
		{"unknown kind", append([]byte{9}, make([]byte, 16)...), make([]byte, 16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte(bolt.DefaultRevocationBucket))
				if err != nil {
					return err
				}
				return b.Put(tt.k, tt.v)
			})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(path, nil)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open of a file with a bad revocation succeeded")
			}
			if !errors.Is(err, bolt.ErrCorrupt) || !strings.Contains(err.Error(), bolt.DefaultRevocationBucket) {
				t.Errorf("Open error %q; want ErrCorrupt naming the bucket", err)
			}
			// The lock is released: the file can be opened again.
			openDB(t, path, &bbolt.Options{Timeout: time.Second})
		})
	}
}
