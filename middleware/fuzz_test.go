package middleware_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// The fuzz targets run their seed corpus (testdata/fuzz/<name>) with every
// go test; `make fuzz` explores further.

// fuzzCap is the session cap of FuzzToken's app.
const fuzzCap = 72 * time.Hour

// FuzzToken sends arbitrary Authorization header values, and arbitrary
// claims JSON signed with the app's own key, through the middleware: it
// must answer 200 or 401 and never panic; a rejected token gets no new
// token and writes nothing to the store; an accepted token has sane claims;
// a renewal verifies, expires after now and within the lifetime and the
// cap, and is itself accepted.
func FuzzToken(f *testing.F) {
	f.Add("Bearer "+sign(f, jwt.SigningMethodHS256, []byte(hostileSecret), "", dueClaims()), []byte(dueJSON("")))
	a := newHostileApp(f, nil, func(s *config.Settings, _ *middleware.Config) { s.MaxSessionAge = fuzzCap })
	now := epoch.Add(dueAt)
	a.clock.Set(now)
	f.Fuzz(func(t *testing.T, header string, claims []byte) {
		req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		req.Header[echo.HeaderAuthorization] = []string{header}
		checkFuzzResponse(t, a, now, req, nil)
		checkFuzzResponse(t, a, now, bearer(hs256Raw(hostileSecret, validHeader, string(claims))), claims)
	})
}

// checkFuzzResponse serves req and checks what FuzzToken promises. claims,
// when not nil, is the payload the token was signed with.
func checkFuzzResponse(t *testing.T, a *hostileApp, now time.Time, req *http.Request, claims []byte) {
	t.Helper()
	before := a.store.Allows()
	rec := a.serve(req)
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	switch rec.Code {
	case http.StatusOK:
	case http.StatusUnauthorized:
		if fresh != "" {
			t.Fatalf("a 401 carried a new token")
		}
		if a.store.Allows() != before {
			t.Fatalf("a rejected token wrote to the store")
		}
		return
	default:
		t.Fatalf("status %d, want 200 or 401 (body %q)", rec.Code, rec.Body.String())
	}
	if claims != nil {
		checkAcceptedClaims(t, claims, now, a.settings.Leeway)
	}
	if fresh == "" {
		return
	}
	mc, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), now, 0)
	if err != nil {
		t.Fatalf("the renewed token does not verify at now: %v", err)
	}
	exp := unixClaim(mc, "exp")
	role, _ := mc["role"].(string)
	if exp <= now.Unix() || exp > now.Add(a.settings.Lifetime(role)).Unix() {
		t.Fatalf("renewed exp = now%+ds, want in (now, now + %v]", exp-now.Unix(), a.settings.Lifetime(role))
	}
	if auth := unixClaim(mc, "auth_time"); exp > auth+int64(fuzzCap/time.Second) {
		t.Fatalf("renewed exp is %ds past auth_time + cap", exp-auth-int64(fuzzCap/time.Second))
	}
	if rec := a.serve(bearer(fresh)); rec.Code != http.StatusOK {
		t.Fatalf("the renewed token: status %d, want 200", rec.Code)
	}
}

// checkAcceptedClaims fails the test unless claims, which the middleware
// accepted at now, are what it promises to accept: one JSON object with no
// name twice, a non-empty subject of at most 1 KiB, an exp that has not
// passed (with the leeway) and is at most year 9999, and no iat or nbf
// ahead of now by more than the leeway.
func checkAcceptedClaims(t *testing.T, claims []byte, now time.Time, leeway time.Duration) {
	t.Helper()
	var mc map[string]any
	if err := json.Unmarshal(claims, &mc); err != nil || mc == nil {
		t.Fatalf("accepted claims that are not a JSON object: %v", err)
	}
	if dup, err := duplicateNames(claims); err != nil || dup {
		t.Fatalf("accepted claims that name a member twice (%v)", err)
	}
	if sub, ok := mc["sub"].(string); !ok || sub == "" || len(sub) > 1024 {
		t.Fatalf("accepted sub %#v", mc["sub"])
	}
	exp, ok := mc["exp"].(float64)
	if !ok || exp > 253402300799 || exp+leeway.Seconds() < float64(now.Unix())-1 {
		t.Fatalf("accepted exp %#v at now %d", mc["exp"], now.Unix())
	}
	for _, name := range []string{"iat", "nbf"} {
		if v, present := mc[name]; present {
			if f, ok := v.(float64); !ok || f > float64(now.Add(leeway).Unix())+1 || f < 0 || math.IsNaN(f) {
				t.Fatalf("accepted %s %#v at now %d", name, v, now.Unix())
			}
		}
	}
}

