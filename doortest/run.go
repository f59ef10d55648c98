package doortest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// scenario is one row of the table Run runs.
type scenario struct {
	name string
	run  func(t *testing.T, x target)
}

// scenarios is the table: LightRAG's renewal scenarios and the guarantees
// every door gives on top of them.
var scenarios = []scenario{
	{"Threshold", threshold},
	{"RenewedTokenClaims", renewedTokenClaims},
	{"GuestLifetime", guestLifetime},
	{"RateLimit", rateLimit},
	{"GuestsDoNotShareSlot", guestsDoNotShareSlot},
	{"SessionKeyedBySid", sessionKeyedBySid},
	{"OneRenewalUnderConcurrency", oneRenewalUnderConcurrency},
	{"FailedResponsesWriteNothing", failedResponsesWriteNothing},
	{"ResponseHeaders", responseHeaders},
	{"SkipPaths", skipPaths},
	{"BackgroundRequests", backgroundRequests},
	{"MountPrefix", mountPrefix},
	{"SessionCap", sessionCap},
	{"Unauthorized", unauthorized},
	{"StreamingResponseCarriesToken", streamingResponseCarriesToken},
	{"HandlerWithoutResponse", handlerWithoutResponse},
	{"UnprotectedRoute", unprotectedRoute},
	{"StoreErrorServesRequest", storeErrorServesRequest},
	{"EventSubjectSanitised", eventSubjectSanitised},
	{"Observer", observer},
	{"SignOut", signOut},
	{"SignOutInFlight", signOutInFlight},
	{"CookieRenewal", cookieRenewal},
	{"CookieExpires", cookieExpires},
	{"CookieBoth", cookieBoth},
	{"CookieCrossOrigin", cookieCrossOrigin},
	{"CookieUnauthorized", cookieUnauthorized},
	{"CookieTooLarge", cookieTooLarge},
	{"CookieSignIn", cookieSignIn},
}

// Run runs every scenario against door with every store backend of this
// module: memory, lru, bolt (a file in the test's temporary directory) and
// redis (a real redis-server, see below). Each pair is a parallel subtest
// of t named "<scenario>/<store>" (t.Run("Threshold") holds
// t.Run("redis"), ...), so that a door's test can run one scenario, or one
// store, with -run ('TestDoorScenarios/Threshold', 'TestDoorScenarios//bolt').
//
// Each scenario builds its own application or applications with door,
// each on its own clock (starting on 1 March 2026, 09:00 UTC, moved only
// by the scenario) and its own, empty store of the backend, wrapped to
// count its calls, and sends real HTTP requests through the returned
// handler: in process with httptest.NewRecorder, or over a real connection
// with httptest.NewServer for the concurrent and the streaming scenarios.
// The sign-out scenarios give the application a revocation.List whose
// backend is the same store.
//
// For redis, Run starts one redis-server (package internal/redistest)
// when the first application asks for it, shared by every redis subtest of
// this call and stopped when t ends; each application has key prefixes of
// its own (store/redis Options KeyPrefix and RevocationKeyPrefix), so none
// sees another's renewals or revocations. When redis-server is not on PATH
// the redis subtests are skipped with redistest's message, or fail when
// SLIDINGJWT_REQUIRE_TOOLS=1, as redistest.Start does.
//
// The settings are config.Default with an HS256 secret, users' tokens
// valid for 24 hours, guests' for 2 hours, and /api/status a renewal skip
// path; scenarios change them (renewal off, MaxSessionAge, MountPrefix)
// where they say so. Tokens are minted with token.Issuer.IssueAt, or
// signed with golang-jwt in LightRAG's format (sub, exp, role, metadata).
//
// Run checks the status, the X-New-Token header and the renewed token's
// claims (verified with golang-jwt), the Cache-Control, Vary,
// Access-Control-Expose-Headers and WWW-Authenticate headers, how often
// the store was asked, and the reasons reported to Setup.OnRenewal. The
// Cookie scenarios run with TOKEN_DELIVERY=cookie or both: the renewal in
// Set-Cookie and its attributes, X-Session-Expires (on sign-in, renewal
// and the requests that ask for it, and on no other), the cross-origin
// check of unsafe cookie requests, which 401s delete the cookie, the
// 4 096-byte cookie cap, and the door's sign-in helper (/signin).
// It is safe to call from several tests at once.
func Run(t *testing.T, door Door) {
	t.Helper()
	if door == nil {
		t.Fatal("doortest.Run: the Door is nil")
	}
	run(t, door, backends(t))
}

// run runs every scenario against door with each of backends.
func run(t *testing.T, door Door, backends []backend) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for _, b := range backends {
				t.Run(b.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, target{door: door, backend: b})
				})
			}
		})
	}
}

