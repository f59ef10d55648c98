package doortest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
)

// The cookie scenarios run with TOKEN_DELIVERY=cookie (or both): the
// default cookie (config.DefaultCookieName, Secure, SameSite=Lax, Path /)
// unless they say otherwise, and https://trusted.example.test a trusted
// origin.

// trustedOrigin is the origin every cookie scenario trusts.
const trustedOrigin = "https://trusted.example.test"

// cookieApp builds x's door's application in delivery mode, with change,
// when set, adjusting the Setup further.
func cookieApp(t *testing.T, x target, mode string, change func(*Setup)) *app {
	t.Helper()
	return newApp(t, x, func(s *Setup) {
		s.Settings.Delivery = mode
		s.Settings.TrustedOrigins = []string{trustedOrigin}
		if change != nil {
			change(s)
		}
	})
}

// send serves a request of method for path through the door's handler, in
// process, with tok in the cookie named cookie (when both are set) and
// header's name/value pairs.
func (a *app) send(method, path, cookie, tok string, header ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := a.request("http://example.test", path, "", header...)
	req.Method = method
	req.RequestURI = req.URL.RequestURI()
	if cookie != "" && tok != "" {
		req.AddCookie(&http.Cookie{Name: cookie, Value: tok})
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the response's one Set-Cookie of the cookie named
// name, parsed, and its text; nil when there is none. It fails t when
// there are several.
func sessionCookie(t *testing.T, h http.Header, name string) (*http.Cookie, string) {
	t.Helper()
	var found []string
	for _, line := range h.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			found = append(found, line)
		}
	}
	switch len(found) {
	case 0:
		return nil, ""
	case 1:
	default:
		t.Fatalf("%d Set-Cookie headers for %s, want one: %q", len(found), name, found)
	}
	c, err := http.ParseSetCookie(found[0])
	if err != nil {
		t.Fatalf("Set-Cookie %q does not parse: %v", found[0], err)
	}
	return c, found[0]
}

