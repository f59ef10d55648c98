package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
)

// member is one member of a JSON object, as written.
type member struct {
	name string // the name, unquoted
	raw  string // the name as written, a colon, the value as written
}

// readMembers returns the members of the JSON object text, in order; each
// value is compacted when compact is set.
func readMembers(tb testing.TB, text []byte, compact bool) []member {
	tb.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(text))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		tb.Fatalf("%s: not an object (%v)", text, err)
	}
	var ms []member
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			tb.Fatalf("%s: %v", text, err)
		}
		name = name.Clone()
		value, err := dec.ReadValue()
		if err != nil {
			tb.Fatalf("%s: %v", text, err)
		}
		value = value.Clone()
		if compact {
			if err := value.Compact(); err != nil {
				tb.Fatal(err)
			}
		}
		unquoted, err := jsontext.AppendUnquote(nil, name)
		if err != nil {
			tb.Fatal(err)
		}
		ms = append(ms, member{name: string(unquoted), raw: string(name) + ":" + string(value)})
	}
	if _, err := dec.ReadToken(); err != nil {
		tb.Fatal(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		tb.Fatalf("%s: text after the object (%v)", text, err)
	}
	return ms
}

// payloadOf returns the decoded claims segment of a compact JWS.
func payloadOf(tb testing.TB, raw string) []byte {
	tb.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		tb.Fatalf("%q: %d segments", raw, len(parts))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// renewalNames are the claims a renewal writes anew.
var renewalNames = map[string]bool{"iat": true, "exp": true, "jti": true, "auth_time": true, "sid": true}

// checkRenewal fails t unless renewed, the renewal of v at now with expiry
// exp, keeps every other claim of v's payload as written (compacted when
// compact is set), holds each of the renewal's claims exactly once with the
// values due, and verifies with f's Verifier as the same session.
func checkRenewal(t *testing.T, f *verifyFixture, v *Verified, now, exp time.Time, renewed string, compact bool) {
	t.Helper()
	oldPayload, newPayload := payloadOf(t, v.Raw()), payloadOf(t, renewed)
	if !jsontext.Value(newPayload).IsValid() {
		t.Fatalf("renewed payload %s is not I-JSON", newPayload)
	}
	var kept, wantKept []string
	for _, m := range readMembers(t, oldPayload, compact) {
		if !renewalNames[m.name] {
			wantKept = append(wantKept, m.raw)
		}
	}
	seen := map[string][]string{}
	for _, m := range readMembers(t, newPayload, false) {
		if renewalNames[m.name] {
			seen[m.name] = append(seen[m.name], m.raw)
			continue
		}
		kept = append(kept, m.raw)
	}
	if !reflect.DeepEqual(kept, wantKept) {
		t.Errorf("renewal changed the claims it keeps:\n got %q\nwant %q", kept, wantKept)
	}
	oldJTI := v.jti
	for name, want := range map[string]string{
		"iat":       `"iat":` + itoa(now.Unix()),
		"exp":       `"exp":` + itoa(exp.Unix()),
		"auth_time": `"auth_time":` + string(appendMicros(nil, v.sessionStart(now))),
		"sid":       `"sid":` + string(mustQuote(t, v.Session())),
	} {
		if got := seen[name]; len(got) != 1 || got[0] != want {
			t.Errorf("renewed %s: %q, want exactly one %s", name, got, want)
		}
	}
	if got := seen["jti"]; len(got) != 1 || len(got[0]) != len(`"jti":""`)+22 || got[0] == `"jti":`+string(mustQuote(t, oldJTI)) {
		t.Errorf("renewed jti: %q, want exactly one new 22-character jti", got)
	}
	nv, err := f.vf.Verify(renewed, now)
	if err != nil {
		t.Fatalf("the renewed token does not verify: %v", err)
	}
	if nv.Session() != v.Session() || nv.sessionKey() != v.sessionKey() {
		t.Errorf("renewed session %q key %s, want the old token's %q key %s", nv.Session(), nv.sessionKey(), v.Session(), v.sessionKey())
	}
	// The session's start survives the renewal as every subject cut-off
	// sees it (they have microsecond precision: see SignOut.Subject): a
	// known start (AuthTime) is written truncated to the microsecond, so a
	// cut-off after the old start is after the new one too. An unknown
	// start is set by the renewal (sessionStart), to the microsecond.
	if v.authStart().IsZero() {
		if want := v.sessionStart(now); nv.authStart().Sub(want).Abs() >= time.Microsecond {
			t.Errorf("renewed AuthTime %v, want the start the renewal sets, %v, to the microsecond", nv.authStart(), want)
		}
	} else if want := v.authStart().Truncate(time.Microsecond); !nv.authStart().Equal(want) {
		t.Errorf("renewed AuthTime %v, want the session's start %v (%v to the microsecond)", nv.authStart(), want, v.authStart())
	}
	if nv.authStart().After(now) {
		t.Errorf("renewed AuthTime %v is after the renewal's iat %v", nv.authStart(), now)
	}
}

func mustQuote(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := jsontext.AppendQuote(nil, s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// renewalPayloads are claims texts that stress an exact copy: an integer
// beyond 2^53, a float written with a trailing zero, strings with the
// characters encoding/json rewrites, escapes of every kind, raw and escaped
// emoji, nested objects and arrays; with sid, with only jti, with neither;
// with the renewal's claims spelled with escapes, first, last, or absent.
func renewalPayloads() map[string]string {
	iss := `"iss":"` + verifyIssuer + `"`
	iat, exp, auth := itoa(cacheStart.Add(-10*time.Minute).Unix()), itoa(cacheStart.Add(50*time.Minute).Unix()), itoa(cacheStart.Add(-time.Hour).Unix())
	odd := `"uid":1859029138417344513,"ratio":1.50,"neg":-0,"sci":1E+2,"tiny":5e-324,` +
		`"html":"<a href=\"x\">&amp;</a>","esc":"caf\u00e9 \/ \u003c\u0026\u003e \t\n\\","emoji":"🎉 é","emoji_esc":"\ud83c\udf89",` +
		`"metadata":{"auth_mode":"enabled","n":18446744073709551617,"list":[1,2.0,{"k":null}],"deep":{"a":[[{}]]}},` +
		`"arr":[[],{},true,false,null,"\u2028"],"role":"user","sub":"alice",` + iss
	return map[string]string{
		"with sid":            `{` + odd + `,"iat":` + iat + `,"exp":` + exp + `,"jti":"old-jti","auth_time":` + auth + `,"sid":"s-1"}`,
		"only jti":            `{"jti":"old-jti","iat":` + iat + `,` + odd + `,"exp":` + exp + `}`,
		"neither sid nor jti": `{"exp":` + exp + `,` + odd + `,"iat":` + iat + `}`,
		"no iat":              `{` + odd + `,"exp":` + exp + `}`,
		"escaped names":       `{"\u0069at":` + iat + `,"\u0065xp":` + exp + `,"\u006ati":"old-jti","auth\u005ftime":` + auth + `,"\u0073id":"s-2",` + odd + `}`,
		"escaped kept names":  `{"\u0075id":1,"r\u006fle":"guest","\u00e9":"é",` + iss + `,"sub":"bob","exp":` + exp + `}`,
		"fractional dates":    `{` + iss + `,"sub":"x","iat":` + iat + `.75,"exp":` + exp + `.5,"auth_time":` + auth + `.25}`,
		"minimal":             `{` + iss + `,"exp":` + exp + `}`,
	}
}

// TestSignRenewalKeepsClaimsExactly: a renewal keeps every claim of the
// signed payload it does not set byte for byte, sets its own claims once
// each, and stays in the session; tokens signed by hand, as another issuer
// would.
func TestSignRenewalKeepsClaimsExactly(t *testing.T) {
	t.Parallel()
	for name, claims := range renewalPayloads() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newVerifyFixture(t, 0)
			now := f.clock.Now()
			raw := signParts(t, `{"alg":"HS256","kid":"b"}`, claims, cacheSecret("b"), jwt.SigningMethodHS256)
			v, err := f.vf.Verify(raw, now)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			exp, extends := f.issuer.expiryOfRenewal(v, now)
			if !extends {
				t.Fatalf("RenewalExpiry(%v) does not extend the token", exp)
			}
			renewed, err := f.issuer.signRenewal(v, now, exp)
			if err != nil {
				t.Fatal(err)
			}
			checkRenewal(t, f, v, now, exp, renewed, false)
			if size, err := f.issuer.renewedSize(v, now, exp); err != nil || size != len(renewed) {
				t.Errorf("RenewedSize = %d, %v; want %d, the length of the token SignRenewal returned", size, err, len(renewed))
			}
			// And the renewal of the renewal: still the same session.
			later := now.Add(time.Hour)
			f.clock.set(later)
			nv, err := f.vf.Verify(renewed, later)
			if err != nil {
				t.Fatal(err)
			}
			exp2, _ := f.issuer.expiryOfRenewal(nv, later)
			again, err := f.issuer.signRenewal(nv, later, exp2)
			if err != nil {
				t.Fatal(err)
			}
			checkRenewal(t, f, nv, later, exp2, again, false)
			if av, err := f.vf.Verify(again, later); err != nil || av.sessionKey() != v.sessionKey() {
				t.Errorf("second renewal: %v; session key %v, want the first token's", err, av)
			}
		})
	}
}

