package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	goredis "github.com/redis/go-redis/v9"
	"github.com/slidingjwt/slidingjwt/store/redis"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/bolt"
)

// testSecret is long enough for HS256 (config.MinSecretBytes).
const testSecret = "demo-test-secret-0123456789abcdef-0123456789"

// accountsEnv runs the demo with password logins: alice is a user, root an
// admin.
func accountsEnv() map[string]string {
	return map[string]string{
		"AUTH_ACCOUNTS": "alice:wonderland, root:hunter2:admin",
		"TOKEN_SECRET":  testSecret,
	}
}

// hit is one request the demo's API answered.
type hit struct {
	at      time.Time // when the request arrived, by the demo's clock
	method  string
	path    string
	origin  string // the Origin request header
	status  int
	renewed bool   // the response carried X-New-Token
	expose  string // Access-Control-Expose-Headers of the response
	cookie  bool   // the request carried a Cookie header
	fetch   string // its Sec-Fetch-Site header
}

// traffic records every request to the demo's API, so tests can count
// them on the server side.
type traffic struct {
	now  func() time.Time // the demo's clock
	mu   sync.Mutex
	hits []hit
	// hold, when set, is called with each request before the demo
	// answers it, and may block it: a test holds an answer back.
	hold func(*http.Request)
}

// setHold sets the function every request waits on (nil: none).
func (tr *traffic) setHold(hold func(*http.Request)) {
	tr.mu.Lock()
	tr.hold = hold
	tr.mu.Unlock()
}

func (tr *traffic) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		hold := tr.hold
		tr.mu.Unlock()
		if hold != nil {
			hold(r)
		}
		h := hit{at: tr.now(), method: r.Method, path: r.URL.Path, origin: r.Header.Get("Origin"),
			cookie: r.Header.Get("Cookie") != "", fetch: r.Header.Get("Sec-Fetch-Site")}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		h.status = sw.status
		h.renewed = w.Header().Get(middleware.HeaderNewToken) != ""
		h.expose = w.Header().Get("Access-Control-Expose-Headers")
		tr.mu.Lock()
		tr.hits = append(tr.hits, h)
		tr.mu.Unlock()
	})
}

// count returns how many recorded requests match.
func (tr *traffic) count(match func(hit) bool) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, h := range tr.hits {
		if match(h) {
			n++
		}
	}
	return n
}

// summary lists the recorded requests, for failure messages.
func (tr *traffic) summary() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var b strings.Builder
	for _, h := range tr.hits {
		b.WriteString(h.at.Format("15:04:05.000") + " " + h.method + " " + h.path + " " + http.StatusText(h.status))
		if h.renewed {
			b.WriteString(" (renewed)")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// get matches GET requests to path.
func get(path string) func(hit) bool {
	return func(h hit) bool { return h.method == http.MethodGet && h.path == path }
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// demoServer is a running demo.
type demoServer struct {
	url     string // the API's base URL, e.g. http://127.0.0.1:41234
	traffic *traffic
	logs    *testkit.SyncBuffer
	client  *http.Client // closes its connections before the demo stops
}

// startDemo runs the demo in-process on a free loopback port with env as
// its whole environment, and stops it when the test ends.
func startDemo(t *testing.T, env map[string]string) *demoServer {
	t.Helper()
	return startDemoWithClock(t, env, time.Now)
}

// startDemoWithClock is startDemo with now as the demo's clock: tokens are
// issued, checked and renewed by it, and the traffic is stamped with it.
func startDemoWithClock(t *testing.T, env map[string]string, now func() time.Time) *demoServer {
	t.Helper()
	env = maps.Clone(env)
	if env["ADDR"] == "" {
		env["ADDR"] = "127.0.0.1:0"
	}
	d := &demoServer{traffic: &traffic{now: now}, logs: &testkit.SyncBuffer{}, client: &http.Client{Transport: &http.Transport{}}}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lookupIn(env), d.logs, ready, hooks{wrap: d.traffic.wrap, now: now}) }()
	select {
	case addr := <-ready:
		d.url = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("demo did not start: %v\nlog:\n%s", err, d.logs)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("demo did not start within 10s\nlog:\n%s", d.logs)
	}
	t.Cleanup(func() {
		d.client.CloseIdleConnections() // or the graceful shutdown waits for them
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with an error: %v", err)
		}
	})
	return d
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// call sends one request to path and returns the status, the decoded JSON
// body (nil when it is not JSON) and the response header.
func (d *demoServer) call(t *testing.T, method, path string, body io.Reader, header http.Header) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, d.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	res, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if json.Unmarshal(raw, &decoded) != nil {
		decoded = nil
	}
	return res.StatusCode, decoded, res.Header
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// payload decodes a JWT's claims without verifying it.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("token payload: %v", err)
	}
	return claims
}

