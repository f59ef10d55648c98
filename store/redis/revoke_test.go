package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// revOpts returns patient options with a revocation prefix of their own and
// the cap maxRevocations.
func revOpts(prefix string, maxRevocations int) *redis.Options {
	return &redis.Options{KeyPrefix: prefix, RevocationKeyPrefix: prefix, Timeout: patient, MaxRevocations: maxRevocations}
}

// dataKey is the hash that holds the revocations under prefix.
func dataKey(prefix string) string { return "{" + prefix + "}data" }

func TestRevokerConformanceOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		return open(tb, srv.URL(), revOpts(uniquePrefix(), maxRevocations))
	})
}

func TestRevokerConformanceNew(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := newClient(t, srv)
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		return mustNew(tb, client, revOpts(uniquePrefix(), maxRevocations))
	})
}

// TestRevocationCapAcrossInstances: the cap counts the revocations of every
// instance sharing the prefix, and is enforced atomically when they race.
func TestRevocationCapAcrossInstances(t *testing.T) {
	t.Parallel()
	const limit, goroutines = 10, 40
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	stores := []*redis.Store{open(t, srv.URL(), revOpts(prefix, limit)), open(t, srv.URL(), revOpts(prefix, limit))}
	var ok, full atomic.Int32
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := stores[i%2].Revoke(context.Background(), storetest.SessionRevocation(i), storetest.Base)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrRevocationsFull):
				full.Add(1)
			default:
				t.Errorf("Revoke #%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if got, want := ok.Load(), int32(limit); got != want {
		t.Errorf("%d revocations accepted, want the cap %d (%d refused)", got, want, full.Load())
	}
	for _, s := range stores {
		got, err := s.Revocations(context.Background(), storetest.Base)
		if err != nil || len(got) != limit {
			t.Errorf("Revocations = %d, %v; want %d", len(got), err, limit)
		}
	}
}

// TestWatchDeliversRevocations: a revocation made through one Store reaches
// a watch through another, with its merged times.
func TestWatchDeliversRevocations(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	a, b := open(t, srv.URL(), revOpts(prefix, 0)), open(t, srv.URL(), revOpts(prefix, 0))
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan store.Revocation, 10)
	subscribed := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		ended <- b.WatchRevocations(ctx, func(r store.Revocation) { got <- r }, func() { close(subscribed) })
	}()
	waitFor(t, subscribed, "the subscription")

	first := storetest.SubjectRevocation(1)
	storetest.MustRevoke(t, a, first, storetest.Base)
	// A revocation that changes nothing is not published; an extension is,
	// merged with what was recorded.
	storetest.MustRevoke(t, a, first, storetest.Base)
	extension := first
	extension.Before = first.Before.Add(-time.Hour)
	extension.Until = first.Until.Add(time.Hour)
	storetest.MustRevoke(t, a, extension, storetest.Base)
	merged := first
	merged.Until = extension.Until

	for _, want := range []store.Revocation{first, merged} {
		select {
		case r := <-got:
			if r.Kind != want.Kind || r.Key != want.Key || !r.Before.Equal(want.Before) || !r.Until.Equal(want.Until) {
				t.Errorf("watch delivered %s; want %s", storetest.FormatRevocations([]store.Revocation{r}), storetest.FormatRevocations([]store.Revocation{want}))
			}
		case <-time.After(hangLimit):
			t.Fatalf("no revocation delivered within %v", hangLimit)
		}
	}
	cancel()
	if err := waitErr(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("WatchRevocations after cancel = %v; want context.Canceled", err)
	}
	select {
	case r := <-got:
		t.Errorf("watch delivered %s more; want only the two changes", storetest.FormatRevocations([]store.Revocation{r}))
	default:
	}
}

// TestWatchEnds: a watch returns store.ErrClosed when its Store closes and
// an error when the server goes away; it fails at once on a closed Store.
func TestWatchEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stop func(*redistest.Server, *redis.Store)
		want func(error) bool
	}{
		{"Close", func(_ *redistest.Server, s *redis.Store) { _ = s.Close() },
			func(err error) bool { return errors.Is(err, store.ErrClosed) }},
		{"server stopped", func(srv *redistest.Server, _ *redis.Store) { srv.Stop() },
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "watch revocations") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			s := open(t, srv.URL(), revOpts(uniquePrefix(), 0))
			subscribed := make(chan struct{})
			ended := make(chan error, 1)
			go func() {
				ended <- s.WatchRevocations(context.Background(), func(store.Revocation) {}, func() { close(subscribed) })
			}()
			waitFor(t, subscribed, "the subscription")
			tt.stop(srv, s)
			if err := waitErr(t, ended); !tt.want(err) {
				t.Errorf("WatchRevocations ended with %v", err)
			}
		})
	}
	t.Run("on a closed Store", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t)
		s := open(t, srv.URL(), revOpts(uniquePrefix(), 0))
		_ = s.Close()
		if err := s.WatchRevocations(context.Background(), func(store.Revocation) {}, nil); !errors.Is(err, store.ErrClosed) {
			t.Errorf("WatchRevocations on a closed Store = %v; want ErrClosed", err)
		}
	})
}