// TestSignRenewalWhitespace: a payload written with whitespace is renewed
// compacted, its values otherwise as written.
func TestSignRenewalWhitespace(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	now := f.clock.Now()
	claims := "{\n  \"sub\" : \"alice\",\t\"iss\": \"" + verifyIssuer + "\",\r\n  \"exp\": " + itoa(cacheStart.Add(time.Hour).Unix()) +
		",\n  \"m\": { \"a\" : [ 1 , 2.50 , \"\\u00e9 <\" ] ,\"b\":{ } },\n  \"big\": 1859029138417344513\n}\n"
	raw := signParts(t, `{"alg":"HS256","kid":"a"}`, claims, cacheSecret("a"), jwt.SigningMethodHS256)
	v, err := f.vf.Verify(raw, now)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := f.issuer.expiryOfRenewal(v, now)
	renewed, err := f.issuer.signRenewal(v, now, exp)
	if err != nil {
		t.Fatal(err)
	}
	checkRenewal(t, f, v, now, exp, renewed, true)
}

// TestSignRenewalSession: the renewal of a token with sid, with only jti,
// or with neither carries sid = the old token's Session, so the session key
// does not change.
func TestSignRenewalSession(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	now := f.clock.Now()
	base := `"sub":"alice","iss":"` + verifyIssuer + `","exp":` + itoa(cacheStart.Add(time.Hour).Unix())
	tests := []struct {
		name, claims, wantSession string // "" : derived, not a claim
	}{
		{"sid", `{` + base + `,"sid":"session-1","jti":"j-1"}`, "session-1"},
		{"only jti", `{` + base + `,"jti":"j-1"}`, ""},
		{"neither", `{` + base + `}`, ""},
	}
	sessions := map[string]string{}
	for _, tt := range tests {
		raw := signParts(t, `{"alg":"HS256","kid":"a"}`, tt.claims, cacheSecret("a"), jwt.SigningMethodHS256)
		v, err := f.vf.Verify(raw, now)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		c := v.Claims()
		if tt.wantSession != "" && (c.Session != tt.wantSession || c.SessionID != tt.wantSession) {
			t.Errorf("%s: Session %q SessionID %q, want %q", tt.name, c.Session, c.SessionID, tt.wantSession)
		}
		if tt.wantSession == "" && (c.Session == "" || c.SessionID != "") {
			t.Errorf("%s: Session %q SessionID %q, want a derived session and no sid", tt.name, c.Session, c.SessionID)
		}
		if other, dup := sessions[c.Session]; dup {
			t.Errorf("%s and %s share the session %q", tt.name, other, c.Session)
		}
		sessions[c.Session] = tt.name
		if v.sessionKey() != store.SessionRevocationKey(c.Session).String() {
			t.Errorf("%s: session key %s, want the digest of Session %s", tt.name, v.sessionKey(), store.SessionRevocationKey(c.Session))
		}
		exp, _ := f.issuer.expiryOfRenewal(v, now)
		renewed, err := f.issuer.signRenewal(v, now, exp)
		if err != nil {
			t.Fatal(err)
		}
		nv, err := f.vf.Verify(renewed, now)
		if err != nil {
			t.Fatal(err)
		}
		nc := nv.Claims()
		if nc.SessionID != c.Session || nc.Session != c.Session || nv.sessionKey() != v.sessionKey() {
			t.Errorf("%s: renewed sid %q Session %q key %s; want sid = Session = %q, key %s",
				tt.name, nc.SessionID, nc.Session, nv.sessionKey(), c.Session, v.sessionKey())
		}
		if nc.ID == "" || nc.ID == c.ID {
			t.Errorf("%s: renewed jti %q, want a new one (old %q)", tt.name, nc.ID, c.ID)
		}
	}
}

