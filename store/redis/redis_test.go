package redis_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
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

// hangLimit is how long a call may take before a test calls it hung. It is
// far above every timeout in play, so it fails a store that blocks without
// asserting anything about how fast a healthy one is.
const hangLimit = 5 * time.Second

// patient is the Timeout of stores in tests about answers rather than
// latency: a loaded CI machine under -race can take longer than the default
// to dial a hundred connections.
const patient = 10 * time.Second

// relaxed returns options with a patient Timeout and prefix.
func relaxed(prefix string) *redis.Options {
	return &redis.Options{KeyPrefix: prefix, Timeout: patient}
}

// prefixes makes every store in this package's tests distinct, so stores
// that share a server start empty.
var prefixes atomic.Int64

func uniquePrefix() string {
	return fmt.Sprintf("test%d:", prefixes.Add(1))
}

// open opens a Store on url and closes it when tb ends.
func open(tb testing.TB, url string, opts *redis.Options) *redis.Store {
	tb.Helper()
	s, err := redis.Open(url, opts)
	if err != nil {
		tb.Fatalf("Open(%q): %v", url, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// newClient returns a go-redis client for srv, closed when tb ends.
func newClient(tb testing.TB, srv *redistest.Server) *goredis.Client {
	tb.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// mustNew returns the store redis.New makes over client, failing tb when it
// cannot.
func mustNew(tb testing.TB, client goredis.UniversalClient, opts *redis.Options) *redis.Store {
	tb.Helper()
	s, err := redis.New(client, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// within runs f and returns its error, failing the test if f has not
// returned after hangLimit.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangLimit):
		t.Fatalf("call still blocked after %v", hangLimit)
		return nil
	}
}

func mustAllow(t *testing.T, s store.Store, key string, now time.Time, interval time.Duration, want bool) {
	t.Helper()
	got, err := s.Allow(context.Background(), key, now, interval)
	if err != nil {
		t.Fatalf("Allow(%q, %v, %v): %v", key, now, interval, err)
	}
	if got != want {
		t.Fatalf("Allow(%q, %v, %v) = %v, want %v", key, now, interval, got, want)
	}
}

func TestConformanceOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	storetest.Run(t, func(tb testing.TB) store.Store {
		return open(tb, srv.URL(), relaxed(uniquePrefix()))
	})
}

func TestConformanceNew(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := newClient(t, srv)
	storetest.Run(t, func(tb testing.TB) store.Store {
		return mustNew(tb, client, relaxed(uniquePrefix()))
	})
}

func BenchmarkStore(b *testing.B) {
	srv := redistest.Start(b)
	storetest.Benchmark(b, func(tb testing.TB) store.Store {
		return open(tb, srv.URL(), relaxed(uniquePrefix()))
	})
}

// TestAtomicAcrossClients stands in for several application instances: two
// Stores with their own clients and connection pools race for one key.
func TestAtomicAcrossClients(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	stores := []*redis.Store{
		open(t, srv.URL(), relaxed(prefix)),
		open(t, srv.URL(), relaxed(prefix)),
	}
	const goroutines = 100
	ctx := context.Background()
	var wins [2]atomic.Int32
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range goroutines {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			ok, err := stores[i%2].Allow(ctx, "hot", storetest.Base, storetest.Interval)
			if err != nil {
				t.Errorf("store %d: Allow: %v", i%2, err)
				return
			}
			if ok {
				wins[i%2].Add(1)
			}
		}()
	}
	start.Done()
	done.Wait()
	if got, want := wins[0].Load()+wins[1].Load(), int32(1); got != want {
		t.Fatalf("winners = %d (%d and %d per store), want %d", got, wins[0].Load(), wins[1].Load(), want)
	}
	for i, s := range stores {
		at, ok, err := s.Last(ctx, "hot")
		if err != nil || !ok || !at.Equal(storetest.Base) {
			t.Errorf("store %d: Last = %v, %v, %v; want %v, true, nil", i, at, ok, err, storetest.Base)
		}
	}
}

// TestOutage stops the server under a live Store, checks that calls fail
// instead of hanging, then restarts it and checks that the same Store
// recovers on its own.
func TestOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	// Calls to a stopped server fail at once (connection refused), so a
	// patient Timeout only guards the calls before and after.
	s := open(t, srv.URL(), relaxed(uniquePrefix()))
	ctx := context.Background()
	mustAllow(t, s, "before", storetest.Base, storetest.Interval, true)

	srv.Stop()
	// More calls than the client's pool has connections, so the client
	// also goes through its "every dial fails" state.
	for i := range 30 {
		err := within(t, func() error {
			ok, err := s.Allow(ctx, "during", storetest.Base, storetest.Interval)
			if ok {
				t.Errorf("Allow #%d during the outage reported true", i)
			}
			return err
		})
		if err == nil {
			t.Fatalf("Allow #%d during the outage: no error; want one", i)
		}
	}
	if err := within(t, func() error { _, _, err := s.Last(ctx, "before"); return err }); err == nil {
		t.Errorf("Last during the outage: no error; want one")
	}
	if err := within(t, func() error { return s.Ping(ctx) }); err == nil {
		t.Errorf("Ping during the outage: no error; want one")
	}

	srv.Restart()
	// The client notices the server is back when it next dials, which
	// after a run of failures it retries in the background about once a
	// second; poll the external process for a bounded time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := s.Allow(ctx, "after", storetest.Base, storetest.Interval)
		if err == nil {
			if !ok {
				t.Fatalf("first Allow after the restart = false, want true (the server restarted empty)")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Allow still failing 10s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustAllow(t, s, "after", storetest.Base.Add(time.Second), storetest.Interval, false)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after the restart: %v", err)
	}
}

// TestSlowServer pauses every write on a real server, so the store's
// script is accepted but not answered, and checks that each way of bounding
// a call stops it with the matching error. The pause outlasts hangLimit,
// so a store that waited for the server would fail the test instead of
// getting an answer.
func TestSlowServer(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	ctx := context.Background()

	tests := []struct {
		name    string
		timeout time.Duration // Options.Timeout
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{
			name:    "store timeout",
			timeout: 100 * time.Millisecond,
			ctx:     func() (context.Context, context.CancelFunc) { return ctx, func() {} },
			want:    context.DeadlineExceeded,
		},
		{
			name:    "caller deadline",
			timeout: time.Minute,
			ctx:     func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 100*time.Millisecond) },
			want:    context.DeadlineExceeded,
		},
		{
			// go-redis bounds a socket read by the context's deadline, not
			// its cancellation, so a cancelled call ends at Timeout; what
			// matters is that it ends and reports the cancellation.
			name:    "caller cancels",
			timeout: 300 * time.Millisecond,
			ctx: func() (context.Context, context.CancelFunc) {
				c, cancel := context.WithCancel(ctx)
				time.AfterFunc(50*time.Millisecond, cancel)
				return c, cancel
			},
			want: context.Canceled,
		},
	}
	// Open every store and, so that the paused call finds a connection
	// and the script loaded, make one call first. That call is not
	// checked: the short timeouts here are not the subject of this step.
	stores := make([]*redis.Store, len(tests))
	for i, tt := range tests {
		stores[i] = open(t, srv.URL(), &redis.Options{Timeout: tt.timeout, KeyPrefix: uniquePrefix()})
		_, _ = stores[i].Allow(ctx, "warm", storetest.Base, storetest.Interval)
	}

	if err := admin.Do(ctx, "CLIENT", "PAUSE", strconv.Itoa(int(time.Minute/time.Millisecond)), "WRITE").Err(); err != nil {
		t.Skipf("CLIENT PAUSE WRITE (Redis 6.2 or later) failed: %v", err)
	}
	t.Run("paused", func(t *testing.T) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				cctx, cancel := tt.ctx()
				defer cancel()
				err := within(t, func() error {
					ok, err := stores[i].Allow(cctx, "k", storetest.Base, storetest.Interval)
					if ok {
						t.Errorf("Allow on a paused server reported true")
					}
					return err
				})
				if !errors.Is(err, tt.want) {
					t.Fatalf("Allow on a paused server: error %v; want one wrapping %v", err, tt.want)
				}
				t.Logf("error: %v", err)
			})
		}
	})
	if err := admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatalf("CLIENT UNPAUSE: %v", err)
	}
	// Each Store works again without reconstruction. The abandoned calls
	// may still run once the server resumes, so every attempt uses a new
	// key; a few attempts absorb a loaded machine's slow replies.
	for i, tt := range tests {
		var err error
		for attempt := range 20 {
			var ok bool
			ok, err = stores[i].Allow(ctx, fmt.Sprintf("resumed-%d", attempt), storetest.Base, storetest.Interval)
			if err == nil {
				if !ok {
					t.Errorf("%s: first Allow of a new key after the pause = false, want true", tt.name)
				}
				break
			}
		}
		if err != nil {
			t.Errorf("%s: Allow still failing after the pause: %v", tt.name, err)
		}
	}
}