// login signs in through the API and returns the token.
func login(t *testing.T, d *demoServer, user, pass string) string {
	t.Helper()
	body := strings.NewReader(`{"username":` + quote(user) + `,"password":` + quote(pass) + `}`)
	status, got, _ := d.call(t, http.MethodPost, "/login", body, http.Header{"Content-Type": {"application/json"}})
	if status != http.StatusOK {
		t.Fatalf("login %s: got status %d, want 200", user, status)
	}
	tok, _ := got["access_token"].(string)
	return tok
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	d := startDemo(t, accountsEnv())
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	formHeader := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	form := func(user, pass string) io.Reader {
		return strings.NewReader(url.Values{"username": {user}, "password": {pass}}.Encode())
	}
	tests := []struct {
		name     string
		body     io.Reader
		header   http.Header
		want     int
		wantSub  string
		wantRole string
	}{
		{"json", strings.NewReader(`{"username":"alice","password":"wonderland"}`), jsonHeader, http.StatusOK, "alice", "user"},
		{"form", form("alice", "wonderland"), formHeader, http.StatusOK, "alice", "user"},
		{"admin role from the account", form("root", "hunter2"), formHeader, http.StatusOK, "root", "admin"},
		{"wrong password", strings.NewReader(`{"username":"alice","password":"queen"}`), jsonHeader, http.StatusUnauthorized, "", ""},
		{"unknown user", form("mallory", "wonderland"), formHeader, http.StatusUnauthorized, "", ""},
		{"empty password", form("alice", ""), formHeader, http.StatusUnauthorized, "", ""},
		{"malformed json", strings.NewReader(`{"username":`), jsonHeader, http.StatusBadRequest, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, got, h := d.call(t, http.MethodPost, "/login", tt.body, tt.header)
			if status != tt.want {
				t.Fatalf("status: got %d, want %d (body %v)", status, tt.want, got)
			}
			if tt.want != http.StatusOK {
				if _, leaked := got["access_token"]; leaked {
					t.Errorf("a failed login returned a token: %v", got)
				}
				return
			}
			if got, want := h.Get("Cache-Control"), "no-store"; got != want {
				t.Errorf("Cache-Control: got %q, want %q", got, want)
			}
			if got, want := got["token_type"], "bearer"; got != want {
				t.Errorf("token_type: got %v, want %q", got, want)
			}
			if got, want := got["auth_mode"], "enabled"; got != want {
				t.Errorf("auth_mode: got %v, want %q", got, want)
			}
			tok, _ := got["access_token"].(string)
			claims := payload(t, tok)
			if got, want := claims["sub"], tt.wantSub; got != want {
				t.Errorf("sub: got %v, want %q", got, want)
			}
			if got, want := claims["role"], tt.wantRole; got != want {
				t.Errorf("role: got %v, want %q", got, want)
			}
			if meta, _ := claims["metadata"].(map[string]any); meta["auth_mode"] != "enabled" {
				t.Errorf("metadata: got %v, want auth_mode enabled", claims["metadata"])
			}
		})
	}
}

func TestAuthStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		env            map[string]string
		wantConfigured bool
		wantMode       string
	}{
		{"guest mode", map[string]string{}, false, "disabled"},
		{"guest mode with a secret", map[string]string{"TOKEN_SECRET": testSecret}, false, "disabled"},
		{"accounts", accountsEnv(), true, "enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, tt.env)
			status, got, h := d.call(t, http.MethodGet, "/auth-status", nil, nil)
			if status != http.StatusOK {
				t.Fatalf("status: got %d, want 200", status)
			}
			if got, want := got["auth_configured"], tt.wantConfigured; got != want {
				t.Errorf("auth_configured: got %v, want %v", got, want)
			}
			if got, want := got["auth_mode"], tt.wantMode; got != want {
				t.Errorf("auth_mode: got %v, want %q", got, want)
			}
			tok, _ := got["access_token"].(string)
			if tt.wantConfigured {
				if tok != "" {
					t.Errorf("with logins configured, /auth-status handed out a token")
				}
				return
			}
			if got, want := h.Get("Cache-Control"), "no-store"; got != want {
				t.Errorf("Cache-Control: got %q, want %q", got, want)
			}
			claims := payload(t, tok)
			if claims["sub"] != "guest" || claims["role"] != "guest" {
				t.Errorf("guest token claims: got sub %v role %v, want guest and guest", claims["sub"], claims["role"])
			}
			// The guest token works on the API.
			if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(tok)); status != http.StatusOK {
				t.Errorf("/api/me with the guest token: got %d, want 200", status)
			}
			// Each guest is a session of its own.
			_, again, _ := d.call(t, http.MethodGet, "/auth-status", nil, nil)
			tok2, _ := again["access_token"].(string)
			if got, other := claims["sid"], payload(t, tok2)["sid"]; got == other {
				t.Errorf("two guests share the session id %v", got)
			}
		})
	}
}

