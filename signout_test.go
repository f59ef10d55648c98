package slidingjwt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/token"
)

// The tests in this file run sign-out end to end: each instance is a real
// HTTP server (an Echo app behind the middleware) with its own store client
// and its own revocation.List, and the instances of a test share one real
// backend: a redis-server started by the test with its append-only file on,
// or a bolt file. Tokens are minted and checked on an injected clock that
// only the test moves; only the propagation between instances runs on real
// time, and is polled for with a generous deadline, never timed.

const (
	// soPollEvery and soDeadline bound the polling for what crosses
	// processes (pub/sub, catch-up reads, reconnects). The deadline is
	// far above what any of it takes, so a slow machine does not fail.
	soPollEvery = 10 * time.Millisecond
	soDeadline  = 20 * time.Second

	// soChildEnv makes TestSignOutBoltChild serve an instance on the bolt
	// file it names, in a child process of TestRevocationsSurviveKill.
	soChildEnv = "SLIDINGJWT_SIGNOUT_BOLT_CHILD"
)

// soNow is what the injected clock reads while a test does not move it:
// an hour after the tokens' usual issue time, so they are valid and not
// yet due for renewal (the threshold is half of a 24-hour lifetime).
var soNow = start.Add(time.Hour)

// soBackend is what an instance needs of its backend: the renewal store
// and the revocation side.
type soBackend interface {
	store.Store
	store.Revoker
}

// soFeedOnly hides the pub/sub watch (and the batch writes) of a backend,
// so a List learns of other instances' revocations by its catch-up reads
// alone.
type soFeedOnly struct {
	store.RevocationFeed
}

// soFleet is the part one test's instances share: the settings, the
// clock, the issuer of the tokens and an HTTP client.
type soFleet struct {
	settings config.Settings
	clock    *testkit.Clock
	issuer   *token.Issuer
	verifier *token.Verifier
	client   *http.Client
}

func newSoFleet(t *testing.T) *soFleet {
	t.Helper()
	s := config.Default()
	s.Secret = testSecret
	s.UserLifetime = 24 * time.Hour
	s.GuestLifetime = 2 * time.Hour
	issuer, err := token.NewIssuer(s, nil)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	verifier, err := token.NewVerifier(s, &token.VerifierOptions{CacheSize: -1})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	return &soFleet{settings: s, clock: testkit.NewClock(soNow), issuer: issuer, verifier: verifier, client: client}
}

// mint issues a token for a new session of sub at at.
func (f *soFleet) mint(t *testing.T, sub string, at time.Time) string {
	t.Helper()
	tok, _, err := f.issuer.IssueAt(at, sub, "user", nil)
	if err != nil {
		t.Fatalf("IssueAt: %v", err)
	}
	return tok
}

// claims returns the verified claims of tok, as a /logout handler sees them.
func (f *soFleet) claims(t *testing.T, tok string) *token.Claims {
	t.Helper()
	v, err := f.verifier.Verify(tok, f.clock.Now())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v.Claims()
}

// soConfig configures one instance.
type soConfig struct {
	catchUp        time.Duration // Options.CatchUp; 0 is the default (1s)
	noWatch        bool          // hide the backend's pub/sub watch
	maxRevocations int           // Options.MaxRevocations; 0 is the default
	loadTimeout    time.Duration // bounds the first load; 0 means 10s
	// beforeRenew is the middleware's BeforeRenew hook; nil for none.
	beforeRenew func(echo.Context, jwt.MapClaims) error
}

// soInstance is one running instance of the application.
type soInstance struct {
	name    string
	url     string
	list    *revocation.List
	allows  *testkit.CountingStore
	bgErrs  atomic.Int64 // errors of the List's background work
	lastErr atomic.Value // the last of them, an error
}