// TestFeedAcrossRestartAndFlush: with the append-only file on, a restarted
// server continues its history, so a reader's cursor stays good; emptied
// by FLUSHALL, it starts a new history, and a reader's cursor reports a
// reset.
func TestFeedAcrossRestartAndFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t, redistest.AppendOnly())
	prefix := uniquePrefix()
	s := open(t, srv.URL(), revOpts(prefix, 0))
	rv := storetest.SessionRevocation(1)
	storetest.MustRevoke(t, s, rv, storetest.Base)
	page, err := s.RevocationsSince(ctx, store.RevocationCursor{}, storetest.Base, 0)
	if err != nil {
		t.Fatalf("RevocationsSince: %v", err)
	}
	cursor := page.Next

	srv.Restart()
	page = eventually(t, func() (store.RevocationPage, error) {
		return s.RevocationsSince(ctx, cursor, storetest.Base, 0)
	})
	if page.Reset || len(page.Revocations) != 0 || page.Next != cursor {
		t.Errorf("after a restart with AOF: page %+v; want no reset, nothing new, the same cursor %+v", page, cursor)
	}
	storetest.WantRevocations(t, s, storetest.Base, rv)

	if err := newClient(t, srv).FlushAll(ctx).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	page, err = s.RevocationsSince(ctx, cursor, storetest.Base, 0)
	if err != nil {
		t.Fatalf("RevocationsSince after FLUSHALL: %v", err)
	}
	if !page.Reset || page.Next.Epoch == cursor.Epoch {
		t.Errorf("after FLUSHALL: Reset %v, epoch %q (was %q); want a reset and a new epoch", page.Reset, page.Next.Epoch, cursor.Epoch)
	}
}

// TestRevokeBatch writes many revocations in pipelines: all are recorded,
// and the cap stops the batch with the error.
func TestRevokeBatch(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := context.Background()
	const n = 600 // more than one pipeline
	var rs []store.Revocation
	for i := range n {
		rs = append(rs, storetest.SessionRevocation(i))
	}
	t.Run("all recorded", func(t *testing.T) {
		t.Parallel()
		s := open(t, srv.URL(), revOpts(uniquePrefix(), 0))
		if err := s.RevokeBatch(ctx, rs, storetest.Base); err != nil {
			t.Fatalf("RevokeBatch: %v", err)
		}
		if err := s.RevokeBatch(ctx, rs, storetest.Base); err != nil {
			t.Fatalf("RevokeBatch again: %v", err)
		}
		storetest.WantRevocations(t, s, storetest.Base, rs...)
	})
	t.Run("cap", func(t *testing.T) {
		t.Parallel()
		s := open(t, srv.URL(), revOpts(uniquePrefix(), n-1))
		if err := s.RevokeBatch(ctx, rs, storetest.Base); !errors.Is(err, store.ErrRevocationsFull) {
			t.Fatalf("RevokeBatch of %d with a cap of %d = %v; want store.ErrRevocationsFull", n, n-1, err)
		}
		got, err := s.Revocations(ctx, storetest.Base)
		if err != nil || len(got) != n-1 {
			t.Fatalf("Revocations = %d, %v; want the cap, %d", len(got), err, n-1)
		}
	})
	t.Run("invalid first", func(t *testing.T) {
		t.Parallel()
		s := open(t, srv.URL(), revOpts(uniquePrefix(), 0))
		bad := append([]store.Revocation{rs[0], {Kind: 9}}, rs[1:]...)
		if err := s.RevokeBatch(ctx, bad, storetest.Base); err == nil || !strings.Contains(err.Error(), "kind 9") {
			t.Fatalf("RevokeBatch with a bad kind = %v; want an error naming it", err)
		}
		storetest.WantRevocations(t, s, storetest.Base) // checked before anything is written
	})
}