func TestGuestModeWithoutSecretWarns(t *testing.T) {
	t.Parallel()
	d := startDemo(t, map[string]string{})
	if got, want := d.logs.String(), "TOKEN_SECRET is not set"; !strings.Contains(got, want) {
		t.Errorf("log: got %q, want a line containing %q", got, want)
	}
	// /login in guest mode hands out a guest token, as LightRAG does.
	status, got, _ := d.call(t, http.MethodPost, "/login", strings.NewReader(`{}`), http.Header{"Content-Type": {"application/json"}})
	if status != http.StatusOK || got["auth_mode"] != "disabled" {
		t.Errorf("guest /login: got %d %v, want 200 with auth_mode disabled", status, got)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	d := startDemo(t, map[string]string{})
	status, got, _ := d.call(t, http.MethodGet, "/health", nil, nil)
	if status != http.StatusOK || got["status"] != "ok" {
		t.Errorf("/health: got %d %v, want 200 {status: ok}", status, got)
	}
}

func TestAPIAccess(t *testing.T) {
	t.Parallel()
	d := startDemo(t, accountsEnv())
	alice := login(t, d, "alice", "wonderland")
	root := login(t, d, "root", "hunter2")
	tests := []struct {
		name   string
		path   string
		header http.Header
		want   int
	}{
		{"me without a token", "/api/me", nil, http.StatusUnauthorized},
		{"me with a garbage token", "/api/me", bearer("not.a.jwt"), http.StatusUnauthorized},
		{"me with a user token", "/api/me", bearer(alice), http.StatusOK},
		{"status without a token", "/api/status", nil, http.StatusUnauthorized},
		{"status with a user token", "/api/status", bearer(alice), http.StatusOK},
		{"admin as a user", "/api/admin", bearer(alice), http.StatusForbidden},
		{"admin as an admin", "/api/admin", bearer(root), http.StatusOK},
		{"LightRAG's document list without a token", "/documents", nil, http.StatusUnauthorized},
		{"LightRAG's document list with a user token", "/documents", bearer(alice), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, got, h := d.call(t, http.MethodGet, tt.path, nil, tt.header)
			if status != tt.want {
				t.Fatalf("status: got %d, want %d (body %v)", status, tt.want, got)
			}
			if status == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate: got %q, want a Bearer challenge", h.Get("WWW-Authenticate"))
			}
		})
	}
	_, me, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(alice))
	if got, want := me["sub"], "alice"; got != want {
		t.Errorf("/api/me sub: got %v, want %q", got, want)
	}
}

// agedToken mints a token for env's settings as if issued age ago, so it is
// already due for renewal without the test waiting.
func agedToken(t *testing.T, env map[string]string, sub, role string, age time.Duration) string {
	t.Helper()
	s, err := config.FromLookup(lookupIn(env))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := middleware.NewIssuer(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := issuer.IssueAt(time.Now().Add(-age), sub, role, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRenewalSkipPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		skip        string // TOKEN_RENEW_SKIP_PATHS; "" leaves it unset
		path        string
		wantRenewed bool
	}{
		{"me renews", "", "/api/me", true},
		{"status never renews by default", "", "/api/status", false},
		{"an explicit list replaces the default", "/api/me", "/api/status", true},
		{"an explicit list is honoured", "/api/me", "/api/me", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := accountsEnv()
			if tt.skip != "" {
				env[config.EnvRenewSkipPaths] = tt.skip
			}
			d := startDemo(t, env)
			// 40 of the default 48 hours gone: well below the 0.5 threshold.
			tok := agedToken(t, env, "alice", config.RoleUser, 40*time.Hour)
			status, _, h := d.call(t, http.MethodGet, tt.path, nil, bearer(tok))
			if status != http.StatusOK {
				t.Fatalf("status: got %d, want 200", status)
			}
			renewed := h.Get(middleware.HeaderNewToken)
			if got, want := renewed != "", tt.wantRenewed; got != want {
				t.Fatalf("renewed: got %v, want %v", got, want)
			}
			if renewed != "" {
				if got, want := payload(t, renewed)["sid"], payload(t, tok)["sid"]; got != want {
					t.Errorf("renewed sid: got %v, want %v", got, want)
				}
				if got, want := h.Get("Cache-Control"), "no-store"; got != want {
					t.Errorf("Cache-Control: got %q, want %q", got, want)
				}
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const origin = "http://page.example:8081"
	env := accountsEnv()
	env["CORS_ORIGINS"] = origin
	d := startDemo(t, env)
	tok := agedToken(t, env, "alice", config.RoleUser, 40*time.Hour)

	t.Run("preflight", func(t *testing.T) {
		status, _, h := d.call(t, http.MethodOptions, "/api/me", nil, http.Header{
			"Origin":                         {origin},
			"Access-Control-Request-Method":  {"GET"},
			"Access-Control-Request-Headers": {"authorization"},
		})
		if status != http.StatusNoContent {
			t.Fatalf("status: got %d, want 204", status)
		}
		if got := h.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("Allow-Origin: got %q, want %q", got, origin)
		}
		if got := strings.ToLower(h.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "authorization") {
			t.Errorf("Allow-Headers: got %q, want it to list authorization", got)
		}
	})
	// The headers the client package sends (its background header, and
	// in cookie delivery its ask for X-Session-Expires) and those of
	// LightRAG's web UI (X-Skip-Interceptor on its silent guest refresh of
	// /auth-status): a preflight that left one out would block the request
	// in the browser.
	t.Run("preflight allows the clients' headers", func(t *testing.T) {
		for _, path := range []string{"/api/status", "/auth-status"} {
			status, _, h := d.call(t, http.MethodOptions, path, nil, http.Header{
				"Origin":                         {origin},
				"Access-Control-Request-Method":  {"GET"},
				"Access-Control-Request-Headers": {"authorization,content-type,x-slidingjwt-background,x-session-expires,x-skip-interceptor"},
			})
			if status != http.StatusNoContent {
				t.Fatalf("%s: status: got %d, want 204", path, status)
			}
			allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"authorization", "content-type", "x-slidingjwt-background", "x-session-expires", "x-skip-interceptor"} {
				if !strings.Contains(allowed, want) {
					t.Errorf("%s: Allow-Headers: got %q, want it to list %s", path, allowed, want)
				}
			}
		}
	})
	t.Run("renewal is readable cross-origin", func(t *testing.T) {
		status, _, h := d.call(t, http.MethodGet, "/api/me", nil, http.Header{
			"Origin": {origin}, "Authorization": {"Bearer " + tok},
		})
		if status != http.StatusOK || h.Get(middleware.HeaderNewToken) == "" {
			t.Fatalf("got %d with X-New-Token %q, want 200 with a new token", status, h.Get(middleware.HeaderNewToken))
		}
		if got := h.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("Allow-Origin: got %q, want %q", got, origin)
		}
		if got := h.Get("Access-Control-Expose-Headers"); !strings.Contains(got, middleware.HeaderNewToken) {
			t.Errorf("Expose-Headers: got %q, want it to list %s", got, middleware.HeaderNewToken)
		}
	})
	t.Run("a 401 is readable cross-origin", func(t *testing.T) {
		status, _, h := d.call(t, http.MethodGet, "/api/me", nil, http.Header{"Origin": {origin}})
		if status != http.StatusUnauthorized || h.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("got %d with Allow-Origin %q, want 401 with %q", status, h.Get("Access-Control-Allow-Origin"), origin)
		}
	})
	t.Run("other origins are not allowed", func(t *testing.T) {
		_, _, h := d.call(t, http.MethodGet, "/health", nil, http.Header{"Origin": {"http://evil.example"}})
		if got := h.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Allow-Origin for another origin: got %q, want none", got)
		}
	})
}

