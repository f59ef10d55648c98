package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
)

// The browser tests drive the real page in headless Chromium against the
// demo on loopback, and never wait for real time to pass. Each scenario
// has one virtual clock: the demo issues, checks and renews tokens by it
// (hooks.now), and the page reads it through testdata/clock.js, which
// stands in for Date and the page's timers. The test moves the two
// together (scenario.advance) and then checks the outcome. The only waits
// are for the page to finish reacting to a step, which takes a few
// requests on loopback; their timeouts are guards against a hang that fail
// with the condition's name, never a measure of speed.
//
// Tokens live 7.2 s of that time (GUEST_TOKEN_EXPIRE_HOURS=0.002, and the
// same for users; tokens carry whole seconds, so exp is iat+7), renewal is
// due once half of that has passed, and a session may renew once a
// second.

const (
	// requireToolsEnv set to 1 turns a missing chromium from a skip into
	// a failure; CI sets it (as for redis-server, see internal/redistest).
	// Any other value, 0 included, leaves it a skip.
	requireToolsEnv = "SLIDINGJWT_REQUIRE_TOOLS"
	// chromiumMissing says what is missing and how to install it.
	chromiumMissing = "chromium not found: install it with apt-get install chromium (make test does this on Debian)"

	shortLifetimeHours = "0.002" // 7.2 s
	storageKey         = "slidingjwt.token"

	// waitGuard bounds a wait for the page to react to one step.
	waitGuard = 20 * time.Second
	// stepsGuard bounds one call of do, which may hold several waits.
	stepsGuard = time.Minute
)

// virtualStart is where every scenario's clock starts. It is far from the
// real time on purpose: a token issued or checked by the real clock, or a
// page reading the real clock, then fails the scenario instead of passing
// by chance.
var virtualStart = time.Date(2031, time.March, 14, 15, 9, 26, 0, time.UTC)

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

// toolsRequired reports whether SLIDINGJWT_REQUIRE_TOOLS asks for a
// missing tool to fail the test: only the value 1 does.
func toolsRequired() bool { return os.Getenv(requireToolsEnv) == "1" }

// lookChromium returns the path of chromium. When there is none it skips
// the test, or fails it when SLIDINGJWT_REQUIRE_TOOLS=1; either way the
// message says how to install it.
func lookChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if toolsRequired() {
		t.Fatalf("%s; %s=1, so this is a failure", chromiumMissing, requireToolsEnv)
	}
	t.Skipf("%s (with %s=1 this is a failure)", chromiumMissing, requireToolsEnv)
	return ""
}

// newBrowser starts one headless Chromium, the one at path, for the test
// and its subtests; each subtest opens its own tab (in its own window, so
// none is hidden).
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
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
		// Several tabs run at once: keep the real timers of every one (the
		// waits of the tests use them) on time.
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
// lives as long as it), so the guard is applied from outside.
func open(ctx context.Context, guard time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		return fmt.Errorf("no answer within %v", guard)
	}
}