// start runs an instance over backend: a List (loaded within
// cfg.loadTimeout, or not ready), a SignOut, and an HTTP server with
//
//	GET  /api/me          200 {"sub": ...}
//	POST /api/logout      revokes the caller's session: 204, or 503 when
//	                      the revocations are full, as the demo answers
//	POST /api/logout-all  revokes every session of the caller's subject
//	                      begun before now: 204 (503 when full; 403 for a
//	                      shared subject, such as a guest's)
//
// Everything is closed when the test ends; backend too.
func (f *soFleet) start(t *testing.T, name string, backend soBackend, cfg soConfig) *soInstance {
	t.Helper()
	t.Cleanup(func() { _ = backend.Close() })
	in := &soInstance{name: name, allows: &testkit.CountingStore{Store: backend}}
	var rev store.Revoker = backend
	if cfg.noWatch {
		feed, ok := backend.(store.RevocationFeed)
		if !ok {
			t.Fatalf("%s: the backend %T is not a store.RevocationFeed", name, backend)
		}
		rev = soFeedOnly{feed}
	}
	timeout := cfg.loadTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	list, err := revocation.New(ctx, revocation.Options{
		Backend:        rev,
		MaxRevocations: cfg.maxRevocations,
		CatchUp:        cfg.catchUp,
		Now:            f.clock.Now,
		OnError: func(err error) {
			in.bgErrs.Add(1)
			in.lastErr.Store(err)
		},
	})
	if err != nil {
		t.Fatalf("%s: revocation.New: %v", name, err)
	}
	t.Cleanup(func() { _ = list.Close() })
	in.list = list
	signOut, err := revocation.NewSignOut(list, f.settings, &revocation.SignOutOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatalf("%s: NewSignOut: %v", name, err)
	}
	mw, err := middleware.Config{
		Settings:    f.settings,
		Store:       in.allows,
		Revocations: list,
		Now:         f.clock.Now,
		BeforeRenew: cfg.beforeRenew,
	}.ToMiddleware()
	if err != nil {
		t.Fatalf("%s: ToMiddleware: %v", name, err)
	}
	e := echo.New()
	api := e.Group("/api", mw)
	api.GET("/me", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"sub": middleware.ClaimsFrom(c).Subject})
	})
	answer := func(c echo.Context, err error) error {
		switch {
		case err == nil:
			return c.NoContent(http.StatusNoContent)
		case errors.Is(err, store.ErrRevocationsFull):
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"message": "too many sessions are signed out right now: retry later"})
		}
		return err
	}
	api.POST("/logout", func(c echo.Context) error {
		return answer(c, signOut.Session(c.Request().Context(), middleware.ClaimsFrom(c)))
	})
	api.POST("/logout-all", func(c echo.Context) error {
		err := signOut.Everywhere(c.Request().Context(), middleware.ClaimsFrom(c))
		if errors.Is(err, revocation.ErrSharedSubject) {
			return c.JSON(http.StatusForbidden, map[string]string{"message": "this session's user is shared: sign out this session instead"})
		}
		return answer(c, err)
	})
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	in.url = hs.URL
	return in
}

// soResp is what a test reads of a response.
type soResp struct {
	code      int
	newToken  string
	challenge string // WWW-Authenticate
	body      string
}

func (r soResp) String() string {
	return fmt.Sprintf("%d %q (X-New-Token set: %v)", r.code, strings.TrimSpace(r.body), r.newToken != "")
}

// do sends method path with tok to in and returns the response.
func (f *soFleet) do(t *testing.T, in *soInstance, method, path, tok string) soResp {
	t.Helper()
	req, err := http.NewRequest(method, in.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
	res, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, in.name, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s on %s: read the body: %v", method, path, in.name, err)
	}
	return soResp{
		code:      res.StatusCode,
		newToken:  res.Header.Get(middleware.HeaderNewToken),
		challenge: res.Header.Get(echo.HeaderWWWAuthenticate),
		body:      string(body),
	}
}

func (f *soFleet) me(t *testing.T, in *soInstance, tok string) soResp {
	t.Helper()
	return f.do(t, in, http.MethodGet, "/api/me", tok)
}

// logout posts to path (/api/logout or /api/logout-all) with tok on in and
// wants 204.
func (f *soFleet) logout(t *testing.T, in *soInstance, path, tok string) {
	t.Helper()
	if r := f.do(t, in, http.MethodPost, path, tok); r.code != http.StatusNoContent {
		t.Fatalf("POST %s on %s: %v, want 204", path, in.name, r)
	}
}

