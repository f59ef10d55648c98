package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

var ctx = context.Background()

// open opens a store on path and closes it when the test ends.
func open(tb testing.TB, path string, opts *bolt.Options) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// openDB opens a bbolt database the test owns, closed when the test ends
// (after any store on it, since cleanups run last-in first-out).
func openDB(tb testing.TB, path string, opts *bbolt.Options) *bbolt.DB {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, opts)
	if err != nil {
		tb.Fatalf("bbolt.Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func dbPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "renewals.db")
}

// countKeys counts the keys in a bucket of db with a read transaction.
func countKeys(tb testing.TB, db *bbolt.DB, bucket string) int {
	tb.Helper()
	n := 0
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return errors.New("no bucket " + bucket)
		}
		n = b.Stats().KeyN
		return nil
	})
	if err != nil {
		tb.Fatalf("count keys: %v", err)
	}
	return n
}

func mustAllow(tb testing.TB, s store.Store, key string, now time.Time, want bool) {
	tb.Helper()
	got, err := s.Allow(ctx, key, now, storetest.Interval)
	if err != nil {
		tb.Fatalf("Allow(%q, +%v): %v", key, now.Sub(storetest.Base), err)
	}
	if got != want {
		tb.Fatalf("Allow(%q, +%v) = %v, want %v", key, now.Sub(storetest.Base), got, want)
	}
}

func mustLast(tb testing.TB, s store.Store, key string, want time.Time) {
	tb.Helper()
	got, ok, err := s.Last(ctx, key)
	if err != nil || !ok || !got.Equal(want) {
		tb.Fatalf("Last(%q) = %v, %v, %v; want %v, true, nil", key, got, ok, err, want)
	}
}