// renewalKeySets returns one-key sets for HS256, RS256, ES256 and EdDSA,
// each with an ID.
func renewalKeySets(t *testing.T) map[string]*KeySet {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]*KeySet{}
	for _, k := range []Key{
		{ID: "hs-key", Algorithm: "HS256", Material: cacheSecret("h")},
		{ID: "rsa-key-2026", Algorithm: "RS256", Material: rsaKey},
		{ID: "ec", Algorithm: "ES256", Material: ecKey},
		{ID: "ed", Algorithm: "EdDSA", Material: edKey},
	} {
		ks, err := NewKeySet(k)
		if err != nil {
			t.Fatal(err)
		}
		sets[k.Algorithm] = ks
	}
	return sets
}

// TestRenewedSizeAndHeadroom: for each algorithm, RenewedSize is the
// length of what SignRenewal returns, for tokens of the set's own key and
// for tokens of another key; and a token HeadroomFor bytes under a limit
// has a renewal within the limit, even a token lacking every claim a
// renewal adds, signed with a shorter header and signature.
func TestRenewedSizeAndHeadroom(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	now := f.clock.Now()
	// Tokens of another key, one without an ID, with a header as short
	// as it gets.
	s := config.Default()
	s.Issuer = verifyIssuer
	s.Secret = string(cacheSecret("s"))
	short, err := HMACKeySet("HS256", cacheSecret("z"))
	if err != nil {
		t.Fatal(err)
	}
	shortVF, err := NewVerifier(s, &VerifierOptions{Keys: short, Now: f.clock.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	var foreign []*Verified
	for _, claims := range renewalPayloads() {
		raw := signParts(t, `{"alg":"HS256"}`, claims, cacheSecret("z"), jwt.SigningMethodHS256)
		v, err := shortVF.Verify(raw, now)
		if err != nil {
			t.Fatal(err)
		}
		foreign = append(foreign, v)
	}
	for alg, keys := range renewalKeySets(t) {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			s := s
			if !config.IsHMAC(alg) {
				s.Algorithm, s.Secret = alg, ""
			}
			issuer, err := NewIssuer(s, keys)
			if err != nil {
				t.Fatal(err)
			}
			vf, err := NewVerifier(s, &VerifierOptions{Keys: keys, Now: f.clock.Now, CacheSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			own := []*Verified{}
			for _, extra := range []map[string]any{nil, privateExtra(), {"metadata": strings.Repeat("m", 1000)}} {
				raw, _, err := issuer.IssueAt(now, "alice", "user", extra)
				if err != nil {
					t.Fatal(err)
				}
				v, err := vf.Verify(raw, now)
				if err != nil {
					t.Fatal(err)
				}
				own = append(own, v)
			}
			for _, v := range append(own, foreign...) {
				exp, _ := issuer.expiryOfRenewal(v, now)
				size, err := issuer.renewedSize(v, now, exp)
				if err != nil {
					t.Fatal(err)
				}
				renewed, err := issuer.signRenewal(v, now, exp)
				if err != nil {
					t.Fatal(err)
				}
				if size != len(renewed) {
					t.Errorf("RenewedSize = %d, SignRenewal returned %d bytes", size, len(renewed))
				}
				if growth := len(renewed) - len(v.Raw()); growth > issuer.headroom() {
					t.Errorf("renewal grew by %d bytes, HeadroomFor = %d", growth, issuer.headroom())
				}
			}
		})
	}
}

// TestRenewalClaimsExact: the map a BeforeRenew hook gets holds every
// number as json.Number, exact; signed unchanged, the big integers come
// back as written.
func TestRenewalClaimsExact(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, -1)
	now := f.clock.Now()
	raw := signParts(t, `{"alg":"HS256","kid":"a"}`, renewalPayloads()["with sid"], cacheSecret("a"), jwt.SigningMethodHS256)
	v, err := f.vf.Verify(raw, now)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := f.issuer.expiryOfRenewal(v, now)
	m, err := f.issuer.renewalClaims(v, now, exp)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := m["metadata"].(map[string]any)
	list, _ := meta["list"].([]any)
	for _, tt := range []struct {
		name string
		got  any
		want json.Number
	}{
		{"uid", m["uid"], "1859029138417344513"},
		{"ratio", m["ratio"], "1.50"},
		{"metadata.n", meta["n"], "18446744073709551617"},
		{"metadata.list[1]", list[1], "2.0"},
		{"iat", m["iat"], json.Number(itoa(now.Unix()))},
		{"exp", m["exp"], json.Number(itoa(exp.Unix()))},
		{"auth_time", m["auth_time"], json.Number(itoa(v.authStart().Unix()))},
	} {
		if tt.got != tt.want {
			t.Errorf("RenewalClaims()[%s] = %#v, want json.Number(%q)", tt.name, tt.got, tt.want)
		}
	}
	if m["sid"] != "s-1" || m["jti"] == "old-jti" || m["html"] != `<a href="x">&amp;</a>` {
		t.Errorf("RenewalClaims: sid %v jti %v html %v", m["sid"], m["jti"], m["html"])
	}
	renewed, gotExp, err := f.issuer.signRenewalClaims(v, m, now)
	if err != nil {
		t.Fatal(err)
	}
	if !gotExp.Equal(time.Unix(exp.Unix(), 0)) {
		t.Errorf("SignRenewalClaims expiry %v, want %v", gotExp, exp)
	}
	dec := json.NewDecoder(bytes.NewReader(payloadOf(t, renewed)))
	dec.UseNumber()
	var back map[string]any
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back["uid"] != json.Number("1859029138417344513") || back["metadata"].(map[string]any)["n"] != json.Number("18446744073709551617") {
		t.Errorf("signed renewal claims: uid %v metadata.n %v, want them as written", back["uid"], back["metadata"].(map[string]any)["n"])
	}
	if !strings.Contains(string(payloadOf(t, renewed)), `"html":"<a href=\"x\">&amp;</a>"`) {
		t.Errorf("signed renewal claims %s rewrite <, & or >", payloadOf(t, renewed))
	}
	nv, err := f.vf.Verify(renewed, now)
	if err != nil || nv.sessionKey() != v.sessionKey() {
		t.Errorf("renewal from RenewalClaims: %v; want it verified in the old session", err)
	}
}

// TestSignRenewalClaimsHook: a hook that changes the role gets the new
// role's lifetime; one that sets exp, whatever the type, does not change
// the expiry, which the renewal sets.
func TestSignRenewalClaimsHook(t *testing.T) {
	t.Parallel()
	const user, guest = 10 * time.Hour, 2 * time.Hour
	f := newVerifyFixture(t, -1, func(s *config.Settings) {
		s.UserLifetime, s.GuestLifetime = user, guest
	})
	now := f.clock.Now()
	hookExp := now.Add(90 * time.Minute).Unix()
	tests := []struct {
		name    string
		role    string // of the old token
		hook    func(jwt.MapClaims)
		wantExp time.Time
	}{
		{"unchanged user", "user", func(jwt.MapClaims) {}, now.Add(user)},
		{"unchanged guest", "guest", func(jwt.MapClaims) {}, now.Add(guest)},
		{"user to guest", "user", func(m jwt.MapClaims) { m["role"] = "guest" }, now.Add(guest)},
		{"guest to user", "guest", func(m jwt.MapClaims) { m["role"] = "user" }, now.Add(user)},
		{"guest to no role", "guest", func(m jwt.MapClaims) { delete(m, "role") }, now.Add(user)},
		{"exp as json.Number", "user", func(m jwt.MapClaims) { m["exp"] = json.Number(itoa(hookExp)) }, now.Add(user)},
		{"exp as int64", "user", func(m jwt.MapClaims) { m["exp"] = hookExp }, now.Add(user)},
		{"exp as float64", "user", func(m jwt.MapClaims) { m["exp"] = float64(hookExp) }, now.Add(user)},
		{"exp as *jwt.NumericDate", "user", func(m jwt.MapClaims) { m["exp"] = jwt.NewNumericDate(time.Unix(hookExp, 0)) }, now.Add(user)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := `{"sub":"alice","role":"` + tt.role + `","iss":"` + verifyIssuer + `","iat":` + itoa(now.Unix()-60) +
				`,"exp":` + itoa(now.Add(time.Hour).Unix()) + `}`
			v, err := f.vf.Verify(signParts(t, `{"alg":"HS256","kid":"a"}`, claims, cacheSecret("a"), jwt.SigningMethodHS256), now)
			if err != nil {
				t.Fatal(err)
			}
			exp, _ := f.issuer.expiryOfRenewal(v, now)
			m, err := f.issuer.renewalClaims(v, now, exp)
			if err != nil {
				t.Fatal(err)
			}
			tt.hook(m)
			renewed, gotExp, err := f.issuer.signRenewalClaims(v, m, now)
			if err != nil {
				t.Fatal(err)
			}
			nv, err := f.vf.Verify(renewed, now)
			if err != nil {
				t.Fatal(err)
			}
			if !gotExp.Equal(tt.wantExp) || !nv.ExpiresAt().Equal(tt.wantExp) {
				t.Errorf("expiry returned %v, in the token %v; want %v", gotExp, nv.ExpiresAt(), tt.wantExp)
			}
			if nv.sessionKey() != v.sessionKey() {
				t.Errorf("the hook's renewal left the session")
			}
		})
	}
	t.Run("exp not a date", func(t *testing.T) {
		t.Parallel()
		claims := `{"sub":"alice","iss":"` + verifyIssuer + `","exp":` + itoa(now.Add(time.Hour).Unix()) + `}`
		v, err := f.vf.Verify(signParts(t, `{"alg":"HS256","kid":"a"}`, claims, cacheSecret("a"), jwt.SigningMethodHS256), now)
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := f.issuer.expiryOfRenewal(v, now)
		for _, bad := range []any{"tomorrow", nil, []any{1}} {
			m, err := f.issuer.renewalClaims(v, now, exp)
			if err != nil {
				t.Fatal(err)
			}
			m["exp"] = bad
			_, got, err := f.issuer.signRenewalClaims(v, m, now)
			if err != nil || !got.Equal(now.Add(user)) {
				t.Errorf("exp %#v: expiry %v, %v; want the renewal's own %v", bad, got, err, now.Add(user))
			}
		}
	})
}