// ended reports whether r is the answer to a revoked session's token: 401
// with an invalid_token challenge and the session-ended message, no renewal.
func ended(r soResp) bool {
	return r.code == http.StatusUnauthorized && r.newToken == "" &&
		strings.Contains(r.challenge, `error="invalid_token"`) &&
		strings.Contains(r.body, engine.MessageSessionEnded)
}

// wantEnded fails unless every token of toks gets the session-ended 401 on
// every instance of ins.
func (f *soFleet) wantEnded(t *testing.T, when string, toks map[string]string, ins ...*soInstance) {
	t.Helper()
	for _, in := range ins {
		for name, tok := range toks {
			if got := f.me(t, in, tok); !ended(got) {
				t.Errorf("%s: %s on %s: %v; want 401 with %q", when, name, in.name, got, engine.MessageSessionEnded)
			}
		}
	}
}

// wantOK fails unless every token of toks gets 200 on every instance of ins.
func (f *soFleet) wantOK(t *testing.T, when string, toks map[string]string, ins ...*soInstance) {
	t.Helper()
	for _, in := range ins {
		for name, tok := range toks {
			if got := f.me(t, in, tok); got.code != http.StatusOK {
				t.Errorf("%s: %s on %s: %v; want 200", when, name, in.name, got)
			}
		}
	}
}

// poll calls probe every soPollEvery until it reports true, and returns
// how long that took; it fails the test after soDeadline with probe's last
// word, or at once when probe reports a fatal error.
func poll(t *testing.T, what string, probe func() (done bool, last string, fatal error)) time.Duration {
	t.Helper()
	begin := time.Now()
	for {
		done, last, fatal := probe()
		if fatal != nil {
			t.Fatalf("%s: %v", what, fatal)
		}
		if done {
			return time.Since(begin)
		}
		if time.Since(begin) > soDeadline {
			t.Fatalf("%s: not within %v; last answer: %s", what, soDeadline, last)
		}
		// Propagation crosses processes on real time: there is no clock
		// to move, so wait a little and ask again.
		time.Sleep(soPollEvery)
	}
}

// pollEnded polls until every token of toks gets the session-ended 401 on
// in, and returns how long that took. A 200 while waiting is allowed: the
// instance has not learned the revocation yet.
func (f *soFleet) pollEnded(t *testing.T, in *soInstance, toks map[string]string) time.Duration {
	t.Helper()
	return poll(t, "revoked tokens refused on "+in.name, func() (bool, string, error) {
		for name, tok := range toks {
			if r := f.me(t, in, tok); !ended(r) {
				return false, name + ": " + r.String(), nil
			}
		}
		return true, "", nil
	})
}

// soRedis starts a redis-server with the append-only file on (fsync on
// every write), as docs/sign-out.md asks for.
func soRedis(t *testing.T) *redistest.Server {
	t.Helper()
	return redistest.Start(t, redistest.AppendOnly())
}