// allowAll renews every key at now through many concurrent calls, so that
// group commit writes them in about a hundred transactions, not one each.
// The calls run roughly in key order, so that one commit touches few pages.
func allowAll(tb testing.TB, s store.Store, keys []string, now time.Time) {
	tb.Helper()
	keys = slices.Sorted(slices.Values(keys))
	const workers = 2000
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				ok, err := s.Allow(ctx, keys[i], now, storetest.Interval)
				if err != nil || !ok {
					tb.Errorf("Allow(%s) = %v, %v; want true, nil", keys[i], ok, err)
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		tb.FailNow()
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(tb testing.TB) store.Store {
		s, err := bolt.Open(dbPath(tb), nil)
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestConformanceNew runs the suite on a database the test owns, which
// also checks that closing the store leaves that database usable.
func TestConformanceNew(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(tb testing.TB) store.Store {
		db := openDB(tb, dbPath(tb), nil)
		s, err := bolt.New(db, nil)
		if err != nil {
			tb.Fatalf("New: %v", err)
		}
		tb.Cleanup(func() {
			// Runs after the suite closed the store.
			if err := db.View(func(*bbolt.Tx) error { return nil }); err != nil {
				tb.Errorf("the application's DB after Close: %v", err)
			}
		})
		return s
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(tb testing.TB) store.Store {
		s, err := bolt.Open(dbPath(tb), nil)
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		return s
	})
}

// BenchmarkBboltUpdate is the yardstick for the renew rows of
// BenchmarkStore: one bbolt transaction that puts one record and syncs,
// which is what the writer does for a lone renewal.
func BenchmarkBboltUpdate(b *testing.B) {
	db := openDB(b, dbPath(b), nil)
	bucket := []byte("renewals")
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket(bucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	keys := storetest.Keys(1 << 14)
	val := make([]byte, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucket).Put([]byte(keys[i%len(keys)]), val)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestRestartKeepsRenewals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   *bolt.Options
		after  time.Duration // since the renewal before the restart
		want   bool
		wantAt time.Duration // Last after the second Allow
	}{
		{"within the interval", nil, storetest.Interval / 2, false, 0},
		{"one nanosecond short", nil, storetest.Interval - time.Nanosecond, false, 0},
		{"jitter before it", nil, -time.Second, false, 0},
		{"exactly the interval", nil, storetest.Interval, true, storetest.Interval},
		{"own bucket", &bolt.Options{Bucket: "mine"}, time.Second, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			s, err := bolt.Open(path, tt.opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			mustAllow(t, s, "a", storetest.Base, true)
			mustAllow(t, s, "b", storetest.Base, true)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			s = open(t, path, tt.opts)
			mustLast(t, s, "a", storetest.Base)
			mustLast(t, s, "b", storetest.Base)
			mustAllow(t, s, "a", storetest.Base.Add(tt.after), tt.want)
			mustLast(t, s, "a", storetest.Base.Add(tt.wantAt))
			mustAllow(t, s, "c", storetest.Base.Add(tt.after), true) // never renewed
		})
	}
}

// TestRestartAfterClockStep reopens a file written across a step of the
// caller's clock: a renewal recorded while the clock ran an hour ahead must
// not make the renewals recorded after the step look old, and be forgotten,
// when the store loads the file.
func TestRestartAfterClockStep(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ahead := storetest.Base.Add(time.Hour)
	mustAllow(t, s, "ahead", ahead, true)
	mustAllow(t, s, "after-step", storetest.Base, true)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for restart := 1; restart <= 2; restart++ {
		s = open(t, path, nil)
		mustLast(t, s, "after-step", storetest.Base)
		mustLast(t, s, "ahead", ahead)
		mustAllow(t, s, "after-step", storetest.Base.Add(storetest.Interval/2), false)
		mustAllow(t, s, "ahead", ahead.Add(-time.Second), false)
		if err := s.Close(); err != nil {
			t.Fatalf("Close after restart %d: %v", restart, err)
		}
	}
	db := openDB(t, path, nil)
	if got, want := countKeys(t, db, bolt.DefaultBucket), 2; got != want {
		t.Errorf("file holds %d keys after the restarts, want %d", got, want)
	}
}

func TestRecordFormat(t *testing.T) {
	t.Parallel()
	db := openDB(t, dbPath(t), nil)
	s, err := bolt.New(db, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	const key = "0123456789abcdef0123456789abcdef"
	mustAllow(t, s, key, storetest.Base, true)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var got []byte
	err = db.View(func(tx *bbolt.Tx) error {
		got = bytes.Clone(tx.Bucket([]byte(bolt.DefaultBucket)).Get([]byte(key)))
		return nil
	})
	if err != nil {
		t.Fatalf("View after Close (the DB must stay open): %v", err)
	}
	want := binary.BigEndian.AppendUint64(nil, uint64(storetest.Base.UnixNano()))
	want = binary.BigEndian.AppendUint64(want, uint64(storetest.Interval))
	if !bytes.Equal(got, want) {
		t.Errorf("stored value = %x, want %x (last renewal and interval, big-endian nanoseconds)", got, want)
	}
}

func TestPruneEmptiesBucket(t *testing.T) {
	t.Parallel()
	const n = 100_000
	db := openDB(t, dbPath(t), nil)
	s, err := bolt.New(db, &bolt.Options{PrunePeriod: -1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	allowAll(t, s, storetest.Keys(n), storetest.Base)
	if got, want := countKeys(t, db, bolt.DefaultBucket), n; got != want {
		t.Fatalf("after the burst the bucket holds %d keys, want %d", got, want)
	}

	// Short of the interval every entry can still refuse: nothing goes.
	removed, err := s.Prune(storetest.Base.Add(storetest.Interval - time.Nanosecond))
	if err != nil || removed != 0 {
		t.Fatalf("Prune within the interval = %d, %v; want 0, nil", removed, err)
	}
	// Once the interval has passed, everything goes, in many chunks.
	removed, err = s.Prune(storetest.Base.Add(storetest.Interval))
	if err != nil || removed != n {
		t.Fatalf("Prune after the interval = %d, %v; want %d, nil", removed, err, n)
	}
	if got := countKeys(t, db, bolt.DefaultBucket); got != 0 {
		t.Errorf("after Prune the bucket holds %d keys, want 0", got)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("after Prune Len = %d, want 0", got)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	base := storetest.Base
	tests := []struct {
		name string
		at   time.Duration // prune at base+at; entries were renewed at base
		gone bool
	}{
		{"same instant", 0, false},
		{"one nanosecond short", storetest.Interval - time.Nanosecond, false},
		{"exactly the interval", storetest.Interval, true},
		{"long after", 24 * time.Hour, true},
		// Entries recorded after now are kept: the pruner's now may lag
		// renewals being committed.
		{"before the renewals", -storetest.Interval, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := openDB(t, dbPath(t), nil)
			s, err := bolt.New(db, &bolt.Options{PrunePeriod: -1, PruneChunk: 3})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			keys := storetest.Keys(10)
			for _, k := range keys {
				mustAllow(t, s, k, base, true)
			}
			// A later renewal with a longer interval is never expired here.
			if ok, err := s.Allow(ctx, "long", base, 48*time.Hour); !ok || err != nil {
				t.Fatalf("Allow(long) = %v, %v", ok, err)
			}

			removed, err := s.Prune(base.Add(tt.at))
			want := 0
			if tt.gone {
				want = len(keys)
			}
			if err != nil || removed != want {
				t.Fatalf("Prune = %d, %v; want %d, nil", removed, err, want)
			}
			if got, want := countKeys(t, db, bolt.DefaultBucket), len(keys)+1-want; got != want {
				t.Errorf("bucket holds %d keys, want %d", got, want)
			}
			if got, want := s.Len(), len(keys)+1-want; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
			// What was pruned from memory no longer refuses; what was kept
			// still does.
			mustAllow(t, s, keys[0], base.Add(time.Second), tt.gone)
			mustLast(t, s, "long", base)
		})
	}
}

// TestPruneDuringRenewals prunes, in small chunks, while the same keys are
// renewed: no renewal may be lost from memory or from the file.
func TestPruneDuringRenewals(t *testing.T) {
	t.Parallel()
	db := openDB(t, dbPath(t), nil)
	s, err := bolt.New(db, &bolt.Options{PrunePeriod: -1, PruneChunk: 16})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	keys := storetest.Keys(2000)
	allowAll(t, s, keys, storetest.Base)

	later := storetest.Base.Add(storetest.Interval)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 3 {
			if _, err := s.Prune(later); err != nil {
				t.Errorf("Prune: %v", err)
				return
			}
		}
	}()
	allowAll(t, s, keys, later)
	wg.Wait()

	if got, want := countKeys(t, db, bolt.DefaultBucket), len(keys); got != want {
		t.Fatalf("bucket holds %d keys, want %d", got, want)
	}
	for _, k := range keys {
		mustLast(t, s, k, later)
		mustAllow(t, s, k, later.Add(time.Second), false)
	}
}

// TestCloseDuringRenewals closes the store while renewals are on their way:
// each is either granted and in the file, or refused with ErrClosed and not
// written at all.
func TestCloseDuringRenewals(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	keys := storetest.Keys(500)
	granted := make([]bool, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Allow(ctx, k, storetest.Base, storetest.Interval)
			switch {
			case ok && err == nil:
				granted[i] = true
			case !ok && errors.Is(err, store.ErrClosed):
			default:
				t.Errorf("Allow(%s) = %v, %v; want true, nil or false, ErrClosed", k, ok, err)
			}
		}()
		if i == len(keys)/2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
		}
	}
	wg.Wait()

	s = open(t, path, nil)
	for i, k := range keys {
		_, ok, err := s.Last(ctx, k)
		if err != nil || ok != granted[i] {
			t.Errorf("after reopening, Last(%s) = _, %v, %v; want %v (granted before Close)", k, ok, err, granted[i])
		}
	}
}

// TestBackgroundPrune checks that the pruner runs on its own, against the
// caller's clock at the latest renewal. It waits for a real ticker.
func TestBackgroundPrune(t *testing.T) {
	t.Parallel()
	db := openDB(t, dbPath(t), nil)
	s, err := bolt.New(db, &bolt.Options{PrunePeriod: time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mustAllow(t, s, "old", storetest.Base, true)
	mustAllow(t, s, "new", storetest.Base.Add(storetest.Interval), true)

	deadline := time.Now().Add(10 * time.Second)
	for countKeys(t, db, bolt.DefaultBucket) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("bucket still holds %d keys after 10s, want 1", countKeys(t, db, bolt.DefaultBucket))
		}
		time.Sleep(time.Millisecond)
	}
	if _, ok, err := s.Last(ctx, "old"); ok || err != nil {
		t.Errorf("Last(old) = _, %v, %v; want pruned", ok, err)
	}
	mustLast(t, s, "new", storetest.Base.Add(storetest.Interval))
}

// TestWriteFailureRollsBack makes every commit fail (the file descriptor
// bbolt writes through is read-only) and checks that a failed renewal is
// reported and forgotten: the key is neither recorded nor reserved.
func TestWriteFailureRollsBack(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustAllow(t, s, "renewed", storetest.Base, true)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
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

	later := storetest.Base.Add(storetest.Interval)
	tests := []struct {
		key  string
		now  time.Time
		last time.Time // zero: none
	}{
		{"fresh", later, time.Time{}},
		{"renewed", later, storetest.Base},
	}
	for _, tt := range tests {
		// Twice: a reservation left behind would turn the second into a
		// refusal (false, nil).
		for i := range 2 {
			ok, err := s.Allow(ctx, tt.key, tt.now, storetest.Interval)
			if ok || err == nil {
				t.Fatalf("Allow(%s) #%d = %v, %v; want false and the write error", tt.key, i, ok, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
		}
		at, ok, err := s.Last(ctx, tt.key)
		if err != nil || ok != !tt.last.IsZero() || !at.Equal(tt.last) {
			t.Errorf("Last(%s) = %v, %v, %v; want %v, %v, nil", tt.key, at, ok, err, tt.last, !tt.last.IsZero())
		}
	}
	// The previous renewal still refuses within its interval.
	mustAllow(t, s, "renewed", storetest.Base.Add(time.Second), false)
}

func TestNewAndOpenErrors(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	openDB(t, path, nil).Close() // create a valid file
	ro := openDB(t, path, &bbolt.Options{ReadOnly: true})
	tests := []struct {
		name string
		open func() (*bolt.Store, error)
		want string
	}{
		{"nil DB", func() (*bolt.Store, error) { return bolt.New(nil, nil) }, "nil"},
		{"read-only DB", func() (*bolt.Store, error) { return bolt.New(ro, nil) }, path},
		{"empty path", func() (*bolt.Store, error) { return bolt.Open("", nil) }, "empty path"},
		{"missing directory", func() (*bolt.Store, error) {
			return bolt.Open(filepath.Join(t.TempDir(), "no", "such", "dir", "r.db"), nil)
		}, "no such file or directory"},
		{"a directory", func() (*bolt.Store, error) { return bolt.Open(t.TempDir(), nil) }, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.open()
			if err == nil {
				_ = s.Close()
				t.Fatalf("got a store, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestKeyLength(t *testing.T) {
	t.Parallel()
	s := open(t, dbPath(t), nil)
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"empty", "", false},
		{"one byte", "k", true},
		{"the largest", strings.Repeat("k", bbolt.MaxKeySize), true},
		{"too long", strings.Repeat("k", bbolt.MaxKeySize+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Allow(ctx, tt.key, storetest.Base, storetest.Interval)
			if got != tt.ok || (err == nil) != tt.ok {
				t.Fatalf("Allow = %v, %v; want %v and an error iff not allowed", got, err, tt.ok)
			}
			_, ok, err := s.Last(ctx, tt.key)
			if ok != tt.ok || err != nil {
				t.Errorf("Last = _, %v, %v; want %v, nil", ok, err, tt.ok)
			}
		})
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewChaCha8([32]byte{'b', 'o', 'l', 't'}))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	write := func(data []byte) func(*testing.T, string) {
		return func(t *testing.T, path string) {
			t.Helper()
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// valid writes a real store file with some renewals, then damages it.
	valid := func(damage func(t *testing.T, path string)) func(*testing.T, string) {
		return func(t *testing.T, path string) {
			t.Helper()
			s, err := bolt.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			allowAll(t, s, storetest.Keys(2000), storetest.Base)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			damage(t, path)
		}
	}
	// foreign writes a bbolt file whose store bucket holds something else.
	foreign := func(fill func(*bbolt.Bucket) error) func(*testing.T, string) {
		return func(t *testing.T, path string) {
			t.Helper()
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucket([]byte(bolt.DefaultBucket))
				if err != nil {
					return err
				}
				return fill(b)
			})
			if err2 := db.Close(); err == nil {
				err = err2
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name  string
		write func(*testing.T, string)
	}{
		{"text", write([]byte("renewals: none yet\n"))},
		{"random bytes, short", write(random(100))},
		{"random bytes, one page", write(random(4096))},
		{"random bytes, 64 KiB", write(random(64 << 10))},
		{"zeros, 64 KiB", write(make([]byte, 64<<10))},
		{"truncated to the first page", valid(func(t *testing.T, path string) {
			if err := os.Truncate(path, 4096); err != nil {
				t.Fatal(err)
			}
		})},
		{"both meta pages overwritten", valid(func(t *testing.T, path string) {
			overwrite(t, path, 0, random(2*4096))
		})},
		{"data pages overwritten", valid(func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			overwrite(t, path, 2*4096, random(int(fi.Size())-2*4096))
		})},
		{"a value that is not a record", foreign(func(b *bbolt.Bucket) error {
			return b.Put([]byte("k"), []byte("not 16 bytes"))
		})},
		{"a nested bucket", foreign(func(b *bbolt.Bucket) error {
			_, err := b.CreateBucket([]byte("nested"))
			return err
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			tt.write(t, path)
			s, err := bolt.Open(path, &bolt.Options{Timeout: -1})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open succeeded, want an error wrapping ErrCorrupt")
			}
			if !errors.Is(err, bolt.ErrCorrupt) {
				t.Errorf("error %q does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
			}
			openErr := err
			// The failed Open released the file: bbolt can lock it again.
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
			if err == nil {
				_ = db.Close()
			} else if errors.Is(err, berrors.ErrTimeout) {
				t.Errorf("the file is still locked after the failed Open (%v)", openErr)
			}
		})
	}
}

func overwrite(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenZeroLengthFile: an empty file (say, made by touch or os.Create)
// is a new store, as it is for bbolt.
func TestOpenZeroLengthFile(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, nil)
	mustAllow(t, s, "k", storetest.Base, true)
}

func TestCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	open(t, path, nil)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got&^want != 0 {
		t.Errorf("file mode = %v, want at most %v", got, want)
	}
}

// TestCloseStopsGoroutines counts the goroutines running the store's code.
// It is not parallel, so no other test's store is open meanwhile.
func TestCloseStopsGoroutines(t *testing.T) {
	tests := []struct {
		name string
		opts *bolt.Options
		want int // goroutines while open
	}{
		{"writer and pruner", nil, 2},
		{"writer only", &bolt.Options{PrunePeriod: -1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := dbPath(t)
			if got := storeGoroutines(); got != 0 {
				t.Fatalf("before Open: %d store goroutines, want 0", got)
			}
			s, err := bolt.Open(path, tt.opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			mustAllow(t, s, "k", storetest.Base, true)
			if got := storeGoroutines(); got != tt.want {
				t.Errorf("while open: %d store goroutines, want %d", got, tt.want)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			// A goroutine that has signalled Close may need a moment to
			// return from its last frame.
			deadline := time.Now().Add(5 * time.Second)
			for storeGoroutines() != 0 && time.Now().Before(deadline) {
				runtime.Gosched()
			}
			if got := storeGoroutines(); got != 0 {
				t.Errorf("after Close: %d store goroutines, want 0", got)
			}
			// Close released the file lock.
			s2, err := bolt.Open(path, &bolt.Options{Timeout: -1})
			if err != nil {
				t.Fatalf("Open after Close: %v", err)
			}
			_ = s2.Close()
		})
	}
}

func storeGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "store/bolt.(*Store).writeLoop") || strings.Contains(g, "store/bolt.(*Store).pruneLoop") {
			count++
		}
	}
	return count
}