// tab opens a new tab in browser, closed when the test ends. On failure
// it logs what the page showed.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := open(ctx, waitGuard); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		state, err := evalJS[map[string]any](ctx, `({
			url: location.href, data: {...document.body.dataset},
			clock: window.__testClock && new Date(window.__testClock.now()).toISOString(),
			timers: window.__testClock?.pending(),
			log: [...document.querySelectorAll("#log li")].map(li => li.textContent),
			token: localStorage.getItem("`+storageKey+`")})`)
		t.Logf("page at failure: %v (err %v)", state, err)
	})
	return ctx
}

// do runs the steps in tab, with stepsGuard as a guard against a hang.
func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepsGuard)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// evalJS evaluates expr in the page (awaiting a promise) and decodes it.
func evalJS[T any](tab context.Context, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tab, waitGuard)
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

// waitFor waits until the JavaScript condition holds in the page. It polls
// with the page's real timers (window.__testClock.until), so it never moves
// the page's clock; waitGuard only turns a hang into a failure.
func waitFor(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		expr := fmt.Sprintf(`window.__testClock.until(() => (%s), %d)`, cond, waitGuard.Milliseconds())
		if _, err := chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise)(ctx, tgt); err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", cond, err)
		}
		return chromedp.Void{}, nil
	}
}

// waitState waits for the page's data-state.
func waitState(state string) chromedp.Action[chromedp.Void] {
	return waitFor(fmt.Sprintf(`document.body.dataset.state === %q`, state))
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

// dataset reads data-name of the page's body ("" when it is not set).
func dataset(t *testing.T, tab context.Context, name string) string {
	t.Helper()
	return mustEval[string](t, tab, fmt.Sprintf(`document.body.dataset[%q] ?? ""`, name))
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

// unixTime is the time of a claim in Unix seconds.
func unixTime(sec float64) time.Time { return time.UnixMilli(int64(math.Round(sec * 1000))) }

func (c claimsOf) issued() time.Time  { return unixTime(c.Iat) }
func (c claimsOf) expires() time.Time { return unixTime(c.Exp) }

// renewalDue is a time at which a request renews c (threshold 0.5): half a
// second after half of its life has passed.
func renewalDue(c claimsOf) time.Time {
	return unixTime(c.Exp - 0.5*(c.Exp-c.Iat) + 0.5)
}

// scenario is one browser scenario: a demo server and a tab that share a
// virtual clock.
type scenario struct {
	t      *testing.T
	clock  *testkit.Clock
	demo   *demoServer
	page   context.Context
	script cdppage.ScriptIdentifier // the page clock's init script, once navigate added it
}

// newScenario starts a demo with env on a clock reading virtualStart, and
// opens a tab in browser.
func newScenario(t *testing.T, browser context.Context, env map[string]string) *scenario {
	t.Helper()
	clock := testkit.NewClock(virtualStart)
	d := startDemoWithClock(t, env, clock.Now)
	return &scenario{t: t, clock: clock, demo: d, page: tab(t, browser)}
}

// newLoginScenario is a scenario on a demo with password accounts, its
// page showing the login form.
func newLoginScenario(t *testing.T, browser context.Context) *scenario {
	t.Helper()
	s := newScenario(t, browser, shortEnv(accountsEnv()))
	s.navigate(s.demo.url + "/?poll=0")
	s.do(waitState("login"))
	return s
}

// login submits the login form with user and password.
func (s *scenario) login(user, password string) {
	s.t.Helper()
	s.do(
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
}

// navigate opens url in the tab, its clock (testdata/clock.js) starting
// at the scenario's time.
func (s *scenario) navigate(url string) {
	s.t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "clock.js"))
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(s.page, stepsGuard)
	defer cancel()
	// A new document starts its clock from the reading in its script:
	// replace the script of an earlier navigation, which read earlier.
	if s.script != "" {
		_, err := chromedp.Call(ctx, cdppage.RemoveScriptToEvaluateOnNewDocument,
			cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: s.script})
		if err != nil {
			s.t.Fatalf("removing the page clock: %v", err)
		}
	}
	source := fmt.Sprintf("(%s)(%d);", src, s.clock.Now().UnixMilli())
	added, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: source})
	if err != nil {
		s.t.Fatalf("installing the page clock: %v", err)
	}
	s.script = added.Identifier
	s.do(chromedp.Navigate(url))
	if !mustEval[bool](s.t, s.page, `typeof window.__testClock === "object"`) {
		s.t.Fatalf("the page clock is not installed in %s", url)
	}
}

// do runs steps in the scenario's tab.
func (s *scenario) do(steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	do(s.t, s.page, steps...)
}

// advance moves the scenario's time d forward: the server's clock first,
// so that whatever the page sends in reaction meets the new time, then the
// page's, which runs the page's timers that fall due (the countdown, the
// poll) each at its due time. It then waits until no poll is in flight, so
// that the step's outcome is settled when the test looks at it.
func (s *scenario) advance(d time.Duration) {
	s.t.Helper()
	if d < 0 || d%time.Millisecond != 0 {
		s.t.Fatalf("advance(%v): want whole milliseconds, not negative", d)
	}
	s.clock.Set(s.clock.Now().Add(d))
	s.advancePage(d)
}

// advancePage moves the tab's clock d forward, to the server's time (which
// the caller has moved), and waits until no poll is in flight.
func (s *scenario) advancePage(d time.Duration) {
	s.t.Helper()
	got := mustEval[struct {
		Now    int64    `json:"now"`
		Errors []string `json:"errors"`
	}](s.t, s.page, fmt.Sprintf(`window.__testClock.advance(%d)`, d.Milliseconds()))
	if len(got.Errors) > 0 {
		s.t.Fatalf("the page's timers threw while the time moved %v:\n%s", d, strings.Join(got.Errors, "\n"))
	}
	if want := s.clock.Now().UnixMilli(); got.Now != want {
		s.t.Fatalf("the page's clock reads %d ms, the server's %d ms: they must move together", got.Now, want)
	}
	s.do(waitFor(`!window.demo.page.polling`))
}

// advanceTo moves the time to at in one step.
func (s *scenario) advanceTo(at time.Time) {
	s.t.Helper()
	d := at.Sub(s.clock.Now())
	if d < 0 {
		s.t.Fatalf("advanceTo(%v): the time is %v already", at, s.clock.Now())
	}
	s.advance(d)
}

// stepTo moves the time to at in steps of at most step, each settled
// before the next: with step the page's poll interval, every poll that
// falls due is sent, and answered, at its own time.
func (s *scenario) stepTo(at time.Time, step time.Duration) {
	s.t.Helper()
	for now := s.clock.Now(); now.Before(at); now = s.clock.Now() {
		s.advance(min(step, at.Sub(now)))
	}
}

// since is how far the scenario's time is past virtualStart, for messages.
func (s *scenario) since() time.Duration { return s.clock.Now().Sub(virtualStart) }

// TestBrowser runs the demo page in headless Chromium.
//
// It looks for Chromium before it looks at -short: SLIDINGJWT_REQUIRE_TOOLS=1
// is about the tools being there, so a missing Chromium fails the test
// then, -short or not, while -short (which picks the tests to run) still
// skips it when Chromium is there.
func TestBrowser(t *testing.T) {
	path := lookChromium(t)
	if testing.Short() {
		t.Skip("skipped under -short: the browser tests start Chromium")
	}
	browser := newBrowser(t, path)

	t.Run("client rules", func(t *testing.T) {
		t.Parallel()
		testClientRules(t, browser)
	})
	testCookieDelivery(t, browser)
	testTabs(t, browser)

	t.Run("guest renewal on an API call", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, browser, shortEnv(nil))
		d := s.demo
		s.navigate(d.url + "/?poll=2")
		s.do(waitState("active"))
		first := storedToken(t, s.page)
		before := decode(t, first)
		if before.Sub != "guest" || before.Role != "guest" {
			t.Fatalf("initial token: got sub %q role %q, want a guest", before.Sub, before.Role)
		}
		if !before.issued().Equal(virtualStart) {
			t.Fatalf("initial token issued at %v, want %v (the demo's clock)", before.issued(), virtualStart)
		}

		// Into the second half of the token's life, polling on the way:
		// the polls use a skip path and renew nothing.
		s.stepTo(renewalDue(before), 2*time.Second)
		if got, want := d.traffic.count(get("/api/status")), 2; got != want {
			t.Errorf("polls by %v: got %d, want %d (one every 2 s)\n%s", s.since(), got, want, d.traffic.summary())
		}
		if got := storedToken(t, s.page); got != first {
			t.Fatalf("the stored token changed before any API call:\n got %s\nwant %s", got, first)
		}
		if got := dataset(t, s.page, "state"); got != "active" {
			t.Fatalf("state at %v: got %q, want active", s.since(), got)
		}

		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
		)
		second := storedToken(t, s.page)
		if second == first {
			t.Fatalf("the stored token did not change after /api/me in the renewal window\n%s", d.traffic.summary())
		}
		after := decode(t, second)
		if after.Sub != before.Sub || after.Sid != before.Sid {
			t.Errorf("renewed token: got sub %q sid %q, want the same session (sub %q sid %q)", after.Sub, after.Sid, before.Sub, before.Sid)
		}
		if got, want := after.issued(), s.clock.Now().Truncate(time.Second); !got.Equal(want) {
			t.Errorf("renewed token issued at %v, want %v (the time of the call)", got, want)
		}
		if after.Exp <= before.Exp {
			t.Errorf("renewed exp: got %v, want later than %v", after.Exp, before.Exp)
		}
		if got := dataset(t, s.page, "meStatus"); got != "200" {
			t.Errorf("/api/me status on the page: got %s, want 200", got)
		}
		if got := dataset(t, s.page, "renewals"); got != "1" {
			t.Errorf("renewals shown on the page: got %s, want 1", got)
		}
		got := mustEval[string](t, s.page, `document.getElementById("renewed-at").textContent`)
		want := mustEval[string](t, s.page, fmt.Sprintf(`new Date(%d).toLocaleTimeString([], {hour12: false})`, after.issued().UnixMilli()))
		if got != want {
			t.Errorf("last renewed at: got %q, want %q (the renewed token's iat)", got, want)
		}
		renewed := func(h hit) bool { return h.renewed }
		if got, want := d.traffic.count(renewed), 1; got != want {
			t.Errorf("renewals answered by the server: got %d, want %d\n%s", got, want, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return renewed(h) && get("/api/me")(h) }); got != 1 {
			t.Errorf("the renewal did not answer /api/me\n%s", d.traffic.summary())
		}
		if os.Getenv("UPDATE_SCREENSHOT") != "" {
			saveScreenshot(t, s.page)
		}
	})

	t.Run("server counters show the renewal", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, browser, shortEnv(nil))
		d := s.demo
		s.navigate(d.url + "/?poll=2")
		s.do(
			waitState("active"),
			waitFor(`document.body.dataset.serverReads === "1"`),
		)
		text := func(id string) string {
			return mustEval[string](t, s.page, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
		}
		if got := text("srv-renewed"); got != "0" {
			t.Fatalf("renewals on the panel at load: got %q, want 0", got)
		}
		before := decode(t, storedToken(t, s.page))

		// The panel polls with the status poll's interval.
		s.stepTo(renewalDue(before), 2*time.Second)
		s.do(waitFor(`Number(document.body.dataset.serverReads) >= 2`))
		if got := dataset(t, s.page, "serverRenewals"); got != "0" {
			t.Fatalf("renewals on the panel before any API call: got %q, want 0", got)
		}

		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
			waitFor(`document.body.dataset.serverRenewals === "1"`),
		)
		if got := text("srv-renewed"); got != "1" {
			t.Errorf("renewals on the panel after the renewal: got %q, want 1", got)
		}
		if got, want := d.traffic.count(func(h hit) bool { return h.renewed }), 1; got != want {
			t.Errorf("renewals answered by the server: got %d, want %d\n%s", got, want, d.traffic.summary())
		}

		// Another call with the fresh token renews nothing: the count stays.
		reads := mustEval[string](t, s.page, `document.body.dataset.serverReads`)
		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "2"`),
			waitFor(fmt.Sprintf(`document.body.dataset.serverReads !== %q && !window.demo.page.serverReading`, reads)),
		)
		if got := text("srv-renewed"); got != "1" {
			t.Errorf("renewals on the panel after a call that renewed nothing: got %q, want 1", got)
		}
		// The polls past the threshold were counted as skipped_path.
		rows := mustEval[map[string]string](t, s.page, `Object.fromEntries([...document.querySelectorAll("#srv-reasons tr")].map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]))`)
		if rows["skipped_path"] == "" || rows["threshold"] == "" {
			t.Errorf("reasons on the panel: got %v, want threshold and skipped_path among them", rows)
		}
		summaries := get("/metrics/summary")
		if n := d.traffic.count(summaries); n < 3 {
			t.Errorf("summary reads: got %d, want at least 3 (load, a poll, the calls)\n%s", n, d.traffic.summary())
		}
		if n := d.traffic.count(func(h hit) bool { return summaries(h) && (h.status != http.StatusOK || h.renewed) }); n != 0 {
			t.Errorf("summary reads that failed or renewed: %d\n%s", n, d.traffic.summary())
		}
	})

	t.Run("expired guest token refreshed once and retried", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, browser, shortEnv(nil))
		d := s.demo
		s.navigate(d.url + "/?poll=1")
		s.do(waitState("active"))
		first := storedToken(t, s.page)
		before := decode(t, first)

		// To a second past expiry, one poll a second: the poll at exp is
		// refused, and that starts no new session.
		s.stepTo(before.expires().Add(time.Second), time.Second)
		if got := dataset(t, s.page, "state"); got != "expired" {
			t.Fatalf("state a second after exp: got %q, want expired", got)
		}
		if got := dataset(t, s.page, "lastPoll"); got != "401" {
			t.Errorf("last poll a second after exp: got %q, want 401", got)
		}
		authStatus := d.traffic.count(get("/auth-status"))
		if authStatus != 1 {
			t.Fatalf("/auth-status calls before the click: got %d, want 1 (page start only)\n%s", authStatus, d.traffic.summary())
		}
		meBefore := d.traffic.count(get("/api/me"))

		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
		)
		if got := dataset(t, s.page, "meStatus"); got != "200" {
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
		now := decode(t, storedToken(t, s.page))
		if now.Sid == before.Sid || now.Exp <= before.Exp {
			t.Errorf("stored token: got sid %q exp %v, want a new guest session (old sid %q exp %v)", now.Sid, now.Exp, before.Sid, before.Exp)
		}
		if got, want := now.issued(), s.clock.Now().Truncate(time.Second); !got.Equal(want) {
			t.Errorf("new guest token issued at %v, want %v (the time of the click)", got, want)
		}
		s.do(waitState("active"))
	})

	t.Run("expired password session goes to the login form", func(t *testing.T) {
		t.Parallel()
		s := newLoginScenario(t, browser)
		d := s.demo
		s.login("alice", "wrong")
		s.do(
			chromedp.WaitVisible(chromedp.ID("login-error")),
			// the page empties the password field after a failed login
			chromedp.SendKeys(chromedp.ID("password"), "wonderland"),
			chromedp.Click(chromedp.ID("login-submit")),
			waitState("active"),
		)
		tok := decode(t, storedToken(t, s.page))
		if tok.Sub != "alice" || tok.Role != "user" {
			t.Fatalf("after login: got sub %q role %q, want alice and user", tok.Sub, tok.Role)
		}
		authStatus := d.traffic.count(get("/auth-status"))

		// The page's own clock ends the session: a moment before exp it is
		// active, once exp has passed it shows it expired.
		s.advanceTo(tok.expires().Add(-250 * time.Millisecond))
		if got := dataset(t, s.page, "state"); got != "active" {
			t.Fatalf("state just before exp: got %q, want active", got)
		}
		s.advance(time.Second)
		if got, by := dataset(t, s.page, "state"), dataset(t, s.page, "expiredBy"); got != "expired" || by != "clock" {
			t.Fatalf("state just after exp: got %q (expired by %q), want expired by the clock", got, by)
		}

		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitState("login"),
			chromedp.WaitVisible(chromedp.ID("login-notice")),
		)
		notice := mustEval[string](t, s.page, `document.getElementById("login-notice").textContent`)
		if !strings.Contains(notice, "expired") {
			t.Errorf("login notice: got %q, want it to say the session expired", notice)
		}
		if got := storedToken(t, s.page); got != "" {
			t.Errorf("stored token after expiry: got %q, want none", got)
		}
		if got, want := d.traffic.count(get("/api/me")), 1; got != want {
			t.Errorf("/api/me requests: got %d, want %d (a password session is never retried)\n%s", got, want, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return get("/api/me")(h) && h.status == http.StatusUnauthorized }); got != 1 {
			t.Errorf("/api/me answered 401 %d times after exp, want once\n%s", got, d.traffic.summary())
		}
		if got := d.traffic.count(get("/auth-status")); got != authStatus {
			t.Errorf("/auth-status calls: got %d, want %d (no guest refresh for a password user)", got, authStatus)
		}
	})

	t.Run("old token replayed after sign-out gets 401", func(t *testing.T) {
		t.Parallel()
		s := newLoginScenario(t, browser)
		d := s.demo
		s.login("alice", "wonderland")
		s.do(waitState("active"))
		old := storedToken(t, s.page)
		claims := decode(t, old)
		// Past the threshold, so that a replay that got through would
		// also be renewed: the replay must get neither.
		s.advanceTo(renewalDue(claims))
		s.do(
			chromedp.Click(chromedp.ID("sign-out")),
			waitState("login"),
		)
		if got := storedToken(t, s.page); got != "" {
			t.Fatalf("stored token after sign-out: got %q, want none", got)
		}
		logout := func(h hit) bool { return h.method == http.MethodPost && h.path == "/api/logout" }
		if got, want := d.traffic.count(func(h hit) bool { return logout(h) && h.status == http.StatusNoContent }), 1; got != want {
			t.Fatalf("POST /api/logout answered 204 %d times, want %d\n%s", got, want, d.traffic.summary())
		}

		// The page replays the token it held, as a copy of it would be
		// used from another tab or by whoever read it.
		type answer struct {
			Status   int    `json:"status"`
			Auth     string `json:"auth"`
			NewToken string `json:"newToken"`
			Message  string `json:"message"`
		}
		replay := fmt.Sprintf(`fetch("/api/me", {headers: {Authorization: "Bearer " + %q}}).then(async (r) => ({
			status: r.status,
			auth: r.headers.get("WWW-Authenticate") ?? "",
			newToken: r.headers.get("X-New-Token") ?? "",
			message: (await r.json()).message ?? "",
		}))`, old)
		got := mustEval[answer](t, s.page, replay)
		if got.Status != http.StatusUnauthorized {
			t.Fatalf("replayed token after sign-out: got status %d, want 401\n%s", got.Status, d.traffic.summary())
		}
		if !strings.Contains(got.Auth, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate: got %q, want a Bearer invalid_token challenge", got.Auth)
		}
		if !strings.Contains(got.Message, "session has ended") {
			t.Errorf("message: got %q, want it to say the session has ended", got.Message)
		}
		if got.NewToken != "" {
			t.Errorf("the replay was renewed: X-New-Token %q", got.NewToken)
		}
		// The token was still good by its exp: only the sign-out ends it.
		if !s.clock.Now().Before(claims.expires()) {
			t.Fatalf("the replay came at %v, at or after the token's exp %v: it would fail anyway", s.since(), claims.expires())
		}
		if n := d.traffic.count(func(h hit) bool { return h.renewed }); n != 0 {
			t.Errorf("%d responses carried a renewed token\n%s", n, d.traffic.summary())
		}
	})

	t.Run("cross-origin page reads the renewed token", func(t *testing.T) {
		t.Parallel()
		pageSrv := httptest.NewUnstartedServer(nil)
		origin := "http://" + pageSrv.Listener.Addr().String()
		s := newScenario(t, browser, shortEnv(map[string]string{"CORS_ORIGINS": origin}))
		d := s.demo
		pageSrv.Config.Handler = pageHandler(d.url, "")
		pageSrv.Start()
		t.Cleanup(pageSrv.Close)

		s.navigate(pageSrv.URL + "/?poll=0")
		s.do(waitState("active"))
		first := storedToken(t, s.page)
		before := decode(t, first)
		s.advanceTo(renewalDue(before))
		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
		)
		after := decode(t, storedToken(t, s.page))
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
		s := newScenario(t, browser, shortEnv(nil))
		d := s.demo
		const step = 500 * time.Millisecond // the poll interval
		s.navigate(d.url + "/?poll=0.5")
		s.do(waitState("active"))
		first := storedToken(t, s.page)
		before := decode(t, first)
		due, exp := renewalDue(before), before.expires()

		// One poll interval at a time until a poll is refused: each step
		// sends one poll, answered before the next.
		steps := 0
		for dataset(t, s.page, "lastPoll") != "401" {
			if steps > int(exp.Sub(virtualStart)/step)+4 {
				t.Fatalf("no poll refused by %v, %v past the token's expiry\n%s", s.since(), s.clock.Now().Sub(exp), d.traffic.summary())
			}
			s.advance(step)
			steps++
		}

		polls := get("/api/status")
		if got, want := d.traffic.count(polls), steps; got != want {
			t.Errorf("polls: got %d, want %d (one a step)\n%s", got, want, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return polls(h) && h.at.Before(exp) && h.status != http.StatusOK }); got != 0 {
			t.Errorf("polls before the token's expiry that failed: %d, want none\n%s", got, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return polls(h) && !h.at.Before(exp) }); got != 1 {
			t.Errorf("polls at or after the token's expiry: got %d, want 1 (the refused one; polling then stops)\n%s", got, d.traffic.summary())
		}
		// The polls in the second half of the token's life, where any
		// other request would have renewed it, succeeded and renewed
		// nothing: one for each step that ends in it.
		wantLate := 0
		for at := virtualStart.Add(step); at.Before(exp); at = at.Add(step) {
			if !at.Before(due) {
				wantLate++
			}
		}
		if wantLate < 2 {
			t.Fatalf("test set-up: only %d steps end between the renewal threshold (%v) and exp (%v)", wantLate, due, exp)
		}
		late := func(h hit) bool {
			return polls(h) && h.status == http.StatusOK && !h.at.Before(due) && h.at.Before(exp)
		}
		if got := d.traffic.count(late); got != wantLate {
			t.Errorf("successful polls past the renewal threshold: got %d, want %d\n%s", got, wantLate, d.traffic.summary())
		}
		if got := d.traffic.count(func(h hit) bool { return h.renewed }); got != 0 {
			t.Errorf("renewals: got %d, want 0\n%s", got, d.traffic.summary())
		}
		// The refused poll ended the session: the client forgot the token
		// and stored no other.
		if got := storedToken(t, s.page); got != "" {
			t.Errorf("stored token after the refused poll: got %s, want none (the first was %s)", got, first)
		}
		if got := dataset(t, s.page, "state"); got != "expired" {
			t.Errorf("state after the refused poll: got %q, want expired", got)
		}
		if visible := mustEval[bool](t, s.page, `!document.getElementById("expired-banner").hidden`); !visible {
			t.Errorf("the session-expired banner is hidden")
		}

		// The idle tab stays as it is: no more polls, and no new session.
		pollsSoFar := d.traffic.count(polls)
		s.advance(10 * step)
		if got := d.traffic.count(polls); got != pollsSoFar {
			t.Errorf("polls after the refused one: got %d, want none\n%s", got-pollsSoFar, d.traffic.summary())
		}
		if got, want := d.traffic.count(get("/auth-status")), 1; got != want {
			t.Errorf("/auth-status calls: got %d, want %d (an expired poll must not start a new session)", got, want)
		}
	})
}

