package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The client package in two real tabs of one origin (one browser
// context: they share localStorage, a BroadcastChannel and the Web Locks
// of the origin, and in cookie delivery the cookie). Both tabs and the
// demo share the scenario's virtual clock: advanceTabs moves all three.

// guestLock is the Web Lock the page's client takes to start a guest
// session: "slidingjwt:" + the storage key + ":guest".
const guestLock = "slidingjwt:" + storageKey + ":guest"

// otherTab opens a second tab in the browser context of s's tab, on url,
// its page clock at the scenario's time.
func (s *scenario) otherTab(url string) *scenario {
	s.t.Helper()
	ctx, cancel := chromedp.NewContext(s.page) // a new tab in the same browser context
	s.t.Cleanup(cancel)
	if err := open(ctx, waitGuard); err != nil {
		s.t.Fatalf("opening a second tab: %v", err)
	}
	o := &scenario{t: s.t, clock: s.clock, demo: s.demo, page: ctx}
	o.navigate(url)
	return o
}

// guestTabs starts a demo in guest mode and opens its page in two tabs of
// one browser context, with the query query (e.g. "poll=0"; b's own when
// given), both showing the one guest session.
func guestTabs(t *testing.T, browser context.Context, query string, bQuery ...string) (a, b *scenario) {
	t.Helper()
	a = newScenario(t, browser, shortEnv(nil))
	a.navigate(a.demo.url + "/?" + query)
	a.do(waitState("active"))
	if len(bQuery) > 0 {
		query = bQuery[0]
	}
	b = a.otherTab(a.demo.url + "/?" + query)
	b.do(waitState("active"))
	return a, b
}

// advanceTabs moves the time d forward for the demo and every tab.
func advanceTabs(d time.Duration, first *scenario, others ...*scenario) {
	first.t.Helper()
	first.advance(d)
	for _, o := range others {
		o.advancePage(d)
	}
}

// click clicks the button with id in the tab without waiting for what it
// starts.
func click(t *testing.T, tab context.Context, id string) {
	t.Helper()
	mustEval[bool](t, tab, fmt.Sprintf(`(document.getElementById(%q).click(), true)`, id))
}

func testTabs(t *testing.T, browser context.Context) {
	t.Run("tabs: a renewal in one tab reaches the other at once", func(t *testing.T) {
		t.Parallel()
		a, b := guestTabs(t, browser, "poll=0")
		d := a.demo
		first := storedToken(t, a.page)
		if got := mustEval[string](t, b.page, `window.demo.client.token`); got != first {
			t.Fatalf("the second tab did not take up the stored session")
		}
		before := decode(t, first)
		requests := len(strings.Split(strings.TrimSpace(d.traffic.summary()), "\n"))

		advanceTabs(renewalDue(before).Sub(a.clock.Now()), a, b)
		a.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
		)
		renewed := storedToken(t, a.page)
		after := decode(t, renewed)
		if renewed == first || after.Sid != before.Sid || after.Exp <= before.Exp {
			t.Fatalf("tab a did not renew: sid %q exp %v, before sid %q exp %v", after.Sid, after.Exp, before.Sid, before.Exp)
		}
		// Tab b hears of it (the channel), with no request of its own, and
		// shows the new expiry.
		b.do(waitFor(`document.body.dataset.renewals === "1"`))
		if got := mustEval[float64](t, b.page, `window.demo.page.shown.exp`); got != after.Exp {
			t.Errorf("tab b shows exp %v, want the renewal's %v", got, after.Exp)
		}
		log := mustEval[string](t, b.page, `document.getElementById("log").textContent`)
		if !strings.Contains(log, "renewed (in another tab)") {
			t.Errorf("tab b's log does not say the renewal came from another tab:\n%s", log)
		}
		if got := len(strings.Split(strings.TrimSpace(d.traffic.summary()), "\n")) - requests; got != 2 {
			t.Errorf("requests after the tabs were open: got %d, want 2 (tab a's /api/me and the panel's read)\n%s", got, d.traffic.summary())
		}
	})

	t.Run("tabs: a sign-out in one tab ends the session in the other", func(t *testing.T) {
		t.Parallel()
		a := newLoginScenario(t, browser)
		d := a.demo
		a.login("alice", "wonderland")
		a.do(waitState("active"))
		b := a.otherTab(d.url + "/?poll=0")
		b.do(waitState("active"))

		a.do(chromedp.Click(chromedp.ID("sign-out")), waitState("login"))
		b.do(waitState("login"), chromedp.WaitVisible(chromedp.ID("login-notice")))
		if got := mustEval[string](t, b.page, `document.getElementById("login-notice").textContent`); !strings.Contains(got, "another tab") {
			t.Errorf("tab b's notice: got %q, want it to say another tab signed out", got)
		}
		if got := mustEval[*string](t, b.page, `window.demo.client.token`); got != nil {
			t.Errorf("tab b still holds a token")
		}
		logout := func(h hit) bool { return h.method == http.MethodPost && h.path == "/api/logout" }
		if got := d.traffic.count(logout); got != 1 {
			t.Errorf("POST /api/logout: got %d, want 1 (tab a's only)\n%s", got, d.traffic.summary())
		}
	})

	t.Run("tabs: only one tab starts the new guest session", func(t *testing.T) {
		t.Parallel()
		a, b := guestTabs(t, browser, "poll=0")
		d := a.demo
		old := storedToken(t, a.page)

		// The guest session is signed out behind the tabs' backs, so both
		// tabs' next requests get a 401 and each needs a new session.
		req, err := http.NewRequest(http.MethodPost, d.url+"/api/logout", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+old)
		res, err := d.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("signing the guest out: %d", res.StatusCode)
		}

		// The first /auth-status is held until the other tab waits on the
		// guest lock: without the lock it would ask for a session too.
		release := make(chan struct{})
		var once sync.Once
		arrived := make(chan struct{})
		d.traffic.setHold(func(r *http.Request) {
			if r.URL.Path == "/auth-status" {
				once.Do(func() { close(arrived) })
				<-release
			}
		})
		t.Cleanup(func() { d.traffic.setHold(nil) })
		var releaseOnce sync.Once
		open := func() { releaseOnce.Do(func() { close(release) }) }
		t.Cleanup(open)
		statusBefore := d.traffic.count(get("/auth-status"))

		click(t, a.page, "call-me")
		click(t, b.page, "call-me")
		select {
		case <-arrived:
		case <-time.After(waitGuard):
			t.Fatalf("no /auth-status arrived\n%s", d.traffic.summary())
		}
		a.do(waitFor(fmt.Sprintf(`navigator.locks.query().then((q) => q.held.filter((l) => l.name === %q).length === 1 && q.pending.filter((l) => l.name === %q).length === 1)`, guestLock, guestLock)))
		open()
		for _, tab := range []*scenario{a, b} {
			tab.do(waitFor(`document.body.dataset.meCalls === "1"`))
			if got := dataset(t, tab.page, "meStatus"); got != "200" {
				t.Errorf("/api/me in a tab: got %s, want 200 after the retry", got)
			}
		}
		if got := d.traffic.count(get("/auth-status")) - statusBefore; got != 1 {
			t.Errorf("/auth-status calls for two tabs: got %d, want 1\n%s", got, d.traffic.summary())
		}
		me := func(status int) int {
			return d.traffic.count(func(h hit) bool { return get("/api/me")(h) && h.status == status })
		}
		if me(http.StatusUnauthorized) != 2 || me(http.StatusOK) != 2 {
			t.Errorf("/api/me: want two 401s (one a tab) and two retries answered 200\n%s", d.traffic.summary())
		}
		ta, tb := storedToken(t, a.page), storedToken(t, b.page)
		if ta != tb || ta == old || decode(t, ta).Sid == decode(t, old).Sid {
			t.Errorf("the tabs hold %s and %s, want one new guest session", ta, tb)
		}
	})

	t.Run("tabs: idle tabs run out; background polls renew nothing", func(t *testing.T) {
		t.Parallel()
		a, b := guestTabs(t, browser, "poll=0", "poll=1") // b polls /api/status every second
		d := a.demo
		first := decode(t, storedToken(t, a.page))

		for a.clock.Now().Before(first.expires().Add(time.Second)) {
			advanceTabs(time.Second, a, b)
		}
		polls := get("/api/status")
		if n := d.traffic.count(func(h hit) bool { return polls(h) && h.status == http.StatusOK && !h.at.Before(renewalDue(first)) }); n < 2 {
			t.Fatalf("polls past the renewal threshold answered 200: %d, want at least 2\n%s", n, d.traffic.summary())
		}
		if n := d.traffic.count(func(h hit) bool { return h.renewed }); n != 0 {
			t.Errorf("renewals: got %d, want none (only background polls were made)\n%s", n, d.traffic.summary())
		}
		for name, tab := range map[string]*scenario{"a": a, "b": b} {
			if got := dataset(t, tab.page, "state"); got != "expired" {
				t.Errorf("tab %s: state %q, want expired", name, got)
			}
			if got := storedToken(t, tab.page); got != "" {
				t.Errorf("tab %s still holds a token", name)
			}
		}
		if got := dataset(t, a.page, "expiredBy"); got != "clock" && got != "server" {
			t.Errorf("tab a expired by %q", got)
		}
		if got := d.traffic.count(get("/auth-status")); got != 1 {
			t.Errorf("/auth-status calls: got %d, want 1 (the page's start; an idle tab starts no session)\n%s", got, d.traffic.summary())
		}
	})

	t.Run("tabs: cookie delivery, a renewal and a sign-out reach the other tab", func(t *testing.T) {
		t.Parallel()
		a := newCookieScenario(t, browser, cookieEnv(accountsEnv()))
		d := a.demo
		a.navigate(d.url + "/?poll=0")
		a.do(waitState("login"))
		a.login("alice", "wonderland")
		a.do(waitState("active"))
		b := a.otherTab(d.url + "/?poll=0")
		b.do(waitState("active")) // resumed: the cookie is shared
		exp := mustEval[float64](t, a.page, `window.demo.page.shown.exp`)

		advanceTabs(40*time.Second, a, b) // past half of the 72 s
		a.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.renewals === "1"`),
		)
		renewed := mustEval[float64](t, a.page, `window.demo.page.shown.exp`)
		if renewed <= exp {
			t.Fatalf("tab a's expiry after the renewal: %v, want later than %v", renewed, exp)
		}
		b.do(waitFor(`document.body.dataset.renewals === "1"`))
		if got := mustEval[float64](t, b.page, `window.demo.page.shown.exp`); got != renewed {
			t.Errorf("tab b shows exp %v, want the renewal's %v", got, renewed)
		}

		a.do(chromedp.Click(chromedp.ID("sign-out")), waitState("login"))
		b.do(waitState("login"))
		if c := a.sessionCookie(); c != nil {
			t.Errorf("the session cookie is still there after the sign-out")
		}
		stored := mustEval[[]string](t, b.page, `Object.keys(localStorage).map((k) => k + "=" + localStorage.getItem(k))`)
		for _, kv := range stored {
			if strings.Contains(kv, "eyJ") {
				t.Errorf("localStorage holds a token in cookie delivery: %q", kv)
			}
		}
	})

	t.Run("tabs: axios in the page picks up a renewal that reaches the other tab", func(t *testing.T) {
		t.Parallel()
		axiosSrc := axiosBrowserBuild(t)
		a, b := guestTabs(t, browser, "poll=0")
		d := a.demo
		// axios's browser build defines window.axios; the adapter is the
		// demo's copy of the package's axios.js.
		mustEval[bool](t, a.page, axiosSrc+";\ntypeof window.axios === \"function\"")
		ok := mustEval[bool](t, a.page, `import("/static/axios.js").then(({attach}) => {
			window.http = window.axios.create();
			attach(window.http, window.demo.client);
			return true;
		})`)
		if !ok {
			t.Fatal("the adapter did not load")
		}
		first := storedToken(t, a.page)
		before := decode(t, first)
		advanceTabs(renewalDue(before).Sub(a.clock.Now()), a, b)

		got := mustEval[struct {
			Status   int    `json:"status"`
			Sub      string `json:"sub"`
			NewToken string `json:"newToken"`
		}](t, a.page, `window.http.get("/api/me").then((r) => ({status: r.status, sub: r.data.sub, newToken: r.headers["x-new-token"] ?? ""}))`)
		if got.Status != http.StatusOK || got.Sub != "guest" || got.NewToken == "" {
			t.Fatalf("axios GET /api/me in the page: %+v, want 200 for the guest with a renewal\n%s", got, d.traffic.summary())
		}
		if tok := storedToken(t, a.page); tok != got.NewToken {
			t.Errorf("the renewal axios received is not the stored token")
		}
		b.do(waitFor(`document.body.dataset.renewals === "1"`))
		if got := mustEval[float64](t, b.page, `window.demo.page.shown.exp`); got != decode(t, storedToken(t, a.page)).Exp {
			t.Errorf("tab b shows exp %v, want the renewal's", got)
		}
		foreign := mustEval[string](t, a.page, `window.http.get("http://evil.example/x").then(() => "sent", (e) => e.name)`)
		if foreign != "ForeignOriginError" {
			t.Errorf("axios to another origin: %q, want ForeignOriginError", foreign)
		}
	})
}

// axiosBrowserBuild reads axios's browser build (dist/axios.min.js, which
// defines window.axios) from the client package's dev dependencies,
// installed by `npm ci` in client/ (make test runs it first). Without it
// the test skips, or fails under SLIDINGJWT_REQUIRE_TOOLS=1.
func axiosBrowserBuild(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "client", "node_modules", "axios", "dist", "axios.min.js"))
	if err != nil {
		msg := fmt.Sprintf("axios is not installed in client/node_modules (run npm ci in client/; make test does): %v", err)
		if toolsRequired() {
			t.Fatalf("%s; %s=1, so this is a failure", msg, requireToolsEnv)
		}
		t.Skip(msg)
	}
	return string(b)
}