// TestUnansweredConnection needs no redis-server: a listener that accepts
// connections and never answers stands in for a hung server.
func TestUnansweredConnection(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})

	// Default options: this is also the test of the default Timeout.
	s := open(t, "redis://"+l.Addr().String()+"/0", nil)
	ctx := context.Background()
	err = within(t, func() error { _, err := s.Allow(ctx, "k", storetest.Base, storetest.Interval); return err })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Allow against a silent server: error %v; want one wrapping context.DeadlineExceeded", err)
	}
	if want := fmt.Sprintf("no answer within %v", redis.DefaultTimeout); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Allow against a silent server: error %v; want one saying %q", err, want)
	}
	err = within(t, func() error { _, _, err := s.Last(ctx, "k"); return err })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Last against a silent server: error %v; want one wrapping context.DeadlineExceeded", err)
	}
}

func TestOpenURLs(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)

	t.Run("good", func(t *testing.T) {
		tests := []struct {
			name string
			url  string
			ping bool // the URL points at srv
		}{
			{"test server", srv.URL(), true},
			{"no database", "redis://" + srv.Addr(), true},
			{"query options", srv.URL() + "?dial_timeout=1s&pool_size=4&max_retries=1", true},
			{"unix socket", "unix://" + srv.Socket(), true},
			{"unix socket db", "unix://" + srv.Socket() + "?db=2", true},
			{"password", "redis://:s3cret@127.0.0.1:6379/1", false},
			{"user and password over TLS", "rediss://user:s3cret@redis.example.com:6380/2", false},
			{"host only", "redis://localhost", false},
			{"IPv6", "redis://[::1]:6379/0", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s := open(t, tt.url, relaxed(""))
				if tt.ping {
					if err := s.Ping(context.Background()); err != nil {
						t.Errorf("Ping via %q: %v", tt.url, err)
					}
				}
			})
		}
	})

	t.Run("bad", func(t *testing.T) {
		tests := []struct {
			name   string
			url    string
			want   string // in the error
			secret string // never in the error
		}{
			{"empty", "", "empty URL", ""},
			{"no scheme", "localhost:6379", `scheme "localhost"`, ""},
			{"http", "http://user:s3cret@127.0.0.1:6379", `"http://user:xxxxx@127.0.0.1:6379": scheme "http"`, "s3cret"},
			{"bad database", "redis://:s3cret@127.0.0.1:6379/abc", "invalid database number", "s3cret"},
			{"bad db option", "redis://127.0.0.1:6379?db=x", "invalid database number", ""},
			{"path too deep", "redis://:s3cret@127.0.0.1:6379/0/1", "invalid URL path", "s3cret"},
			{"unknown option", "redis://:s3cret@127.0.0.1:6379/0?bogus=1", "unexpected option: bogus", "s3cret"},
			{"bad duration", "redis://:s3cret@127.0.0.1/0?dial_timeout=soon", "invalid dial_timeout duration", "s3cret"},
			{"password echoed by go-redis", "redis://:s3cret@127.0.0.1/0?max_retries=s3cret", "invalid max_retries number", "s3cret"},
			{"bad port", "redis://127.0.0.1:notaport/0", `invalid port ":notaport"`, ""},
			{"bad port with password", "redis://:s3cret@127.0.0.1:notaport/0", `"redis://xxxxx@127.0.0.1:notaport/0": it does not parse`, "s3cret"},
			{"unescaped slash in password", "redis://:s3/cr3t@127.0.0.1/0", `"redis://xxxxx@127.0.0.1/0"`, "cr3t"},
			{"bad escape in password", "redis://u:s3cret%zz@127.0.0.1/0", "percent-encode", "s3cret"},
			{"slash in a numeric password", "redis://user:12/s3cret@127.0.0.1/0", `"redis://xxxxx@127.0.0.1/0": invalid URL path; an "@" follows the user info`, "s3cret"},
			{"question mark in password", "redis://:s3?cret@127.0.0.1/0", `"redis://xxxxx@127.0.0.1/0"`, "cret"},
			{"slash in password, bad scheme", "http://user:12/s3cret@127.0.0.1/0", `"http://xxxxx@127.0.0.1/0": scheme "http"`, "s3cret"},
			{"no slashes", "user:s3cret@127.0.0.1", `"xxxxx@127.0.0.1": scheme "user"`, "s3cret"},
			{"empty unix path", "unix://", "empty unix socket path", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s, err := redis.Open(tt.url, nil)
				if err == nil {
					_ = s.Close()
					t.Fatalf("Open(%q): no error; want one containing %q", tt.url, tt.want)
				}
				msg := err.Error()
				t.Logf("error: %s", msg)
				if !strings.HasPrefix(msg, "store/redis: ") || !strings.Contains(msg, tt.want) {
					t.Errorf("Open(%q) error = %q; want store/redis: ... %q", tt.url, msg, tt.want)
				}
				if tt.secret != "" && strings.Contains(msg, tt.secret) {
					t.Errorf("Open(%q) error = %q; it shows the password", tt.url, msg)
				}
			})
		}
	})
}