func TestPage(t *testing.T) {
	t.Parallel()
	d := startDemo(t, map[string]string{})
	tests := []struct {
		path        string
		want        int
		contentType string
		contains    string
	}{
		{"/", http.StatusOK, "text/html", `<meta name="slidingjwt-api-base" content="">`},
		{"/static/client.js", http.StatusOK, "text/javascript", "export function createClient"},
		{"/static/axios.js", http.StatusOK, "text/javascript", "export function attach"},
		{"/static/app.js", http.StatusOK, "text/javascript", "createClient"},
		{"/static/style.css", http.StatusOK, "text/css", ".card"},
		{"/static/index.html", http.StatusNotFound, "", ""},
		{"/static/", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			res, err := d.client.Get(d.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.want {
				t.Fatalf("status: got %d, want %d", res.StatusCode, tt.want)
			}
			if tt.want != http.StatusOK {
				return
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.contentType) {
				t.Errorf("Content-Type: got %q, want %s", got, tt.contentType)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body does not contain %q", tt.contains)
			}
			if tt.path == "/" {
				if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "connect-src 'self';") {
					t.Errorf("CSP: got %q, want connect-src 'self' only", got)
				}
			}
		})
	}
}

func TestPageAddr(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "PAGE_ADDR": "127.0.0.1:0", "CORS_ORIGINS": "http://page.example"}
	ctx, cancel := context.WithCancel(context.Background())
	ready, pageReady := make(chan string, 1), make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lookupIn(env), io.Discard, ready, hooks{pageReady: pageReady}) }()
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with an error: %v", err)
		}
	})
	var apiAddr, pageAddr string
	for apiAddr == "" || pageAddr == "" {
		select {
		case apiAddr = <-ready:
		case pageAddr = <-pageReady:
		case err := <-done:
			t.Fatalf("demo did not start: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("demo did not start within 10s")
		}
	}
	res, err := client.Get("http://" + pageAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	api := "http://" + apiAddr
	if want := `content="` + api + `"`; !strings.Contains(string(body), want) {
		t.Errorf("page: want the API base %s in it, got:\n%s", want, body)
	}
	if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "connect-src 'self' "+api+";") {
		t.Errorf("CSP: got %q, want connect-src to allow %s", got, api)
	}
	// The page listener serves the page only, never the API.
	res, err = client.Get("http://" + pageAddr + "/auth-status")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Errorf("/auth-status on the page listener: got %d, want %d", got, want)
	}
}

func TestRunRejectsBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    []string // every one must appear in the error
		notWant []string // none may appear (a secret the demo made up or asked for)
	}{
		{"threshold out of range", map[string]string{"TOKEN_RENEW_THRESHOLD": "2"}, []string{"TOKEN_RENEW_THRESHOLD"}, nil},
		{"lifetime not a number", map[string]string{"GUEST_TOKEN_EXPIRE_HOURS": "soon"}, []string{"GUEST_TOKEN_EXPIRE_HOURS"}, nil},
		{"interval longer than the renewal window", map[string]string{"GUEST_TOKEN_EXPIRE_HOURS": "0.01", "TOKEN_RENEW_MIN_INTERVAL_SECONDS": "60"},
			[]string{"TOKEN_RENEW_MIN_INTERVAL_SECONDS", "GUEST_TOKEN_EXPIRE_HOURS"}, nil},
		{"skip path without a slash", map[string]string{"TOKEN_RENEW_SKIP_PATHS": "api/status"}, []string{"TOKEN_RENEW_SKIP_PATHS"}, nil},
		{"unknown store", map[string]string{"TOKEN_RENEW_STORE": "floppy"}, []string{"TOKEN_RENEW_STORE"}, nil},
		{"bolt without a path", map[string]string{config.EnvStore: "bolt"}, []string{config.EnvStorePath}, nil},
		{"bolt file that cannot be created", map[string]string{config.EnvStore: "bolt", config.EnvStorePath: "/dev/null/renewals.db"},
			[]string{config.EnvStorePath, "/dev/null/renewals.db"}, nil},
		{"redis URL of another scheme", map[string]string{config.EnvStore: "redis", config.EnvRedisURL: "http://demo:hunter2-secret@localhost:6379/0"},
			[]string{config.EnvRedisURL}, []string{"hunter2-secret"}},
		{"accounts without a secret", map[string]string{"AUTH_ACCOUNTS": "alice:wonderland"}, []string{"TOKEN_SECRET", "AUTH_ACCOUNTS"}, nil},
		{"short secret", map[string]string{"AUTH_ACCOUNTS": "alice:wonderland", "TOKEN_SECRET": "short"}, []string{"TOKEN_SECRET"}, nil},
		{"account without a password", map[string]string{"AUTH_ACCOUNTS": "alice", "TOKEN_SECRET": testSecret}, []string{"AUTH_ACCOUNTS"}, nil},
		{"page without CORS", map[string]string{"PAGE_ADDR": "127.0.0.1:0"}, []string{"PAGE_ADDR", "CORS_ORIGINS"}, nil},
		// A key-file algorithm without its key, or with a secret.
		{"EdDSA guest mode without a key file", map[string]string{config.EnvAlgorithm: "EdDSA"},
			[]string{config.EnvPrivateKeyFile}, []string{config.EnvSecret}},
		{"RS256 accounts without a key file", map[string]string{config.EnvAlgorithm: "RS256", "AUTH_ACCOUNTS": "alice:wonderland"},
			[]string{config.EnvPrivateKeyFile}, []string{config.EnvSecret}},
		{"EdDSA with a secret", map[string]string{config.EnvAlgorithm: "EdDSA", config.EnvSecret: testSecret, "AUTH_ACCOUNTS": "alice:wonderland"},
			[]string{config.EnvSecret}, nil},
		{"HS512 accounts without a secret", map[string]string{config.EnvAlgorithm: "HS512", "AUTH_ACCOUNTS": "alice:wonderland"},
			[]string{config.EnvSecret, "AUTH_ACCOUNTS"}, nil},
		{"unsigned", map[string]string{config.EnvAlgorithm: "none"},
			[]string{config.EnvAlgorithm}, []string{config.EnvSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := maps.Clone(tt.env)
			env["ADDR"] = "127.0.0.1:0"
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ready := make(chan string, 1)
			err := run(ctx, lookupIn(env), io.Discard, ready)
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("run: got %v, want an error naming %v", err, tt.want)
			}
			for _, name := range tt.want {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("run: got %q, want it to name %s", err, name)
				}
			}
			for _, name := range tt.notWant {
				if strings.Contains(err.Error(), name) {
					t.Errorf("run: got %q, want it not to name %s", err, name)
				}
			}
			select {
			case addr := <-ready:
				t.Errorf("run listened on %s despite the bad setting", addr)
			default:
			}
		})
	}
}

