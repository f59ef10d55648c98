package token

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
)

// privateExtra are the custom claims of the privacy tests' token: a nested
// object holding an array, and a top-level array.
func privateExtra() map[string]any {
	return map[string]any{
		"metadata": map[string]any{"auth_mode": "enabled", "groups": []any{"g1", "g2"}},
		"tags":     []any{"t1", map[string]any{"k": "v"}},
	}
}

// privateToken issues the privacy tests' token and returns it with
// golang-jwt's reading of it: what every caller must see.
func privateToken(t *testing.T, f *verifyFixture) (string, *jwt.Token) {
	t.Helper()
	raw, _, err := f.issuer.IssueAt(cacheStart, "alice", "user", privateExtra())
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.parseRef(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, want
}

// scribble writes into every mutable part of a token: a top-level claim,
// the nested object, the nested arrays, the header and the signature.
func scribble(tok *jwt.Token) {
	mc := tok.Claims.(jwt.MapClaims)
	scribbleClaims(mc)
	tok.Header["alg"] = "none"
	tok.Header["injected"] = true
	tok.Signature[0] ^= 0xff
}

func scribbleClaims(mc jwt.MapClaims) {
	mc["seen"] = true
	mc["role"] = "admin"
	meta := mc["metadata"].(map[string]any)
	meta["auth_mode"] = "hijacked"
	meta["groups"].([]any)[0] = "hijacked"
	mc["tags"].([]any)[0] = "hijacked"
	mc["tags"].([]any)[1].(map[string]any)["k"] = "hijacked"
}

// sameAs fails t unless tok reads as want: header, claims, signature.
func sameAs(t *testing.T, what string, tok *jwt.Token, want *jwt.Token) {
	t.Helper()
	if !reflect.DeepEqual(tok.Header, want.Header) {
		t.Errorf("%s: Header %v, want %v", what, tok.Header, want.Header)
	}
	if !reflect.DeepEqual(tok.Claims, want.Claims) {
		t.Errorf("%s: Claims %v, want %v", what, tok.Claims, want.Claims)
	}
	if string(tok.Signature) != string(want.Signature) {
		t.Errorf("%s: Signature changed", what)
	}
}

// TestTokenPrivatePerCall: each call of Token and Claims gets maps,
// nested values and bytes of its own, whether the verification came from
// the cache or not.
func TestTokenPrivatePerCall(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		cache int
	}{{"cache on", 0}, {"cache off", -1}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newVerifyFixture(t, tt.cache)
			raw, want := privateToken(t, f)
			verify := func() *Verified {
				t.Helper()
				v, err := f.vf.Verify(raw, f.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			v1 := verify()
			v2 := verify() // the same *Verified when the cache is on

			tok1, c1 := v1.Token()
			tok2, _ := v2.Token()
			scribble(tok1)
			sameAs(t, "second Token after writes to the first", tok2, want)
			tok3, c3 := v1.Token()
			sameAs(t, "third Token after writes to the first", tok3, want)
			if got := c1.Map()["seen"]; got != true {
				t.Errorf("Claims of Token: Map()[seen] = %v, want the token's own map (true)", got)
			}
			if got := c3.Map()["seen"]; got != nil {
				t.Errorf("Claims of a later Token: Map()[seen] = %v, want nil", got)
			}

			// Claims alone: its Map is a deep copy, made once per Claims.
			cl1, cl2 := v1.Claims(), v2.Claims()
			m1 := cl1.Map()
			if reflect.ValueOf(m1).UnsafePointer() != reflect.ValueOf(cl1.Map()).UnsafePointer() {
				t.Errorf("two calls of one Claims' Map gave two maps, want the request's one")
			}
			scribbleClaims(m1)
			cl1.Subject, cl1.Role, cl1.Session = "mallory", "admin", "forged"
			if !reflect.DeepEqual(cl2.Map(), want.Claims) {
				t.Errorf("second Claims' Map after writes to the first: %v, want %v", cl2.Map(), want.Claims)
			}
			if m := v1.Claims().Map(); !reflect.DeepEqual(m, want.Claims) {
				t.Errorf("third Claims' Map after writes to the first: %v, want %v", m, want.Claims)
			}
			scribble(tok3) // with the cache on, its signature is a copy of the one the cache keeps
			tok4, _ := v2.Token()
			sameAs(t, "Token after writes to a Claims' Map and to the third Token", tok4, want)
			if c := v1.Claims(); c.Subject != "alice" || c.Role != "user" || c.Session != v1.Session() || v1.Subject() != "alice" {
				t.Errorf("after writes to a Claims: Subject %q Role %q Session %q, v.Subject %q; want alice, user, the token's",
					c.Subject, c.Role, c.Session, v1.Subject())
			}
		})
	}
}

