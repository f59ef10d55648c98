package middleware_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
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
// token and writes nothing to the store; an accepted token has sane claims
// (see checkAcceptedClaims); a renewal verifies, is due, extends the token
// within the lifetime and the cap, keeps the session (see
// checkRenewedClaims), and is itself accepted.
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
	if claims != nil {
		checkRenewedClaims(t, a.settings, now, claims, fresh)
	}
	if rec := a.serve(bearer(fresh)); rec.Code != http.StatusOK {
		t.Fatalf("the renewed token: status %d, want 200", rec.Code)
	}
}

// maxDate is the last second of year 9999, the latest date accepted.
const maxDate = 253402300799

// unixTime converts a NumericDate to a time, to the nanosecond.
func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// checkAcceptedClaims fails the test unless claims, which the middleware
// accepted at now, are what it promises to accept: one JSON object with no
// name twice; no sub, or a non-empty string of at most 1 KiB (sub is
// optional); sid and jti strings when present; exp, and iat, nbf and
// auth_time when present, numbers of years 1970-9999; an exp that, in whole
// seconds as golang-jwt reads it, has not passed (with the leeway); no iat
// or nbf ahead of now by more than the leeway; iat before exp; and an
// auth_time that, rounded to the microsecond and then truncated to the
// second, lies no more than the leeway after iat, nor after now.
func checkAcceptedClaims(t *testing.T, claims []byte, now time.Time, leeway time.Duration) {
	t.Helper()
	var mc map[string]any
	if err := json.Unmarshal(claims, &mc); err != nil || mc == nil {
		t.Fatalf("accepted claims that are not a JSON object: %v", err)
	}
	if dup, err := duplicateNames(claims); err != nil || dup {
		t.Fatalf("accepted claims that name a member twice (%v)", err)
	}
	if v, present := mc["sub"]; present {
		if sub, ok := v.(string); !ok || sub == "" || len(sub) > 1024 {
			t.Fatalf("accepted sub %#v", v)
		}
	}
	for _, name := range []string{"sid", "jti"} {
		if v, present := mc[name]; present {
			if _, ok := v.(string); !ok {
				t.Fatalf("accepted %s %#v", name, v)
			}
		}
	}
	dates := map[string]time.Time{}
	for _, name := range []string{"exp", "iat", "nbf", "auth_time"} {
		v, present := mc[name]
		if !present {
			continue
		}
		f, ok := v.(float64)
		if !ok || f < 0 || f > maxDate || math.IsNaN(f) {
			t.Fatalf("accepted %s %#v", name, v)
		}
		dates[name] = unixTime(f)
	}
	exp, ok := dates["exp"]
	if !ok || !now.Before(exp.Truncate(time.Second).Add(leeway)) {
		t.Fatalf("accepted exp %#v at now %d (leeway %v)", mc["exp"], now.Unix(), leeway)
	}
	for _, name := range []string{"iat", "nbf"} {
		if d, present := dates[name]; present && now.Before(d.Truncate(time.Second).Add(-leeway)) {
			t.Fatalf("accepted %s %#v at now %d (leeway %v)", name, mc[name], now.Unix(), leeway)
		}
	}
	iat, hasIAT := dates["iat"]
	if hasIAT && !iat.Before(exp) {
		t.Fatalf("accepted iat %#v not before exp %#v", mc["iat"], mc["exp"])
	}
	if auth, present := dates["auth_time"]; present {
		start := auth.Round(time.Microsecond).Truncate(time.Second)
		if hasIAT && start.Sub(iat) > leeway || start.Sub(now) > leeway {
			t.Fatalf("accepted auth_time %#v with iat %#v at now %d (leeway %v)", mc["auth_time"], mc["iat"], now.Unix(), leeway)
		}
	}
}

// renewalNames are the claims a renewal sets anew; it keeps every other.
var renewalNames = []string{"iat", "exp", "jti", "auth_time", "sid"}