// threshold ports LightRAG's threshold scenarios: a token with less than
// half of its lifetime left renews; one with half or more, or any token
// while renewal is off, does not, and costs no store call.
func threshold(t *testing.T, x target) {
	tests := []struct {
		name    string
		elapsed time.Duration // since the 24 h user token was issued
		off     bool          // Settings.AutoRenew off
		want    string        // the reason reported, or renewed
	}{
		{"fresh token", time.Minute, false, string(engine.ReasonThreshold)},
		{"13h left", 11 * time.Hour, false, string(engine.ReasonThreshold)},
		{"exactly 12h left", 12 * time.Hour, false, string(engine.ReasonThreshold)},
		{"one second under 12h left", 12*time.Hour + time.Second, false, renewed},
		{"11h left", 13 * time.Hour, false, renewed},
		{"one second left", 24*time.Hour - time.Second, false, renewed},
		{"11h left, renewal off", 13 * time.Hour, true, string(engine.ReasonDisabled)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, x, func(s *Setup) { s.Settings.AutoRenew = !tt.off })
			tok := a.mint("alice", "user", 0)
			rec := a.at(tt.elapsed).get("/api/me", tok)
			wantStatus(t, rec, http.StatusOK)
			if got := strings.TrimSpace(rec.Body.String()); got != "alice" {
				t.Errorf("body = %q, want the sub claim %q", got, "alice")
			}
			want := tt.want == renewed
			if got := newToken(rec.Header()) != ""; got != want {
				t.Errorf("renewed = %v, want %v", got, want)
			}
			a.wantReasons(tt.want)
			var allows int64
			if want {
				allows = 1
			}
			a.wantAllows(allows)
		})
	}
}