// FuzzRenewal renews every token the Verifier accepts, whatever its claims
// text, and checks the renewal keeps the claims it does not set exactly.
func FuzzRenewal(f *testing.F) {
	vf := newVerifyFixture(f, -1)
	for _, claims := range renewalPayloads() {
		f.Add(claims)
	}
	f.Add(verifyClaims(`,"x":"\ud83c\udf89","y":[1e2,{"\u0073id":"not the sid"}]`))
	f.Add("{\"iss\":\"" + verifyIssuer + "\",\"exp\":1777640400 , \"z\" : [ ] }")
	f.Fuzz(func(t *testing.T, claims string) {
		raw := signParts(t, `{"alg":"HS256","kid":"a"}`, claims, cacheSecret("a"), jwt.SigningMethodHS256)
		now := vf.clock.Now()
		v, err := vf.vf.Verify(raw, now)
		if err != nil {
			return
		}
		exp, _ := vf.issuer.expiryOfRenewal(v, now)
		renewed, err := vf.issuer.signRenewal(v, now, exp)
		if err != nil {
			t.Fatalf("SignRenewal of a verified token: %v", err)
		}
		size, err := vf.issuer.renewedSize(v, now, exp)
		if err != nil || size != len(renewed) {
			t.Fatalf("RenewedSize = %d, %v; SignRenewal returned %d bytes", size, err, len(renewed))
		}
		if len(renewed)-len(raw) > vf.issuer.headroom() {
			t.Fatalf("renewal grew by %d bytes, HeadroomFor = %d", len(renewed)-len(raw), vf.issuer.headroom())
		}
		if len(renewed) > vf.vf.MaxTokenSize() {
			if _, err := vf.vf.Verify(renewed, now); !errors.Is(err, ErrTokenTooLarge) {
				t.Fatalf("a renewal over the size limit: %v", err)
			}
			return
		}
		checkRenewal(t, vf, v, now, exp, renewed, true)
		if t.Failed() {
			return
		}
		checkRenewedSession(t, vf, v, renewed, now)
	})
}