func TestOptionsChecked(t *testing.T) {
	t.Parallel()
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	tests := []struct {
		name string
		make func() (*redis.Store, error)
		want string
	}{
		{"New nil client", func() (*redis.Store, error) { return redis.New(nil, nil) }, "nil client"},
		{"New negative timeout", func() (*redis.Store, error) {
			return redis.New(client, &redis.Options{Timeout: -time.Second})
		}, "Options.Timeout is -1s"},
		{"Open negative timeout", func() (*redis.Store, error) {
			return redis.Open("redis://127.0.0.1:1/0", &redis.Options{Timeout: -time.Second})
		}, "Options.Timeout is -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := tt.make()
			if err == nil {
				_ = s.Close()
				t.Fatalf("no error; want one containing %q", tt.want)
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("error = %q; want one containing %q", got, tt.want)
			}
		})
	}
}

// TestStoredForm checks what lands in Redis: the prefixed key, the time in
// Unix nanoseconds, and an expiry of twice the interval (at least a second,
// at most what int64 nanoseconds can express, rounded up to milliseconds).
//
// The expiry is checked as an absolute time (PEXPIRETIME, Redis 7) against
// the server's clock read just before the write and again with the read, so
// the check does not depend on how long the test takes between the write
// and the read. A key with a one-second expiry may still be gone by the read
// on a stalled machine; that is told apart from a short expiry by the
// server's clock, and the row is written again.
func TestStoredForm(t *testing.T) {
	t.Parallel()
	// storedFormAttempts bounds the writes of one row whose key expired
	// before it could be read, so a store that is always slower than the
	// expiry fails instead of looping.
	const storedFormAttempts = 10
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	ctx := context.Background()
	if err := admin.Do(ctx, "PEXPIRETIME", "no-such-key").Err(); err != nil {
		t.Skipf("PEXPIRETIME (Redis 7 or later) failed: %v", err)
	}
	tests := []struct {
		name     string
		prefix   string // Options.KeyPrefix
		key      string // the key as Redis sees it
		interval time.Duration
		ttl      int64 // the expiry, in milliseconds after the write
	}{
		{"default prefix", "", redis.DefaultKeyPrefix + "k", time.Minute, 120_000},
		{"own prefix", "app:{eu}:", "app:{eu}:k", time.Hour, 7_200_000},
		{"tiny interval", "tiny:", "tiny:k", time.Microsecond, 1000},
		{"zero interval", "zero:", "zero:k", 0, 1000},
		{"negative interval", "neg:", "neg:k", -time.Hour, 1000},
		{"odd milliseconds", "odd:", "odd:k", 1500*time.Millisecond + 1, 3001},
		{"centuries", "long:", "long:k", 200 * 365 * 24 * time.Hour, math.MaxInt64/int64(time.Millisecond) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t, srv.URL(), relaxed(tt.prefix))
			wantValue := strconv.FormatInt(storetest.Base.UnixNano(), 10)
			for attempt := 1; ; attempt++ {
				if attempt > storedFormAttempts {
					t.Fatalf("key %q expired before it could be read in %d attempts in a row; the machine stalls for longer than its %d ms expiry", tt.key, storedFormAttempts, tt.ttl)
				}
				if attempt > 1 {
					// Start afresh: the key must be new for Allow to grant.
					if err := admin.Del(ctx, tt.key).Err(); err != nil {
						t.Fatalf("DEL %q: %v", tt.key, err)
					}
				}
				before, err := admin.Time(ctx).Result()
				if err != nil {
					t.Fatalf("TIME: %v", err)
				}
				mustAllow(t, s, "k", storetest.Base, tt.interval, true)
				// One transaction, so the value, the expiry and the clock
				// are read at the same moment of the server.
				var (
					get    *goredis.StringCmd
					expiry *goredis.Cmd // raw milliseconds: go-redis's Duration overflows for centuries
					now    *goredis.TimeCmd
				)
				if _, err := admin.TxPipelined(ctx, func(p goredis.Pipeliner) error {
					get = p.Get(ctx, tt.key)
					expiry = p.Do(ctx, "PEXPIRETIME", tt.key)
					now = p.Time(ctx)
					return nil
				}); err != nil && !errors.Is(err, goredis.Nil) {
					t.Fatalf("GET, PEXPIRETIME, TIME: %v", err)
				}
				t0, t1 := before.UnixMilli(), now.Val().UnixMilli()
				v, getErr := get.Result()
				at, expErr := expiry.Int64()
				if expErr != nil {
					t.Fatalf("PEXPIRETIME %q: %v", tt.key, expErr)
				}
				if errors.Is(getErr, goredis.Nil) || at == -2 {
					// Gone. Fine only if the server's clock has passed the
					// earliest expiry a correct write could have had.
					if t1 <= t0+tt.ttl {
						t.Fatalf("key %q is gone %d ms after the write began; want it kept for %d ms", tt.key, t1-t0, tt.ttl)
					}
					t.Logf("attempt %d: key expired before it could be read (%d ms); writing it again", attempt, t1-t0)
					continue
				}
				if getErr != nil {
					t.Fatalf("GET %q: %v", tt.key, getErr)
				}
				if v != wantValue {
					t.Errorf("stored value = %q, want %q", v, wantValue)
				}
				// The write happened between t0 and t1 by the server's
				// clock, so its expiry lies between t0+ttl and t1+ttl.
				if at < t0+tt.ttl || at > t1+tt.ttl {
					t.Errorf("PEXPIRETIME = %d = write + %d..%d ms; want write + %d ms (server clock %d before the write, %d after)",
						at, at-t1, at-t0, tt.ttl, t0, t1)
				}
				return
			}
		})
	}
}