// renewedTokenClaims: the renewed token verifies with the secret, is the
// raw JWT, keeps the claims (custom ones too) and the session, gets a new
// jti, iat = now and exp = now + the role's lifetime; it is accepted and
// not itself due. The old token keeps working without a second renewal.
func renewedTokenClaims(t *testing.T, x target) {
	a := newApp(t, x, nil)
	old := a.mint("alice", "user", 0)
	oldClaims := parse(t, old)
	rec := a.at(13*time.Hour).get("/api/me", old)
	wantStatus(t, rec, http.StatusOK)
	fresh := newToken(rec.Header())
	if fresh == "" {
		t.Fatalf("no %s header (events %q)", engine.HeaderNewToken, a.reasons())
	}
	if strings.HasPrefix(strings.ToLower(fresh), "bearer") {
		t.Errorf("%s = %q, want the raw JWT", engine.HeaderNewToken, fresh)
	}
	got := parse(t, fresh)
	now := start.Add(13 * time.Hour)
	checks := []struct {
		name      string
		got, want any
	}{
		{"sub", got["sub"], "alice"},
		{"role", got["role"], "user"},
		{"custom claim team", got["team"], "blue"},
		{"metadata", fmt.Sprint(got["metadata"]), "map[auth_mode:enabled]"},
		{"iat", unix(got, "iat"), now.Unix()},
		{"exp", unix(got, "exp"), now.Add(24 * time.Hour).Unix()},
		{"sid kept", got["sid"], oldClaims["sid"]},
		{"auth_time kept", unix(got, "auth_time"), start.Unix()},
		{"jti is new", got["jti"] != oldClaims["jti"] && got["jti"] != "" && got["jti"] != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	ev := a.lastEvent()
	evChecks := []struct {
		name      string
		got, want any
	}{
		{"Renewed", ev.Renewed, true},
		{"Subject", ev.Subject, "alice"},
		{"ExpiresAt", ev.ExpiresAt.Unix(), start.Add(24 * time.Hour).Unix()},
		{"NewExpiresAt", ev.NewExpiresAt.Unix(), now.Add(24 * time.Hour).Unix()},
		{"len(Session)", len(ev.Session), 32},
	}
	for _, c := range evChecks {
		if c.got != c.want {
			t.Errorf("event %s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// The renewed token is accepted, and is not due itself.
	rec = a.get("/api/me", fresh)
	wantStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != "alice" {
		t.Errorf("body with the renewed token = %q, want %q", got, "alice")
	}
	if newToken(rec.Header()) != "" {
		t.Error("the renewed token was renewed again at once")
	}
	// The old token still works until it expires, without a second
	// renewal of its session.
	rec = a.get("/api/me", old)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) != "" {
		t.Error("the old token got a second renewal within the interval")
	}
	a.wantReasons(renewed, string(engine.ReasonThreshold), string(engine.ReasonRateLimited))
}

// guestLifetime ports LightRAG's role scenarios: a token without iat is
// judged against its role's lifetime, and renewed with it; LightRAG's
// claims survive and the missing ones are added.
func guestLifetime(t *testing.T, x target) {
	a := newApp(t, x, nil) // users 24 h, guests 2 h
	threeHoursLeft := start.Add(3 * time.Hour)
	guest := a.lightrag("guest", "guest", threeHoursLeft)
	user := a.lightrag("alice", "user", threeHoursLeft)

	rec := a.get("/api/me", guest)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) != "" {
		t.Error("a guest token with 3h left of a 2h lifetime was renewed")
	}
	rec = a.get("/api/me", user)
	wantStatus(t, rec, http.StatusOK)
	fresh := newToken(rec.Header())
	if fresh == "" {
		t.Fatalf("a user token with 3h left of 24h was not renewed (events %q)", a.reasons())
	}
	got := parse(t, fresh)
	if gotExp, want := unix(got, "exp"), start.Add(24*time.Hour).Unix(); gotExp != want {
		t.Errorf("renewed user exp = %d, want now + 24h = %d", gotExp, want)
	}
	if fmt.Sprint(got["metadata"]) != "map[auth_mode:disabled]" || got["sid"] == nil || got["jti"] == nil || got["iat"] == nil {
		t.Errorf("renewed LightRAG token's claims = %v; want its metadata kept and sid, jti, iat added", got)
	}
	// Without iat, the session began at exp - the role's lifetime.
	if gotAuth, want := unix(got, "auth_time"), threeHoursLeft.Add(-24*time.Hour).Unix(); gotAuth != want {
		t.Errorf("derived auth_time = %d, want %d", gotAuth, want)
	}

	// A guest under its own threshold renews with the guest lifetime.
	rec = a.get("/api/me", a.lightrag("guest", "guest", start.Add(30*time.Minute)))
	wantStatus(t, rec, http.StatusOK)
	fresh = newToken(rec.Header())
	if fresh == "" {
		t.Fatalf("a guest token with 30m left of 2h was not renewed (events %q)", a.reasons())
	}
	if gotExp, want := unix(parse(t, fresh), "exp"), start.Add(2*time.Hour).Unix(); gotExp != want {
		t.Errorf("renewed guest exp = %d, want now + 2h = %d", gotExp, want)
	}
	a.wantReasons(string(engine.ReasonThreshold), renewed, renewed)
}

// rateLimit ports LightRAG's rate-limit scenarios: one renewal per session
// per minimum interval; other sessions are limited on their own.
func rateLimit(t *testing.T, x target) {
	a := newApp(t, x, nil)
	alice := a.mint("alice", "user", 0)
	bob := a.mint("bob", "user", 0)
	steps := []struct {
		name  string
		at    time.Duration
		tok   string
		renew bool
	}{
		{"alice's first renewal", 13 * time.Hour, alice, true},
		{"alice again 30s later", 13*time.Hour + 30*time.Second, alice, false},
		{"bob, another session", 13*time.Hour + 30*time.Second, bob, true},
		{"alice after the interval", 13*time.Hour + time.Minute, alice, true},
	}
	for _, s := range steps {
		rec := a.at(s.at).get("/api/me", s.tok)
		wantStatus(t, rec, http.StatusOK)
		if got := newToken(rec.Header()) != ""; got != s.renew {
			t.Errorf("%s: renewed = %v, want %v", s.name, got, s.renew)
		}
	}
	a.wantReasons(renewed, string(engine.ReasonRateLimited), renewed, renewed)
}

// guestsDoNotShareSlot: LightRAG keyed its limit by sub, so all guests
// (sub "guest") shared one slot; here each session has its own.
func guestsDoNotShareSlot(t *testing.T, x target) {
	a := newApp(t, x, nil)
	g1 := a.mint("guest", "guest", 0)
	g2 := a.mint("guest", "guest", 0)
	a.at(90 * time.Minute)
	for i, tok := range []string{g1, g2} {
		rec := a.get("/api/me", tok)
		wantStatus(t, rec, http.StatusOK)
		if newToken(rec.Header()) == "" {
			t.Errorf("guest %d was not renewed", i+1)
		}
	}
	a.wantReasons(renewed, renewed)
	a.wantAllows(2)
}

// sessionKeyedBySid: two tokens of one session (same sid, different jti,
// as a renewal and its predecessor) share one slot.
func sessionKeyedBySid(t *testing.T, x target) {
	a := newApp(t, x, nil)
	mint := func(jti string) string {
		return signMap(t, jwt.MapClaims{
			"sub": "alice", "sid": "session-1", "jti": jti,
			"iat": start.Unix(), "exp": start.Add(24 * time.Hour).Unix(),
		}, secret)
	}
	a.at(20 * time.Hour)
	if newToken(a.get("/api/me", mint("first")).Header()) == "" {
		t.Error("the session's first token was not renewed")
	}
	if newToken(a.get("/api/me", mint("second")).Header()) != "" {
		t.Error("a second token of the same session renewed within the interval")
	}
	a.wantReasons(renewed, string(engine.ReasonRateLimited))
}

// oneRenewalUnderConcurrency: 100 concurrent due requests of one session,
// over real connections and let into the door together, all succeed and
// exactly one carries a new token. With one token, the door may refuse the
// others before the store (it knows the token was just renewed); with a
// token of the session per request, only the store's atomic Allow can
// refuse them.
func oneRenewalUnderConcurrency(t *testing.T, x target) {
	const n = 100
	tests := []struct {
		name   string
		tokens func(a *app) []string
	}{
		{"one token", func(a *app) []string {
			return slices.Repeat([]string{a.mint("alice", "user", 0)}, n)
		}},
		{"a token of the session per request", func(a *app) []string {
			toks := make([]string, n)
			for i := range toks {
				toks[i] = signMap(a.t, jwt.MapClaims{
					"sub": "alice", "role": "user", "sid": "session-1", "jti": fmt.Sprint("token-", i),
					"iat": start.Unix(), "exp": start.Add(24 * time.Hour).Unix(),
				}, secret)
			}
			return toks
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, x, nil)
			toks := tt.tokens(a)
			a.at(20 * time.Hour)
			srv, client := a.serveTogether(n)
			reqs := make([]*http.Request, n)
			for i := range reqs {
				reqs[i] = a.request(srv.URL, "/api/me", toks[i])
			}
			var (
				ok    atomic.Int32
				mu    sync.Mutex
				fresh []string
				wg    sync.WaitGroup
			)
			for i, req := range reqs {
				wg.Go(func() {
					res, body, err := do(client, req)
					if err != nil {
						t.Errorf("request %d: %v", i, err)
						return
					}
					if res.StatusCode == http.StatusOK && strings.TrimSpace(body) == "alice" {
						ok.Add(1)
					}
					if nt := newToken(res.Header); nt != "" {
						mu.Lock()
						fresh = append(fresh, nt)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if ok.Load() != n || len(fresh) != 1 {
				t.Fatalf("%d of %d requests succeeded and %d carried a new token; want %d and 1", ok.Load(), n, len(fresh), n)
			}
			if got := parse(t, fresh[0]); got["sub"] != "alice" || got["sid"] != parse(t, toks[0])["sid"] {
				t.Errorf("renewed sub, sid = %v, %v; want alice and the session's sid", got["sub"], got["sid"])
			}
			counts := map[string]int{}
			for _, r := range a.reasons() {
				counts[r]++
			}
			if want := map[string]int{renewed: 1, string(engine.ReasonRateLimited): n - 1}; fmt.Sprint(counts) != fmt.Sprint(want) {
				t.Errorf("events = %v, want %v", counts, want)
			}
			if got := a.store.Allows(); got < 1 || got > n {
				t.Errorf("store Allow calls = %d, want 1 to %d", got, n)
			}
		})
	}
}

// failedResponsesWriteNothing: a response of 400 or more never asks the
// store, so it never spends the session's slot (LightRAG recorded the
// renewal before the handler ran); the next success still renews.
func failedResponsesWriteNothing(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("alice", "user", 0)
	a.at(20 * time.Hour)
	const forbidden = 50
	for range forbidden {
		rec := a.get("/api/forbidden", tok)
		wantStatus(t, rec, http.StatusForbidden)
		if newToken(rec.Header()) != "" {
			t.Fatal("a 403 response carried a new token")
		}
	}
	rec := a.get("/api/boom", tok)
	wantStatus(t, rec, http.StatusInternalServerError)
	if newToken(rec.Header()) != "" {
		t.Fatal("a 500 response carried a new token")
	}
	want := slices.Repeat([]string{string(engine.ReasonStatus)}, forbidden+1)
	a.wantReasons(want...)
	// An unknown route answers 404, whether or not the door's router runs
	// the middleware for it; if it does, the reason is the status.
	rec = a.get("/api/nowhere", tok)
	wantStatus(t, rec, http.StatusNotFound)
	if newToken(rec.Header()) != "" {
		t.Fatal("a 404 response carried a new token")
	}
	for _, r := range a.reasons() {
		if r != string(engine.ReasonStatus) {
			t.Fatalf("events = %q, want only %q", a.reasons(), engine.ReasonStatus)
		}
	}
	a.wantAllows(0)

	// The slot is still free.
	rec = a.get("/api/me", tok)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) == "" {
		t.Fatalf("no renewal after the failed responses (last event %+v)", a.lastEvent())
	}
	a.wantAllows(1)
}

// responseHeaders: a renewal's response is not stored by caches
// (Cache-Control: no-store, replacing a Cache-Control already on the
// response), varies by Authorization, and, for a cross-origin request
// (Origin sent), exposes X-New-Token to the page. A response without
// renewal gets none of these from the middleware, and keeps the
// Cache-Control it had.
func responseHeaders(t *testing.T, x target) {
	const (
		origin    = "https://app.example"
		cacheable = "public, max-age=3600"
	)
	a := newApp(t, x, nil)
	// A layer in front of the door that marks every response cacheable
	// before the door and its handler run.
	cached := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", cacheable)
		a.handler.ServeHTTP(w, r)
	})
	alice := a.mint("alice", "user", 0)
	bob := a.mint("bob", "user", 0)
	dave := a.mint("dave", "user", 0)
	carol := a.mint("carol", "user", 20*time.Hour) // issued now: not due
	a.at(20 * time.Hour)
	tests := []struct {
		name, tok, origin       string
		cached                  bool // served through cached
		renew                   bool
		cacheControl, vary, exp string
	}{
		{"renewed, cross-origin", alice, origin, false, true, "no-store", "Authorization", engine.HeaderNewToken},
		{"renewed, same-origin", bob, "", false, true, "no-store", "Authorization", ""},
		{"not due, cross-origin", carol, origin, false, false, "", "", ""},
		{"renewed, cross-origin, marked cacheable", dave, origin, true, true, "no-store", "Authorization", engine.HeaderNewToken},
		{"not due, cross-origin, marked cacheable", carol, origin, true, false, cacheable, "", ""},
	}
	for _, tt := range tests {
		var header []string
		if tt.origin != "" {
			header = []string{"Origin", tt.origin}
		}
		h := a.handler
		if tt.cached {
			h = cached
		}
		rec := a.getThrough(h, "/api/me", tt.tok, header...)
		wantStatus(t, rec, http.StatusOK)
		hdr := rec.Header()
		if got := newToken(hdr) != ""; got != tt.renew {
			t.Errorf("%s: renewed = %v, want %v", tt.name, got, tt.renew)
		}
		checks := []struct{ name, got, want string }{
			{"Cache-Control", strings.Join(hdr.Values("Cache-Control"), ", "), tt.cacheControl},
			{"Vary", strings.Join(hdr.Values("Vary"), ", "), tt.vary},
			{"Access-Control-Expose-Headers", strings.Join(hdr.Values("Access-Control-Expose-Headers"), ", "), tt.exp},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s = %q, want %q", tt.name, c.name, c.got, c.want)
			}
		}
	}
	a.wantReasons(renewed, renewed, string(engine.ReasonThreshold), renewed, string(engine.ReasonThreshold))
}

// skipPaths: a renewal skip path, and any path below it at a "/", is
// authenticated but never renewed, and costs no store call; a path that
// only starts with the same letters is not skipped.
func skipPaths(t *testing.T, x target) {
	tests := []struct {
		path  string
		renew bool
	}{
		{"/api/status", false},
		{"/api/status/deep", false},
		{"/api/statusx", true},
		{"/api/me", true},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, x, nil)
			tok := a.mint("alice", "user", 0)
			rec := a.at(20*time.Hour).get(tt.path, tok)
			wantStatus(t, rec, http.StatusOK)
			if got := newToken(rec.Header()) != ""; got != tt.renew {
				t.Errorf("renewed = %v, want %v", got, tt.renew)
			}
			if tt.renew {
				a.wantReasons(renewed)
				a.wantAllows(1)
			} else {
				a.wantReasons(string(engine.ReasonSkippedPath))
				a.wantAllows(0)
			}
			// A skip path is still authenticated.
			rec = a.get(tt.path, "")
			wantStatus(t, rec, http.StatusUnauthorized)
			if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate without a token = %q, want %q", got, "Bearer")
			}
		})
	}
}

