package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive the real page in headless Chromium against the
// demo on loopback. Time is real, so tokens live only a few seconds:
// GUEST_TOKEN_EXPIRE_HOURS=0.002 is 7.2 s, renewal is due after half of
// that, and a session may renew once a second. Every wait is a poll for a
// condition, with a generous timeout for a busy machine.

const (
	// requireToolsEnv turns a missing chromium from a skip into a failure;
	// CI sets it (as for redis-server, see internal/redistest).
	requireToolsEnv = "SLIDINGJWT_REQUIRE_TOOLS"

	shortLifetimeHours = "0.002" // 7.2 s
	storageKey         = "slidingjwt.token"
	// waitLong bounds a wait that spans a token's whole life.
	waitLong = 25 * time.Second
	// waitShort bounds a wait for the page to react to one action.
	waitShort = 10 * time.Second
)

// shortEnv is the demo environment of the browser tests: guest mode with
// short lifetimes, plus extra.
func shortEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"GUEST_TOKEN_EXPIRE_HOURS":         shortLifetimeHours,
		"TOKEN_EXPIRE_HOURS":               shortLifetimeHours,
		"TOKEN_RENEW_THRESHOLD":            "0.5",
		"TOKEN_RENEW_MIN_INTERVAL_SECONDS": "1",
	}
	maps.Copy(env, extra)
	return env
}

// newBrowser starts one headless Chromium for the test and its subtests;
// each subtest opens its own tab (in its own window, so none is hidden).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		const msg = "chromium not found: install it with apt-get install chromium (make test does this on Debian)"
		if os.Getenv(requireToolsEnv) != "" {
			t.Fatalf("%s; %s is set, so this is a failure", msg, requireToolsEnv)
		}
		t.Skip(msg)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Several tabs run at once: keep the timers of every one on time.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1000, 900),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium keeps its singleton socket in a directory under TMPDIR
		// that a killed browser leaves behind: put it where the test
		// cleans up.
		chromedp.Env("TMPDIR="+t.TempDir()),
	)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := open(browser, 30*time.Second); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return browser
}

// open makes the first Run on a chromedp context, which starts the browser
// or opens the tab. That Run's context must have no deadline (the tab
// lives as long as it), so the timeout is applied from outside.
func open(ctx context.Context, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("timed out after %v", timeout)
	}
}