// TestTokenClaimsShareMap: the Claims that Token returns share the
// token's claims map (a write through one is seen through the other),
// and no other caller's.
func TestTokenClaimsShareMap(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	raw, _ := privateToken(t, f)
	v, err := f.vf.Verify(raw, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, c := v.Token()
	mc := tok.Claims.(jwt.MapClaims)
	if reflect.ValueOf(mc).UnsafePointer() != reflect.ValueOf(c.Map()).UnsafePointer() {
		t.Fatalf("Token's Claims.Map() is not the token's claims map")
	}
	c.Map()["written"] = "through Claims"
	if got := mc["written"]; got != "through Claims" {
		t.Errorf("token's claims[written] = %v, want what Claims.Map() wrote", got)
	}
	_, other := v.Token()
	if got := other.Map()["written"]; got != nil {
		t.Errorf("another Token's Claims.Map()[written] = %v, want nil", got)
	}
}

// TestTokenWithPrivate: TokenWith decodes the claims into the caller's
// value, and the header and signature are the caller's own too.
func TestTokenWithPrivate(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	raw, want := privateToken(t, f)
	v, err := f.vf.Verify(raw, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	type custom struct {
		jwt.RegisteredClaims
		Metadata map[string]any `json:"metadata"`
	}
	var mine custom
	tok, c, err := v.TokenWith(&mine)
	if err != nil {
		t.Fatal(err)
	}
	if mine.Subject != "alice" || mine.Metadata["auth_mode"] != "enabled" || c.Subject != "alice" {
		t.Fatalf("TokenWith: sub %q metadata %v, typed sub %q", mine.Subject, mine.Metadata, c.Subject)
	}
	tok.Header["alg"] = "none"
	tok.Signature[0] ^= 0xff
	mine.Metadata["auth_mode"] = "hijacked"
	again, _ := v.Token()
	sameAs(t, "Token after writes to TokenWith's token", again, want)
}

// TestTokenPrivateConcurrent: requests with one token, from 8 goroutines,
// each write into their own token, claims and typed Claims while the
// others read theirs. Run with -race: any shared map, slice or byte would
// be a data race (and a write to a shared map a fatal error).
func TestTokenPrivateConcurrent(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	raw, want := privateToken(t, f)
	wantJSON, err := json.Marshal(want.Claims)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				v, err := f.vf.Verify(raw, f.clock.Now())
				if err != nil {
					t.Errorf("verify: %v", err)
					return
				}
				tok, c := v.Token()
				mine := fmt.Sprintf("worker %d request %d", w, i)
				mc := tok.Claims.(jwt.MapClaims)
				mc["seen"] = mine
				mc["metadata"].(map[string]any)["auth_mode"] = mine
				mc["tags"].([]any)[0] = mine
				tok.Header["kid"] = mine
				tok.Signature[i%len(tok.Signature)]++
				c.Subject = mine
				m := v.Claims().Map()
				m["metadata"].(map[string]any)["groups"].([]any)[1] = mine
				// What this request wrote is what it reads back.
				if mc["seen"] != mine || c.Map()["metadata"].(map[string]any)["auth_mode"] != mine ||
					m["metadata"].(map[string]any)["groups"].([]any)[1] != mine {
					t.Errorf("%s: read back another request's write", mine)
					return
				}
			}
		})
	}
	wg.Wait()
	v, err := f.vf.Verify(raw, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := v.Token()
	sameAs(t, "Token after the concurrent writers", tok, want)
	if got, err := json.Marshal(v.Claims().Map()); err != nil || string(got) != string(wantJSON) {
		t.Errorf("Claims().Map() after the concurrent writers: %s, want %s", got, wantJSON)
	}
}