// TestStoreFromSettings: the demo renews through the store
// TOKEN_RENEW_STORE names, at TOKEN_RENEW_STORE_PATH or
// TOKEN_RENEW_REDIS_URL.
func TestStoreFromSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup adds the store's variables to env and returns a check that
		// the demo's renewal went to that store.
		setup func(t *testing.T, env map[string]string) func(t *testing.T)
	}{
		{"bolt", func(t *testing.T, env map[string]string) func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "renewals.db")
			env[config.EnvStore], env[config.EnvStorePath] = "bolt", path
			return func(t *testing.T) {
				// The running demo holds the file: a second store cannot
				// open it.
				st, err := bolt.Open(path, &bolt.Options{Timeout: -1})
				if err == nil {
					st.Close()
				}
				if !errors.Is(err, bolt.ErrLocked) {
					t.Errorf("bolt.Open(%s) while the demo runs: %v; want %v", path, err, bolt.ErrLocked)
				}
			}
		}},
		{"redis", func(t *testing.T, env map[string]string) func(t *testing.T) {
			srv := redistest.Start(t)
			env[config.EnvStore], env[config.EnvRedisURL] = "redis", srv.URL()
			return func(t *testing.T) {
				client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
				defer client.Close()
				keys, err := client.Keys(t.Context(), redis.DefaultKeyPrefix+"*").Result()
				if err != nil || len(keys) != 1 {
					t.Errorf("renewal keys in the demo's Redis after one renewal: %d, %v; want 1, nil", len(keys), err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := accountsEnv()
			check := tt.setup(t, env)
			d := startDemo(t, env)
			tok := agedToken(t, env, "alice", config.RoleUser, 40*time.Hour)
			_, _, h := d.call(t, http.MethodGet, "/api/me", nil, bearer(tok))
			if h.Get(middleware.HeaderNewToken) == "" {
				t.Fatalf("/api/me with a token due for renewal: no %s", middleware.HeaderNewToken)
			}
			check(t)
		})
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		configured, actual, want string
	}{
		{"localhost:8080", "127.0.0.1:8080", "http://localhost:8080"},
		{":8080", "[::]:8080", "http://localhost:8080"},
		{"0.0.0.0:0", "0.0.0.0:39999", "http://localhost:39999"},
		{"127.0.0.1:0", "127.0.0.1:40001", "http://127.0.0.1:40001"},
		{"[::1]:0", "[::1]:40002", "http://[::1]:40002"},
	}
	for _, tt := range tests {
		if got := baseURL(tt.configured, fakeAddr(tt.actual)); got != tt.want {
			t.Errorf("baseURL(%q, %q): got %q, want %q", tt.configured, tt.actual, got, tt.want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// writeKey writes key as a PKCS#8 PEM file in a temporary directory and
// returns its path.
func writeKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ed25519KeyFile(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, priv)
}

func rsaKeyFile(t *testing.T) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, priv)
}

// header decodes a JWT's header without verifying it.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("token header: %v", err)
	}
	return h
}

// TestKeyFileAlgorithms runs the demo with algorithms that sign with
// TOKEN_PRIVATE_KEY_FILE: no TOKEN_SECRET is generated or required.
func TestKeyFileAlgorithms(t *testing.T) {
	t.Parallel()
	t.Run("EdDSA guest mode", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, map[string]string{
			config.EnvAlgorithm:      "EdDSA",
			config.EnvPrivateKeyFile: ed25519KeyFile(t),
		})
		status, got, _ := d.call(t, http.MethodGet, "/auth-status", nil, nil)
		tok, _ := got["access_token"].(string)
		if status != http.StatusOK || tok == "" {
			t.Fatalf("/auth-status: got %d %v, want 200 with a guest token", status, got)
		}
		if alg := header(t, tok)["alg"]; alg != "EdDSA" {
			t.Errorf("guest token alg: got %v, want EdDSA", alg)
		}
		if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(tok)); status != http.StatusOK {
			t.Errorf("/api/me with the EdDSA guest token: got %d, want 200", status)
		}
		if logs := d.logs.String(); strings.Contains(logs, "random secret") {
			t.Errorf("log speaks of a random secret for EdDSA:\n%s", logs)
		}
	})
	t.Run("RS256 with accounts", func(t *testing.T) {
		t.Parallel()
		d := startDemo(t, map[string]string{
			"AUTH_ACCOUNTS":          "alice:wonderland",
			config.EnvAlgorithm:      "RS256",
			config.EnvPrivateKeyFile: rsaKeyFile(t),
		})
		tok := login(t, d, "alice", "wonderland")
		if alg := header(t, tok)["alg"]; alg != "RS256" {
			t.Errorf("login token alg: got %v, want RS256", alg)
		}
		status, me, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(tok))
		if status != http.StatusOK || me["sub"] != "alice" {
			t.Errorf("/api/me with the RS256 token: got %d %v, want 200 for alice", status, me)
		}
	})
}

