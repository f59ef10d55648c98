package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/internal/revtab"
)

// Defaults used for the zero fields of Options.
const (
	// DefaultBucket is the name of the bbolt bucket that holds the renewals.
	DefaultBucket = "slidingjwt.renewals"
	// DefaultTimeout is how long Open waits for the file lock.
	DefaultTimeout = time.Second
	// DefaultPrunePeriod is how often the background pruner runs.
	DefaultPrunePeriod = time.Minute
	// DefaultPruneChunk is how many entries one prune transaction deletes at
	// most.
	DefaultPruneChunk = 4096
)

// shards is the number of independently locked maps that mirror the file.
const shards = 64

// recordSize is the size of a stored value: the last renewal in Unix
// nanoseconds and the interval it was recorded with, both big-endian.
const recordSize = 16

var (
	// ErrLocked is wrapped by the error Open returns when another process, or
	// another open of the same file in this process, holds the file's lock
	// for longer than Options.Timeout.
	ErrLocked = errors.New("bolt: file is locked by another process")

	// ErrCorrupt is wrapped by the error Open and New return when the file is
	// not a bbolt database, is damaged, or holds something other than
	// renewal records in the store's bucket.
	ErrCorrupt = errors.New("bolt: not a bbolt renewal store, or a damaged one")
)

// Options configures a Store. The zero value, and a nil *Options, give the
// defaults.
type Options struct {
	// Bucket is the bbolt bucket that holds the renewals; it is created when
	// missing. Choose another name to keep two stores in one database.
	// Optional. Default DefaultBucket.
	Bucket string

	// Timeout is how long Open waits for the file lock held by another
	// process before it gives up with an error wrapping ErrLocked. A negative
	// value tries once. New ignores it. Optional. Default DefaultTimeout (1s).
	Timeout time.Duration

	// PrunePeriod is the wall-clock period of the background pruner. A
	// negative value disables it: the application then calls Prune itself.
	// Optional. Default DefaultPrunePeriod (1m).
	PrunePeriod time.Duration

	// PruneChunk is the largest number of entries one prune transaction
	// deletes, which bounds how long a prune holds the write lock. Optional.
	// Default DefaultPruneChunk (4096).
	PruneChunk int

	// OnPruneError, when set, receives the errors of the background pruner,
	// which otherwise retries silently at the next period. It is called from
	// the pruner's goroutine and must not call Close. Optional. Default nil.
	OnPruneError func(error)

	// RevocationBucket is the bbolt bucket that holds the revocations (see
	// Revoke); it is created with the first one. It must differ from
	// Bucket. Optional. Default DefaultRevocationBucket.
	RevocationBucket string

	// MaxRevocations is the most revocations live at once; a new one beyond
	// it fails with store.ErrRevocationsFull. Revocations are bounded on
	// their own, apart from the renewals. Optional. Default
	// store.DefaultMaxRevocations (1 000 000). Negative is an error.
	MaxRevocations int
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Bucket == "" {
		r.Bucket = DefaultBucket
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.PrunePeriod == 0 {
		r.PrunePeriod = DefaultPrunePeriod
	}
	if r.PruneChunk <= 0 {
		r.PruneChunk = DefaultPruneChunk
	}
	return r
}

// Store is the bbolt-backed store.Store. Create it with Open or New and
// release it with Close. A Store is safe for concurrent use.
type Store struct {
	db     *bbolt.DB
	path   string
	bucket []byte
	owned  bool // Close closes db
	chunk  int

	seed   maphash.Seed
	shards [shards]shard

	// latest is the caller's clock (Unix nanoseconds) at the latest granted
	// renewal: the pruner's notion of now. Zero means unknown.
	latest atomic.Int64

	// The writer's queue: renewals waiting for the next commit.
	qmu      sync.Mutex
	queued   *batch
	stopping bool          // set by Close under qmu; nothing is queued after it
	wake     chan struct{} // capacity 1: "the queue is not empty"

	pruneMu      sync.Mutex // one prune at a time
	onPruneError func(error)

	// Revocations: see revoke.go.
	rev       *revtab.Table
	revBucket []byte

	// syncDB is db.Sync, which a commit on a database opened with NoSync
	// calls before it is acknowledged (see syncIfNoSync); a test may wrap
	// it to observe the call.
	syncDB func() error

	closed  atomic.Bool
	closeMu sync.RWMutex // held for reading while the DB is in use outside the writer
	stop    chan struct{}
	wg      sync.WaitGroup
}

type shard struct {
	mu sync.Mutex
	// entries mirrors the bucket: the key's last renewal and its interval.
	// It may run ahead of the file by the renewals being committed.
	entries map[string]entry
	// inflight counts, per key, the renewals queued or being committed.
	// The pruner leaves such keys alone.
	inflight map[string]int32
	_        [40]byte // keep neighbouring shards' mutexes off one cache line
}

type entry struct {
	last     int64
	interval int64
}

// expired reports whether e's interval had passed by now, so that it can
// refuse no renewal at now or later. Only the forward direction counts: the
// pruner's now may lag a renewal being committed, and must not take that
// renewal for one an interval in the past. (After a backward step of the
// caller's clock, older entries therefore stay until the clock catches up.)
func (e entry) expired(now int64) bool {
	return store.ExpiredNanos(e.last, now, time.Duration(e.interval))
}

func (e entry) encode() (v [recordSize]byte) {
	binary.BigEndian.PutUint64(v[:8], uint64(e.last))
	binary.BigEndian.PutUint64(v[8:], uint64(e.interval))
	return v
}

func decode(v []byte) (entry, bool) {
	if len(v) != recordSize {
		return entry{}, false
	}
	return entry{
		last:     int64(binary.BigEndian.Uint64(v[:8])),
		interval: int64(binary.BigEndian.Uint64(v[8:])),
	}, true
}

var _ store.Store = (*Store)(nil)

// Open opens the bbolt file at path, creating it with mode 0600 when it does
// not exist, and returns a Store that owns it: Close closes the file. A
// zero-length file is initialised like a new one.
//
// A bbolt file is locked by the process that opens it. When another process
// holds the lock, Open retries for opts.Timeout and then fails with an error
// that wraps ErrLocked and names the path. A file that is not a bbolt
// database, or is damaged, gives an error that wraps ErrCorrupt and names
// the path.
//
// opts may be nil for the defaults.
func Open(path string, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	if path == "" {
		return nil, errors.New("bolt: Open: empty path")
	}
	db, err := openDB(path, o.Timeout)
	if err != nil {
		return nil, err
	}
	s, err := newStore(db, path, o, true)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openDB opens path with bbolt, turning its errors, and its panics on some
// damaged files, into errors that name the path.
func openDB(path string, timeout time.Duration) (db *bbolt.DB, err error) {
	// bbolt does not return the *DB when it fails half-way, so remember the
	// file it opened in order to release it (and its lock) after a panic.
	var file *os.File
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				unlock(file)
				_ = file.Close()
			}
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      timeout,
		FreelistType: bbolt.FreelistMapType,
		NoStatistics: true,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
	if err == nil {
		return db, nil
	}
	var (
		pathErr *fs.PathError
		errno   syscall.Errno
	)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		wait := max(timeout, 0)
		return nil, fmt.Errorf("%w: %s (or by another Open of it in this process; gave up after %v; "+
			"a bolt store serves one process, use store/redis to share renewals): %w",
			ErrLocked, path, wait, err)
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("bolt: %w", err) // "open <path>: ..." already
	case errors.As(err, &errno):
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	default:
		// The rest of what bbolt.Open reports is about the content: invalid
		// or mismatched meta pages, a file shorter than two pages, a size
		// that cannot be mapped.
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
}

// New returns a Store that keeps its renewals in a bucket of db, a
// read-write database the application opened and owns. Close stops the
// store but leaves db open: the application closes db after closing the
// store. The application may use other buckets of db meanwhile, but must
// leave the store's bucket alone.
//
// A granted renewal is synced to disk even when db has NoSync set: the
// store then calls db.Sync after its commit.
//
// opts may be nil for the defaults; Options.Timeout is ignored.
func New(db *bbolt.DB, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("bolt: New: nil *bbolt.DB")
	}
	if db.IsReadOnly() {
		return nil, fmt.Errorf("bolt: New: %s is open read-only; the store needs to write", db.Path())
	}
	return newStore(db, db.Path(), opts.withDefaults(), false)
}

