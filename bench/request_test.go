package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/nethttp"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// secret is the HS256 key of every row, the middleware's and echo-jwt's.
const secret = "bench-secret-0123456789abcdef-0123456789abcdef"

// path is the one route every row serves.
const path = "/api/me"

// dueAge is how old a token due for renewal is: with the default 48h
// lifetime and 0.5 threshold, a token is due once it is older than 24h.
const dueAge = 40 * time.Hour

// settings are the defaults with the bench secret and an interval long
// enough that a renewed session stays refused for the whole run.
func settings() config.Settings {
	s := config.Default()
	s.Secret = secret
	s.MinRenewInterval = time.Hour
	return s
}

// handler is the route's handler in every row.
func handler(c echo.Context) error { return c.NoContent(http.StatusOK) }

// newMux returns a ServeMux with the one route behind the net/http door
// built from cfg.
func newMux(tb testing.TB, cfg nethttp.Config) http.Handler {
	tb.Helper()
	mw, err := cfg.ToMiddleware()
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+path, mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})))
	return mux
}

// newEcho returns an Echo with the one route, behind mw when it is not nil.
func newEcho(mw echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	if mw == nil {
		e.GET(path, handler)
	} else {
		e.GET(path, handler, mw)
	}
	return e
}

// app is an Echo protected by the middleware, with the issuer of its tokens.
type app struct {
	e      *echo.Echo
	issuer *middleware.Issuer
}