// TestWindowArithmetic exercises the script's exact comparison where a
// double would round: near zero and across it, at both ends of the int64
// range, and with intervals that overflow when added to now.
func TestWindowArithmetic(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	const day = 24 * time.Hour
	tests := []struct {
		name     string
		base     time.Time
		interval time.Duration
	}{
		{"epoch", time.Unix(0, 0), time.Minute},
		{"one ns before the epoch", time.Unix(0, -1), time.Minute},
		{"1950", time.Date(1950, 6, 1, 0, 0, 0, 123456789, time.UTC), time.Minute},
		{"suite base", storetest.Base.Add(987654321), time.Minute},
		{"near the top of int64", time.Unix(0, math.MaxInt64-10), time.Minute},
		{"near the bottom of int64", time.Unix(0, math.MinInt64+10), time.Minute},
		{"a window wider than int64", storetest.Base, 250 * 365 * day},
		{"one nanosecond", storetest.Base, time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t, srv.URL(), relaxed(uniquePrefix()))
			inRange := func(d time.Duration) bool {
				// Skip offsets that leave the int64 range: time.Time
				// has no Unix nanoseconds there.
				n := tt.base.UnixNano()
				if (d > 0 && n > math.MaxInt64-int64(d)) || (d < 0 && n < math.MinInt64-int64(d)) {
					return false
				}
				return true
			}
			mustAllow(t, s, "k", tt.base, tt.interval, true)
			for _, d := range []time.Duration{0, tt.interval - 1, -(tt.interval - 1)} {
				if inRange(d) {
					mustAllow(t, s, "k", tt.base.Add(d), tt.interval, false)
				}
			}
			at, ok, err := s.Last(context.Background(), "k")
			if err != nil || !ok || at.UnixNano() != tt.base.UnixNano() {
				t.Fatalf("Last = %v, %v, %v; want %v", at, ok, err, tt.base)
			}
			for _, d := range []time.Duration{tt.interval, -tt.interval} {
				if inRange(d) {
					// The edge is allowed; come back to base for the
					// other edge (base is outside the window of base+d
					// only when d is a whole interval, which it is).
					mustAllow(t, s, "k", tt.base.Add(d), tt.interval, true)
					mustAllow(t, s, "k", tt.base, tt.interval, true)
				}
			}
		})
	}
}