// scrapeText fetches path (no token) and returns the response and its body.
func scrapeText(t *testing.T, d *demoServer, path string) (*http.Response, string) {
	t.Helper()
	res, err := d.client.Get(d.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// sample returns the value of the series in a text exposition, and
// whether it is there.
func sample(text, series string) (float64, bool) {
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// TestMetrics: /metrics serves the slidingjwt counters, fed by the
// middleware, with the Go and process collectors, and passes promlint;
// /metrics/summary gives the page the same counters; neither needs a token
// nor renews one.
func TestMetrics(t *testing.T) {
	t.Parallel()
	env := accountsEnv()
	d := startDemo(t, env)
	fresh := login(t, d, "alice", "wonderland")
	due := agedToken(t, env, "alice", config.RoleUser, 40*time.Hour)
	requests := []struct {
		path    string
		header  http.Header
		status  int
		renewed bool
	}{
		{"/api/me", bearer(fresh), 200, false},       // verified, threshold
		{"/api/me", bearer(due), 200, true},          // verified, renewed (one store call)
		{"/api/me", bearer(due), 200, false},         // cache_hit, rate_limited
		{"/api/status", bearer(due), 200, false},     // cache_hit, skipped_path
		{"/api/me", nil, 401, false},                 // missing
		{"/api/me", bearer("not.a.jwt"), 401, false}, // invalid
	}
	for i, r := range requests {
		status, _, h := d.call(t, http.MethodGet, r.path, nil, r.header)
		if status != r.status || (h.Get(middleware.HeaderNewToken) != "") != r.renewed {
			t.Fatalf("request %d (%s): got %d renewed=%v, want %d renewed=%v", i, r.path, status, h.Get(middleware.HeaderNewToken) != "", r.status, r.renewed)
		}
	}

	res, text := scrapeText(t, d, "/metrics")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: got %d %q, want 200 text/plain\n%s", res.StatusCode, res.Header.Get("Content-Type"), text)
	}
	for series, want := range map[string]float64{
		`slidingjwt_requests_total{outcome="verified"}`:                             2,
		`slidingjwt_requests_total{outcome="cache_hit"}`:                            2,
		`slidingjwt_requests_total{outcome="missing"}`:                              1,
		`slidingjwt_requests_total{outcome="invalid"}`:                              1,
		`slidingjwt_requests_total{outcome="revoked"}`:                              0,
		`slidingjwt_renewals_total{result="renewed"}`:                               1,
		`slidingjwt_renewals_total{result="threshold"}`:                             1,
		`slidingjwt_renewals_total{result="rate_limited"}`:                          1,
		`slidingjwt_renewals_total{result="skipped_path"}`:                          1,
		`slidingjwt_renewals_total{result="store_error"}`:                           0,
		`slidingjwt_verified_cache_lookups_total`:                                   4,
		`slidingjwt_verified_cache_hits_total`:                                      2,
		`slidingjwt_store_call_duration_seconds_count{backend="memory",op="allow"}`: 1,
		`slidingjwt_store_call_errors_total{backend="memory",op="allow"}`:           0,
	} {
		if got, ok := sample(text, series); !ok || got != want {
			t.Errorf("%s: got %v (present %v), want %v", series, got, ok, want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(text, "\n"+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	res, body := scrapeText(t, d, "/metrics/summary")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/metrics/summary: got %d, Cache-Control %q; want 200 and no-store", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	var summary struct {
		Requests    map[string]float64 `json:"requests"`
		Renewals    map[string]float64 `json:"renewals"`
		StoreCalls  float64            `json:"store_calls"`
		StoreErrors float64            `json:"store_errors"`
	}
	if err := json.Unmarshal([]byte(body), &summary); err != nil {
		t.Fatalf("/metrics/summary: %v\n%s", err, body)
	}
	// The summary says what /metrics says, series by series.
	for label, got := range summary.Requests {
		if want, _ := sample(text, `slidingjwt_requests_total{outcome="`+label+`"}`); got != want {
			t.Errorf("summary requests[%s]: got %v, want %v", label, got, want)
		}
	}
	for label, got := range summary.Renewals {
		if want, _ := sample(text, `slidingjwt_renewals_total{result="`+label+`"}`); got != want {
			t.Errorf("summary renewals[%s]: got %v, want %v", label, got, want)
		}
	}
	if len(summary.Requests) != len(engine.Outcomes()) || summary.Renewals["renewed"] != 1 || summary.Renewals["rate_limited"] != 1 {
		t.Errorf("summary: got %d outcomes, renewals %v; want %d outcomes, one renewal, one rate limit", len(summary.Requests), summary.Renewals, len(engine.Outcomes()))
	}
	if summary.StoreCalls != 1 || summary.StoreErrors != 0 {
		t.Errorf("summary store: got %v calls %v errors, want 1 and 0", summary.StoreCalls, summary.StoreErrors)
	}

	// Scraping counted nothing: no request of the middleware, no renewal.
	_, again := scrapeText(t, d, "/metrics")
	for _, series := range []string{`slidingjwt_requests_total{outcome="missing"}`, `slidingjwt_renewals_total{result="renewed"}`} {
		before, _ := sample(text, series)
		if after, _ := sample(again, series); after != before {
			t.Errorf("%s went from %v to %v over two scrapes and a summary", series, before, after)
		}
	}
	if n := d.traffic.count(func(h hit) bool { return strings.HasPrefix(h.path, "/metrics") && (h.status != 200 || h.renewed) }); n != 0 {
		t.Errorf("%d /metrics requests failed or renewed\n%s", n, d.traffic.summary())
	}
}

// TestSignOut: POST /api/logout ends the caller's session (the token,
// replayed, gets 401 saying the session has ended, and is not renewed);
// POST /api/logout-all ends every session of the subject; another user's
// session is untouched.
func TestSignOut(t *testing.T) {
	t.Parallel()
	d := startDemo(t, accountsEnv())
	first := login(t, d, "alice", "wonderland")
	second := login(t, d, "alice", "wonderland")
	other := login(t, d, "root", "hunter2")
	for _, tok := range []string{first, second, other} {
		if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(tok)); status != http.StatusOK {
			t.Fatalf("before sign-out: status %d, want 200", status)
		}
	}
	if status, _, _ := d.call(t, http.MethodPost, "/api/logout", nil, bearer(first)); status != http.StatusNoContent {
		t.Fatalf("POST /api/logout: status %d, want 204", status)
	}
	status, body, h := d.call(t, http.MethodGet, "/api/me", nil, bearer(first))
	if msg, _ := body["message"].(string); status != http.StatusUnauthorized || !strings.Contains(msg, "session has ended") {
		t.Errorf("the signed-out token replayed: %d %v, want 401 saying the session has ended", status, body)
	}
	if h.Get("X-New-Token") != "" {
		t.Errorf("the signed-out token was renewed")
	}
	if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(second)); status != http.StatusOK {
		t.Errorf("alice's other session after /logout: status %d, want 200", status)
	}
	if status, _, _ := d.call(t, http.MethodPost, "/api/logout-all", nil, bearer(second)); status != http.StatusNoContent {
		t.Fatalf("POST /api/logout-all: status %d, want 204", status)
	}
	// A sign-in right after, within the same second: accepted at once.
	again := login(t, d, "alice", "wonderland")
	if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(again)); status != http.StatusOK {
		t.Errorf("alice's sign-in right after /logout-all: status %d, want 200", status)
	}
	if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(second)); status != http.StatusUnauthorized {
		t.Errorf("alice's other session after /logout-all: status %d, want 401", status)
	}
	if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(other)); status != http.StatusOK {
		t.Errorf("root after alice signed out everywhere: status %d, want 200", status)
	}
}