// tab opens a new tab in browser, closed when the test ends. On failure
// it logs what the page showed.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := open(ctx, waitShort); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		state, err := evalJS[map[string]any](ctx, `({
			url: location.href, data: {...document.body.dataset},
			log: [...document.querySelectorAll("#log li")].map(li => li.textContent),
			token: localStorage.getItem("`+storageKey+`")})`)
		t.Logf("page at failure: %v (err %v)", state, err)
	})
	return ctx
}

// do runs the steps in tab within timeout.
func do(t *testing.T, tab context.Context, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// evalJS evaluates expr in the page (awaiting a promise) and decodes it.
func evalJS[T any](tab context.Context, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tab, waitShort)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

func mustEval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := evalJS[T](tab, expr)
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls the JavaScript condition until it holds.
func waitFor(cond string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(timeout))(ctx, tgt)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", cond, err)
		}
		return chromedp.Void{}, nil
	}
}

// waitState waits for the page's data-state.
func waitState(state string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`document.body.dataset.state === %q`, state), timeout)
}

// waitUntil waits until the page's clock passes the Unix time at.
func waitUntil(at float64, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`Date.now() / 1000 > %f`, at), timeout)
}

func storedToken(t *testing.T, tab context.Context) string {
	t.Helper()
	tok, err := evalJS[*string](tab, `localStorage.getItem("`+storageKey+`")`)
	if err != nil {
		t.Fatalf("reading the stored token: %v", err)
	}
	if tok == nil {
		return ""
	}
	return *tok
}

// claimsOf decodes the claims the tests compare.
type claimsOf struct {
	Sub  string  `json:"sub"`
	Role string  `json:"role"`
	Sid  string  `json:"sid"`
	Iat  float64 `json:"iat"`
	Exp  float64 `json:"exp"`
}

func decode(t *testing.T, token string) claimsOf {
	t.Helper()
	var c claimsOf
	b, err := json.Marshal(payload(t, token))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// renewalDue is the Unix time after which a request renews c (threshold
// 0.5), plus a margin.
func renewalDue(c claimsOf) float64 {
	return c.Exp - 0.5*(c.Exp-c.Iat) + 0.5
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser tests take about 20 s")
	}
	browser := newBrowser(t)

	t.Run("client rules", func(t *testing.T) {
		t.Parallel()
		testClientRules(t, browser)
	})

	t.Run("guest renewal on an API call", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, shortEnv(nil))
		page := tab(t, browser)
		do(t, page, waitShort, chromedp.Navigate(d.url+"/?poll=2"), waitState("active", waitShort))
		first := storedToken(t, page)
		before := decode(t, first)
		if before.Sub != "guest" || before.Role != "guest" {
			t.Fatalf("initial token: got sub %q role %q, want a guest", before.Sub, before.Role)
		}

		do(t, page, waitLong,
			waitUntil(renewalDue(before), waitLong),
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`, waitShort),
			waitFor(fmt.Sprintf(`localStorage.getItem(%q) !== %q`, storageKey, first), waitShort),
		)
		second := storedToken(t, page)
		after := decode(t, second)
		if after.Sub != before.Sub || after.Sid != before.Sid {
			t.Errorf("renewed token: got sub %q sid %q, want the same session (sub %q sid %q)", after.Sub, after.Sid, before.Sub, before.Sid)
		}
		if after.Exp <= before.Exp {
			t.Errorf("renewed exp: got %v, want later than %v", after.Exp, before.Exp)
		}
		if got := mustEval[string](t, page, `document.body.dataset.meStatus`); got != "200" {
			t.Errorf("/api/me status on the page: got %s, want 200", got)
		}
		if got := mustEval[string](t, page, `document.getElementById("renewed-at").textContent`); got == "not yet" {
			t.Errorf("last renewed at: got %q, want a time", got)
		}
		if got, want := d.traffic.count(func(h hit) bool { return h.renewed }), 1; got != want {
			t.Errorf("renewals answered by the server: got %d, want %d\n%s", got, want, d.traffic.summary())
		}
		if os.Getenv("UPDATE_SCREENSHOT") != "" {
			saveScreenshot(t, page)
		}
	})

	t.Run("expired guest token refreshed once and retried", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, shortEnv(nil))
		page := tab(t, browser)
		do(t, page, waitShort, chromedp.Navigate(d.url+"/?poll=1"), waitState("active", waitShort))
		first := storedToken(t, page)
		before := decode(t, first)
		do(t, page, waitLong,
			waitUntil(before.Exp+0.2, waitLong),
			waitState("expired", waitShort),
		)
		authStatus := d.traffic.count(get("/auth-status"))
		if authStatus != 1 {
			t.Fatalf("/auth-status calls before the click: got %d, want 1 (page start only)\n%s", authStatus, d.traffic.summary())
		}
		meBefore := d.traffic.count(get("/api/me"))

		do(t, page, waitShort,
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`, waitShort),
		)
		if got := mustEval[string](t, page, `document.body.dataset.meStatus`); got != "200" {
			t.Errorf("/api/me status after the retry: got %s, want 200", got)
		}
		if got, want := d.traffic.count(get("/auth-status"))-authStatus, 1; got != want {
			t.Errorf("/auth-status calls caused by the click: got %d, want %d\n%s", got, want, d.traffic.summary())
		}
		me := func(status int) func(hit) bool {
			return func(h hit) bool { return get("/api/me")(h) && h.status == status }
		}
		if got, want := d.traffic.count(get("/api/me"))-meBefore, 2; got != want {
			t.Errorf("/api/me requests for one click: got %d, want %d (the 401 and the retry)\n%s", got, want, d.traffic.summary())
		}
		if d.traffic.count(me(http.StatusUnauthorized)) != 1 || d.traffic.count(me(http.StatusOK)) != 1 {
			t.Errorf("/api/me answers: want one 401 then one 200\n%s", d.traffic.summary())
		}
		now := decode(t, storedToken(t, page))
		if now.Sid == before.Sid || now.Exp <= before.Exp {
			t.Errorf("stored token: got sid %q exp %v, want a new guest session (old sid %q exp %v)", now.Sid, now.Exp, before.Sid, before.Exp)
		}
		do(t, page, waitShort, waitState("active", waitShort))
	})

	t.Run("expired password session goes to the login form", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, shortEnv(accountsEnv()))
		page := tab(t, browser)
		do(t, page, waitShort,
			chromedp.Navigate(d.url+"/?poll=0"),
			waitState("login", waitShort),
			chromedp.SendKeys(chromedp.ID("username"), "alice"),
			chromedp.SendKeys(chromedp.ID("password"), "wrong"),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.ID("login-error")),
			// the page empties the password field after a failed login
			chromedp.SendKeys(chromedp.ID("password"), "wonderland"),
			chromedp.Click(chromedp.ID("login-submit")),
			waitState("active", waitShort),
		)
		tok := decode(t, storedToken(t, page))
		if tok.Sub != "alice" || tok.Role != "user" {
			t.Fatalf("after login: got sub %q role %q, want alice and user", tok.Sub, tok.Role)
		}
		authStatus := d.traffic.count(get("/auth-status"))

		do(t, page, waitLong,
			waitUntil(tok.Exp+0.2, waitLong),
			waitState("expired", waitShort),
			chromedp.Click(chromedp.ID("call-me")),
			waitState("login", waitShort),
			chromedp.WaitVisible(chromedp.ID("login-notice")),
		)
		notice := mustEval[string](t, page, `document.getElementById("login-notice").textContent`)
		if !strings.Contains(notice, "expired") {
			t.Errorf("login notice: got %q, want it to say the session expired", notice)
		}
		if got := storedToken(t, page); got != "" {
			t.Errorf("stored token after expiry: got %q, want none", got)
		}
		if got, want := d.traffic.count(func(h hit) bool { return get("/api/me")(h) }), 1; got != want {
			t.Errorf("/api/me requests: got %d, want %d (a password session is never retried)\n%s", got, want, d.traffic.summary())
		}
		if got := d.traffic.count(get("/auth-status")); got != authStatus {
			t.Errorf("/auth-status calls: got %d, want %d (no guest refresh for a password user)", got, authStatus)
		}
	})

	t.Run("cross-origin page reads the renewed token", func(t *testing.T) {
		t.Parallel()
		pageSrv := httptest.NewUnstartedServer(nil)
		origin := "http://" + pageSrv.Listener.Addr().String()
		d := startDemo(t, shortEnv(map[string]string{"CORS_ORIGINS": origin}))
		pageSrv.Config.Handler = pageHandler(d.url)
		pageSrv.Start()
		t.Cleanup(pageSrv.Close)

		page := tab(t, browser)
		do(t, page, waitShort, chromedp.Navigate(pageSrv.URL+"/?poll=0"), waitState("active", waitShort))
		first := storedToken(t, page)
		before := decode(t, first)
		do(t, page, waitLong,
			waitUntil(renewalDue(before), waitLong),
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`, waitShort),
			waitFor(fmt.Sprintf(`localStorage.getItem(%q) !== %q`, storageKey, first), waitShort),
		)
		after := decode(t, storedToken(t, page))
		if after.Sid != before.Sid || after.Exp <= before.Exp {
			t.Errorf("renewed token: got sid %q exp %v, want sid %q and exp after %v", after.Sid, after.Exp, before.Sid, before.Exp)
		}
		renewed := func(h hit) bool {
			return h.renewed && h.origin == origin && strings.Contains(h.expose, "X-New-Token")
		}
		if got, want := d.traffic.count(renewed), 1; got != want {
			t.Errorf("cross-origin renewals exposing X-New-Token: got %d, want %d\n%s", got, want, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return h.method == http.MethodOptions && h.origin == origin }); got == 0 {
			t.Errorf("no CORS preflight from %s reached the API", origin)
		}
		if got := d.traffic.count(func(h hit) bool { return h.origin != origin }); got != 0 {
			t.Errorf("requests from another origin than the page's: %d\n%s", got, d.traffic.summary())
		}
	})

	t.Run("polling alone never renews", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, shortEnv(nil))
		page := tab(t, browser)
		do(t, page, waitShort, chromedp.Navigate(d.url+"/?poll=0.5"), waitState("active", waitShort))
		first := storedToken(t, page)
		before := decode(t, first)
		do(t, page, waitLong,
			waitFor(`document.body.dataset.lastPoll === "401"`, waitLong),
			waitState("expired", waitShort),
		)
		if got := storedToken(t, page); got != first {
			t.Errorf("stored token changed while only polling:\n got %s\nwant %s", got, first)
		}
		due := time.Unix(0, int64(renewalDue(before)*1e9))
		polledLate := d.traffic.count(func(h hit) bool {
			return get("/api/status")(h) && h.status == http.StatusOK && h.at.After(due)
		})
		if polledLate < 2 { // about six are due at one poll per half second
			t.Errorf("successful polls past the renewal threshold: got %d, want at least 2\n%s", polledLate, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return h.renewed }); got != 0 {
			t.Errorf("renewals: got %d, want 0\n%s", got, d.traffic.summary())
		}
		if got, want := d.traffic.count(get("/auth-status")), 1; got != want {
			t.Errorf("/auth-status calls: got %d, want %d (an expired poll must not start a new session)", got, want)
		}
		if visible := mustEval[bool](t, page, `!document.getElementById("expired-banner").hidden`); !visible {
			t.Errorf("the session-expired banner is hidden")
		}
	})
}