// duplicateNames is an independent check, with encoding/json's tokenizer,
// of whether any object in data names a member twice.
func duplicateNames(data []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() (bool, error)
	walk = func() (bool, error) {
		tok, err := dec.Token()
		if err != nil {
			return false, err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				name, err := dec.Token()
				if err != nil {
					return false, err
				}
				if seen[name.(string)] {
					return true, nil
				}
				seen[name.(string)] = true
				if dup, err := walk(); dup || err != nil {
					return dup, err
				}
			}
			_, err = dec.Token()
			return false, err
		case json.Delim('['):
			for dec.More() {
				if dup, err := walk(); dup || err != nil {
					return dup, err
				}
			}
			_, err = dec.Token()
			return false, err
		}
		return false, nil
	}
	dup, err := walk()
	if err == nil && !dup {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return false, errors.New("trailing data")
		}
	}
	return dup, err
}

// FuzzRenewal varies the settings (lifetimes, threshold, interval, cap,
// leeway), the claims (exp, iat, auth_time, role) and the clock, and sends
// a token signed with the right key through the middleware. It must answer
// 200 or 401; refuse what has clearly expired or was issued in the future;
// renew what is clearly due when a renewal can extend it; and a renewal
// must verify, expire after now, within the role's lifetime and never past
// auth_time + cap, keep auth_time, sid and sub, and be accepted itself.
func FuzzRenewal(f *testing.F) {
	f.Add(uint32(86400), uint32(7200), uint16(500), uint32(60), uint32(0), uint16(30),
		false, true, int64(-20*3600), int64(4*3600), false, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, userLife, guestLife uint32, thresholdPermille uint16, interval, capSec uint32, leewaySec uint16,
		guest, hasIAT bool, iatOff, expOff int64, hasAuth bool, authOff, clockOff int64) {
		checkRenewal(t, renewalInput{userLife, guestLife, thresholdPermille, interval, capSec, leewaySec,
			guest, hasIAT, iatOff, expOff, hasAuth, authOff, clockOff})
	})
}

// renewalInput is one case of FuzzRenewal, as raw values.
type renewalInput struct {
	userLife, guestLife uint32
	thresholdPermille   uint16
	interval, capSec    uint32
	leewaySec           uint16
	guest, hasIAT       bool
	iatOff, expOff      int64
	hasAuth             bool
	authOff, clockOff   int64
}

// renewalOutcome is what checkRenewal saw.
type renewalOutcome int

const (
	outcomeRejected renewalOutcome = iota
	outcomeNotRenewed
	outcomeRenewed
	outcomeRenewedToCap
)