// backgroundRequests: a due request that says it is the client's own
// (engine.HeaderBackground, as a poll sends it) is served and never
// renewed, and asks the store nothing; without the header, or with an
// empty value, the same token renews. A background request is still
// authenticated.
func backgroundRequests(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("alice", "user", 0)
	a.at(20 * time.Hour)
	rec := a.get("/api/me", tok, engine.HeaderBackground, "1")
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) != "" {
		t.Error("a background request was renewed")
	}
	a.wantReasons(string(engine.ReasonBackground))
	a.wantAllows(0)
	wantStatus(t, a.get("/api/me", "", engine.HeaderBackground, "1"), http.StatusUnauthorized)
	rec = a.get("/api/me", tok, engine.HeaderBackground, "")
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) == "" {
		t.Error("a request with an empty background header was not renewed")
	}
	a.wantAllows(1)
}

// mountPrefix: with MountPrefix "/rag" the routes are served under
// /rag/api/..., and /rag/api/status is still the skip path /api/status.
func mountPrefix(t *testing.T, x target) {
	const prefix = "/rag"
	mount := func(s *Setup) { s.MountPrefix = prefix }
	tests := []struct {
		path   string
		status int
		renew  string // the reason reported, renewed, or "" for none
	}{
		{prefix + "/api/status", http.StatusOK, string(engine.ReasonSkippedPath)},
		{prefix + "/api/status/deep", http.StatusOK, string(engine.ReasonSkippedPath)},
		{prefix + "/api/statusx", http.StatusOK, renewed},
		{prefix + "/api/me", http.StatusOK, renewed},
		{"/api/me", http.StatusNotFound, ""}, // not served outside the prefix
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			t.Parallel()
			a := newApp(t, x, mount)
			tok := a.mint("alice", "user", 0)
			rec := a.at(20*time.Hour).get(tt.path, tok)
			wantStatus(t, rec, tt.status)
			if got, want := newToken(rec.Header()) != "", tt.renew == renewed; got != want {
				t.Errorf("renewed = %v, want %v", got, want)
			}
			if tt.renew == "" {
				a.wantReasons()
			} else {
				a.wantReasons(tt.renew)
			}
			if tt.path == prefix+"/api/me" {
				if got := strings.TrimSpace(rec.Body.String()); got != "alice" {
					t.Errorf("body = %q, want %q", got, "alice")
				}
			}
		})
	}
}