// saveScreenshot writes the page to docs/demo.png (UPDATE_SCREENSHOT=1).
func saveScreenshot(t *testing.T, page context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(page, waitShort)
	defer cancel()
	png, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) ([]byte, error) {
		if _, err := chromedp.EmulateViewport(880, 600)(ctx, tgt); err != nil {
			return nil, err
		}
		return chromedp.FullScreenshot(100)(ctx, tgt)
	})
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join("..", "..", "docs", "demo.png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}

// fakeJWT builds a token with claims and a dummy signature: the client
// never verifies signatures, so its rules can be checked with these.
func fakeJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(body) + ".c2ln"
}

// testClientRules checks client.js in the browser against a fake server
// (testdata/harness.js), one rule per case, without waiting for tokens to
// age.
func testClientRules(t *testing.T, browser context.Context) {
	d := startDemo(t, shortEnv(nil))
	page := tab(t, browser)
	do(t, page, waitShort, chromedp.Navigate(d.url+"/?poll=0"), waitState("active", waitShort))
	harness, err := os.ReadFile(filepath.Join("testdata", "harness.js"))
	if err != nil {
		t.Fatal(err)
	}
	if ok := mustEval[bool](t, page, string(harness)); !ok {
		t.Fatal("harness did not load")
	}

	exp := float64(time.Now().Add(time.Hour).Unix())
	tokens := map[string]string{
		"alice":        fakeJWT(t, map[string]any{"sub": "alice", "role": "user", "sid": "s1", "exp": exp}),
		"aliceRenewed": fakeJWT(t, map[string]any{"sub": "alice", "role": "user", "sid": "s1", "exp": exp + 60}),
		"aliceOlder":   fakeJWT(t, map[string]any{"sub": "alice", "role": "user", "sid": "s1", "exp": exp - 60}),
		"aliceOther":   fakeJWT(t, map[string]any{"sub": "alice", "role": "user", "sid": "s2", "exp": exp + 60}),
		"bob":          fakeJWT(t, map[string]any{"sub": "bob", "role": "user", "sid": "s3", "exp": exp + 60}),
		"guest":        fakeJWT(t, map[string]any{"sub": "guest", "role": "guest", "sid": "g1", "exp": exp, "metadata": map[string]any{"auth_mode": "disabled"}}),
		"guestNew":     fakeJWT(t, map[string]any{"sub": "guest", "role": "guest", "sid": "g2", "exp": exp + 60, "metadata": map[string]any{"auth_mode": "disabled"}}),
		"lightrag":     fakeJWT(t, map[string]any{"sub": "alice", "role": "user", "exp": exp, "metadata": map[string]any{"auth_mode": "enabled"}}),
		"lightragNext": fakeJWT(t, map[string]any{"sub": "alice", "role": "user", "exp": exp + 60, "metadata": map[string]any{"auth_mode": "enabled"}}),
	}
	names := map[string]string{} // token -> name, to report tokens by name
	for name, tok := range tokens {
		names[tok] = name
	}
	prelude, err := json.Marshal(tokens)
	if err != nil {
		t.Fatal(err)
	}

	// Each case's script runs with T (the tokens by name), N (a token's
	// name) and harness, and returns what the case compares.
	tests := []struct {
		name   string
		script string
		want   map[string]any
	}{
		{
			name: "renewal of the same session replaces the token",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.aliceRenewed}})});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, stored: N(h.stored()), events: h.events, auth: N(h.calls[0].token), credentials: h.calls[0].credentials};`,
			want: map[string]any{"status": 200, "stored": "aliceRenewed", "events": []any{"token:renewed"}, "auth": "alice", "credentials": "omit"},
		},
		{
			name: "LightRAG token without sid renews by sub",
			script: `const h = harness.make({token: T.lightrag, handler: () => ({status: 200, headers: {"X-New-Token": T.lightragNext}})});
				await h.client.fetch("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "lightragNext", "events": []any{"token:renewed"}},
		},
		{
			name: "late renewal for another user is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.bob}})});
				await h.client.fetch("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "alice", "events": []any{"ignored"}},
		},
		{
			name: "renewal of another session of the same user is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.aliceOther}})});
				await h.client.fetch("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "alice", "events": []any{"ignored"}},
		},
		{
			name: "older token arriving late is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.aliceOlder}})});
				await h.client.fetch("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "alice", "events": []any{"ignored"}},
		},
		{
			name: "renewal after sign-out is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => { h.client.clear(); return {status: 200, headers: {"X-New-Token": T.aliceRenewed}}; }});
				await h.client.fetch("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": nil, "events": []any{"ignored"}},
		},
		{
			name: "guest 401s share one refresh and each retries once",
			script: `const h = harness.make({token: T.guest, handler: (path, tok) =>
					path === "/auth-status" ? {status: 200, body: JSON.stringify({auth_configured: false, access_token: T.guestNew, token_type: "bearer", auth_mode: "disabled"})}
					: {status: tok === T.guestNew ? 200 : 401}});
				const results = await Promise.all([h.client.fetch("/api/me"), h.client.fetch("/api/me"), h.client.fetch("/api/status")]);
				return {statuses: results.map(r => r.status), stored: N(h.stored()),
					refreshes: h.paths().filter(p => p === "/auth-status").length, calls: h.calls.length, events: h.events};`,
			want: map[string]any{"statuses": []any{200, 200, 200}, "stored": "guestNew", "refreshes": 1, "calls": 7, "events": []any{"token:guest"}},
		},
		{
			name: "guest second 401 goes to login",
			script: `const h = harness.make({token: T.guest, handler: (path) =>
					path === "/auth-status" ? {status: 200, body: JSON.stringify({auth_configured: false, access_token: T.guestNew})} : {status: 401}});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me", "/auth-status", "/api/me"}, "stored": nil, "events": []any{"token:guest", "login:rejected"}},
		},
		{
			name: "failed guest refresh goes to login without a retry",
			script: `const h = harness.make({token: T.guest, handler: (path) => ({status: path === "/auth-status" ? 503 : 401})});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me", "/auth-status"}, "stored": nil, "events": []any{"login:refresh-failed"}},
		},
		{
			name: "guest refresh on a server that now wants logins goes to login",
			script: `const h = harness.make({token: T.guest, handler: (path) =>
					path === "/auth-status" ? {status: 200, body: JSON.stringify({auth_configured: true, auth_mode: "enabled"})} : {status: 401}});
				await h.client.fetch("/api/me");
				return {paths: h.paths(), events: h.events};`,
			want: map[string]any{"paths": []any{"/api/me", "/auth-status"}, "events": []any{"login:auth-configured"}},
		},
		{
			name: "password 401 goes to login with no retry",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 401})});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": nil, "events": []any{"login:expired"}},
		},
		{
			name: "background guest 401 reports expiry and starts nothing",
			script: `const h = harness.make({token: T.guest, handler: () => ({status: 401})});
				const res = await h.client.fetch("/api/status", {}, {background: true});
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/status"}, "stored": "guest", "events": []any{"expired:expired"}},
		},
		{
			name: "stale 401 from before a new login changes nothing",
			script: `const h = harness.make({token: T.alice, handler: () => { h.client.store(T.bob, "login"); h.events.length = 0; return {status: 401}; }});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": "bob", "events": []any{}},
		},
		{
			name: "stale 401 from another session of the same user changes nothing",
			script: `const h = harness.make({token: T.alice, handler: () => { h.client.store(T.aliceOther, "login"); h.events.length = 0; return {status: 401}; }});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": "aliceOther", "events": []any{}},
		},
		{
			// Request A leaves with T; request B renews T to T2 (same sid);
			// then A's 401 for T arrives: A is retried once with T2.
			name: "password 401 that raced a renewal of its session is retried once",
			script: `const gate = harness.gate();
				const h = harness.make({token: T.alice, handler: async (path, tok) => {
					if (path === "/api/slow" && tok === T.alice) { await gate.wait(); return {status: 401}; }
					if (path === "/api/slow") return {status: 200};
					return {status: 200, headers: {"X-New-Token": T.aliceRenewed}};
				}});
				const slow = h.client.fetch("/api/slow");
				const me = await h.client.fetch("/api/me");
				gate.open();
				const res = await slow;
				return {statuses: [me.status, res.status], sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"statuses": []any{200, 200},
				"sent":     []any{"/api/slow alice", "/api/me alice", "/api/slow aliceRenewed"},
				"stored":   "aliceRenewed", "events": []any{"token:renewed"},
			},
		},
		{
			name: "password retry after a raced renewal that fails again goes to login",
			script: `const gate = harness.gate();
				const h = harness.make({token: T.alice, handler: async (path, tok) => {
					if (path === "/api/slow" && tok === T.alice) await gate.wait();
					if (path === "/api/slow") return {status: 401};
					return {status: 200, headers: {"X-New-Token": T.aliceRenewed}};
				}});
				const slow = h.client.fetch("/api/slow");
				await h.client.fetch("/api/me");
				gate.open();
				const res = await slow;
				return {status: res.status, sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"status": 401, "sent": []any{"/api/slow alice", "/api/me alice", "/api/slow aliceRenewed"},
				"stored": nil, "events": []any{"token:renewed", "login:rejected"},
			},
		},
		{
			name: "background 401 that raced a renewal of its session is retried once",
			script: `const gate = harness.gate();
				const h = harness.make({token: T.alice, handler: async (path, tok) => {
					if (path === "/api/status" && tok === T.alice) { await gate.wait(); return {status: 401}; }
					if (path === "/api/status") return {status: 200};
					return {status: 200, headers: {"X-New-Token": T.aliceRenewed}};
				}});
				const poll = h.client.fetch("/api/status", {}, {background: true});
				await h.client.fetch("/api/me");
				gate.open();
				const res = await poll;
				return {status: res.status, sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"status": 200, "sent": []any{"/api/status alice", "/api/me alice", "/api/status aliceRenewed"},
				"stored": "aliceRenewed", "events": []any{"token:renewed"},
			},
		},
		{
			// Once a failed retry has required a login, a slower request's
			// 401 for the old token must not start another guest session.
			name: "late guest 401 after login required starts nothing",
			script: `const gate = harness.gate();
				const h = harness.make({token: T.guest, handler: async (path, tok) => {
					if (path === "/auth-status") return {status: 200, body: JSON.stringify({auth_configured: false, access_token: T.guestNew})};
					if (path === "/api/slow") await gate.wait();
					return {status: 401};
				}});
				const slow = h.client.fetch("/api/slow");
				const fast = await h.client.fetch("/api/me");
				gate.open();
				const res = await slow;
				return {statuses: [fast.status, res.status], sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"statuses": []any{401, 401},
				"sent":     []any{"/api/slow guest", "/api/me guest", "/auth-status null", "/api/me guestNew"},
				"stored":   nil, "events": []any{"token:guest", "login:rejected"},
			},
		},
		{
			name: "late password 401 after login required reports it once",
			script: `const gate = harness.gate();
				const h = harness.make({token: T.alice, handler: async (path) => {
					if (path === "/api/slow") await gate.wait();
					return {status: 401};
				}});
				const slow = h.client.fetch("/api/slow");
				const fast = await h.client.fetch("/api/me");
				gate.open();
				const res = await slow;
				return {statuses: [fast.status, res.status], sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"statuses": []any{401, 401}, "sent": []any{"/api/slow alice", "/api/me alice"},
				"stored": nil, "events": []any{"login:expired"},
			},
		},
		{
			name: "late 401 after sign-out starts nothing",
			script: `const h = harness.make({token: T.guest, handler: () => { h.client.clear(); return {status: 401}; }});
				const res = await h.client.fetch("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": nil, "events": []any{}},
		},
		{
			// The token goes only to the API's origin: a protocol-relative
			// path, or one the URL parser turns into one, is refused.
			name: "requests to another origin are refused",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200})});
				const paths = ["//evil.example/collect", "/\\evil.example/collect", "\t//evil.example/collect",
					"https://evil.example/collect", "http://" + location.hostname + ".evil.example/collect"];
				const outcomes = [];
				for (const p of paths) outcomes.push(await harness.outcome(h.client.fetch(p)));
				let message = "";
				try { await h.client.fetch("//evil.example/collect"); } catch (err) { message = err.message; }
				return {outcomes, calls: h.calls.length, names: message.includes("evil.example") && message.includes(location.origin)};`,
			want: map[string]any{
				"outcomes": []any{"ForeignOrigin", "ForeignOrigin", "ForeignOrigin", "ForeignOrigin", "ForeignOrigin"},
				"calls":    0, "names": true,
			},
		},
		{
			name: "requests to the page's origin carry the token",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200})});
				await h.client.fetch("/api/me");
				await h.client.fetch(location.origin + "/api/status");
				return {urls: h.calls.map(c => c.url.replace(location.origin, "ORIGIN")), tokens: h.calls.map(c => N(c.token))};`,
			want: map[string]any{"urls": []any{"ORIGIN/api/me", "ORIGIN/api/status"}, "tokens": []any{"alice", "alice"}},
		},
		{
			name: "with a base URL only its origin gets the token",
			script: `const h = harness.make({token: T.alice, baseURL: "http://api.example:8080", handler: () => ({status: 200})});
				const outcomes = [];
				for (const p of ["//evil.example/x", "http://api.example:8080/api/me", location.origin + "/api/me", "http://api.example:8081/api/me"]) {
					outcomes.push(await harness.outcome(h.client.fetch(p)));
				}
				return {outcomes, urls: h.calls.map(c => c.url)};`,
			want: map[string]any{
				"outcomes": []any{"status 200", "status 200", "ForeignOrigin", "ForeignOrigin"},
				"urls":     []any{"http://api.example:8080//evil.example/x", "http://api.example:8080/api/me"},
			},
		},
		{
			name: "a login or guest refresh path on another origin is refused",
			script: `const h = harness.make({authStatusPath: "//evil.example/auth-status", loginPath: "//evil.example/login", handler: () => ({status: 200})});
				return {authStatus: await harness.outcome(h.client.authStatus()), login: await harness.outcome(h.client.login("alice", "wonderland")), calls: h.calls.length};`,
			want: map[string]any{"authStatus": "ForeignOrigin", "login": "ForeignOrigin", "calls": 0},
		},
		{
			name: "base URL for a cross-origin API",
			script: `const h = harness.make({token: T.alice, baseURL: "http://api.example:8080/", handler: () => ({status: 200})});
				await h.client.fetch("/api/me");
				await h.client.fetch("api/status");
				return {urls: h.calls.map(c => c.url)};`,
			want: map[string]any{"urls": []any{"http://api.example:8080/api/me", "http://api.example:8080/api/status"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := fmt.Sprintf(`(async () => {
				const T = %s;
				const names = new Map(Object.entries(T).map(([k, v]) => [v, k]));
				const N = (tok) => tok === null ? null : (names.get(tok) ?? "unknown:" + tok);
				%s
			})()`, prelude, tt.script)
			got := mustEval[map[string]any](t, page, script)
			if !reflect.DeepEqual(normalize(got), normalize(tt.want)) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}

	// decodeJWT: base64url with its own alphabet and no padding, UTF-8.
	utf8Claims := map[string]any{"sub": "Zoë 東京 🚀", "note": "ÿÿÿ~~~???>>>", "n": 1.5}
	utf8Token := fakeJWT(t, utf8Claims)
	if p := strings.Split(utf8Token, ".")[1]; !strings.ContainsAny(p, "-_") {
		t.Fatalf("test token payload %q has no base64url-only characters", p)
	}
	padded := strings.Split(utf8Token, ".")
	padded[1] += strings.Repeat("=", (4-len(padded[1])%4)%4)
	enc := base64.RawURLEncoding.EncodeToString
	decodeTests := []struct {
		name  string
		token any
		want  map[string]any
	}{
		{"utf-8 and base64url", utf8Token, utf8Claims},
		{"padded payload", strings.Join(padded, "."), utf8Claims},
		{"two parts", "a.b", nil},
		{"payload not base64", "a.!!!.c", nil},
		{"payload not json", "a." + enc([]byte("nope")) + ".c", nil},
		{"payload an array", "a." + enc([]byte("[1,2]")) + ".c", nil},
		{"payload invalid utf-8", "a." + enc([]byte("{\"sub\":\"\xff\"}")) + ".c", nil},
		{"not a string", nil, nil},
	}
	for _, tt := range decodeTests {
		t.Run("decodeJWT "+tt.name, func(t *testing.T) {
			arg, err := json.Marshal(tt.token)
			if err != nil {
				t.Fatal(err)
			}
			got := mustEval[map[string]any](t, page, fmt.Sprintf(`harness.mod.decodeJWT(%s)`, arg))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// normalize makes JSON-decoded values and Go literals comparable (numbers
// as float64, slices as []any).
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