func TestForeignValueIsAnError(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	ctx := context.Background()
	prefix := uniquePrefix()
	s := open(t, srv.URL(), relaxed(prefix))
	for _, v := range []string{"garbage", "", "-", "12345678901234567890", "1.5", "--1"} {
		t.Run(strconv.Quote(v), func(t *testing.T) {
			key := "k" + strconv.Quote(v)
			if err := admin.Set(ctx, prefix+key, v, 0).Err(); err != nil {
				t.Fatal(err)
			}
			// The error names the key, quoted, so an operator can find it.
			named := strconv.Quote(prefix + key)
			if ok, err := s.Allow(ctx, key, storetest.Base, storetest.Interval); err == nil || ok || !strings.Contains(err.Error(), named) {
				t.Errorf("Allow over %q = %v, %v; want false and an error naming %s", v, ok, err, named)
			}
			if _, _, err := s.Last(ctx, key); err == nil || !strings.Contains(err.Error(), named) {
				t.Errorf("Last over %q: error %v; want one naming %s", v, err, named)
			}
			if got, err := admin.Get(ctx, prefix+key).Result(); err != nil || got != v {
				t.Errorf("value after Allow = %q, %v; want %q left alone", got, err, v)
			}
		})
	}
}

func TestCloseLeavesAppClientOpen(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := newClient(t, srv)
	ctx := context.Background()
	s, err := redis.New(client, relaxed(""))
	if err != nil {
		t.Fatal(err)
	}
	mustAllow(t, s, "k", storetest.Base, storetest.Interval, true)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		t.Errorf("the application's client after Store.Close: %v; want it still open", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ping after Close: %v; want ErrClosed", err)
	}
}