func newApp(tb testing.TB, st store.Store, cfg middleware.Config) *app {
	tb.Helper()
	delivery := cfg.Settings.Delivery // the one setting a row may give
	cfg.Settings = settings()
	cfg.Settings.Delivery = delivery
	cfg.Store = st
	issuer, err := middleware.NewIssuer(cfg.Settings, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Keys = issuer.Keys()
	mw, err := cfg.ToMiddleware()
	if err != nil {
		tb.Fatal(err)
	}
	return &app{e: newEcho(mw), issuer: issuer}
}

// token mints a token of a new session issued age ago.
func (a *app) token(tb testing.TB, age time.Duration) string {
	tb.Helper()
	tok, err := a.mint(age)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// mint is token for any goroutine.
func (a *app) mint(age time.Duration) (string, error) {
	tok, _, err := a.issuer.IssueAt(time.Now().Add(-age), "alice", "user",
		map[string]any{"metadata": map[string]any{"auth_mode": "enabled"}})
	return tok, err
}

// bearers mints n tokens of n new sessions, each issued age ago, and returns
// them as Authorization header values. It uses every CPU: minting is slow.
func (a *app) bearers(tb testing.TB, n int, age time.Duration) []string {
	tb.Helper()
	out := make([]string, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				var tok string
				tok, errs[w] = a.mint(age)
				out[i] = "Bearer " + tok
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// sink is a ResponseWriter that keeps the status and headers and discards
// the body, reused from one request to the next.
type sink struct {
	h    http.Header
	code int
}

func newSink() *sink { return &sink{h: make(http.Header)} }

func (s *sink) Header() http.Header { return s.h }

func (s *sink) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(p), nil
}

// tally counts what the measured requests got.
type tally struct {
	ok, unauthorized, other, renewed atomic.Int64
}

// local is one goroutine's share of a tally, added in at the end so that
// parallel rows do not share counters while they are timed.
type local struct {
	ok, unauthorized, other, renewed int64
	n                                int // requests sent, for tokens.take
}

func (l *local) record(s *sink) {
	switch s.code {
	case http.StatusOK:
		l.ok++
	case http.StatusUnauthorized:
		l.unauthorized++
	default:
		l.other++
	}
	if _, ok := s.h[middleware.HeaderNewToken]; ok {
		l.renewed++
	}
	if _, ok := s.h["Set-Cookie"]; ok {
		l.renewed++
	}
}

func (t *tally) add(l *local) {
	t.ok.Add(l.ok)
	t.unauthorized.Add(l.unauthorized)
	t.other.Add(l.other)
	t.renewed.Add(l.renewed)
}

// want is what every measured request of a row must get.
type want struct {
	status  int
	renewed bool
}

// check fails b unless each of the n measured requests got w.
func (t *tally) check(b *testing.B, n int64, w want) {
	b.Helper()
	got := map[int]int64{http.StatusOK: t.ok.Load(), http.StatusUnauthorized: t.unauthorized.Load()}
	if got[w.status] != n || t.other.Load() != 0 || t.ok.Load()+t.unauthorized.Load() != n {
		b.Fatalf("of %d requests: %d got 200, %d got 401, %d got another status; want all %d",
			n, t.ok.Load(), t.unauthorized.Load(), t.other.Load(), w.status)
	}
	wantRenewed := int64(0)
	if w.renewed {
		wantRenewed = n
	}
	if r := t.renewed.Load(); r != wantRenewed {
		b.Fatalf("of %d requests, %d got %s; want %d", n, r, middleware.HeaderNewToken, wantRenewed)
	}
}

// tokens hands out Authorization header values (or, with header set,
// values of that header): the same one every time, or each of a pre-minted
// list once.
type tokens struct {
	one    string
	list   []string
	next   atomic.Int64
	header string // default Authorization
	// copies are copies of one, taken in turn: a server reads each request
	// into a string of its own, so a request's token is never the very
	// string the verified-token cache keeps, whose comparison would then
	// stop at the pointer.
	copies []string
}

// cookies returns t's values as Cookie header values of the session
// cookie: "Bearer " cut, the default cookie name put in front.
func cookies(t *tokens) *tokens {
	c := &tokens{header: "Cookie"}
	conv := func(v string) string { return config.DefaultCookieName + "=" + strings.TrimPrefix(v, "Bearer ") }
	if t.list == nil {
		c.one = conv(t.one)
		return c
	}
	c.list = make([]string, len(t.list))
	for i, v := range t.list {
		c.list[i] = conv(v)
	}
	return c
}

func (t *tokens) take(l *local) string {
	if t.list == nil {
		if t.copies == nil {
			return t.one
		}
		l.n++
		return t.copies[l.n%len(t.copies)]
	}
	i := t.next.Add(1) - 1
	return t.list[i]
}

// serve measures b.N requests to e, serially or with b.RunParallel, each
// with the Authorization value src gives (none when src is nil), and checks
// after the timer that each got w.
func serve(b *testing.B, e http.Handler, src *tokens, parallel bool, w want) {
	b.Helper()
	var t tally
	one := func(req *http.Request, auth []string, s *sink, l *local) {
		if src != nil {
			auth[0] = src.take(l)
		}
		clear(s.h)
		s.code = 0
		e.ServeHTTP(s, req)
		l.record(s)
	}
	newReq := func() (*http.Request, []string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		auth := []string{""}
		if src != nil {
			name := echo.HeaderAuthorization
			if src.header != "" {
				name = src.header
			}
			req.Header[name] = auth
		}
		return req, auth
	}
	if src != nil && src.list == nil && src.copies == nil {
		for range 64 {
			src.copies = append(src.copies, strings.Clone(src.one))
		}
	}
	b.ReportAllocs()
	// Collect the garbage of the set-up (minting tokens allocates a lot)
	// now, so that the measured requests do not pay for it.
	runtime.GC()
	cpu0, cpuOK := cpuTime()
	if !parallel {
		req, auth := newReq()
		s := newSink()
		var l local
		b.ResetTimer()
		for range b.N {
			one(req, auth, s, &l)
		}
		b.StopTimer()
		t.add(&l)
	} else {
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			req, auth := newReq()
			s := newSink()
			var l local
			for pb.Next() {
				one(req, auth, s, &l)
			}
			t.add(&l)
		})
		b.StopTimer()
	}
	// The CPU time the process spent per request, GC included, on every
	// core: unlike ns/op, it barely moves when other processes compete for
	// the CPUs.
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
	t.check(b, int64(b.N), w)
}

// both runs fn as the row itself and as row/parallel.
func both(b *testing.B, name string, fn func(b *testing.B, parallel bool)) {
	b.Run(name, func(b *testing.B) { fn(b, false) })
	b.Run(name+"/parallel", func(b *testing.B) { fn(b, true) })
}

// renewStore is one backend of the renew/<store> rows. open returns the
// store and, when unit is set, a counter of the backend's work (commits,
// round trips), reported per request in unit.
type renewStore struct {
	name string
	unit string
	open func(b *testing.B) (store.Store, func() int64)
}

// renewStores lists the renew/<store> rows; stores_test.go adds the
// backends that need a file or a server.
var renewStores = []renewStore{
	{name: "memory", open: func(b *testing.B) (store.Store, func() int64) {
		return memory.New(nil), nil
	}},
	{name: "lru", open: func(b *testing.B) (store.Store, func() int64) {
		st, err := lru.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		return st, nil
	}},
}

func BenchmarkRequest(b *testing.B) {
	both(b, "bare", func(b *testing.B, parallel bool) {
		serve(b, newEcho(nil), nil, parallel, want{status: http.StatusOK})
	})

	// context-set: a middleware that only stores two values in the Echo
	// context, as the middleware stores the token and its claims: Echo
	// allocates the context's map, and this is the floor of check.
	both(b, "context-set", func(b *testing.B, parallel bool) {
		tok := &jwt.Token{}
		mw := func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.Set(middleware.DefaultContextKey, tok)
				c.Set(middleware.ClaimsContextKey, tok)
				return next(c)
			}
		}
		serve(b, newEcho(mw), nil, parallel, want{status: http.StatusOK})
	})

	both(b, "echojwt", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{})
		e := newEcho(echojwt.WithConfig(echojwt.Config{SigningKey: []byte(secret)}))
		src := &tokens{one: "Bearer " + a.token(b, 0)}
		serve(b, e, src, parallel, want{status: http.StatusOK})
	})

	// echojwt-cold: echo-jwt with the pre-minted, distinct tokens of
	// check-cold, so that the two compare the same memory traffic.
	both(b, "echojwt-cold", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{})
		e := newEcho(echojwt.WithConfig(echojwt.Config{SigningKey: []byte(secret)}))
		src := &tokens{list: a.bearers(b, b.N, 0)}
		serve(b, e, src, parallel, want{status: http.StatusOK})
	})

	both(b, "check", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{})
		src := &tokens{one: "Bearer " + a.token(b, 0)}
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
		mustBeCached(b, a.e, src.one, checkAllocs)
	})

	// check-revocation: check with a revocation list holding 10 000
	// revoked sessions (none of them this token's): the request path reads
	// the in-process copy, no I/O.
	both(b, "check-revocation", func(b *testing.B, parallel bool) {
		list := revokedList(b, 10_000)
		a := newApp(b, memory.New(nil), middleware.Config{Revocations: list})
		src := &tokens{one: "Bearer " + a.token(b, 0)}
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
		mustBeCached(b, a.e, src.one, checkAllocs)
	})

	// check-typed: an app that reads claims through ClaimsFrom only, so the
	// middleware puts no *jwt.Token (and no copy of the claims map) in the
	// context.
	both(b, "check-typed", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{TypedClaimsOnly: true})
		src := &tokens{one: "Bearer " + a.token(b, 0)}
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
		mustBeCached(b, a.e, src.one, typedAllocs)
	})

	// nethttp/check and nethttp/check-typed: the same token through the
	// net/http door behind http.ServeMux instead of Echo.
	for _, typed := range []bool{false, true} {
		name := "nethttp/check"
		if typed {
			name += "-typed"
		}
		both(b, name, func(b *testing.B, parallel bool) {
			a := newApp(b, memory.New(nil), middleware.Config{})
			h := newMux(b, nethttp.Config{Settings: settings(), Store: memory.New(nil), Keys: a.issuer.Keys(), TypedClaimsOnly: typed})
			src := &tokens{one: "Bearer " + a.token(b, 0)}
			serve(b, h, src, parallel, want{status: http.StatusOK})
		})
	}

	// check-uncached and check-uncached-typed: check and check-typed with
	// the verified-token cache off, so that every request pays a first
	// sight (what a cache miss costs), without check-cold's b.N distinct
	// tokens held in memory: compare with echojwt.
	for _, typed := range []bool{false, true} {
		name := "check-uncached"
		if typed {
			name += "-typed"
		}
		both(b, name, func(b *testing.B, parallel bool) {
			a := newApp(b, memory.New(nil), middleware.Config{VerifiedCacheSize: -1, TypedClaimsOnly: typed})
			src := &tokens{one: "Bearer " + a.token(b, 0)}
			serve(b, a.e, src, parallel, want{status: http.StatusOK})
		})
	}

	both(b, "check-cold", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{})
		src := &tokens{list: a.bearers(b, b.N, 0)}
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
	})

	// check-cold-typed: check-cold with TypedClaimsOnly: no claims map is
	// made for a request whose handler does not ask for one.
	both(b, "check-cold-typed", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{TypedClaimsOnly: true})
		src := &tokens{list: a.bearers(b, b.N, 0)}
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
	})

	both(b, "invalid", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), middleware.Config{})
		tok := a.token(b, 0)
		// Flip a bit of the signature's first character: the token still
		// decodes, its signature does not match.
		bad := []byte(tok)
		sig := strings.LastIndexByte(tok, '.') + 1
		if bad[sig] == 'A' {
			bad[sig] = 'B'
		} else {
			bad[sig] = 'A'
		}
		src := &tokens{one: "Bearer " + string(bad)}
		serve(b, a.e, src, parallel, want{status: http.StatusUnauthorized})
	})

	// ratelimited: the first request renews the session; every measured
	// one after it, within the hour-long interval, is refused. This
	// instance renewed the session with this very token, so it refuses
	// without asking the store.
	both(b, "ratelimited", func(b *testing.B, parallel bool) {
		st := &probeStore{Store: memory.New(nil)}
		a := newApp(b, st, middleware.Config{})
		src := &tokens{one: "Bearer " + a.token(b, dueAge)}
		renewOnce(b, a.e, src.one)
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
		if got := st.probe(b, a.e, src.one); got != 0 {
			b.Fatalf("a request of the row asked the store %d times, want 0: it is not refused locally", got)
		}
		mustBeCached(b, a.e, src.one, checkAllocs)
	})

	// ratelimited-store: the same, but another instance sharing the store
	// renewed the session, so the store is asked, and refuses, every time.
	both(b, "ratelimited-store", func(b *testing.B, parallel bool) {
		st := memory.New(nil)
		other := newApp(b, st, middleware.Config{})
		asked := &probeStore{Store: st}
		a := newApp(b, asked, middleware.Config{})
		src := &tokens{one: "Bearer " + a.token(b, dueAge)}
		renewOnce(b, other.e, src.one)
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
		if got := asked.probe(b, a.e, src.one); got != 1 {
			b.Fatalf("a request of the row asked the store %d times, want 1", got)
		}
	})

	// cookie/check and cookie/renew/memory: check and renew/memory with
	// TOKEN_DELIVERY=cookie, the token in the session cookie, renewed by
	// Set-Cookie (with X-Session-Expires); a plain response carries no
	// X-Session-Expires, as the page asks for it only now and then.
	cookieMode := middleware.Config{Settings: config.Settings{Delivery: config.DeliveryCookie}}
	both(b, "cookie/check", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), cookieMode)
		src := cookies(&tokens{one: "Bearer " + a.token(b, 0)})
		serve(b, a.e, src, parallel, want{status: http.StatusOK})
	})
	both(b, "cookie/renew/memory", func(b *testing.B, parallel bool) {
		a := newApp(b, memory.New(nil), cookieMode)
		src := cookies(&tokens{list: a.bearers(b, b.N, dueAge)})
		serve(b, a.e, src, parallel, want{status: http.StatusOK, renewed: true})
	})

	for _, rs := range renewStores {
		both(b, "renew/"+rs.name, func(b *testing.B, parallel bool) {
			opened, count := rs.open(b)
			st := &errStore{Store: opened}
			b.Cleanup(func() {
				_ = st.Close()
				if err := st.first.Load(); err != nil {
					b.Logf("first store error: %v", *err)
				}
			})
			a := newApp(b, st, middleware.Config{})
			src := &tokens{list: a.bearers(b, b.N, dueAge)}
			var before int64
			if count != nil {
				before = count()
			}
			serve(b, a.e, src, parallel, want{status: http.StatusOK, renewed: true})
			if count != nil {
				b.ReportMetric(float64(count()-before)/float64(b.N), rs.unit)
			}
		})
	}
}