// checkRenewal runs one FuzzRenewal case and checks its properties.
func checkRenewal(t *testing.T, in renewalInput) renewalOutcome {
	t.Helper()
	// The raw values are folded into the ranges Validate accepts, so
	// that most inputs exercise the middleware rather than config.
	const tenYears = int64(config.MaxLifetime / time.Second)
	s := hostileSettings()
	s.UserLifetime = time.Duration(2+int64(in.userLife)%(tenYears-1)) * time.Second
	s.GuestLifetime = time.Duration(2+int64(in.guestLife)%(tenYears-1)) * time.Second
	s.RenewThreshold = float64(1+in.thresholdPermille%1000) / 1000
	window := time.Duration(s.RenewThreshold * float64(min(s.UserLifetime, s.GuestLifetime)))
	if window <= 2*time.Millisecond {
		return outcomeRejected // no interval fits: config refuses these
	}
	s.MinRenewInterval = time.Duration(1+int64(in.interval)%int64(window/time.Millisecond-1)) * time.Millisecond
	if in.capSec%4 != 0 {
		s.MaxSessionAge = time.Duration(1+int64(in.capSec)%tenYears) * time.Second
	}
	s.Leeway = time.Duration(in.leewaySec%301) * time.Second
	if err := s.Validate(); err != nil {
		t.Fatalf("folded settings are invalid: %v", err)
	}
	role := config.RoleUser
	if in.guest {
		role = config.RoleGuest
	}
	// Times are spread over three lifetimes around now, and auth_time
	// over three lifetimes around now - cap, where the decisions are; the
	// attack table covers extreme dates.
	scale := int64(s.Lifetime(role)/time.Second) * 3
	now := epoch.Add(time.Duration(in.clockOff%(100*365*24*3600)) * time.Second)
	exp := now.Unix() + in.expOff%scale
	iat := now.Unix() + in.iatOff%scale
	auth := now.Unix() - capSec64(s) + in.authOff%scale
	claims := jwt.MapClaims{"sub": "alice", "role": role, "sid": "session-1", "exp": exp}
	if in.hasIAT {
		claims["iat"] = iat
	}
	if in.hasAuth {
		claims["auth_time"] = auth
	}
	a := newHostileApp(t, nil, func(dst *config.Settings, _ *middleware.Config) { *dst = s })
	a.clock.Set(now)
	rec := a.serve(bearer(sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", claims)))
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	leeway := int64(s.Leeway / time.Second)
	switch rec.Code {
	case http.StatusOK:
		if exp <= 0 || exp+leeway < now.Unix() {
			t.Fatalf("accepted a token that expired %ds ago (leeway %ds)", now.Unix()-exp, leeway)
		}
		if in.hasIAT && iat > now.Unix()+leeway {
			t.Fatalf("accepted a token issued %ds in the future (leeway %ds)", iat-now.Unix(), leeway)
		}
	case http.StatusUnauthorized:
		if fresh != "" || a.store.Allows() != 0 {
			t.Fatalf("a 401 renewed or wrote to the store")
		}
		return outcomeRejected
	default:
		t.Fatalf("status %d, want 200 or 401", rec.Code)
	}

	lifetime := s.Lifetime(role)
	// When the session started, by the documented rule: auth_time,
	// else iat, else exp minus the role's lifetime.
	authTime := exp - int64(lifetime/time.Second)
	tokenLifetime := float64(lifetime / time.Second)
	if in.hasIAT {
		authTime, tokenLifetime = iat, float64(exp-iat)
	}
	if in.hasAuth {
		authTime = auth
	}
	target := now.Unix() + int64(lifetime/time.Second)
	if s.MaxSessionAge > 0 {
		target = min(target, authTime+capSec64(s))
	}
	clearlyDue := float64(exp-now.Unix()) < 0.9*s.RenewThreshold*tokenLifetime
	if fresh == "" {
		if clearlyDue && target > exp+1 && target > now.Unix()+1 {
			t.Fatalf("a token %ds from expiry, due (lifetime %vs, threshold %v) and extensible to %+ds, was not renewed",
				exp-now.Unix(), tokenLifetime, s.RenewThreshold, target-now.Unix())
		}
		return outcomeNotRenewed
	}
	mc, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), now, 0)
	if err != nil {
		t.Fatalf("the renewed token does not verify at now: %v", err)
	}
	newExp := unixClaim(mc, "exp")
	switch {
	case newExp <= now.Unix():
		t.Fatalf("renewed exp is %ds before now", now.Unix()-newExp)
	case newExp > now.Unix()+int64(lifetime/time.Second):
		t.Fatalf("renewed exp is past now + the %s lifetime", role)
	case newExp <= exp:
		t.Fatalf("the renewal did not extend the token: exp %d -> %d", exp, newExp)
	case s.MaxSessionAge > 0 && newExp > authTime+capSec64(s):
		t.Fatalf("renewed exp is %ds past auth_time + cap", newExp-authTime-capSec64(s))
	case unixClaim(mc, "auth_time") != authTime:
		t.Fatalf("renewed auth_time = %d, want %d", unixClaim(mc, "auth_time"), authTime)
	case unixClaim(mc, "iat") != now.Unix():
		t.Fatalf("renewed iat = %d, want now %d", unixClaim(mc, "iat"), now.Unix())
	case mc["sub"] != "alice" || mc["sid"] != "session-1" || mc["role"] != role:
		t.Fatalf("renewed claims lost sub, sid or role: %v", mc)
	}
	if rec := a.serve(bearer(fresh)); rec.Code != http.StatusOK || rec.Header().Get(middleware.HeaderNewToken) != "" {
		t.Fatalf("the renewed token at once: status %d, renewed again %v; want 200 and no renewal",
			rec.Code, rec.Header().Get(middleware.HeaderNewToken) != "")
	}
	if s.MaxSessionAge > 0 && newExp == authTime+capSec64(s) {
		return outcomeRenewedToCap
	}
	return outcomeRenewed
}

// TestRenewalProperties runs FuzzRenewal's checks over a fixed sample of
// random cases in every go test, and checks that the sample is not
// vacuous: it must contain rejections, renewals and renewals cut by the cap.
func TestRenewalProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2026, 6))
	var outcomes [4]int
	const cases = 3000
	for range cases {
		in := renewalInput{
			userLife: rng.Uint32(), guestLife: rng.Uint32(), thresholdPermille: uint16(rng.UintN(1 << 16)),
			interval: rng.Uint32(), capSec: rng.Uint32(), leewaySec: uint16(rng.UintN(1 << 16)),
			guest: rng.IntN(2) == 0, hasIAT: rng.IntN(2) == 0, iatOff: rng.Int64(), expOff: rng.Int64(),
			hasAuth: rng.IntN(2) == 0, authOff: rng.Int64(), clockOff: rng.Int64(),
		}
		if rng.IntN(2) == 0 { // lifetimes of minutes to days, where deployments are
			in.userLife, in.guestLife = 60+rng.Uint32N(7*86400), 60+rng.Uint32N(7*86400)
			in.capSec = 4*rng.Uint32N(2) + 1 + rng.Uint32N(30*86400)
		}
		outcomes[checkRenewal(t, in)]++
		if t.Failed() {
			t.Fatalf("case %+v", in)
		}
	}
	t.Logf("%d cases: %d rejected, %d not renewed, %d renewed, %d renewed up to the cap", cases, outcomes[0], outcomes[1], outcomes[2], outcomes[3])
	for i, n := range outcomes {
		if n < cases/200 {
			t.Errorf("outcome %d happened %d times in %d cases; the sample is too narrow", i, n, cases)
		}
	}
}

func capSec64(s config.Settings) int64 { return int64(s.MaxSessionAge / time.Second) }