// cookieRenewal: in cookie delivery a due token in the session cookie is
// renewed with a Set-Cookie of that cookie on the same response (HttpOnly,
// Secure, SameSite=Lax, Path=/, Max-Age and Expires matching the new exp),
// with Cache-Control: no-store and Vary: Cookie, never in X-New-Token; the
// renewal carries the new expiry in X-Session-Expires, exposed to another
// origin (cookieExpires has the other responses); the renewal rules are the header
// mode's (threshold, rate limit); a bearer header is not looked at. The
// configured attributes (SameSite, Path, Domain, a name without prefix,
// Secure off) are the ones sent.
func cookieRenewal(t *testing.T, x target) {
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		a := cookieApp(t, x, config.DeliveryCookie, nil)
		name := config.DefaultCookieName
		tok := a.mint("alice", "user", 0)

		rec := a.at(time.Hour).send(http.MethodGet, "/api/me", name, tok)
		wantStatus(t, rec, http.StatusOK)
		if c, _ := sessionCookie(t, rec.Header(), name); c != nil {
			t.Errorf("a token not due set the cookie: %v", c)
		}
		if got := rec.Header().Get(engine.HeaderSessionExpires); got != "" {
			t.Errorf("%s before renewal = %q, want none: the request did not ask", engine.HeaderSessionExpires, got)
		}

		now := start.Add(13 * time.Hour)
		rec = a.at(13*time.Hour).send(http.MethodGet, "/api/me", name, tok, "Origin", "https://app.example.test")
		wantStatus(t, rec, http.StatusOK)
		c, line := sessionCookie(t, rec.Header(), name)
		if c == nil {
			t.Fatalf("a due token set no cookie (headers %v, events %q)", rec.Header(), a.reasons())
		}
		exp := now.Add(24 * time.Hour)
		claims := parse(t, c.Value)
		hdr := rec.Header()
		for _, check := range []struct {
			name      string
			got, want any
		}{
			{"renewed token's sub", claims["sub"], "alice"},
			{"renewed token's exp", unix(claims, "exp"), exp.Unix()},
			{"HttpOnly", c.HttpOnly, true},
			{"Secure", c.Secure, true},
			{"SameSite", c.SameSite, http.SameSiteLaxMode},
			{"Path", c.Path, "/"},
			{"Domain", c.Domain, ""},
			{"Max-Age", c.MaxAge, int(24 * time.Hour / time.Second)},
			{"Expires", c.Expires.Unix(), exp.Unix()},
			{"Set-Cookie length within the cap", len(line) <= engine.MaxCookieSize, true},
			{"X-New-Token", hdr.Get(engine.HeaderNewToken), ""},
			{"Cache-Control", hdr.Get("Cache-Control"), "no-store"},
			{"Vary has Cookie", slices.Contains(strings.Split(strings.ReplaceAll(strings.Join(hdr.Values("Vary"), ","), " ", ""), ","), "Cookie"), true},
			{engine.HeaderSessionExpires, hdr.Get(engine.HeaderSessionExpires), strconv.FormatInt(exp.Unix(), 10)},
			{"Expose-Headers", hdr.Get("Access-Control-Expose-Headers"), engine.HeaderSessionExpires},
		} {
			if check.got != check.want {
				t.Errorf("%s = %v, want %v (Set-Cookie %q)", check.name, check.got, check.want, line)
			}
		}
		a.wantAllows(1)

		// The old cookie again, 30 s later: rate limited, as in header mode.
		rec = a.at(13*time.Hour+30*time.Second).send(http.MethodGet, "/api/me", name, tok)
		wantStatus(t, rec, http.StatusOK)
		if c, _ := sessionCookie(t, rec.Header(), name); c != nil {
			t.Error("a second renewal within the interval set the cookie")
		}
		// The renewed cookie works; a bearer header is not looked at.
		wantStatus(t, a.send(http.MethodGet, "/api/me", name, c.Value), http.StatusOK)
		wantStatus(t, a.get("/api/me", tok), http.StatusUnauthorized)
		a.wantReasons(string(engine.ReasonThreshold), renewed, string(engine.ReasonRateLimited), string(engine.ReasonThreshold))
	})
	t.Run("configured attributes", func(t *testing.T) {
		t.Parallel()
		a := cookieApp(t, x, config.DeliveryCookie, func(s *Setup) {
			s.Settings.Cookie = config.Cookie{Name: "sid", Insecure: true, SameSite: "Strict", Path: "/api", Domain: "example.test"}
		})
		tok := a.mint("alice", "user", 0)
		rec := a.at(13*time.Hour).send(http.MethodGet, "/api/me", "sid", tok)
		wantStatus(t, rec, http.StatusOK)
		c, line := sessionCookie(t, rec.Header(), "sid")
		if c == nil {
			t.Fatal("a due token set no cookie")
		}
		if c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/api" || c.Domain != "example.test" {
			t.Errorf("Set-Cookie %q, want HttpOnly, not Secure, SameSite=Strict, Path=/api, Domain=example.test", line)
		}
	})
}