// sessionCap: with MaxSessionAge, a renewal never reaches past auth_time +
// MaxSessionAge; a session at its cap is not renewed, and its token
// expires there.
func sessionCap(t *testing.T, x target) {
	a := newApp(t, x, func(s *Setup) { s.Settings.MaxSessionAge = 30 * time.Hour })
	tok := a.mint("alice", "user", 0)
	rec := a.at(13*time.Hour).get("/api/me", tok)
	wantStatus(t, rec, http.StatusOK)
	fresh := newToken(rec.Header())
	if fresh == "" {
		t.Fatalf("first renewal missing (events %q)", a.reasons())
	}
	if got, want := unix(parse(t, fresh), "exp"), start.Add(30*time.Hour).Unix(); got != want {
		t.Fatalf("capped exp = %d, want auth_time + 30h = %d", got, want)
	}
	rec = a.at(29*time.Hour).get("/api/me", fresh)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) != "" {
		t.Fatal("a session at its cap was renewed")
	}
	a.wantReasons(renewed, string(engine.ReasonSessionCap))
	rec = a.at(30*time.Hour+time.Second).get("/api/me", fresh)
	wantStatus(t, rec, http.StatusUnauthorized)
	if got, want := rec.Header().Get("WWW-Authenticate"), `Bearer error="invalid_token"`; got != want {
		t.Errorf("WWW-Authenticate past the cap = %q, want %q", got, want)
	}
	a.wantAllows(1)
}