// authTimeText is how the Issuer writes auth_time: seconds, with up to six
// decimals (the microsecond).
var authTimeText = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$`)

// checkRenewedClaims fails the test unless fresh, the renewal at now of a
// token signed with claims, which s accepted, is what a renewal promises:
// the old token was due (remaining time under threshold x its lifetime:
// exp - iat, else its role's); iat = now; exp = now + the role's lifetime,
// cut at start + MaxSessionAge, and later than the old exp; auth_time
// written to the microsecond and equal to the session's start: the old
// auth_time to the microsecond, else iat, else (start unknown)
// min(exp - lifetime(role), now); the old sid, else a derived one that is
// not the old jti; a new jti; and every other claim as it was.
func checkRenewedClaims(t *testing.T, s config.Settings, now time.Time, claims []byte, fresh string) {
	t.Helper()
	var old map[string]any
	if err := json.Unmarshal(claims, &old); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(fresh, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var renewed, exact map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := json.Unmarshal(payload, &renewed); err != nil || dec.Decode(&exact) != nil {
		t.Fatalf("renewed payload %s: %v", payload, err)
	}

	role, _ := old["role"].(string)
	oldExp := unixTime(old["exp"].(float64))
	lifetime := s.Lifetime(role)
	// start is the session's start as the renewal reads it; a start
	// taken from iat or derived may have a fraction of a microsecond,
	// which the renewal cannot write.
	start, precision := earliest(oldExp.Add(-lifetime), now), time.Microsecond-1
	if iat, ok := old["iat"].(float64); ok {
		start, lifetime = unixTime(iat), oldExp.Sub(unixTime(iat))
	}
	if auth, ok := old["auth_time"].(float64); ok {
		start, precision = unixTime(auth).Round(time.Microsecond), 0
	}
	if float64(oldExp.Sub(now)) >= s.RenewThreshold*float64(lifetime) {
		t.Fatalf("renewed a token %v before its exp, lifetime %v, threshold %v", oldExp.Sub(now), lifetime, s.RenewThreshold)
	}

	if got := renewed["iat"]; got != float64(now.Unix()) {
		t.Fatalf("renewed iat %#v, want now %d", got, now.Unix())
	}
	text, _ := exact["auth_time"].(json.Number)
	if !authTimeText.MatchString(string(text)) {
		t.Fatalf("renewed auth_time %#v, want seconds with at most six decimals", exact["auth_time"])
	}
	written := unixTime(renewed["auth_time"].(float64)).Round(time.Microsecond)
	if written.Sub(start).Abs() > precision {
		t.Fatalf("renewed auth_time %s, want the session's start %v (auth_time %#v, iat %#v, exp %#v)",
			text, start, old["auth_time"], old["iat"], old["exp"])
	}
	// exp from the start as read (within its precision).
	target := func(start time.Time) int64 {
		exp := now.Add(s.Lifetime(role))
		if s.MaxSessionAge > 0 {
			exp = earliest(exp, start.Add(s.MaxSessionAge))
		}
		return exp.Unix()
	}
	if exp := unixClaim(renewed, "exp"); exp < target(start.Add(-precision)) || exp > target(start.Add(precision)) || exp <= oldExp.Unix() {
		t.Fatalf("renewed exp %d, want min(now + %v, start + cap) = %d, after the old exp %#v", exp, s.Lifetime(role), target(start), old["exp"])
	}

	oldJTI, _ := old["jti"].(string)
	if jti, _ := renewed["jti"].(string); jti == "" || jti == oldJTI {
		t.Fatalf("renewed jti %#v, want a new one (old %q)", renewed["jti"], oldJTI)
	}
	sid, _ := renewed["sid"].(string)
	if oldSID, _ := old["sid"].(string); oldSID != "" && sid != oldSID || oldSID == "" && (sid == "" || sid == oldJTI) {
		t.Fatalf("renewed sid %#v, old sid %#v, jti %q: want the old sid, else a derived one", renewed["sid"], old["sid"], oldJTI)
	}
	for _, name := range renewalNames {
		delete(old, name)
		delete(renewed, name)
	}
	if !reflect.DeepEqual(old, renewed) {
		t.Fatalf("the renewal changed the claims it keeps:\n got %v\nwant %v", renewed, old)
	}
}

// earliest returns the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
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
// leeway), the claims (exp, iat, auth_time to the microsecond, role) and
// the clock (to the nanosecond), and sends a token signed with the right
// key through the middleware. It must answer 200 or 401, and 200 exactly
// when the token is valid (see refusal); renew exactly when the token is
// due and a renewal extends it; and a renewal must verify, expire at
// now + the role's lifetime cut at the session's start + cap, keep sub,
// sid, role and the session's start (auth_time, else iat, else, unknown,
// min(exp - lifetime(role), now)), written to the microsecond, and be
// accepted itself, not renewed again. A token the app's Issuer mints at
// now must be accepted at once.
func FuzzRenewal(f *testing.F) {
	f.Add(uint32(86400), uint32(7200), uint16(500), uint32(60), uint32(0), uint16(30),
		false, true, int64(-20*3600), int64(4*3600), false, int64(0), int64(0), uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, userLife, guestLife uint32, thresholdPermille uint16, interval, capSec uint32, leewaySec uint16,
		guest, hasIAT bool, iatOff, expOff int64, hasAuth bool, authOff, clockOff int64, authMicros, clockNanos uint32) {
		checkRenewal(t, renewalInput{userLife, guestLife, thresholdPermille, interval, capSec, leewaySec,
			guest, hasIAT, iatOff, expOff, hasAuth, authOff, clockOff, authMicros, clockNanos})
	})
}

// renewalInput is one case of FuzzRenewal, as raw values.
type renewalInput struct {
	userLife, guestLife    uint32
	thresholdPermille      uint16
	interval, capSec       uint32
	leewaySec              uint16
	guest, hasIAT          bool
	iatOff, expOff         int64
	hasAuth                bool
	authOff, clockOff      int64
	authMicros, clockNanos uint32
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
	// attack table covers extreme dates. The clock has nanoseconds,
	// auth_time microseconds; iat and exp are whole seconds.
	scale := int64(s.Lifetime(role)/time.Second) * 3
	now := epoch.Add(time.Duration(in.clockOff%(100*365*24*3600))*time.Second + time.Duration(in.clockNanos%1e9))
	exp := now.Unix() + in.expOff%scale
	iat := now.Unix() + in.iatOff%scale
	authUS := (now.Unix()-capSec64(s)+in.authOff%scale)*1e6 + int64(in.authMicros%1e6)
	claims := jwt.MapClaims{"sub": "alice", "role": role, "sid": "session-1", "exp": exp}
	if in.hasIAT {
		claims["iat"] = iat
	}
	if in.hasAuth {
		claims["auth_time"] = json.Number(microsText(authUS))
	}
	a := newHostileApp(t, nil, func(dst *config.Settings, _ *middleware.Config) { *dst = s })
	a.clock.Set(now)

	// A sign-in now is accepted at once, when now is a date a token can
	// carry (from 1970). It may renew at once, in its own session.
	if now.Unix() >= 0 {
		issued, _, err := a.issuer.IssueAt(now, "alice", role, nil)
		if err != nil {
			t.Fatalf("IssueAt: %v", err)
		}
		if rec := a.serve(bearer(issued)); rec.Code != http.StatusOK {
			t.Fatalf("a token issued now (%v): status %d, want 200 at once (%s)", now.Format(time.RFC3339Nano), rec.Code, rec.Body.String())
		}
	}
	allows := a.store.Allows()

	rec := a.serve(bearer(sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", claims)))
	fresh := rec.Header().Get(middleware.HeaderNewToken)
	why := refusal(in, s, now, exp, iat, authUS)
	switch rec.Code {
	case http.StatusOK:
		if why != "" {
			t.Fatalf("accepted a token with %s", why)
		}
	case http.StatusUnauthorized:
		if why == "" {
			t.Fatalf("refused a valid token: %s", rec.Body.String())
		}
		if fresh != "" || a.store.Allows() != allows {
			t.Fatalf("a 401 renewed or wrote to the store")
		}
		return outcomeRejected
	default:
		t.Fatalf("status %d, want 200 or 401", rec.Code)
	}

	lifetime := s.Lifetime(role)
	// The session's start, by the documented rule: auth_time, else iat,
	// else (unknown) exp minus the role's lifetime, but not after now.
	start := earliest(time.Unix(exp, 0).Add(-lifetime), now)
	tokenLifetime := lifetime
	if in.hasIAT {
		start, tokenLifetime = time.Unix(iat, 0), time.Duration(exp-iat)*time.Second
	}
	if in.hasAuth {
		start = time.UnixMicro(authUS)
	}
	target := now.Add(lifetime)
	if s.MaxSessionAge > 0 {
		target = earliest(target, start.Add(s.MaxSessionAge))
	}
	due := float64(time.Unix(exp, 0).Sub(now)) < s.RenewThreshold*float64(tokenLifetime)
	extends := target.Unix() > exp && target.Unix() > now.Unix()
	if fresh == "" {
		if due && extends {
			t.Fatalf("a token %v from expiry, due (lifetime %v, threshold %v) and extensible to %v, was not renewed",
				time.Unix(exp, 0).Sub(now), tokenLifetime, s.RenewThreshold, target.Sub(now))
		}
		return outcomeNotRenewed
	}
	if !due || !extends {
		t.Fatalf("renewed a token %v from expiry (lifetime %v, threshold %v: due %v) to %v (extends %v)",
			time.Unix(exp, 0).Sub(now), tokenLifetime, s.RenewThreshold, due, target.Sub(now), extends)
	}
	mc, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), now, 0)
	if err != nil {
		t.Fatalf("the renewed token does not verify at now: %v", err)
	}
	exact := exactClaims(t, fresh)
	auth, _ := exact["auth_time"].(json.Number)
	written, ok := microsOf(string(auth))
	switch newExp := unixClaim(mc, "exp"); {
	case newExp != target.Unix():
		t.Fatalf("renewed exp = now%+ds, want min(now + lifetime, start + cap) = now%+ds", newExp-now.Unix(), target.Unix()-now.Unix())
	case !authTimeText.MatchString(string(auth)) || !ok:
		t.Fatalf("renewed auth_time %#v, want seconds with at most six decimals", exact["auth_time"])
	case written != start.UnixMicro():
		t.Fatalf("renewed auth_time = %s, want the session's start %s", auth, microsText(start.UnixMicro()))
	case unixClaim(mc, "iat") != now.Unix():
		t.Fatalf("renewed iat = %d, want now %d", unixClaim(mc, "iat"), now.Unix())
	case mc["sub"] != "alice" || mc["sid"] != "session-1" || mc["role"] != role:
		t.Fatalf("renewed claims lost sub, sid or role: %v", mc)
	case mc["jti"] == nil || mc["jti"] == "":
		t.Fatalf("renewed claims have no jti: %v", mc)
	}
	if rec := a.serve(bearer(fresh)); rec.Code != http.StatusOK || rec.Header().Get(middleware.HeaderNewToken) != "" {
		t.Fatalf("the renewed token at once: status %d, renewed again %v; want 200 and no renewal",
			rec.Code, rec.Header().Get(middleware.HeaderNewToken) != "")
	}
	if s.MaxSessionAge > 0 && target.Equal(start.Add(s.MaxSessionAge)) {
		return outcomeRenewedToCap
	}
	return outcomeRenewed
}

// refusal returns why the middleware must refuse in's token, whose exp and
// iat are Unix seconds and auth_time Unix microseconds, at now with s, or
// "" when it must accept it: a date before 1970; an exp that, with the
// leeway, is not after now, or an iat after now by more than the leeway
// (golang-jwt's rules, in whole seconds); an iat not before exp; an
// auth_time, truncated to the second, after iat or after now by more than
// the leeway.
func refusal(in renewalInput, s config.Settings, now time.Time, exp, iat, authUS int64) string {
	switch authSec := time.Unix(authUS/1e6, 0); {
	case exp < 0 || in.hasIAT && iat < 0 || in.hasAuth && authUS < 0:
		return "a date before 1970"
	case !now.Before(time.Unix(exp, 0).Add(s.Leeway)):
		return "an exp that has passed"
	case in.hasIAT && now.Before(time.Unix(iat, 0).Add(-s.Leeway)):
		return "an iat in the future"
	case in.hasIAT && iat >= exp:
		return "an iat not before exp"
	case in.hasAuth && in.hasIAT && authSec.Sub(time.Unix(iat, 0)) > s.Leeway:
		return "an auth_time after iat"
	case in.hasAuth && authSec.Sub(now) > s.Leeway:
		return "an auth_time in the future"
	}
	return ""
}

// microsText writes a time in Unix microseconds as a JSON number of
// seconds with six decimals.
func microsText(us int64) string {
	if us < 0 {
		return "-" + microsText(-us)
	}
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// microsOf reads a JSON number of seconds with at most six decimals, as
// Unix microseconds.
func microsOf(text string) (int64, bool) {
	secText, fracText, _ := strings.Cut(text, ".")
	sec, err := strconv.ParseInt(secText, 10, 64)
	if err != nil || len(fracText) > 6 {
		return 0, false
	}
	frac := int64(0)
	if fracText != "" {
		if frac, err = strconv.ParseInt((fracText + "00000")[:6], 10, 64); err != nil {
			return 0, false
		}
	}
	return sec*1e6 + frac, true
}

// exactClaims returns a token's claims with numbers as written.
func exactClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("claims %s: %v", payload, err)
	}
	return m
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