// TestRevocationStoredForm reads the keys back with a plain client: the
// record layout the package documents, and expired revocations deleted
// from every key as the store goes.
func TestRevocationStoredForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	prefix := uniquePrefix()
	s := open(t, srv.URL(), revOpts(prefix, 0))
	rv := storetest.SubjectRevocation(7)
	storetest.MustRevoke(t, s, rv, storetest.Base)

	fields, err := admin.HGetAll(ctx, dataKey(prefix)).Result()
	if err != nil || len(fields) != 1 {
		t.Fatalf("HGETALL = %v, %v; want one field", fields, err)
	}
	field := string([]byte{byte(store.RevokeSubject)}) + string(rv.Key[:])
	wantRecord := fmt.Sprintf("%020d%020d", uint64(rv.Before.UnixNano())^(1<<63), uint64(rv.Until.UnixNano())^(1<<63))
	if got := fields[field]; got != wantRecord {
		t.Errorf("record = %q, want %q", got, wantRecord)
	}

	// Sixty short ones, then one more after they expired: every key
	// forgets them.
	for i := range 60 {
		short := storetest.SessionRevocation(i)
		short.Until = storetest.Base.Add(time.Second + time.Duration(i)*time.Millisecond)
		storetest.MustRevoke(t, s, short, storetest.Base)
	}
	later := storetest.Base.Add(2 * time.Second)
	storetest.MustRevoke(t, s, storetest.SessionRevocation(100), later)
	tag := "{" + prefix + "}"
	for _, k := range []string{tag + "data", tag + "exp", tag + "log"} {
		var n int64
		if strings.HasSuffix(k, "data") {
			n, err = admin.HLen(ctx, k).Result()
		} else {
			n, err = admin.ZCard(ctx, k).Result()
		}
		if err != nil || n != 2 {
			t.Errorf("%s holds %d, %v; want 2 (the expired ones deleted)", k, n, err)
		}
	}
}

// TestForeignRevocationRecord: a field that another program wrote is an
// error naming the key, not a panic or a silent overwrite.
func TestForeignRevocationRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	s := open(t, srv.URL(), revOpts(prefix, 0))
	rv := storetest.SessionRevocation(1)
	field := string([]byte{byte(rv.Kind)}) + string(rv.Key[:])
	admin := newClient(t, srv)
	if err := admin.HSet(ctx, dataKey(prefix), field, "not a record").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ZAdd(ctx, "{"+prefix+"}log", goredis.Z{Score: 1, Member: field}).Err(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Revoke":      s.Revoke(ctx, rv, storetest.Base),
		"Revocations": func() error { _, err := s.Revocations(ctx, storetest.Base); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), dataKey(prefix)) || !strings.Contains(err.Error(), "does not hold a revocation record") {
			t.Errorf("%s over a foreign record = %v; want an error naming %q", name, err, dataKey(prefix))
		}
	}
}

func TestRevocationOptionsChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts redis.Options
		want string
	}{
		{redis.Options{MaxRevocations: -2}, "Options.MaxRevocations is -2"},
		{redis.Options{RevocationKeyPrefix: "app:{x}:"}, `Options.RevocationKeyPrefix "app:{x}:" contains a brace`},
	}
	for _, tt := range tests {
		if _, err := redis.Open("redis://127.0.0.1:1/0", &tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%+v) = %v; want an error containing %q", tt.opts, err, tt.want)
		}
	}
}

// TestRevokeDuringOutage: Revoke fails with an error, within the timeout,
// while the server is down, and records nothing.
func TestRevokeDuringOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	s := open(t, srv.URL(), revOpts(prefix, 0))
	srv.Stop()
	err := within(t, func() error { return s.Revoke(context.Background(), storetest.SessionRevocation(1), storetest.Base) })
	if err == nil {
		t.Fatalf("Revoke during the outage = nil; want an error")
	}
	if err := within(t, func() error { _, err := s.Revocations(context.Background(), storetest.Base); return err }); err == nil {
		t.Fatalf("Revocations during the outage = nil; want an error")
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(hangLimit):
		t.Fatalf("%s did not happen within %v", what, hangLimit)
	}
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(hangLimit):
		t.Fatalf("still running %v later", hangLimit)
		return nil
	}
}

// eventually retries f, which talks to a server that has just restarted,
// until it succeeds or 10 seconds have passed: the client reconnects on its
// own schedule.
func eventually[T any](t *testing.T, f func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := f()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing 10s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling an external process
	}
}