// openSoRedis opens a store with its own client on srv. The timeout is
// generous for the race detector on a busy machine; a stopped server
// refuses connections at once all the same.
func openSoRedis(t *testing.T, srv *redistest.Server, maxRevocations int) *redis.Store {
	t.Helper()
	st, err := redis.Open(srv.URL(), &redis.Options{Timeout: 5 * time.Second, MaxRevocations: maxRevocations})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// syncNow makes in catch up with the backend at once, retrying while the
// client reconnects, so the test knows in has read the backend as it is
// now.
func syncNow(t *testing.T, in *soInstance) {
	t.Helper()
	poll(t, in.name+" catches up", func() (bool, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := in.list.Sync(ctx); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
}

// TestSignOutPropagates: a session signed out on instance A is refused by
// instance B, which learns of it through Redis, by pub/sub or else by its
// catch-up read; the session's token worked on both before, and another
// session of the same user keeps working.
func TestSignOutPropagates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  soConfig
	}{
		// A catch-up period no test waits for: B hears of it by pub/sub.
		{"pub/sub", soConfig{catchUp: time.Hour}},
		// No watch and the default period: B reads it within about 1s.
		{"catch-up only", soConfig{noWatch: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := soRedis(t)
			f := newSoFleet(t)
			a := f.start(t, "A", openSoRedis(t, srv, 0), tc.cfg)
			b := f.start(t, "B", openSoRedis(t, srv, 0), tc.cfg)
			revoked := map[string]string{"the signed-out token": f.mint(t, "alice", start)}
			other := map[string]string{"another session of alice": f.mint(t, "alice", start.Add(time.Minute))}
			f.wantOK(t, "before the sign-out", revoked, a, b)

			f.logout(t, a, "/api/logout", revoked["the signed-out token"])
			f.wantEnded(t, "on the instance that signed out, at once", revoked, a)
			delay := f.pollEnded(t, b, revoked)
			t.Logf("%s: B refused the token %v after A's /logout returned (polling every %v)", tc.name, delay, soPollEvery)
			f.wantOK(t, "after the sign-out", other, a, b)
			if n := b.bgErrs.Load(); n > 0 {
				t.Errorf("B's list reported %d background errors, the last %v", n, b.lastErr.Load())
			}
		})
	}
}

// TestSignOutEverywhere: "log out everywhere" on A refuses, on A and B,
// every token of the subject issued before the cut-off; a token issued
// after it, and another subject's, still work.
func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	srv := soRedis(t)
	f := newSoFleet(t)
	a := f.start(t, "A", openSoRedis(t, srv, 0), soConfig{})
	b := f.start(t, "B", openSoRedis(t, srv, 0), soConfig{})
	before := map[string]string{
		"alice's first session":  f.mint(t, "alice", start),
		"alice's second session": f.mint(t, "alice", start.Add(time.Minute)),
		"alice's latest session": f.mint(t, "alice", soNow.Add(-time.Second)),
	}
	bob := map[string]string{"bob's session": f.mint(t, "bob", start)}
	f.wantOK(t, "before", before, a, b)

	f.logout(t, a, "/api/logout-all", before["alice's second session"]) // cut-off: soNow
	f.wantEnded(t, "on A, at once", before, a)
	delay := f.pollEnded(t, b, before)
	t.Logf("B refused alice's %d sessions %v after A's /logout-all returned", len(before), delay)
	f.wantOK(t, "another subject", bob, a, b)

	// Signing in again after the cut-off works everywhere.
	f.clock.Set(soNow.Add(time.Second))
	after := map[string]string{"alice's session begun after the cut-off": f.mint(t, "alice", soNow.Add(time.Second))}
	f.wantOK(t, "after the cut-off", after, a, b)
	f.wantEnded(t, "after signing in again", before, a, b)
}

