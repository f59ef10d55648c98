package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
)

// The cookie-delivery browser tests (TOKEN_DELIVERY=cookie). Each runs in
// a browser context of its own: cookies ignore ports, so two demos on
// 127.0.0.1 would otherwise see each other's session cookie. Tokens live
// 72 s of virtual time here, not 7.2 s: the browser judges a cookie's
// Max-Age by the real clock, which must not run out during a test.

// cookieName is the demo's session cookie over plain HTTP.
const cookieName = "slidingjwt_session"

// cookieEnv is shortEnv in cookie delivery, tokens living 72 s, plus extra.
func cookieEnv(extra map[string]string) map[string]string {
	env := shortEnv(map[string]string{
		"TOKEN_DELIVERY":           "cookie",
		"GUEST_TOKEN_EXPIRE_HOURS": "0.02",
		"TOKEN_EXPIRE_HOURS":       "0.02",
	})
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// newCookieScenario starts a demo with env and opens a tab in a browser
// context of its own.
func newCookieScenario(t *testing.T, browser context.Context, env map[string]string) *scenario {
	t.Helper()
	clock := testkit.NewClock(virtualStart)
	d := startDemoWithClock(t, env, clock.Now)
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := open(ctx, waitGuard); err != nil {
		t.Fatalf("opening a tab in a new browser context: %v", err)
	}
	return &scenario{t: t, clock: clock, demo: d, page: ctx}
}

// sessionCookie returns the tab's session cookie for the demo, or nil.
func (s *scenario) sessionCookie() *network.Cookie {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.page, stepsGuard)
	defer cancel()
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.demo.url + "/"}})
	if err != nil {
		s.t.Fatalf("reading the cookies: %v", err)
	}
	for _, c := range got.Cookies {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// signedInCookieScenario is a cookie scenario on a demo with password
// accounts, alice signed in on its page.
func signedInCookieScenario(t *testing.T, browser context.Context) *scenario {
	t.Helper()
	s := newCookieScenario(t, browser, cookieEnv(accountsEnv()))
	s.navigate(s.demo.url + "/?poll=0")
	s.do(waitState("login"))
	s.login("alice", "wonderland")
	s.do(waitState("active"))
	return s
}

func testCookieDelivery(t *testing.T, browser context.Context) {
	t.Run("cookie: out of script's reach, and the session slides", func(t *testing.T) {
		t.Parallel()
		s := newCookieScenario(t, browser, cookieEnv(nil))
		d := s.demo
		s.navigate(d.url + "/?poll=0")
		s.do(waitState("active"))
		first := s.sessionCookie()
		if first == nil || first.Value == "" {
			t.Fatal("no session cookie after the guest sign-in")
		}
		if !first.HTTPOnly || first.SameSite != network.CookieSameSiteLax || first.Path != "/" {
			t.Errorf("cookie HttpOnly %v, SameSite %q, Path %q; want HttpOnly, Lax, /", first.HTTPOnly, first.SameSite, first.Path)
		}
		visible := mustEval[string](t, s.page, `document.cookie`)
		if strings.Contains(visible, cookieName) || strings.Contains(visible, first.Value) {
			t.Errorf("document.cookie shows the session cookie: %q", visible)
		}
		stored := mustEval[[]string](t, s.page, `Object.keys(localStorage).map((k) => k + "=" + localStorage.getItem(k))`)
		for _, kv := range stored {
			if strings.Contains(kv, first.Value) || strings.Contains(kv, "eyJ") {
				t.Errorf("localStorage holds a token: %q", kv)
			}
		}
		if n := d.traffic.count(func(h hit) bool {
			return h.method == http.MethodPost && h.path == "/login" && h.status == http.StatusOK
		}); n != 1 {
			t.Fatalf("POST /login answered 200 %d times, want 1\n%s", n, d.traffic.summary())
		}

		s.advance(40 * time.Second) // past half of the 72 s
		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
			waitFor(`document.body.dataset.renewals === "1"`),
		)
		second := s.sessionCookie()
		if second == nil || second.Value == first.Value {
			t.Fatalf("the session cookie did not change over the renewal\n%s", d.traffic.summary())
		}
		if got := dataset(t, s.page, "state"); got != "active" {
			t.Errorf("page state after the renewal: %q, want active", got)
		}
		if got := dataset(t, s.page, "meStatus"); got != "200" {
			t.Errorf("GET /api/me: %s, want 200", got)
		}
		// The old cookie's time is up; the new one carries the session on.
		s.advance(40 * time.Second)
		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "2"`),
		)
		if got := dataset(t, s.page, "meStatus"); got != "200" {
			t.Errorf("GET /api/me past the first token's exp: %s, want 200\n%s", got, d.traffic.summary())
		}
	})

	t.Run("cookie: a form from another port of the host is refused", func(t *testing.T) {
		t.Parallel()
		s := signedInCookieScenario(t, browser)
		d := s.demo
		before := s.sessionCookie()
		if before == nil {
			t.Fatal("no session cookie after the login")
		}
		// A page on another port of the same host (same site, another
		// origin, not in CORS_ORIGINS) posts a form to a protected POST
		// route: the browser sends the cookie along (SameSite=Lax lets
		// same-site requests have it), the cross-origin check refuses.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><form id="f" method="POST" action="%s/api/logout"></form>
<script>document.getElementById("f").submit()</script>`, d.url)
		}))
		t.Cleanup(evil.Close)
		s.do(chromedp.Navigate(evil.URL))
		logout := func(h hit) bool { return h.method == http.MethodPost && h.path == "/api/logout" }
		// The form's POST reaches the demo (a 204 would leave the page
		// where it is, so wait on the server's side).
		for deadline := time.Now().Add(waitGuard); d.traffic.count(logout) == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the form's POST /api/logout never arrived\n%s", d.traffic.summary())
			}
		}
		if n := d.traffic.count(func(h hit) bool {
			return logout(h) && h.status == http.StatusForbidden && h.cookie && h.fetch == "same-site"
		}); n != 1 {
			t.Fatalf("the same-site form's POST /api/logout with the cookie: %d answered 403, want 1\n%s", n, d.traffic.summary())
		}
		if n := d.traffic.count(func(h hit) bool { return logout(h) && h.status != http.StatusForbidden }); n != 0 {
			t.Fatalf("%d POST /api/logout went through\n%s", n, d.traffic.summary())
		}
		// Nothing changed: the cookie is the same, and it still works.
		if after := s.sessionCookie(); after == nil || after.Value != before.Value {
			t.Fatal("the refused request changed the session cookie")
		}
		s.navigate(d.url + "/?poll=0")
		s.do(waitState("active"))
	})

	t.Run("cookie: a trusted second origin works with credentials", func(t *testing.T) {
		t.Parallel()
		pageSrv := httptest.NewUnstartedServer(nil)
		origin := "http://" + pageSrv.Listener.Addr().String()
		s := newCookieScenario(t, browser, cookieEnv(map[string]string{"CORS_ORIGINS": origin}))
		d := s.demo
		pageSrv.Config.Handler = pageHandler(d.url, "cookie")
		pageSrv.Start()
		t.Cleanup(pageSrv.Close)

		s.navigate(pageSrv.URL + "/?poll=0")
		s.do(waitState("active"))
		first := s.sessionCookie()
		if first == nil {
			t.Fatalf("no session cookie for the API after the second origin's sign-in\n%s", d.traffic.summary())
		}
		s.advance(40 * time.Second)
		s.do(
			chromedp.Click(chromedp.ID("call-me")),
			waitFor(`document.body.dataset.meCalls === "1"`),
			waitFor(`document.body.dataset.renewals === "1"`),
		)
		if second := s.sessionCookie(); second == nil || second.Value == first.Value {
			t.Errorf("the cookie did not change over the second origin's renewal\n%s", d.traffic.summary())
		}
		signIn := func(h hit) bool {
			return h.method == http.MethodPost && h.path == "/login" && h.origin == origin && h.status == http.StatusOK
		}
		if n := d.traffic.count(signIn); n != 1 {
			t.Errorf("POST /login from %s answered 200 %d times, want 1\n%s", origin, n, d.traffic.summary())
		}
		if n := d.traffic.count(func(h hit) bool {
			return h.path == "/api/me" && h.origin == origin && h.cookie && h.status == http.StatusOK
		}); n < 1 {
			t.Errorf("no GET /api/me from %s with the cookie answered 200\n%s", origin, d.traffic.summary())
		}
	})

	t.Run("cookie: sign-out deletes the cookie, and the old value gets 401", func(t *testing.T) {
		t.Parallel()
		s := signedInCookieScenario(t, browser)
		d := s.demo
		old := s.sessionCookie()
		if old == nil {
			t.Fatal("no session cookie after the login")
		}
		s.do(
			chromedp.Click(chromedp.ID("sign-out")),
			waitState("login"),
		)
		if c := s.sessionCookie(); c != nil {
			t.Fatalf("the session cookie is still there after sign-out: %q", c.Value)
		}
		// Put the old value back, as whoever copied it would.
		ctx, cancel := context.WithTimeout(s.page, stepsGuard)
		defer cancel()
		httpOnly := true
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
			Name: cookieName, Value: old.Value, URL: d.url + "/", Path: "/", HTTPOnly: &httpOnly,
		})
		if err != nil {
			t.Fatalf("setting the old cookie again: %v", err)
		}
		if c := s.sessionCookie(); c == nil || c.Value != old.Value {
			t.Fatal("the old cookie was not set again")
		}
		got := mustEval[struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
		}](t, s.page, `fetch("/api/me", {credentials: "include"}).then(async (r) => ({status: r.status, message: (await r.json()).message ?? ""}))`)
		if got.Status != http.StatusUnauthorized || !strings.Contains(got.Message, "session has ended") {
			t.Errorf("the old cookie after sign-out: %d %q, want 401 saying the session has ended\n%s", got.Status, got.Message, d.traffic.summary())
		}
	})
}