func newStore(db *bbolt.DB, path string, o Options, owned bool) (*Store, error) {
	s := &Store{
		db:           db,
		syncDB:       db.Sync,
		path:         path,
		bucket:       []byte(o.Bucket),
		owned:        owned,
		chunk:        o.PruneChunk,
		seed:         maphash.MakeSeed(),
		wake:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		onPruneError: o.OnPruneError,
	}
	for i := range s.shards {
		s.shards[i].entries = make(map[string]entry)
		s.shards[i].inflight = make(map[string]int32)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.loadRevocations(o); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.writeLoop()
	if o.PrunePeriod > 0 {
		s.wg.Add(1)
		go s.pruneLoop(o.PrunePeriod)
	}
	return s, nil
}

// load creates the bucket when missing and copies every record into
// memory. None is judged expired here: the store knows the caller's clock
// only from the renewals it is asked for, and the latest time in the file
// is not that clock when it once ran ahead (a step back, a glitch
// forward), so dropping what looks old against it would forget renewals
// that still refuse. The file holds what the pruner left, about one
// interval of sessions; the pruner starts over once this process has
// granted a renewal and so seen the caller's clock.
func (s *Store) load() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, r)
		}
	}()
	var exists bool
	_ = s.db.View(func(tx *bbolt.Tx) error {
		exists = tx.Bucket(s.bucket) != nil
		return nil
	})
	if !exists { // a new file, or one that never held renewals
		err := s.db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(s.bucket)
			return err
		})
		if err != nil {
			return fmt.Errorf("bolt: open %s: create bucket %q: %w", s.path, s.bucket, err)
		}
		return nil
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		// string(k) copies the key out of the mapped file, which is only
		// valid inside the transaction.
		return tx.Bucket(s.bucket).ForEach(func(k, v []byte) error {
			e, ok := decode(v)
			if !ok {
				return s.badRecord(v)
			}
			key := string(k)
			s.shard(key).entries[key] = e
			return nil
		})
	})
}