// TestRevocationsSurviveRedis: Redis loses its connections (a restart) or
// its data (FLUSHALL) after sessions were revoked. Nothing revoked comes
// back to life: not on A or B, which never forget what they have seen, nor
// on a third instance C started afterwards, which loads the revocations
// from Redis: kept by the append-only file across the restart, written
// back by A and B after the FLUSHALL.
func TestRevocationsSurviveRedis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// disrupt does it to Redis; between, when set, runs while Redis
		// is down.
		disrupt func(t *testing.T, srv *redistest.Server, between func())
		// kept: Redis still holds the revocations afterwards, so C must
		// refuse from its first answer; else C may serve a revoked token
		// until A or B has written it back.
		kept bool
	}{
		{"restart", func(t *testing.T, srv *redistest.Server, between func()) {
			srv.Stop()
			between()
			srv.Restart()
		}, true},
		{"flushall", func(t *testing.T, srv *redistest.Server, _ func()) {
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatalf("FLUSHALL: %v", err)
			}
			if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Fatalf("after FLUSHALL, DBSIZE = %d, %v; want 0", n, err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := soRedis(t)
			f := newSoFleet(t)
			cfg := soConfig{catchUp: 100 * time.Millisecond}
			a := f.start(t, "A", openSoRedis(t, srv, 0), cfg)
			b := f.start(t, "B", openSoRedis(t, srv, 0), cfg)
			revoked := map[string]string{
				"alice's signed-out session": f.mint(t, "alice", start),
				"bob's first session":        f.mint(t, "bob", start),
				"bob's second session":       f.mint(t, "bob", start.Add(time.Minute)),
			}
			kept := map[string]string{
				"alice's other session": f.mint(t, "alice", start.Add(time.Minute)),
				"carol's session":       f.mint(t, "carol", start),
			}
			f.logout(t, a, "/api/logout", revoked["alice's signed-out session"])
			f.logout(t, b, "/api/logout-all", revoked["bob's first session"])
			f.pollEnded(t, a, revoked)
			f.pollEnded(t, b, revoked)

			tc.disrupt(t, srv, func() {
				f.wantEnded(t, "while Redis is down", revoked, a, b)
				f.wantOK(t, "while Redis is down", kept, a, b)
			})
			f.wantEnded(t, "at once after "+tc.name, revoked, a, b)

			c := f.start(t, "C", openSoRedis(t, srv, 0), cfg)
			delay := poll(t, "C, started after "+tc.name+", refuses every revoked token", func() (bool, string, error) {
				for name, tok := range revoked {
					r := f.me(t, c, tok)
					switch {
					case ended(r):
						continue
					case r.code == http.StatusOK && tc.kept:
						return false, "", fmt.Errorf("%s came back to life on C: %v", name, r)
					case r.code != http.StatusOK && r.code != http.StatusServiceUnavailable:
						return false, "", fmt.Errorf("%s on C: %v; want 401 (or 503 while C loads)", name, r)
					}
					return false, name + ": " + r.String(), nil
				}
				return true, "", nil
			})
			t.Logf("C refused every revoked token %v after it started (after %s)", delay, tc.name)

			// A and B read Redis as it is now (the flushed one wrote back):
			// they still refuse, and so does C.
			syncNow(t, a)
			syncNow(t, b)
			f.wantEnded(t, "after A and B caught up", revoked, a, b, c)
			f.wantOK(t, "after A and B caught up", kept, a, b, c)
		})
	}
}

// TestRevocationsNotLoaded: an instance that starts while Redis is
// unreachable answers 503 to the requests that need the revocation check,
// good tokens and revoked ones alike, until it has loaded the list; then
// it answers 200 and 401 as appropriate, with no restart.
func TestRevocationsNotLoaded(t *testing.T) {
	t.Parallel()
	srv := soRedis(t)
	f := newSoFleet(t)
	a := f.start(t, "A", openSoRedis(t, srv, 0), soConfig{})
	revoked := map[string]string{"the signed-out token": f.mint(t, "alice", start)}
	good := map[string]string{"another session": f.mint(t, "alice", start.Add(time.Minute))}
	f.logout(t, a, "/api/logout", revoked["the signed-out token"])

	srv.Stop()
	c := f.start(t, "C", openSoRedis(t, srv, 0), soConfig{catchUp: 100 * time.Millisecond, loadTimeout: time.Second})
	for name, tok := range map[string]string{"a revoked token": revoked["the signed-out token"], "a good token": good["another session"]} {
		r := f.me(t, c, tok)
		if r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, engine.MessageNotReady) || r.newToken != "" {
			t.Errorf("%s on C before its list loaded: %v; want 503 with %q", name, r, engine.MessageNotReady)
		}
	}
	if c.list.Ready() {
		t.Fatal("C's list is ready with Redis down")
	}
	// A, which loaded before the outage, serves from its copy meanwhile.
	f.wantEnded(t, "on A while Redis is down", revoked, a)
	f.wantOK(t, "on A while Redis is down", good, a)

	srv.Restart()
	delay := poll(t, "C answers once Redis is back", func() (bool, string, error) {
		r := f.me(t, c, revoked["the signed-out token"])
		switch {
		case r.code == http.StatusServiceUnavailable:
			return false, r.String(), nil
		case !ended(r):
			return false, "", fmt.Errorf("the revoked token on C: %v; want 503 until loaded, then 401", r)
		}
		return true, "", nil
	})
	t.Logf("C loaded its list %v after Redis came back (%d failed loads reported before, the last: %v)", delay, c.bgErrs.Load(), c.lastErr.Load())
	f.wantOK(t, "on C once loaded", good, c)
}

