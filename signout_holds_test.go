package slidingjwt_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// The tests in this file are attacks on sign-out, each written as the
// attacker or the operator would try it: a signed-out session must never
// come back, and a correct sign-in must never be refused. They run the
// fleet of signout_test.go on memory backends (one process, shared
// backend), so they need no server and move the clock freely.

// rawClaim returns the JSON text of claim name in tok's payload, "" when
// absent; tok is not verified.
func rawClaim(t *testing.T, tok, name string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	return string(m[name])
}

// signTest signs claims with the fleet's secret, as another service or an
// attacker who holds a valid token's shape would.
func signTest(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// renewOn moves the clock to at, lets in catch up (the clock jumped, so its
// copy is stale until it does), and sends tok, which must be renewed; it
// returns the renewal.
func (f *soFleet) renewOn(t *testing.T, in *soInstance, tok string, at time.Time) string {
	t.Helper()
	f.clock.Set(at)
	syncNow(t, in)
	r := f.me(t, in, tok)
	if r.code != http.StatusOK || r.newToken == "" {
		t.Fatalf("at %v: %v; want 200 with a renewal", at.Sub(start), r)
	}
	return r.newToken
}

// TestLateCutOffHolds: "log out everywhere" with a cut-off in the past (an
// operator acting late on an incident) ends a session that began before
// the cut-off and has been renewed up to now, for as long as its newest
// token could be accepted: not only until the cut-off plus one lifetime.
// A cut-off older than the longest lifetime still revokes such a session.
func TestLateCutOffHolds(t *testing.T) {
	t.Parallel()
	f := newSoFleet(t)
	a := f.start(t, "A", memory.New(nil), soConfig{})
	alice := f.mint(t, "alice", start)
	bob := f.mint(t, "bob", start)
	// Renewed every 13 hours for 104 hours: each token is past half its
	// 24-hour lifetime when the next request comes.
	var now time.Time
	for i := 1; i <= 8; i++ {
		now = start.Add(time.Duration(i) * 13 * time.Hour)
		alice = f.renewOn(t, a, alice, now)
		bob = f.renewOn(t, a, bob, now)
	}
	so := mustSignOut(t, f, a)
	ctx := context.Background()
	if err := so.Subject(ctx, "alice", now.Add(-time.Hour)); err != nil {
		t.Fatalf("Subject(alice, an hour ago): %v", err)
	}
	if err := so.Subject(ctx, "bob", now.Add(-30*time.Hour)); err != nil {
		t.Fatalf("Subject(bob, 30 hours ago, longer ago than any lifetime): %v; want the session begun before it revoked", err)
	}
	toks := map[string]string{"alice's newest token": alice, "bob's newest token": bob}
	for _, d := range []time.Duration{0, 23*time.Hour + 5*time.Second, 24*time.Hour - time.Second} {
		f.clock.Set(now.Add(d))
		syncNow(t, a)
		f.wantEnded(t, "now + "+d.String(), toks, a)
	}
}

// TestGuestsCannotSignOutEverywhere: guests share one subject (LightRAG's
// sub "guest"), so one guest's "log out everywhere" must not end the
// others' sessions: it is refused (403) for a guest token, for a token
// without sub and for a subject listed as shared, while /logout still ends
// the caller's own session.
func TestGuestsCannotSignOutEverywhere(t *testing.T) {
	t.Parallel()
	f := newSoFleet(t)
	a := f.start(t, "A", memory.New(nil), soConfig{})
	now := f.clock.Now()
	guest := func(sub string) string {
		tok, _, err := f.issuer.IssueAt(now.Add(-time.Minute), sub, "guest", nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	one, other := guest("guest"), guest("guest")
	// A guest whose app gives it a subject of its own is refused too: the
	// guest role is shared by design.
	visitor := guest("visitor-7")
	noSub := signTest(t, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "role": "user"})
	// A user-role token whose subject is the shared one.
	sharedUser := f.mint(t, "guest", now.Add(-time.Minute))
	for name, tok := range map[string]string{"a guest token": one, "a guest token with a sub of its own": visitor, "a token without sub": noSub, "a token of the shared subject": sharedUser} {
		r := f.do(t, a, http.MethodPost, "/api/logout-all", tok)
		if r.code != http.StatusForbidden {
			t.Errorf("POST /api/logout-all with %s: %v; want 403", name, r)
		}
		f.wantOK(t, "after "+name+" tried to log out everywhere", map[string]string{"another guest": other, name: tok}, a)
	}
	f.logout(t, a, "/api/logout", one)
	f.wantEnded(t, "after the guest's /logout", map[string]string{"the guest": one}, a)
	f.wantOK(t, "after one guest's /logout", map[string]string{"another guest": other}, a)

	// The operator's override ends every session of the shared subject.
	if err := mustSignOut(t, f, a).Subject(context.Background(), "guest", now); !errors.Is(err, revocation.ErrSharedSubject) {
		t.Errorf("Subject(guest): %v; want ErrSharedSubject", err)
	}
	if err := mustSignOut(t, f, a).SharedSubject(context.Background(), "guest", now); err != nil {
		t.Fatalf("SharedSubject(guest): %v", err)
	}
	f.wantEnded(t, "after the override", map[string]string{"another guest": other, "the shared subject's user": sharedUser}, a)
}

// TestBeforeRenewKeepsTheSession: a hook that rebuilds the claims from an
// allow-list (dropping sid and auth_time), or that rewrites sub, cannot
// split the session: the renewal keeps the session's sid, auth_time and
// sub, so signing out the old session, or everywhere, still ends it. A
// role change is allowed and gets that role's lifetime.
func TestBeforeRenewKeepsTheSession(t *testing.T) {
	t.Parallel()
	allowList := func(_ echo.Context, claims jwt.MapClaims) error {
		for k := range claims {
			switch k {
			case "role", "metadata", "exp", "iat":
			default:
				delete(claims, k)
			}
		}
		claims["sub"] = "mallory"
		claims["sid"] = "a-session-of-my-own"
		claims["iat"] = json.Number("1")
		return nil
	}
	demote := func(_ echo.Context, claims jwt.MapClaims) error {
		claims["role"] = "guest"
		return nil
	}
	for _, tc := range []struct {
		name string
		hook func(echo.Context, jwt.MapClaims) error
		role string
		life time.Duration
	}{
		{"allow-list and rewrite", allowList, "user", 24 * time.Hour},
		{"role change", demote, "guest", 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSoFleet(t)
			a := f.start(t, "A", memory.New(nil), soConfig{beforeRenew: tc.hook})
			old := f.mint(t, "alice", start)
			at := start.Add(13 * time.Hour)
			renewed := f.renewOn(t, a, old, at)
			for _, name := range []string{"sid", "auth_time", "sub"} {
				if got, want := rawClaim(t, renewed, name), rawClaim(t, old, name); got != want {
					t.Errorf("renewal's %s = %s, want the session's %s", name, got, want)
				}
			}
			if got, want := rawClaim(t, renewed, "iat"), strconv.FormatInt(at.Unix(), 10); got != want {
				t.Errorf("renewal's iat = %s, want %s", got, want)
			}
			if got, want := rawClaim(t, renewed, "role"), `"`+tc.role+`"`; got != want {
				t.Errorf("renewal's role = %s, want %s", got, want)
			}
			if got, want := parse(t, renewed)["exp"], float64(at.Add(tc.life).Unix()); got != want {
				t.Errorf("renewal's exp = %v, want %v (the role's lifetime)", got, want)
			}
			// Signing out the old token's session ends the renewal too.
			if err := mustSignOut(t, f, a).Session(context.Background(), f.claims(t, old)); err != nil {
				t.Fatal(err)
			}
			f.wantEnded(t, "after the old session's sign-out", map[string]string{"the renewal": renewed}, a)
		})
	}
}

// TestTokenWithoutIATCannotEscape: a token without iat has no known start.
// LightRAG's format (sub, role, exp) with the guest role but a user's
// lifetime left would get a start derived in the future and survive "log
// out everywhere"; it must be refused at once and until it expires. A
// token whose auth_time lies after its iat is refused outright, and the
// renewal of a token without iat or auth_time writes a start no later
// than its own iat.
func TestTokenWithoutIATCannotEscape(t *testing.T) {
	t.Parallel()
	f := newSoFleet(t)
	a := f.start(t, "A", memory.New(nil), soConfig{})
	now := f.clock.Now()
	escapee := signTest(t, jwt.MapClaims{"sub": "alice", "role": "guest", "exp": now.Add(23 * time.Hour).Unix()})
	f.wantOK(t, "before the sign-out", map[string]string{"the token without iat": escapee}, a)
	if err := mustSignOut(t, f, a).Subject(context.Background(), "alice", now); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, 21 * time.Hour} {
		f.clock.Set(now.Add(d))
		syncNow(t, a)
		f.wantEnded(t, "now + "+d.String(), map[string]string{"the token without iat": escapee}, a)
	}

	f.clock.Set(now)
	late := signTest(t, jwt.MapClaims{"sub": "bob", "iat": now.Add(-2 * time.Hour).Unix(), "auth_time": now.Add(-time.Hour).Unix(), "exp": now.Add(20 * time.Hour).Unix()})
	if r := f.me(t, a, late); r.code != http.StatusUnauthorized {
		t.Errorf("a token whose auth_time is an hour after its iat: %v; want 401", r)
	}

	// A due guest token without iat or auth_time (30 minutes of 2 hours
	// left): its renewal's auth_time is its start as best known, never
	// after the renewal's iat.
	due := signTest(t, jwt.MapClaims{"sub": "carol", "role": "guest", "exp": now.Add(30 * time.Minute).Unix()})
	r := f.me(t, a, due)
	if r.code != http.StatusOK || r.newToken == "" {
		t.Fatalf("a due token without iat: %v; want a renewal", r)
	}
	mc := parse(t, r.newToken)
	if got, want := mc["auth_time"], float64(now.Add(-90*time.Minute).Unix()); got != want {
		t.Errorf("the renewal's auth_time = %v, want exp - the guest lifetime, %v", got, want)
	}
	if at, iat := mc["auth_time"].(float64), mc["iat"].(float64); at > iat {
		t.Errorf("the renewal's auth_time %v is after its iat %v", at, iat)
	}
}