// TestBrowserRequireTools runs TestBrowser in a child process of this test
// binary whose PATH holds no chromium, and checks what
// SLIDINGJWT_REQUIRE_TOOLS makes of it: with 1 the test fails, -short or
// not; unset or with any other value it is skipped. Either way the output
// says how to install chromium.
func TestBrowserRequireTools(t *testing.T) {
	t.Parallel()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	emptyDir := t.TempDir()
	const unset = "(unset)"
	tests := []struct {
		value    string // of SLIDINGJWT_REQUIRE_TOOLS
		short    bool
		wantFail bool
	}{
		{value: "1", wantFail: true},
		{value: "1", short: true, wantFail: true},
		{value: unset},
		{value: unset, short: true},
		{value: "0"},
		{value: "0", short: true},
		{value: "true"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s=%s short=%v", requireToolsEnv, tt.value, tt.short)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-test.run=^TestBrowser$", "-test.v", "-test.count=1", "-test.timeout=2m"}
			if tt.short {
				args = append(args, "-test.short")
			}
			cmd := exec.Command(bin, args...)
			for _, kv := range os.Environ() {
				name, _, _ := strings.Cut(kv, "=")
				if name != "PATH" && name != requireToolsEnv && name != "GORACE" {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			// Under -race a child that passes lingers a second at exit
			// by default, for late race reports; it starts nothing.
			cmd.Env = append(cmd.Env, "PATH="+emptyDir, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
			if tt.value != unset {
				cmd.Env = append(cmd.Env, requireToolsEnv+"="+tt.value)
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("running %s: %v", bin, err)
			}
			if !strings.Contains(string(out), chromiumMissing) {
				t.Errorf("output does not say how to install chromium (%q):\n%s", chromiumMissing, out)
			}
			if tt.wantFail {
				if err == nil || !strings.Contains(string(out), "--- FAIL: TestBrowser") {
					t.Errorf("got exit %v, want TestBrowser to fail:\n%s", err, out)
				}
				if !strings.Contains(string(out), requireToolsEnv+"=1, so this is a failure") {
					t.Errorf("the failure does not name %s:\n%s", requireToolsEnv, out)
				}
				return
			}
			if err != nil || !strings.Contains(string(out), "--- SKIP: TestBrowser") {
				t.Errorf("got exit %v, want TestBrowser skipped:\n%s", err, out)
			}
		})
	}
}

// saveScreenshot writes the page to docs/demo.png (UPDATE_SCREENSHOT=1).
func saveScreenshot(t *testing.T, page context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(page, waitGuard)
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

// testClientRules checks the client package (client/client.js, served as
// static/client.js) in the browser against a fake server
// (testdata/harness.js), one rule per case; no token has to age.
func testClientRules(t *testing.T, browser context.Context) {
	s := newScenario(t, browser, shortEnv(nil))
	s.navigate(s.demo.url + "/?poll=0")
	s.do(waitState("active"))
	page := s.page
	harness, err := os.ReadFile(filepath.Join("testdata", "harness.js"))
	if err != nil {
		t.Fatal(err)
	}
	if ok := mustEval[bool](t, page, string(harness)); !ok {
		t.Fatal("harness did not load")
	}

	exp := float64(s.clock.Now().Add(time.Hour).Unix())
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
				const res = await h.client("/api/me");
				return {status: res.status, stored: N(h.stored()), events: h.events, auth: N(h.calls[0].token), credentials: h.calls[0].credentials};`,
			want: map[string]any{"status": 200, "stored": "aliceRenewed", "events": []any{"token:renewed"}, "auth": "alice", "credentials": "same-origin"},
		},
		{
			name: "LightRAG token without sid renews by sub",
			script: `const h = harness.make({token: T.lightrag, handler: () => ({status: 200, headers: {"X-New-Token": T.lightragNext}})});
				await h.client("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "lightragNext", "events": []any{"token:renewed"}},
		},
		{
			name: "late renewal for another user is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.bob}})});
				await h.client("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "alice", "events": []any{"ignored"}},
		},
		{
			name: "renewal of another session of the same user is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.aliceOther}})});
				await h.client("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "alice", "events": []any{"ignored"}},
		},
		{
			name: "older token arriving late is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200, headers: {"X-New-Token": T.aliceOlder}})});
				await h.client("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": "alice", "events": []any{"ignored"}},
		},
		{
			name: "renewal after sign-out is ignored",
			script: `const h = harness.make({token: T.alice, handler: () => { h.client.setToken(null); return {status: 200, headers: {"X-New-Token": T.aliceRenewed}}; }});
				await h.client("/api/me");
				return {stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"stored": nil, "events": []any{"sessionend:signed-out", "ignored"}},
		},
		{
			name: "guest 401s share one refresh and each retries once",
			script: `const h = harness.make({token: T.guest, handler: (path, tok) =>
					path === "/auth-status" ? {status: 200, body: JSON.stringify({auth_configured: false, access_token: T.guestNew, token_type: "bearer", auth_mode: "disabled"})}
					: {status: tok === T.guestNew ? 200 : 401}});
				const results = await Promise.all([h.client("/api/me"), h.client("/api/me"), h.client("/api/status")]);
				return {statuses: results.map(r => r.status), stored: N(h.stored()),
					refreshes: h.paths().filter(p => p === "/auth-status").length, calls: h.calls.length, events: h.events};`,
			want: map[string]any{"statuses": []any{200, 200, 200}, "stored": "guestNew", "refreshes": 1, "calls": 7, "events": []any{"token:guest"}},
		},
		{
			name: "guest second 401 goes to login",
			script: `const h = harness.make({token: T.guest, handler: (path) =>
					path === "/auth-status" ? {status: 200, body: JSON.stringify({auth_configured: false, access_token: T.guestNew})} : {status: 401}});
				const res = await h.client("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me", "/auth-status", "/api/me"}, "stored": nil, "events": []any{"token:guest", "sessionend:rejected"}},
		},
		{
			name: "failed guest refresh goes to login without a retry",
			script: `const h = harness.make({token: T.guest, handler: (path) => ({status: path === "/auth-status" ? 503 : 401})});
				const res = await h.client("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me", "/auth-status"}, "stored": nil, "events": []any{"sessionend:refresh-failed"}},
		},
		{
			name: "guest refresh on a server that now wants logins goes to login",
			script: `const h = harness.make({token: T.guest, handler: (path) =>
					path === "/auth-status" ? {status: 200, body: JSON.stringify({auth_configured: true, auth_mode: "enabled"})} : {status: 401}});
				await h.client("/api/me");
				return {paths: h.paths(), events: h.events};`,
			want: map[string]any{"paths": []any{"/api/me", "/auth-status"}, "events": []any{"sessionend:login-required"}},
		},
		{
			name: "password 401 goes to login with no retry",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 401})});
				const res = await h.client("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": nil, "events": []any{"sessionend:rejected"}},
		},
		{
			// The session is over (the client forgets it), but a request
			// nobody asked for starts no new one: the next one the user
			// makes does.
			name: "background guest 401 reports the end and starts nothing",
			script: `const h = harness.make({token: T.guest, handler: () => ({status: 401})});
				const res = await h.client("/api/status", {background: true});
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/status"}, "stored": nil, "events": []any{"sessionend:rejected:background"}},
		},
		{
			name: "stale 401 from before a new login changes nothing",
			script: `const h = harness.make({token: T.alice, handler: () => { h.client.setToken(T.bob); h.events.length = 0; return {status: 401}; }});
				const res = await h.client("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": "bob", "events": []any{}},
		},
		{
			name: "stale 401 from another session of the same user changes nothing",
			script: `const h = harness.make({token: T.alice, handler: () => { h.client.setToken(T.aliceOther); h.events.length = 0; return {status: 401}; }});
				const res = await h.client("/api/me");
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
				const slow = h.client("/api/slow");
				const me = await h.client("/api/me");
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
				const slow = h.client("/api/slow");
				await h.client("/api/me");
				gate.open();
				const res = await slow;
				return {status: res.status, sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"status": 401, "sent": []any{"/api/slow alice", "/api/me alice", "/api/slow aliceRenewed"},
				"stored": nil, "events": []any{"token:renewed", "sessionend:rejected"},
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
				const poll = h.client("/api/status", {background: true});
				await h.client("/api/me");
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
				const slow = h.client("/api/slow");
				const fast = await h.client("/api/me");
				gate.open();
				const res = await slow;
				return {statuses: [fast.status, res.status], sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"statuses": []any{401, 401},
				"sent":     []any{"/api/slow guest", "/api/me guest", "/auth-status null", "/api/me guestNew"},
				"stored":   nil, "events": []any{"token:guest", "sessionend:rejected"},
			},
		},
		{
			name: "late password 401 after login required reports it once",
			script: `const gate = harness.gate();
				const h = harness.make({token: T.alice, handler: async (path) => {
					if (path === "/api/slow") await gate.wait();
					return {status: 401};
				}});
				const slow = h.client("/api/slow");
				const fast = await h.client("/api/me");
				gate.open();
				const res = await slow;
				return {statuses: [fast.status, res.status], sent: h.sent(N), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{
				"statuses": []any{401, 401}, "sent": []any{"/api/slow alice", "/api/me alice"},
				"stored": nil, "events": []any{"sessionend:rejected"},
			},
		},
		{
			name: "late 401 after sign-out starts nothing",
			script: `const h = harness.make({token: T.guest, handler: () => { h.client.setToken(null); return {status: 401}; }});
				const res = await h.client("/api/me");
				return {status: res.status, paths: h.paths(), stored: N(h.stored()), events: h.events};`,
			want: map[string]any{"status": 401, "paths": []any{"/api/me"}, "stored": nil, "events": []any{"sessionend:signed-out"}},
		},
		{
			// The token goes only to the API's origin: a protocol-relative
			// path, or one the URL parser turns into one, is refused.
			name: "requests to another origin are refused",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200})});
				const paths = ["//evil.example/collect", "/\\evil.example/collect", "\t//evil.example/collect",
					"https://evil.example/collect", "http://" + location.hostname + ".evil.example/collect"];
				const outcomes = [];
				for (const p of paths) outcomes.push(await harness.outcome(h.client(p)));
				let message = "";
				try { await h.client("//evil.example/collect"); } catch (err) { message = err.message; }
				return {outcomes, calls: h.calls.length, names: message.includes("evil.example") && message.includes(location.origin)};`,
			want: map[string]any{
				"outcomes": []any{"ForeignOriginError", "ForeignOriginError", "ForeignOriginError", "ForeignOriginError", "ForeignOriginError"},
				"calls":    0, "names": true,
			},
		},
		{
			name: "requests to the page's origin carry the token",
			script: `const h = harness.make({token: T.alice, handler: () => ({status: 200})});
				await h.client("/api/me");
				await h.client(location.origin + "/api/status");
				return {urls: h.calls.map(c => c.url.replace(location.origin, "ORIGIN")), tokens: h.calls.map(c => N(c.token))};`,
			want: map[string]any{"urls": []any{"ORIGIN/api/me", "ORIGIN/api/status"}, "tokens": []any{"alice", "alice"}},
		},
		{
			name: "with a base URL only its origin gets the token",
			script: `const h = harness.make({token: T.alice, baseURL: "http://api.example:8080", handler: () => ({status: 200})});
				const outcomes = [];
				for (const p of ["//evil.example/x", "http://api.example:8080/api/me", location.origin + "/api/me", "http://api.example:8081/api/me"]) {
					outcomes.push(await harness.outcome(h.client(p)));
				}
				return {outcomes, urls: h.calls.map(c => c.url)};`,
			want: map[string]any{
				"outcomes": []any{"status 200", "status 200", "ForeignOriginError", "ForeignOriginError"},
				"urls":     []any{"http://api.example:8080//evil.example/x", "http://api.example:8080/api/me"},
			},
		},
		{
			name: "a login or guest refresh path on another origin is refused",
			script: `const h = harness.make({guestPath: "//evil.example/auth-status", loginPath: "//evil.example/login", handler: () => ({status: 200})});
				return {authStatus: await harness.outcome(h.client.guestSession()), login: await harness.outcome(h.client.login("alice", "wonderland")), calls: h.calls.length};`,
			want: map[string]any{"authStatus": "ForeignOriginError", "login": "ForeignOriginError", "calls": 0},
		},
		{
			name: "base URL for a cross-origin API",
			script: `const h = harness.make({token: T.alice, baseURL: "http://api.example:8080/", handler: () => ({status: 200})});
				await h.client("/api/me");
				await h.client("api/status");
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
