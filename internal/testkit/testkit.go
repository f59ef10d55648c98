// Package testkit holds the small fakes that several test suites of this
// module share: an injected clock, a store wrapper that counts the calls
// that could write, a buffer that is safe to read while it is written, and
// settings read from a map as a program reads its environment, and the
// live heap count that memory tests measure with.
package testkit

import (
	"bytes"
	"context"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
)

// Settings reads vars, plus TOKEN_SECRET=secret unless vars sets it, the
// way a program reads its environment (config.FromLookup), and fails t
// when they do not validate.
func Settings(t testing.TB, secret string, vars map[string]string) config.Settings {
	t.Helper()
	all := map[string]string{config.EnvSecret: secret}
	maps.Copy(all, vars)
	s, err := config.FromLookup(func(name string) (string, bool) {
		v, ok := all[name]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config.FromLookup(%q): %v", vars, err)
	}
	return s
}

// Clock is a clock that moves only when the test moves it, so tests never
// sleep. Pass its Now as Config.Now. The zero value reads the zero time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forwards or backwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// CountingStore wraps a real store and counts the Allow calls that reach
// it, so a test can prove a request wrote nothing.
type CountingStore struct {
	store.Store
	allows atomic.Int64
}

// Allow counts the call and passes it on.
func (s *CountingStore) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	s.allows.Add(1)
	return s.Store.Allow(ctx, key, now, interval)
}

// Name passes on the wrapped store's name (store.Named), or "unknown".
func (s *CountingStore) Name() string {
	if n, ok := s.Store.(store.Named); ok {
		return n.Name()
	}
	return "unknown"
}

// Allows returns how many Allow calls reached the store.
func (s *CountingStore) Allows() int64 { return s.allows.Load() }

// SyncBuffer is an io.Writer that tests may read (String) while another
// goroutine writes to it, such as a server's log or a process's output.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// LiveHeap returns the bytes of live heap objects after two full
// collections (the second frees what the first's finalizers released).
func LiveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
