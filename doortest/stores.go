package doortest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/redis"
)

// backend is one store backend the scenarios run with: its name (the
// subtest's, and the store's Name) and how to open an empty store of it
// for one application.
type backend struct {
	name string
	// open returns a new, empty store for one application of t, closed
	// when t ends. It may skip or fail t.
	open func(t *testing.T) store.Store
}

// backends returns every backend of this module, in the order the
// subtests run: memory, lru, bolt (a file in the application's
// t.TempDir()) and redis. The redis backend starts one redis-server for
// all the applications of parent (the test Run was given), when the first
// of them asks for it, and stops it when parent ends; each application
// gets key prefixes of its own, so none sees another's renewals or
// revocations.
func backends(parent *testing.T) []backend {
	srv := &sharedRedis{parent: parent}
	return []backend{
		{"memory", func(*testing.T) store.Store { return memory.New(nil) }},
		{"lru", func(t *testing.T) store.Store {
			st, err := lru.New(nil)
			if err != nil {
				t.Fatalf("lru.New: %v", err)
			}
			return st
		}},
		{"bolt", func(t *testing.T) store.Store {
			st, err := bolt.Open(filepath.Join(t.TempDir(), "renewals.db"), nil)
			if err != nil {
				t.Fatalf("bolt.Open: %v", err)
			}
			return st
		}},
		{"redis", srv.open},
	}
}

// sharedRedis is the redis-server of one Run call, started by the first
// application that needs it.
type sharedRedis struct {
	parent *testing.T

	once sync.Once
	srv  *redistest.Server
	// skip and fail hold what redistest.Start said instead of starting a
	// server: redis-server is missing (skip), and with redistest.RequireEnv
	// set that is a failure (fail), or the server did not start (fail).
	skip, fail string

	apps atomic.Int64 // applications opened, to tell their key prefixes apart
}

// open returns a store on the shared server for one application of t, with
// its own renewal and revocation key prefixes, closed when t ends. It
// skips or fails t as redistest.Start would.
func (r *sharedRedis) open(t *testing.T) store.Store {
	t.Helper()
	r.once.Do(r.start)
	if r.fail != "" {
		t.Fatal(r.fail)
	}
	if r.skip != "" {
		t.Skip(r.skip)
	}
	n := r.apps.Add(1)
	st, err := redis.Open(r.srv.URL(), &redis.Options{
		KeyPrefix:           fmt.Sprintf("doortest:%d:renew:", n),
		RevocationKeyPrefix: fmt.Sprintf("doortest:%d:revoke:", n),
		// Generous: the race detector on two busy cores can slow a dial.
		Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	return st
}

// start starts the server for parent. It runs redistest.Start in a
// goroutine of its own with parent behind starter: the caller is a subtest
// of parent, and a test may skip or fail only from its own goroutine, so
// starter keeps what Start says instead, and open tells the subtest.
// The server's clean-up and temporary directory belong to parent, so the
// server outlives every subtest that shares it.
func (r *sharedRedis) start() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.srv = redistest.Start(&starter{TB: r.parent, r: r})
	}()
	<-done
}

// starter is the testing.TB redistest.Start is given: parent's, except
// that a skip or a failure is kept in r and ends the starting goroutine.
type starter struct {
	testing.TB
	r *sharedRedis
}

// TempDir returns a directory removed when parent ends. (parent's own
// TempDir would fail parent, from the wrong goroutine, should it fail.)
func (s *starter) TempDir() string {
	dir, err := os.MkdirTemp("", "doortest-redis")
	if err != nil {
		s.Fatalf("doortest: a directory for redis-server: %v", err)
	}
	s.TB.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (s *starter) Skip(args ...any) {
	s.r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

func (s *starter) Skipf(format string, args ...any) {
	s.r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (s *starter) SkipNow() { s.Skip("redistest skipped the test") }

func (s *starter) Fatal(args ...any) {
	s.r.fail = fmt.Sprint(args...)
	runtime.Goexit()
}

func (s *starter) Fatalf(format string, args ...any) {
	s.r.fail = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (s *starter) FailNow() { s.Fatal("redistest failed the test") }

func (s *starter) Error(args ...any) { s.r.fail = fmt.Sprint(args...) }

func (s *starter) Errorf(format string, args ...any) { s.r.fail = fmt.Sprintf(format, args...) }

func (s *starter) Fail() {
	if s.r.fail == "" {
		s.r.fail = "redistest failed the test"
	}
}

// revocationsOf returns st as the revocation backend of a List: st itself,
// seen as a store.RevocationFeed (every backend of this module is one), so
// that the List reads and writes the store under test. A watch
// (store.RevocationWatcher: redis) is left out: each new subscription asks
// the List for a catch-up at a moment the scenario does not choose, which
// would make the copy fresh on the scenario's clock whenever it happens;
// the scenarios sync the List themselves (List.Sync), on their clock.
// A single application needs no watch: it writes its own sign-outs to its
// copy.
func revocationsOf(t *testing.T, st store.Store) store.Revoker {
	t.Helper()
	switch b := st.(type) {
	case store.RevocationFeed:
		return struct{ store.RevocationFeed }{b}
	case store.Revoker:
		return struct{ store.Revoker }{b}
	}
	t.Fatalf("the %T store is not a store.Revoker", st)
	return nil
}