// TestSignOutBoltChild is not a test: it is the child process of
// TestRevocationsSurviveKill, an instance on the bolt file soChildEnv
// names, and skips unless started by it. It prints its URL, then serves
// until killed.
func TestSignOutBoltChild(t *testing.T) {
	path := os.Getenv(soChildEnv)
	if path == "" {
		t.Skip("child process of TestRevocationsSurviveKill")
	}
	st, err := bolt.Open(path, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	in := newSoFleet(t).start(t, "child", st, soConfig{})
	fmt.Println(in.url)
	// Serve, holding the file, until killed (or the parent closes stdin).
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// TestRevocationsSurviveKill: an instance on a bolt file, in a child
// process, signs a session out over HTTP and is killed with SIGKILL (no
// Close, no deferred code); a new instance on the same file refuses the
// token, and accepts another session's.
func TestRevocationsSurviveKill(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sessions.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignOutBoltChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), soChildEnv+"="+path)
	stdin, err := cmd.StdinPipe() // never written: the child blocks reading it
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
		select {
		case <-waited:
		default:
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	var url string
	select {
	case url = <-lines:
	case <-time.After(soDeadline):
		t.Fatalf("the child printed nothing within %v", soDeadline)
	}
	if !strings.HasPrefix(url, "http://") {
		t.Fatalf("the child said %q, want its URL", url)
	}

	f := newSoFleet(t)
	child := &soInstance{name: "the child", url: url}
	revoked := map[string]string{"the signed-out token": f.mint(t, "alice", start)}
	good := map[string]string{"another session": f.mint(t, "alice", start.Add(time.Minute))}
	f.wantOK(t, "before the sign-out", revoked, child)
	f.logout(t, child, "/api/logout", revoked["the signed-out token"])
	f.wantEnded(t, "on the child", revoked, child)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	err = cmd.Wait()
	waited <- err
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the child exited with %v, want killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child exited with %v, want killed by SIGKILL", err)
	}

	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("reopen after the kill: %v", err)
	}
	again := f.start(t, "the new instance", st, soConfig{})
	f.wantEnded(t, "after kill -9 and reopen", revoked, again)
	f.wantOK(t, "after kill -9 and reopen", good, again)
}

// TestRevocationsCap: with the list's cap, the backend's or both at 3,
// three sessions are signed out; the fourth sign-out fails with
// store.ErrRevocationsFull (the app answers 503) and records nothing; the
// three stay refused, on this instance and on one started afterwards.
func TestRevocationsCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		listCap, backendCap int
	}{
		{"list cap", 3, 0},
		{"backend cap", 0, 3},
		{"both caps", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := soRedis(t)
			f := newSoFleet(t)
			a := f.start(t, "A", openSoRedis(t, srv, tc.backendCap), soConfig{maxRevocations: tc.listCap})
			revoked := map[string]string{}
			for i := range 3 {
				tok := f.mint(t, fmt.Sprintf("user%d", i), start)
				revoked[fmt.Sprintf("signed-out session %d", i)] = tok
				f.logout(t, a, "/api/logout", tok)
			}
			fourth := map[string]string{"the fourth session": f.mint(t, "user3", start)}
			if got := a.list.Len(); got != 3 {
				t.Errorf("Len = %d, want 3", got)
			}

			so := mustSignOut(t, f, a)
			err := so.Session(context.Background(), f.claims(t, fourth["the fourth session"]))
			if !errors.Is(err, store.ErrRevocationsFull) {
				t.Fatalf("the fourth SignOut.Session: %v; want an error wrapping store.ErrRevocationsFull", err)
			}
			t.Logf("the fourth sign-out: %v", err)
			if r := f.do(t, a, http.MethodPost, "/api/logout", fourth["the fourth session"]); r.code != http.StatusServiceUnavailable {
				t.Errorf("POST /api/logout for the fourth session: %v; want 503", r)
			}
			// Signing out a session already revoked needs no room.
			if err := so.Session(context.Background(), f.claims(t, revoked["signed-out session 0"])); err != nil {
				t.Errorf("signing out a revoked session again with the list full: %v; want nil", err)
			}

			f.wantEnded(t, "with the list full", revoked, a)
			f.wantOK(t, "the refused sign-out recorded nothing", fourth, a)
			if got := a.list.Len(); got != 3 {
				t.Errorf("Len = %d after the refused sign-out, want 3", got)
			}
			c := f.start(t, "C", openSoRedis(t, srv, tc.backendCap), soConfig{maxRevocations: tc.listCap})
			f.wantEnded(t, "on an instance started afterwards", revoked, c)
			f.wantOK(t, "on an instance started afterwards", fourth, c)
		})
	}
}