// cookieExpires: X-Session-Expires goes on a response that sets the
// session cookie (a renewal; cookieSignIn has the sign-in) and on an
// authenticated response to a request that asks for it with a non-empty
// X-Session-Expires request header, and on no other: not on a plain
// authenticated response, not on a 401, not in header delivery. Whenever
// it is sent to a request with an Origin it is listed in
// Access-Control-Expose-Headers, and only then.
func cookieExpires(t *testing.T, x target) {
	name := config.DefaultCookieName
	const origin = "https://app.example.test"
	first := strconv.FormatInt(start.Add(24*time.Hour).Unix(), 10)                // the minted token's exp
	renewed := strconv.FormatInt(start.Add(13*time.Hour+24*time.Hour).Unix(), 10) // a renewal's at 13 h
	tests := []struct {
		name    string
		mode    string
		at      time.Duration // since the token was minted: 13 h is due
		bearer  bool          // the token in Authorization instead of the cookie
		tok     string        // "" the minted token
		headers []string
		status  int
		want    string // X-Session-Expires, "" none
	}{
		{"plain", config.DeliveryCookie, time.Hour, false, "", nil, http.StatusOK, ""},
		{"plain with an Origin", config.DeliveryCookie, time.Hour, false, "", []string{"Origin", origin}, http.StatusOK, ""},
		{"asking", config.DeliveryCookie, time.Hour, false, "", []string{engine.HeaderSessionExpires, "?"}, http.StatusOK, first},
		{"asking with an Origin", config.DeliveryCookie, time.Hour, false, "", []string{engine.HeaderSessionExpires, "?", "Origin", origin}, http.StatusOK, first},
		{"asking with an empty value", config.DeliveryCookie, time.Hour, false, "", []string{engine.HeaderSessionExpires, "", "Origin", origin}, http.StatusOK, ""},
		{"renewal", config.DeliveryCookie, 13 * time.Hour, false, "", nil, http.StatusOK, renewed},
		{"renewal with an Origin", config.DeliveryCookie, 13 * time.Hour, false, "", []string{"Origin", origin}, http.StatusOK, renewed},
		{"renewal asking", config.DeliveryCookie, 13 * time.Hour, false, "", []string{engine.HeaderSessionExpires, "?", "Origin", origin}, http.StatusOK, renewed},
		{"asking, 401", config.DeliveryCookie, time.Hour, false, "not.a.jwt", []string{engine.HeaderSessionExpires, "?", "Origin", origin}, http.StatusUnauthorized, ""},
		{"both delivery, asking", config.DeliveryBoth, time.Hour, false, "", []string{engine.HeaderSessionExpires, "?"}, http.StatusOK, first},
		{"both delivery, plain", config.DeliveryBoth, time.Hour, false, "", nil, http.StatusOK, ""},
		{"header delivery, asking", config.DeliveryHeader, time.Hour, true, "", []string{engine.HeaderSessionExpires, "?", "Origin", origin}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := cookieApp(t, x, tt.mode, nil)
			tok := tt.tok
			if tok == "" {
				tok = a.mint("alice", "user", 0)
			}
			a.at(tt.at)
			var rec *httptest.ResponseRecorder
			if tt.bearer {
				rec = a.get("/api/me", tok, tt.headers...)
			} else {
				rec = a.send(http.MethodGet, "/api/me", name, tok, tt.headers...)
			}
			wantStatus(t, rec, tt.status)
			hdr := rec.Header()
			if got := strings.Join(hdr.Values(engine.HeaderSessionExpires), ","); got != tt.want {
				t.Errorf("%s = %q, want %q", engine.HeaderSessionExpires, got, tt.want)
			}
			hasOrigin := slices.Contains(tt.headers, "Origin")
			exposed := slices.Contains(strings.Split(strings.ReplaceAll(strings.Join(hdr.Values("Access-Control-Expose-Headers"), ","), " ", ""), ","), engine.HeaderSessionExpires)
			if got, want := exposed, tt.want != "" && hasOrigin; got != want {
				t.Errorf("%s in Access-Control-Expose-Headers (%q): %v, want %v", engine.HeaderSessionExpires, hdr.Values("Access-Control-Expose-Headers"), got, want)
			}
		})
	}
}

// cookieBoth: with TOKEN_DELIVERY=both a token is renewed the way it came:
// a bearer token in X-New-Token (no cookie), a cookie token in the
// cookie (no X-New-Token).
func cookieBoth(t *testing.T, x target) {
	a := cookieApp(t, x, config.DeliveryBoth, nil)
	name := config.DefaultCookieName
	a.at(13 * time.Hour)
	rec := a.get("/api/me", a.mint("alice", "user", 0))
	wantStatus(t, rec, http.StatusOK)
	if c, _ := sessionCookie(t, rec.Header(), name); c != nil || newToken(rec.Header()) == "" {
		t.Errorf("bearer token: cookie %v, X-New-Token %q; want no cookie and a new token", c, newToken(rec.Header()))
	}
	rec = a.send(http.MethodGet, "/api/me", name, a.mint("bob", "user", 0))
	wantStatus(t, rec, http.StatusOK)
	if c, _ := sessionCookie(t, rec.Header(), name); c == nil || newToken(rec.Header()) != "" {
		t.Errorf("cookie token: cookie %v, X-New-Token %q; want a cookie and no X-New-Token", c, newToken(rec.Header()))
	}
	a.wantAllows(2)
}