// probeStore counts the Allow calls it passes on, only while probe runs:
// the measured requests pay for one atomic load, not for a counter that
// parallel goroutines would fight over.
type probeStore struct {
	store.Store
	on    atomic.Bool
	calls atomic.Int64
}

func (s *probeStore) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	if s.on.Load() {
		s.calls.Add(1)
	}
	return s.Store.Allow(ctx, key, now, interval)
}

// probe sends one more request like the row's, after the timer, and
// returns how many times it asked the store.
func (s *probeStore) probe(b *testing.B, e *echo.Echo, auth string) int64 {
	b.Helper()
	s.calls.Store(0)
	s.on.Store(true)
	defer s.on.Store(false)
	sn := newSink()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set(echo.HeaderAuthorization, auth)
	e.ServeHTTP(sn, req)
	if sn.code != http.StatusOK {
		b.Fatalf("probe request: status %d, want 200", sn.code)
	}
	return s.calls.Load()
}

// The most allocations a request served from the cache of verified tokens
// makes (a full verification makes about forty): Echo's context map, and
// the request's own token and claims (checkAllocs: the *jwt.Token, its
// header map, signature and claims map with its nested object, the typed
// Claims) or the typed claims alone (typedAllocs).
const (
	checkAllocs = 12
	typedAllocs = 4
)