// mustSignOut returns a second SignOut over in's list, as another handler
// of the same instance would have.
func mustSignOut(t *testing.T, f *soFleet, in *soInstance) *revocation.SignOut {
	t.Helper()
	so, err := revocation.NewSignOut(in.list, f.settings, &revocation.SignOutOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return so
}

// TestSignOutNeverRenews: a token due for renewal whose session was signed
// out gets 401 with no X-New-Token, on the instance that signed it out and
// on another, and neither asks its store for the renewal; the session's
// earlier renewal is refused too, and a due token that signs itself out
// gets no renewal with its 204. Another session's due token renews.
func TestSignOutNeverRenews(t *testing.T) {
	t.Parallel()
	srv := soRedis(t)
	f := newSoFleet(t)
	a := f.start(t, "A", openSoRedis(t, srv, 0), soConfig{})
	b := f.start(t, "B", openSoRedis(t, srv, 0), soConfig{})
	due := f.mint(t, "alice", start)
	other := f.mint(t, "bob", start)
	leaving := f.mint(t, "carol", start)
	f.clock.Set(start.Add(20 * time.Hour)) // past the threshold: both are due
	syncNow(t, a)                          // the clock jumped: catch up, or the copies count as stale
	syncNow(t, b)

	// The control: a due token renews, through the store.
	r := f.me(t, a, due)
	if r.code != http.StatusOK || r.newToken == "" {
		t.Fatalf("a due token before the sign-out: %v; want 200 with a new token", r)
	}
	renewal := r.newToken
	if got := a.allows.Allows(); got != 1 {
		t.Fatalf("A's store was asked %d times for the renewal, want 1", got)
	}

	// Sign the session out with its renewal (not due: it is new).
	f.logout(t, a, "/api/logout", renewal)
	session := map[string]string{"the due token": due, "its renewal": renewal}
	f.wantEnded(t, "on A", session, a)
	// B learns of it by the renewal, which is not due, so polling asks
	// B's store nothing.
	f.pollEnded(t, b, map[string]string{"its renewal": renewal})
	f.wantEnded(t, "on B", session, b)
	if got := a.allows.Allows(); got != 1 {
		t.Errorf("A's store was asked %d times, want 1 (the control's renewal only)", got)
	}
	if got := b.allows.Allows(); got != 0 {
		t.Errorf("B's store was asked %d times for a revoked session, want 0", got)
	}

	// A due token that signs itself out is not renewed on its way out:
	// the renewal is decided after the handler ran.
	r = f.do(t, b, http.MethodPost, "/api/logout", leaving)
	if r.code != http.StatusNoContent || r.newToken != "" {
		t.Errorf("POST /api/logout with a due token on B: %v; want 204 without a new token", r)
	}
	if got := b.allows.Allows(); got != 0 {
		t.Errorf("B's store was asked %d times for a session signing out, want 0", got)
	}

	// Another session's due token still renews.
	if r := f.me(t, b, other); r.code != http.StatusOK || r.newToken == "" {
		t.Errorf("another session's due token on B: %v; want 200 with a new token", r)
	}
}