// unauthorized: a request without a usable token gets 401 with
// WWW-Authenticate (Bearer when there was none, Bearer
// error="invalid_token" when it did not verify) and a JSON message, never
// a new token, never a store call, never an event.
func unauthorized(t *testing.T, x target) {
	a := newApp(t, x, nil)
	good := a.mint("alice", "user", 0)
	forged := signMap(t, jwt.MapClaims{"sub": "alice", "exp": start.Add(time.Hour).Unix()}, "another-secret-0123456789abcdef-0123456789")
	tests := []struct {
		name, header, wantAuth string
		at                     time.Duration
	}{
		{"no header", "", "Bearer", 0},
		{"basic auth", "Basic YWxpY2U6cGFzcw==", "Bearer", 0},
		{"garbage", "Bearer not.a.jwt", `Bearer error="invalid_token"`, 0},
		{"forged", "Bearer " + forged, `Bearer error="invalid_token"`, 0},
		{"expired", "Bearer " + good, `Bearer error="invalid_token"`, 25 * time.Hour},
		{"too large", "Bearer " + strings.Repeat("a", 9000), `Bearer error="invalid_token"`, 0},
	}
	for _, tt := range tests {
		// One app, one clock: the cases run in order.
		t.Run(tt.name, func(t *testing.T) {
			a.at(tt.at)
			var header []string
			if tt.header != "" {
				header = []string{"Authorization", tt.header}
			}
			rec := a.get("/api/me", "", header...)
			wantStatus(t, rec, http.StatusUnauthorized)
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantAuth)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["message"] == "" {
				t.Errorf("body %q is not a JSON message (%v)", rec.Body.String(), err)
			}
			if newToken(rec.Header()) != "" {
				t.Error("a rejected request carried a new token")
			}
		})
	}
	a.wantAllows(0)
	a.wantReasons()
}

// streamingResponseCarriesToken: a handler that writes the status, then
// flushes chunk after chunk over a real connection, still gets the new
// token: the renewal is decided before the headers leave.
func streamingResponseCarriesToken(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("alice", "user", 0)
	a.at(20 * time.Hour)
	srv, client := a.serve(1)
	res, body, err := do(client, a.request(srv.URL, "/api/stream", tok))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", res.StatusCode, body)
	}
	fresh := newToken(res.Header)
	if fresh == "" {
		t.Fatalf("the streamed response carried no new token (events %q)", a.reasons())
	}
	if got := parse(t, fresh)["sub"]; got != "alice" {
		t.Errorf("renewed sub = %v, want alice", got)
	}
	// A response flushed before the handler returned has no length up
	// front: it is sent chunked, and arrives whole.
	if !slices.Equal(res.TransferEncoding, []string{"chunked"}) {
		t.Errorf("Transfer-Encoding = %q, want a chunked stream", res.TransferEncoding)
	}
	if want := "chunk 0\nchunk 1\nchunk 2\n"; body != want {
		t.Errorf("body = %q, want every chunk: %q", body, want)
	}
	a.wantReasons(renewed)
	a.wantAllows(1)
}