func (s *Store) badRecord(v []byte) error {
	return fmt.Errorf("%w: %s: bucket %q holds a value of %d bytes, not a %d-byte renewal record",
		ErrCorrupt, s.path, s.bucket, len(v), recordSize)
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&(shards-1)]
}

func checkKey(key string) error {
	if len(key) == 0 || len(key) > bbolt.MaxKeySize {
		return fmt.Errorf("bolt: key of %d bytes; a key must have 1 to %d bytes", len(key), bbolt.MaxKeySize)
	}
	return nil
}

// Allow implements store.Store. It decides from memory; a granted renewal
// is committed to the file, in a commit shared with concurrent renewals,
// before Allow returns true. If the commit fails, the renewal is forgotten
// and Allow returns false and the error.
//
// Once a renewal is queued, Allow waits for its commit even if ctx is
// cancelled meanwhile, so that its answer always says whether the renewal
// was recorded; that wait is bounded by about two commits. The key must
// have 1 to bbolt.MaxKeySize bytes.
func (s *Store) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	if err := checkKey(key); err != nil {
		return false, err
	}
	if err := store.CheckTime(now); err != nil {
		return false, err
	}
	n, iv := now.UnixNano(), int64(interval)
	sh := s.shard(key)
	sh.mu.Lock()
	if sh.entries == nil { // closed while we waited for the lock
		sh.mu.Unlock()
		return false, store.ErrClosed
	}
	prev, had := sh.entries[key]
	if had {
		if store.RefusedNanos(prev.last, n, interval) {
			sh.mu.Unlock()
			return false, nil
		}
	}
	// Reserve the key, so that concurrent callers are refused, and queue the
	// write while still holding the shard lock, so that two renewals of one
	// key reach the file in the order they were granted.
	mine := entry{last: n, interval: iv}
	b := s.enqueue(key, mine)
	if b == nil {
		sh.mu.Unlock()
		return false, store.ErrClosed
	}
	sh.entries[key] = mine
	sh.inflight[key]++
	sh.mu.Unlock()

	<-b.done

	sh.mu.Lock()
	if sh.inflight != nil {
		if c := sh.inflight[key]; c > 1 {
			sh.inflight[key] = c - 1
		} else {
			delete(sh.inflight, key)
		}
	}
	if b.err != nil && sh.entries != nil {
		// Undo the reservation unless a later renewal replaced it.
		if cur, ok := sh.entries[key]; ok && cur == mine {
			if had {
				sh.entries[key] = prev
			} else {
				delete(sh.entries, key)
			}
		}
	}
	sh.mu.Unlock()
	if b.err != nil {
		return false, b.err
	}
	s.latest.Store(n)
	return true, nil
}

// Last implements store.Store. It reads the file, so it reports renewals
// once they are committed.
func (s *Store) Last(ctx context.Context, key string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return time.Time{}, false, store.ErrClosed
	}
	if checkKey(key) != nil {
		return time.Time{}, false, nil // such a key is never recorded
	}
	var (
		e     entry
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(key))
		if v == nil {
			return nil
		}
		var ok bool
		if e, ok = decode(v); !ok {
			return s.badRecord(v)
		}
		found = true
		return nil
	})
	if err != nil || !found {
		return time.Time{}, false, err
	}
	return time.Unix(0, e.last).UTC(), true, nil
}

// Len reports how many entries the store holds in memory: those that could
// still refuse a renewal at the last prune, and those renewed since. It is
// meant for tests and metrics; it locks every shard in turn.
func (s *Store) Len() int {
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		total += len(sh.entries)
		sh.mu.Unlock()
	}
	return total
}

// Close stops the background pruner and the writer, after the writer has
// committed the renewals already queued, and closes the file if Open opened
// it; a database passed to New stays open. It is idempotent: later calls
// return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.qmu.Lock()
	s.stopping = true
	s.qmu.Unlock()
	close(s.stop)
	s.wg.Wait()

	s.closeMu.Lock() // wait for Last and Prune calls in progress
	defer s.closeMu.Unlock()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.entries, sh.inflight = nil, nil
		sh.mu.Unlock()
	}
	s.rev.Close()
	if s.owned {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("bolt: close %s: %w", s.path, err)
		}
	}
	return nil
}