// TestSignInAfterSignOutEverywhere: a password change signs the user out
// everywhere and hands out a fresh token in the same response, within the
// same second as the cut-off: the fresh token is accepted at once, and so
// is one issued on another instance later in that second, while the
// tokens issued before the cut-off, earlier in that very second included,
// stay refused. The fresh session's start survives its renewal, which is
// then still accepted.
func TestSignInAfterSignOutEverywhere(t *testing.T) {
	t.Parallel()
	f := newSoFleet(t)
	backend := memory.New(nil)
	a := f.start(t, "A", backend, soConfig{})
	b := f.start(t, "B", backend, soConfig{})
	cut := soNow.Add(400 * time.Millisecond)
	before := map[string]string{
		"a session begun an hour earlier":             f.mint(t, "alice", soNow.Add(-time.Hour)),
		"a session begun earlier in the same second":  f.mint(t, "alice", soNow.Add(200*time.Millisecond)),
		"a session begun a microsecond before it all": f.mint(t, "alice", cut.Add(-time.Microsecond)),
	}
	f.clock.Set(cut)
	f.logout(t, a, "/api/logout-all", before["a session begun an hour earlier"])
	fresh := f.mint(t, "alice", cut) // the same handler, the same clock reading
	f.wantOK(t, "the fresh token, at once", map[string]string{"the fresh token": fresh}, a)
	f.wantEnded(t, "at the cut-off", before, a)

	syncNow(t, b)
	f.clock.Set(soNow.Add(600 * time.Millisecond))
	onB := f.mint(t, "alice", f.clock.Now())
	f.wantOK(t, "sign-ins after the cut-off", map[string]string{"the fresh token": fresh, "a sign-in on B in the same second": onB}, a, b)
	f.wantEnded(t, "on B", before, b)

	renewed := f.renewOn(t, a, fresh, cut.Add(13*time.Hour))
	if got, want := rawClaim(t, renewed, "auth_time"), rawClaim(t, fresh, "auth_time"); got != want {
		t.Errorf("the renewal's auth_time = %s, want the session's %s", got, want)
	}
	f.wantOK(t, "the renewal", map[string]string{"the renewal": renewed}, a)
	f.wantEnded(t, "after the renewal", before, a)
}