// TestCloseClosesOwnClient closes a Store that Open created while
// goroutines keep calling it, and checks that the server no longer lists any
// of its connections. Close runs only once every goroutine has completed a
// call, and they go on calling until Close has returned: each call succeeds
// or reports store.ErrClosed, without hanging, and none succeeds after Close
// has returned or after one has reported ErrClosed.
func TestCloseClosesOwnClient(t *testing.T) {
	t.Parallel()
	const name = "slidingjwt-close-test" // the store's connections, in CLIENT LIST
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	s, err := redis.Open(srv.URL()+"?client_name="+name, relaxed(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	storetest.CloseWhileBusy(t, s, func() {
		if got := clientsNamed(t, admin, name); got == 0 {
			t.Fatalf("the server lists no connection named %q while the store is busy; the test cannot tell whether Close closes them", name)
		}
	})
	// The server drops a connection when it reads the end of it, which
	// nothing can signal to this process; poll it for a bounded time.
	deadline := time.Now().Add(hangLimit)
	for {
		n := clientsNamed(t, admin, name)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still lists %d connections named %q %v after Close; want none", n, name, hangLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientsNamed returns how many connections the server lists with name.
func clientsNamed(t *testing.T, admin *goredis.Client, name string) int {
	t.Helper()
	list, err := admin.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		for _, field := range strings.Fields(line) {
			if field == "name="+name {
				n++
			}
		}
	}
	return n
}

// FuzzOpenHidesPassword builds URLs around a password that carries a
// marker and checks that no error from Open shows the marker, whatever the
// rest of the URL looks like. Open must not panic either. (It never
// contacts a server, so this needs none.)
func FuzzOpenHidesPassword(f *testing.F) {
	const marker = "PW7x"
	f.Add("redis", "user", "s3cret", "127.0.0.1:6379/0")
	f.Add("redis", "", "12/ss", "127.0.0.1/0")
	f.Add("redis", "u", "a?b#c", "host/0?db=1")
	f.Add("rediss", "u", "%zz", "host:x/0")
	f.Add("unix", "", "pw", "/tmp/redis.sock?db=x")
	f.Add("http", "u:v", "p@q", "host/0/1?bogus=1")
	f.Fuzz(func(t *testing.T, scheme, user, password, rest string) {
		for _, part := range []string{scheme, user, rest} {
			// The marker, or an escape that could decode to it, outside
			// the password would be shown legitimately.
			if strings.Contains(part, marker) || strings.Contains(part, "%") {
				t.Skip()
			}
		}
		raw := scheme + "://" + user + ":" + marker + password + "@" + rest
		s, err := redis.Open(raw, nil)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Errorf("Open(%q) error = %q; it shows the password", raw, err)
			}
			return
		}
		_ = s.Close()
	})
}