// authTimeText is how the Issuer writes auth_time: seconds, with up to six
// decimals (the microsecond).
var authTimeText = regexp.MustCompile(`^"auth_time":(0|[1-9][0-9]*)(\.[0-9]{1,6})?$`)

// checkRenewedSession fails t unless renewed, the renewal of v at now, is
// the same session as v in what a sign-out reads: the same sub (and so the
// same subject revocation key), role and session, iat = now, an auth_time
// written to the microsecond; and unless a renewal of renewed, an hour
// later, keeps its start exactly (a start the renewal wrote survives any
// number of renewals).
func checkRenewedSession(t *testing.T, f *verifyFixture, v *Verified, renewed string, now time.Time) {
	t.Helper()
	for _, m := range readMembers(t, payloadOf(t, renewed), false) {
		if m.name == "auth_time" && !authTimeText.MatchString(m.raw) {
			t.Fatalf("renewed %s: want auth_time in seconds with at most six decimals", m.raw)
		}
	}
	nv, err := f.vf.Verify(renewed, now)
	if err != nil {
		t.Fatalf("the renewed token does not verify: %v", err)
	}
	if nv.Subject() != v.Subject() || nv.subjectRevKey() != v.subjectRevKey() || nv.Role() != v.Role() ||
		nv.sessionRevKey() != v.sessionRevKey() {
		t.Fatalf("renewed sub %q role %q session %q; want the old token's sub %q role %q session %q",
			nv.Subject(), nv.Role(), nv.Session(), v.Subject(), v.Role(), v.Session())
	}
	if iat := nv.Claims().IssuedAt; !iat.Equal(time.Unix(now.Unix(), 0)) {
		t.Fatalf("renewed iat %v, want now %v", iat, now)
	}
	later := now.Add(time.Hour)
	if nv.ExpiresAt().Before(later) {
		return // it cannot be renewed then
	}
	exp, _ := f.issuer.expiryOfRenewal(nv, later)
	again, err := f.issuer.signRenewal(nv, later, exp)
	if err != nil {
		t.Fatalf("SignRenewal of a renewal: %v", err)
	}
	av, err := f.vf.Verify(again, later)
	if err != nil {
		t.Fatalf("the second renewal does not verify an hour later: %v", err)
	}
	if !av.authStart().Equal(nv.authStart()) || av.Session() != v.Session() {
		t.Fatalf("second renewal: AuthTime %v session %q; want %v and %q", av.authStart(), av.Session(), nv.authStart(), v.Session())
	}
}