// handlerWithoutResponse: a handler that writes nothing sends 200, and is
// renewed like any other success.
func handlerWithoutResponse(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("alice", "user", 0)
	rec := a.at(20*time.Hour).get("/api/silent", tok)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) == "" {
		t.Fatalf("a handler that wrote nothing got no renewal (events %q)", a.reasons())
	}
	if rec.Body.Len() != 0 {
		t.Errorf("body = %q, want none", rec.Body.String())
	}
	a.wantReasons(renewed)
	a.wantAllows(1)
}

// unprotectedRoute: a route outside the middleware answers without a
// token, and never renews one that is sent.
func unprotectedRoute(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("alice", "user", 0)
	a.at(20 * time.Hour)
	for _, tk := range []string{"", tok} {
		rec := a.get("/health", tk)
		wantStatus(t, rec, http.StatusOK)
		if got := strings.TrimSpace(rec.Body.String()); got != "ok" {
			t.Errorf("body = %q, want %q", got, "ok")
		}
		if newToken(rec.Header()) != "" {
			t.Error("a route without the middleware sent a new token")
		}
	}
	a.wantReasons()
	a.wantAllows(0)
}

// storeErrorServesRequest: when the store fails, the request is served
// without renewal and the event carries the store's error.
func storeErrorServesRequest(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("alice", "user", 0)
	if err := a.store.Close(); err != nil { // every call now fails with store.ErrClosed
		t.Fatal(err)
	}
	rec := a.at(20*time.Hour).get("/api/me", tok)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) != "" {
		t.Fatal("renewed although the store failed")
	}
	a.wantReasons(string(engine.ReasonStoreError))
	if ev := a.lastEvent(); !errors.Is(ev.Err, store.ErrClosed) {
		t.Errorf("event error = %v, want store.ErrClosed", ev.Err)
	}
}

// eventSubjectSanitised: an event's Subject is safe to log (no line
// breaks), and its Session is a digest, not a claim.
func eventSubjectSanitised(t *testing.T, x target) {
	a := newApp(t, x, nil)
	tok := a.mint("mallory\r\nlevel=INFO msg=\"admin logged in\"", "user", 0)
	rec := a.at(20*time.Hour).get("/api/me", tok)
	wantStatus(t, rec, http.StatusOK)
	ev := a.lastEvent()
	if !ev.Renewed {
		t.Fatalf("event = %+v, want a renewal", ev)
	}
	if strings.ContainsAny(ev.Subject, "\r\n") {
		t.Errorf("event Subject %q holds a line break", ev.Subject)
	}
	if len(ev.Session) != 32 || strings.Contains(ev.Session, "mallory") {
		t.Errorf("event Session %q is not a 32-digit digest", ev.Session)
	}
}

// recorder is an engine.Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	outcomes []string
	renewals []string
	calls    []string
}

func (r *recorder) Request(_ *http.Request, o engine.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, string(o))
}

func (r *recorder) Renewal(_ *http.Request, ev engine.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Renewed {
		r.renewals = append(r.renewals, "renewed")
		return
	}
	r.renewals = append(r.renewals, string(ev.Reason))
}

func (r *recorder) StoreCall(_ *http.Request, c engine.StoreCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%s %s %v", c.Op, c.Backend, c.Err))
}