// freshVerification verifies the privacy tests' token for the first time
// and returns the verification and golang-jwt's reading of the token.
func freshVerification(t *testing.T) (*verifyFixture, *Verified, *jwt.Token) {
	t.Helper()
	f := newVerifyFixture(t, 0)
	raw, want := privateToken(t, f)
	v, err := f.vf.Verify(raw, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f, v, want
}

// TestSeenOnceTokenKeepsNoClaimsCopy: a verification holds no claims map;
// the first caller that wants the claims gets a map decoded for it alone,
// and the cache then still holds none; the next caller gets a copy of a
// map decoded again for the cache, which the first caller's writes never
// reached.
func TestSeenOnceTokenKeepsNoClaimsCopy(t *testing.T) {
	t.Parallel()
	f, v, want := freshVerification(t)
	if p := v.claims.Load(); p != nil {
		t.Fatalf("a verification holds a claims map before anyone asked for one")
	}
	tok1, _ := v.Token()
	sameAs(t, "first Token", tok1, want)
	if p := v.claims.Load(); p != claimsTaken {
		t.Errorf("after the first Token the verification holds a claims map")
	}
	scribble(tok1)
	again, err := f.vf.Verify(v.Raw(), f.clock.Now())
	if err != nil || again != v {
		t.Fatalf("second Verify = %p, %v; want the cached %p", again, err, v)
	}
	tok2, _ := again.Token()
	sameAs(t, "Token of a hit after writes to the first", tok2, want)
	p := v.claims.Load()
	if p == nil || p == claimsTaken {
		t.Fatalf("after a hit the cache holds no map of its own")
	}
	if reflect.ValueOf(tok2.Claims).UnsafePointer() == reflect.ValueOf(p.m).UnsafePointer() {
		t.Errorf("Token of a hit handed out the cache's own map")
	}
}

// TestFreshClaimsTakenOnce: concurrent first callers of one verification
// each get claims of their own: one a map decoded for it, the others
// copies of the cache's map; no two share a map. Run with -race.
func TestFreshClaimsTakenOnce(t *testing.T) {
	t.Parallel()
	_, v, want := freshVerification(t)
	const callers = 8
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		toks  [callers]*jwt.Token
	)
	for i := range callers {
		wg.Go(func() {
			<-start
			tok, _ := v.Token()
			toks[i] = tok
			if !reflect.DeepEqual(tok.Claims, want.Claims) {
				t.Errorf("caller %d read %v, want %v", i, tok.Claims, want.Claims)
			}
			scribble(tok)
		})
	}
	close(start)
	wg.Wait()
	seen := map[unsafe.Pointer]bool{}
	for _, tok := range toks {
		seen[reflect.ValueOf(tok.Claims).UnsafePointer()] = true
	}
	if len(seen) != callers {
		t.Errorf("%d callers got %d distinct maps, want %d", callers, len(seen), callers)
	}
	last, _ := v.Token()
	sameAs(t, "Token after the concurrent callers", last, want)
}

// TestFirstSightFollowsHandOver: a verifier decodes a claims map at a
// token's first sight only while the first requests of tokens take one
// (Token), and hands it to that request without a copy; once a first
// request takes the typed claims only (Claims), the next token is read
// without a map, and a map already decoded is not kept.
func TestFirstSightFollowsHandOver(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	now := f.clock.Now()
	verify := func() *Verified {
		t.Helper()
		_, v := f.verifyBenchToken(t, now)
		return v
	}
	fresh := func(v *Verified) map[string]any {
		if p := v.claims.Load(); p != nil && p.fresh {
			return p.m
		}
		return nil
	}
	if v := verify(); fresh(v) != nil {
		t.Fatalf("a new verifier decoded a claims map at the first sight of a token")
	} else if v.Token(); !f.vf.wantMaps.Load() {
		t.Fatalf("after a first request took a *jwt.Token the verifier does not expect maps")
	}
	v := verify()
	m := fresh(v)
	if m == nil {
		t.Fatalf("while first requests take maps, the first sight decoded none")
	}
	if tok, _ := v.Token(); reflect.ValueOf(tok.Claims).UnsafePointer() != reflect.ValueOf(m).UnsafePointer() {
		t.Errorf("the first request got a copy, not the map the verification decoded")
	}
	v = verify()
	if c := v.Claims(); c.Subject != "alice" {
		t.Fatalf("Claims: subject %q", c.Subject)
	}
	if f.vf.wantMaps.Load() || v.claims.Load() != nil {
		t.Errorf("after a first request took the typed claims only: expect maps %v, map kept %v", f.vf.wantMaps.Load(), v.claims.Load() != nil)
	}
	if v := verify(); fresh(v) != nil {
		t.Errorf("after a first request took the typed claims only, the first sight still decoded a map")
	}
}

// TestTokenHeaderPrivate: a token whose header is not the usual one (here
// with a nested object and array, as a jwk or x5c member would be) is
// kept with its header decoded; every Token of it, from the cache or not,
// gets a header of its own at every depth.
func TestTokenHeaderPrivate(t *testing.T) {
	t.Parallel()
	f := newVerifyFixture(t, 0)
	header := `{"alg":"HS256","kid":"a","typ":"JWT","jwk":{"use":"sig","ops":["verify"]},"x5c":["c1",{"k":"v"}]}`
	raw := signParts(t, header, verifyClaims(""), cacheSecret("a"), jwt.SigningMethodHS256)
	want, err := f.parseRef(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		v, err := f.vf.Verify(raw, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := v.Token()
		sameAs(t, fmt.Sprintf("Token %d after writes to the earlier ones", i), tok, want)
		jwk := tok.Header["jwk"].(map[string]any)
		jwk["use"] = "enc"
		jwk["ops"].([]any)[0] = "sign"
		x5c := tok.Header["x5c"].([]any)
		x5c[0] = "forged"
		x5c[1].(map[string]any)["k"] = "forged"
		if i > 0 {
			if _, hit, _ := f.vf.verifyHit(raw, f.clock.Now()); !hit {
				t.Fatalf("verification %d did not come from the cache", i)
			}
		}
	}
}