// mustBeCached fails b unless a request with the Authorization value auth
// is served from the cache of verified tokens: with no more than max
// allocations.
func mustBeCached(b *testing.B, e *echo.Echo, auth string, max float64) {
	b.Helper()
	s := newSink()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set(echo.HeaderAuthorization, auth)
	allocs := testing.AllocsPerRun(100, func() {
		clear(s.h)
		s.code = 0
		e.ServeHTTP(s, req)
	})
	if allocs > max {
		b.Fatalf("%v allocations a request, more than the %v a cache hit makes: the row does not measure the cache of verified tokens", allocs, max)
	}
}

// renewOnce sends one request with the Authorization value auth to e and
// fails b unless it is renewed.
func renewOnce(b *testing.B, e *echo.Echo, auth string) {
	b.Helper()
	s := newSink()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set(echo.HeaderAuthorization, auth)
	e.ServeHTTP(s, req)
	if s.code != http.StatusOK || s.h.Get(middleware.HeaderNewToken) == "" {
		b.Fatalf("renewing request: status %d, %s %q; want 200 and a token",
			s.code, middleware.HeaderNewToken, s.h.Get(middleware.HeaderNewToken))
	}
}

// errStore keeps the first error of the store it wraps, to say why a
// request was not renewed.
type errStore struct {
	store.Store
	first atomic.Pointer[error]
}

func (s *errStore) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	ok, err := s.Store.Allow(ctx, key, now, interval)
	if err != nil {
		s.first.CompareAndSwap(nil, &err)
	}
	return ok, err
}

// revokedList returns a revocation list, on a memory store closed with b,
// holding n revoked sessions of random identities.
func revokedList(b *testing.B, n int) *revocation.List {
	b.Helper()
	backend := memory.New(nil)
	list, err := revocation.New(context.Background(), revocation.Options{Backend: backend})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = list.Close()
		_ = backend.Close()
	})
	until := time.Now().Add(time.Hour)
	for i := range n {
		if err := list.RevokeSession(context.Background(), store.SessionRevocationKey(fmt.Sprint("revoked-", i)), until); err != nil {
			b.Fatal(err)
		}
	}
	if got := list.Len(); got != n {
		b.Fatalf("the list holds %d revocations, want %d", got, n)
	}
	return list
}