// cookieCrossOrigin: an unsafe request authenticated by the session
// cookie must come from the request's own origin or a trusted one
// (http.CrossOriginProtection): from another site, or another port of the
// same host, it gets 403 with a message, the handler does not run, the
// store is not asked and nothing is renewed. Safe methods, requests
// without browser headers, and bearer tokens (in both delivery) pass.
func cookieCrossOrigin(t *testing.T, x target) {
	name := config.DefaultCookieName
	tests := []struct {
		name    string
		method  string
		bearer  bool // the token in Authorization (both delivery) instead of the cookie
		headers []string
		want    int
	}{
		{"POST, no browser headers", http.MethodPost, false, nil, http.StatusOK},
		{"POST, same origin", http.MethodPost, false, []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://example.test"}, http.StatusOK},
		{"POST, Origin is the host, no Sec-Fetch-Site", http.MethodPost, false, []string{"Origin", "http://example.test"}, http.StatusOK},
		{"POST, trusted origin", http.MethodPost, false, []string{"Sec-Fetch-Site", "cross-site", "Origin", trustedOrigin}, http.StatusOK},
		{"POST, another site", http.MethodPost, false, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"POST, another port of the host", http.MethodPost, false, []string{"Sec-Fetch-Site", "same-site", "Origin", "http://example.test:8081"}, http.StatusForbidden},
		{"POST, old browser, other origin", http.MethodPost, false, []string{"Origin", "http://example.test:8081"}, http.StatusForbidden},
		{"GET, another site", http.MethodGet, false, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusOK},
		{"POST, bearer token from another site", http.MethodPost, true, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := cookieApp(t, x, config.DeliveryBoth, nil)
			tok := a.mint("alice", "user", 0)
			a.at(13 * time.Hour) // due: a refused request must not renew
			cookie := name
			header := tt.headers
			if tt.bearer {
				cookie = ""
				header = append([]string{"Authorization", "Bearer " + tok}, header...)
			}
			rec := a.send(tt.method, "/api/me", cookie, tok, header...)
			wantStatus(t, rec, tt.want)
			if tt.want == http.StatusOK {
				if strings.TrimSpace(rec.Body.String()) != "alice" {
					t.Errorf("body %q, want the handler's alice", rec.Body.String())
				}
				return
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["message"] != engine.MessageCrossOrigin {
				t.Errorf("body %q, want {\"message\": %q}", rec.Body.String(), engine.MessageCrossOrigin)
			}
			if c, _ := sessionCookie(t, rec.Header(), name); c != nil || newToken(rec.Header()) != "" {
				t.Error("a refused request was renewed")
			}
			a.wantAllows(0)
			a.wantReasons()
		})
	}
}

// cookieUnauthorized: a 401 deletes the session cookie (same name and
// attributes, empty, Max-Age=0) when it is malformed, badly signed, too
// large or revoked, but not when it has merely expired (a concurrent
// renewal may have set a newer one) or is missing. A guest sign-in may
// replace a revoked session cookie, not a valid one.
func cookieUnauthorized(t *testing.T, x target) {
	name := config.DefaultCookieName
	a, list := signOutApp(t, x, func(s *Setup) {
		s.Settings.Delivery = config.DeliveryCookie
	})
	so, err := revocation.NewSignOut(list, settings(), &revocation.SignOutOptions{Now: a.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	good := a.mint("alice", "user", 0)
	revoked := a.mint("bob", "user", 0)
	v, err := verifier(t).Verify(revoked, start)
	if err != nil {
		t.Fatal(err)
	}
	a.at(time.Second)
	if err := so.Session(context.Background(), v.Claims()); err != nil {
		t.Fatal(err)
	}
	forged := signMap(t, map[string]any{"sub": "alice", "exp": start.Add(time.Hour).Unix()}, "another-secret-0123456789abcdef-0123456789")
	tests := []struct {
		name   string
		tok    string
		at     time.Duration
		clears bool
	}{
		{"no cookie", "", time.Second, false},
		{"expired", good, 25 * time.Hour, false},
		{"malformed", "not.a.jwt", time.Second, true},
		{"badly signed", forged, time.Second, true},
		{"too large", strings.Repeat("a", 9000), time.Second, true},
		{"revoked", revoked, time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.at(tt.at)
			if err := list.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			rec := a.send(http.MethodGet, "/api/me", name, tt.tok)
			wantStatus(t, rec, http.StatusUnauthorized)
			c, line := sessionCookie(t, rec.Header(), name)
			if !tt.clears {
				if c != nil {
					t.Errorf("the cookie was deleted: %q", line)
				}
				return
			}
			if c == nil {
				t.Fatal("the cookie was not deleted")
			}
			if c.Value != "" || c.MaxAge != -1 || !c.HttpOnly || !c.Secure || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
				// net/http reads Max-Age=0 as MaxAge -1.
				t.Errorf("deleting Set-Cookie %q, want an empty value, Max-Age=0 and the cookie's attributes", line)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
	a.wantAllows(0)

	// A revoked session cookie is no obstacle to a guest's sign-in; a
	// valid one is.
	a.at(time.Second)
	guest := a.mint("guest", "guest", time.Second)
	for _, tt := range []struct {
		name, cookie string
		want         int
	}{{"over the revoked cookie", revoked, http.StatusNoContent}, {"over a valid cookie", good, http.StatusConflict}} {
		if rec := a.send(http.MethodPost, "/signin", name, tt.cookie, "X-Signin-Token", guest); rec.Code != tt.want {
			t.Errorf("guest sign-in %s: status %d, want %d", tt.name, rec.Code, tt.want)
		}
	}
}

// cookieTooLarge: a token (under the 8 KiB token cap) whose Set-Cookie
// would exceed engine.MaxCookieSize (browsers drop it) is not renewed in
// cookie delivery (reason too_large, no store call), though it is in
// header delivery, and it cannot be set by sign-in.
func cookieTooLarge(t *testing.T, x target) {
	name := config.DefaultCookieName
	big := func(a *app) string {
		tok, _, err := a.issuer.IssueAt(start, "alice", "user", map[string]any{"blob": strings.Repeat("x", 3000)})
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) <= engine.MaxCookieSize || len(tok) >= 8<<10 {
			t.Fatalf("the test token is %d bytes: want one too large for a cookie, not for a header", len(tok))
		}
		return tok
	}
	a := cookieApp(t, x, config.DeliveryCookie, nil)
	rec := a.at(13*time.Hour).send(http.MethodGet, "/api/me", name, big(a))
	wantStatus(t, rec, http.StatusOK)
	if c, _ := sessionCookie(t, rec.Header(), name); c != nil {
		t.Errorf("a renewal over %d bytes was set", engine.MaxCookieSize)
	}
	a.wantReasons(string(engine.ReasonTooLarge))
	a.wantAllows(0)
	rec = a.send(http.MethodPost, "/signin", "", "", "X-Signin-Token", big(a))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("sign-in with a token too large for a cookie: status %d, want 500", rec.Code)
	}
	if c, _ := sessionCookie(t, rec.Header(), name); c != nil {
		t.Error("sign-in set a cookie too large")
	}

	h := newApp(t, x, nil)
	rec = h.at(13*time.Hour).get("/api/me", big(h))
	wantStatus(t, rec, http.StatusOK)
	if newToken(rec.Header()) == "" {
		t.Errorf("header delivery: the same token was not renewed (events %q)", h.reasons())
	}
}

// cookieSignIn: the door's sign-in helper sets the session cookie from an
// issued token (the cookie's attributes, Max-Age from its exp, no-store,
// X-Session-Expires, exposed to a request with an Origin) only in answer to a POST that passes the
// cross-origin check; a guest token never replaces a valid session
// cookie, but does replace an expired one; in header delivery there is no
// cookie to set.
func cookieSignIn(t *testing.T, x target) {
	name := config.DefaultCookieName
	a := cookieApp(t, x, config.DeliveryCookie, nil)
	user := a.mint("alice", "user", 0)
	guest := a.mint("guest", "guest", 0)
	tests := []struct {
		name    string
		method  string
		cookie  string // the session cookie the request holds
		tok     string
		headers []string
		want    int
	}{
		{"user, POST", http.MethodPost, "", user, nil, http.StatusNoContent},
		{"user, GET", http.MethodGet, "", user, nil, http.StatusMethodNotAllowed},
		{"user, POST from another site", http.MethodPost, "", user, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"user, POST from a trusted origin", http.MethodPost, "", user, []string{"Sec-Fetch-Site", "cross-site", "Origin", trustedOrigin}, http.StatusNoContent},
		{"guest, no session", http.MethodPost, "", guest, nil, http.StatusNoContent},
		{"guest over a valid session", http.MethodPost, user, guest, nil, http.StatusConflict},
		{"guest over a forged cookie", http.MethodPost, "not.a.jwt", guest, nil, http.StatusNoContent},
		{"user over a valid session", http.MethodPost, guest, user, nil, http.StatusNoContent},
	}
	a.at(time.Hour)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := append([]string{"X-Signin-Token", tt.tok}, tt.headers...)
			rec := a.send(tt.method, "/signin", name, tt.cookie, header...)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.want, rec.Body.String())
			}
			c, line := sessionCookie(t, rec.Header(), name)
			if tt.want != http.StatusNoContent {
				if c != nil {
					t.Errorf("a refused sign-in set the cookie: %q", line)
				}
				return
			}
			if c == nil || c.Value != tt.tok {
				t.Fatalf("Set-Cookie %q, want the issued token", line)
			}
			v, err := verifier(t).Verify(tt.tok, start)
			if err != nil {
				t.Fatal(err)
			}
			wantAge := int(v.ExpiresAt().Sub(start.Add(time.Hour)) / time.Second)
			if !c.HttpOnly || !c.Secure || c.MaxAge != wantAge || rec.Header().Get("Cache-Control") != "no-store" ||
				rec.Header().Get(engine.HeaderSessionExpires) != strconv.FormatInt(v.ExpiresAt().Unix(), 10) {
				t.Errorf("Set-Cookie %q (Max-Age want %d), Cache-Control %q, %s %q", line, wantAge,
					rec.Header().Get("Cache-Control"), engine.HeaderSessionExpires, rec.Header().Get(engine.HeaderSessionExpires))
			}
			want := "" // exposed to a request with an Origin only
			if slices.Contains(tt.headers, "Origin") {
				want = engine.HeaderSessionExpires
			}
			if got := strings.Join(rec.Header().Values("Access-Control-Expose-Headers"), ","); got != want {
				t.Errorf("Access-Control-Expose-Headers %q, want %q", got, want)
			}
		})
	}
	// An expired session is no obstacle to a guest.
	a.at(25 * time.Hour)
	rec := a.send(http.MethodPost, "/signin", name, user, "X-Signin-Token", a.mint("guest", "guest", 25*time.Hour))
	if rec.Code != http.StatusNoContent {
		t.Errorf("guest over an expired session: status %d, want 204", rec.Code)
	}

	h := newApp(t, x, nil)
	rec = h.send(http.MethodPost, "/signin", "", "", "X-Signin-Token", h.mint("alice", "user", 0))
	if rec.Code != http.StatusInternalServerError || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("header delivery: status %d, Set-Cookie %q; want 500 and none", rec.Code, rec.Header().Values("Set-Cookie"))
	}
}
