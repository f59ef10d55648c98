package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// Every test registers names of its own (see runNames): the registry is
// global, the tests run in parallel, and go test -count=N runs each N times
// in one process.

// runs counts the calls of runNames in this process.
var runs atomic.Int64

// runNames returns the namer of one run of a test: n("x") is
// "registry-test-<run>-x", a name no other run registers.
func runNames() func(string) string {
	run := runs.Add(1)
	return func(s string) string { return fmt.Sprintf("registry-test-%d-%s", run, s) }
}

// fakeStore is a Store that records nothing; it carries the Params it was
// opened with so a test can see them.
type fakeStore struct{ p store.Params }

func (*fakeStore) Allow(context.Context, string, time.Time, time.Duration) (bool, error) {
	return true, nil
}

func (*fakeStore) Last(context.Context, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}

func (*fakeStore) Close() error { return nil }

// TestOpenRegistered: Open calls the Opener registered under the name with
// the Params given, and returns its store.
func TestOpenRegistered(t *testing.T) {
	t.Parallel()
	n := runNames()
	store.Register(n("params"), func(p store.Params) (store.Store, error) {
		return &fakeStore{p: p}, nil
	})
	tests := []struct {
		name string
		p    store.Params
	}{
		{"zero", store.Params{}},
		{"path", store.Params{Path: "renewals.db"}},
		{"size", store.Params{Size: 300}},
		{"url", store.Params{URL: "redis://localhost:6379/0"}},
		{"all", store.Params{Path: "a.db", Size: 7, URL: "redis://h/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := store.Open(n("params"), tt.p)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			f, ok := st.(*fakeStore)
			if !ok {
				t.Fatalf("Open returned %T, want *fakeStore", st)
			}
			if got, want := f.p, tt.p; got != want {
				t.Errorf("the Opener got %+v, want %+v", got, want)
			}
		})
	}
}

// TestOpenFailures: an unknown name, an Opener's error and an Opener that
// returns nothing are errors that name the backend; no store comes back.
func TestOpenFailures(t *testing.T) {
	t.Parallel()
	n := runNames()
	errBackend := errors.New("backend says no")
	store.Register(n("fails"), func(store.Params) (store.Store, error) { return nil, errBackend })
	store.Register(n("nil"), func(store.Params) (store.Store, error) { return nil, nil })
	tests := []struct {
		name     string
		backend  string
		wantIs   error
		wantText []string
	}{
		{
			name:    "backend of this module, not imported",
			backend: "redis",
			wantText: []string{`no backend named "redis" is registered`, n("fails"),
				`add import _ "github.com/slidingjwt/slidingjwt/store/redis" to the program`},
		},
		{
			name:     "bolt, not imported",
			backend:  "bolt",
			wantText: []string{`"bolt"`, `import _ "github.com/slidingjwt/slidingjwt/store/bolt"`},
		},
		{
			name:     "unknown backend",
			backend:  "etcd",
			wantText: []string{`no backend named "etcd"`, `import the package that registers backend "etcd"`},
		},
		{
			name:     "empty name",
			backend:  "",
			wantText: []string{`no backend named ""`},
		},
		{
			name:     "the Opener's error",
			backend:  n("fails"),
			wantIs:   errBackend,
			wantText: []string{"backend says no"},
		},
		{
			name:     "an Opener that returns nothing",
			backend:  n("nil"),
			wantText: []string{fmt.Sprintf(`backend %q returned neither a store nor an error`, n("nil"))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := store.Open(tt.backend, store.Params{})
			if err == nil {
				t.Fatalf("Open(%q) = %T, nil; want an error", tt.backend, st)
			}
			if st != nil {
				t.Errorf("Open(%q) returned a store (%T) with its error; want nil", tt.backend, st)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

// TestRegisterPanics: a duplicate name, a nil Opener and an empty name are
// refused with a panic that names the problem, and the first registration
// stays in place.
func TestRegisterPanics(t *testing.T) {
	t.Parallel()
	n := runNames()
	first := &fakeStore{p: store.Params{Path: "first"}}
	store.Register(n("dup"), func(store.Params) (store.Store, error) { return first, nil })
	open := func(store.Params) (store.Store, error) { return &fakeStore{}, nil }
	tests := []struct {
		name    string
		backend string
		open    store.Opener
		want    string
	}{
		{"duplicate", n("dup"), open, fmt.Sprintf(`Register called twice for backend %q`, n("dup"))},
		{"nil Opener", n("nil-opener"), nil, fmt.Sprintf(`backend %q with a nil Opener`, n("nil-opener"))},
		{"empty name", "", open, "empty backend name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := panicOf(func() { store.Register(tt.backend, tt.open) })
			if !strings.Contains(got, tt.want) {
				t.Errorf("Register(%q) panicked with %q; want a panic mentioning %q", tt.backend, got, tt.want)
			}
		})
	}
	t.Run("the first registration stays", func(t *testing.T) {
		t.Parallel()
		_ = panicOf(func() { store.Register(n("dup"), open) })
		st, err := store.Open(n("dup"), store.Params{})
		if err != nil || st != first {
			t.Errorf("Open after a duplicate Register = %v, %v; want the first backend's store", st, err)
		}
	})
	t.Run("nothing registered by a refused call", func(t *testing.T) {
		t.Parallel()
		_ = panicOf(func() { store.Register(n("nil-opener-2"), nil) })
		if slices.Contains(store.Backends(), n("nil-opener-2")) {
			t.Errorf("Backends() = %q lists a backend registered with a nil Opener", store.Backends())
		}
	})
}

// panicOf runs f and returns what it panicked with, as text, or "" when it
// returned normally.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestBackends: Backends lists every registered name, sorted, whatever the
// order of registration.
func TestBackends(t *testing.T) {
	t.Parallel()
	n := runNames()
	open := func(store.Params) (store.Store, error) { return &fakeStore{}, nil }
	for _, name := range []string{n("order-z"), n("order-a"), n("order-m")} {
		store.Register(name, open)
	}
	got := store.Backends()
	if !slices.IsSorted(got) {
		t.Errorf("Backends() = %q; want it sorted", got)
	}
	var ours []string
	for _, name := range got {
		if strings.HasPrefix(name, n("order-")) {
			ours = append(ours, name)
		}
	}
	if want := []string{n("order-a"), n("order-m"), n("order-z")}; !slices.Equal(ours, want) {
		t.Errorf("Backends() holds %q of this test's names; want %q", ours, want)
	}
	// The result is the caller's: changing it changes nothing registered.
	got[0] = "changed"
	if slices.Contains(store.Backends(), "changed") {
		t.Errorf("changing the slice Backends returned changed the registry")
	}
}