// observer: the door passes its Observer every request's outcome, every
// renewal decision and every store call, named by the store's backend
// (its Name: "memory", "lru", "bolt", "redis").
func observer(t *testing.T, x target) {
	rec := &recorder{}
	a := newApp(t, x, func(s *Setup) { s.Observer = rec })
	tok := a.mint("alice", "user", 0)
	wantStatus(t, a.get("/api/me", ""), http.StatusUnauthorized)
	wantStatus(t, a.get("/api/me", tok+"x"), http.StatusUnauthorized)
	wantStatus(t, a.get("/api/me", tok), http.StatusOK)
	wantStatus(t, a.get("/api/me", tok), http.StatusOK)
	wantStatus(t, a.at(20*time.Hour).get("/api/me", tok), http.StatusOK)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"outcomes", rec.outcomes, []string{"missing", "invalid", "verified", "cache_hit", "cache_hit"}},
		{"renewal decisions", rec.renewals, []string{"threshold", "threshold", "renewed"}},
		{"store calls", rec.calls, []string{"allow " + x.backend.name + " <nil>"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

// signOut: with a revocation list, a revoked session's tokens (the one
// presented and its renewal) get 401 saying the session has ended, on the
// next request, and are never renewed; another session of the subject is
// untouched until the subject is signed out everywhere, after which a new
// login works; a token with a longer lifetime than the settings allow is
// refused.
func signOut(t *testing.T, x target) {
	a, list := signOutApp(t, x, nil)
	so, err := revocation.NewSignOut(list, settings(), &revocation.SignOutOptions{Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	first := a.mint("alice", "user", 0)
	second := a.mint("alice", "user", time.Minute)
	a.at(20 * time.Hour)
	// The clock jumped: catch up now, as the list's own period would, or
	// its copy is stale and nothing renews.
	if err := list.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := a.get("/api/me", first)
	wantStatus(t, rec, http.StatusOK)
	renewed := newToken(rec.Header())
	if renewed == "" {
		t.Fatal("the due token was not renewed")
	}
	claims, err := verifier(t).Verify(first, a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := so.Session(context.Background(), claims.Claims()); err != nil {
		t.Fatalf("SignOut.Session: %v", err)
	}
	a.at(20*time.Hour + time.Second)
	for name, tok := range map[string]string{"the signed-out token": first, "its renewal": renewed} {
		rec := a.get("/api/me", tok)
		wantStatus(t, rec, http.StatusUnauthorized)
		if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q, want an invalid_token challenge", name, got)
		}
		if !strings.Contains(rec.Body.String(), engine.MessageSessionEnded) {
			t.Errorf("%s: body %q, want the session-ended message", name, rec.Body.String())
		}
		if newToken(rec.Header()) != "" {
			t.Errorf("%s was renewed", name)
		}
	}
	wantStatus(t, a.get("/api/me", second), http.StatusOK)

	// Everywhere: every session of alice before now; a later login works.
	if err := so.Subject(context.Background(), "alice", a.clock.Now()); err != nil {
		t.Fatalf("SignOut.Subject: %v", err)
	}
	wantStatus(t, a.get("/api/me", second), http.StatusUnauthorized)
	a.at(20*time.Hour + 3*time.Second)
	later := a.mint("alice", "user", 20*time.Hour+3*time.Second)
	wantStatus(t, a.get("/api/me", later), http.StatusOK)
	wantStatus(t, a.get("/api/me", a.mint("bob", "user", 0)), http.StatusOK)

	// A token minted elsewhere for longer than the settings allow.
	long := signMap(t, jwt.MapClaims{"sub": "carol", "iat": a.clock.Now().Unix(), "exp": a.clock.Now().Add(30 * 24 * time.Hour).Unix()}, secret)
	wantStatus(t, a.get("/api/me", long), http.StatusUnauthorized)

	// A stale copy (no sync for an hour of the list's clock) serves the
	// last known list but renews nothing.
	a.at(21 * time.Hour)
	rec = a.get("/api/me", a.mint("dave", "user", 0))
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) != "" {
		t.Error("a due token was renewed while the revocation list was stale")
	}
	if got := a.lastEvent().Reason; got != engine.ReasonRevocationsStale {
		t.Errorf("reason %q, want %q", got, engine.ReasonRevocationsStale)
	}
}

// signOutApp builds x's door's application with a revocation list whose
// backend is the application's store, closed when t ends (before the
// store); the list reads the app's clock. change, when set, adjusts the
// Setup further.
func signOutApp(t *testing.T, x target, change func(*Setup)) (*app, *revocation.List) {
	t.Helper()
	var list *revocation.List
	a := buildApp(t, x, func(a *app, s *Setup) {
		var err error
		// A catch-up period no test waits for: the list syncs when the
		// test says (Sync), so whether it is stale depends on the clock
		// alone.
		list, err = revocation.New(context.Background(), revocation.Options{
			Backend: revocationsOf(t, a.backend), Now: a.clock.Now,
			CatchUp: 30 * time.Minute, StaleAfter: 30 * time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = list.Close() })
		s.Revocations = list
		if change != nil {
			change(s)
		}
	})
	return a, list
}

// signOutInFlight: a due request whose handler ends its own session (a
// /logout) is answered 204 with no new token, and the store is not asked:
// the revocation check runs again where the renewal would be committed.
// The token is then refused. Another session's due token still renews.
func signOutInFlight(t *testing.T, x target) {
	var so *revocation.SignOut
	a, list := signOutApp(t, x, func(s *Setup) {
		s.SignOut = func(ctx context.Context, claims *token.Claims) error { return so.Session(ctx, claims) }
	})
	so, err := revocation.NewSignOut(list, settings(), &revocation.SignOutOptions{Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	leaving, staying := a.mint("alice", "user", 0), a.mint("bob", "user", 0)
	a.at(20 * time.Hour) // both due
	if err := list.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	req := a.request("http://example.test", "/api/logout", leaving)
	req.Method = http.MethodPost
	req.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	wantStatus(t, rec, http.StatusNoContent)
	if newToken(rec.Header()) != "" {
		t.Error("the request that signed its session out got a new token")
	}
	a.wantAllows(0)
	a.wantReasons(string(engine.ReasonRevoked))
	wantStatus(t, a.get("/api/me", leaving), http.StatusUnauthorized)
	rec = a.get("/api/me", staying)
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) == "" {
		t.Error("another session's due token was not renewed")
	}
}

// verifier returns a token.Verifier with Run's settings.
func verifier(t *testing.T) *token.Verifier {
	t.Helper()
	vf, err := token.NewVerifier(settings(), &token.VerifierOptions{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	return vf
}