// TestGuestSignOut: every guest shares the subject "guest", so a guest's
// POST /api/logout-all is refused with 403 and ends nobody's session,
// while POST /api/logout ends the caller's own session only.
func TestGuestSignOut(t *testing.T) {
	t.Parallel()
	d := startDemo(t, map[string]string{"TOKEN_SECRET": testSecret})
	guest := func() string {
		status, got, _ := d.call(t, http.MethodGet, "/auth-status", nil, nil)
		tok, _ := got["access_token"].(string)
		if status != http.StatusOK || tok == "" {
			t.Fatalf("/auth-status: got %d %v, want 200 with a guest token", status, got)
		}
		return tok
	}
	one, other := guest(), guest()
	if status, body, _ := d.call(t, http.MethodPost, "/api/logout-all", nil, bearer(one)); status != http.StatusForbidden {
		t.Errorf("a guest's POST /api/logout-all: %d %v, want 403", status, body)
	}
	for name, tok := range map[string]string{"the guest": one, "another guest": other} {
		if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(tok)); status != http.StatusOK {
			t.Errorf("%s after the refused /logout-all: status %d, want 200", name, status)
		}
	}
	if status, _, _ := d.call(t, http.MethodPost, "/api/logout", nil, bearer(one)); status != http.StatusNoContent {
		t.Fatalf("a guest's POST /api/logout: status %d, want 204", status)
	}
	if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(one)); status != http.StatusUnauthorized {
		t.Errorf("the guest after its /logout: status %d, want 401", status)
	}
	if status, _, _ := d.call(t, http.MethodGet, "/api/me", nil, bearer(other)); status != http.StatusOK {
		t.Errorf("another guest after one guest's /logout: status %d, want 200", status)
	}
}

// TestCookieDeliveryBodies: with TOKEN_DELIVERY=cookie no answer carries a
// token in its body: /auth-status (a GET) sets no cookie and gives no
// token; POST /login sets the HttpOnly session cookie and answers without
// the token; a sign-in from another site is refused with 403 and sets
// nothing.
func TestCookieDeliveryBodies(t *testing.T) {
	t.Parallel()
	d := startDemo(t, map[string]string{"TOKEN_DELIVERY": "cookie", "CORS_ORIGINS": "http://localhost:9999"})
	status, body, h := d.call(t, http.MethodGet, "/auth-status", nil, nil)
	if status != http.StatusOK || body["access_token"] != nil || body["token_delivery"] != "cookie" || len(h.Values("Set-Cookie")) != 0 {
		t.Errorf("GET /auth-status: %d %v, Set-Cookie %q; want 200, token_delivery cookie, no token, no cookie", status, body, h.Values("Set-Cookie"))
	}
	status, body, h = d.call(t, http.MethodPost, "/login", nil, nil)
	cookies := h.Values("Set-Cookie")
	if status != http.StatusOK || body["access_token"] != nil || len(cookies) != 1 ||
		!strings.HasPrefix(cookies[0], "slidingjwt_session=eyJ") || !strings.Contains(cookies[0], "; HttpOnly") {
		t.Errorf("POST /login: %d %v, Set-Cookie %q; want 200, no token in the body, one HttpOnly session cookie", status, body, cookies)
	}
	for k, v := range body {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "eyJ") {
			t.Errorf("POST /login: the body's %s holds a token", k)
		}
	}
	status, _, h = d.call(t, http.MethodPost, "/login", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
	if status != http.StatusForbidden || len(h.Values("Set-Cookie")) != 0 {
		t.Errorf("POST /login from another site: %d, Set-Cookie %q; want 403 and none", status, h.Values("Set-Cookie"))
	}
}
