package token

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
)

// cacheStart is the injected clock's first reading in the cache tests.
var cacheStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// cacheClock is a clock the cache tests move by hand.
type cacheClock struct{ now atomic.Int64 }

func newCacheClock() *cacheClock {
	c := &cacheClock{}
	c.set(cacheStart)
	return c
}

func (c *cacheClock) Now() time.Time      { return time.Unix(0, c.now.Load()).UTC() }
func (c *cacheClock) set(t time.Time)     { c.now.Store(t.UnixNano()) }
func (c *cacheClock) add(d time.Duration) { c.now.Add(int64(d)) }

// cacheFixture is a verifier with a two-key set ("a" signs, "b"
// verifies), its issuer and its clock.
type cacheFixture struct {
	t      *testing.T
	vf     *Verifier
	keys   *KeySet
	issuer *Issuer
	clock  *cacheClock
}

func cacheSecret(id string) []byte {
	return []byte(strings.Repeat(id, 40))
}

func newCacheFixture(t *testing.T, size int, tweak func(*config.Settings)) *cacheFixture {
	t.Helper()
	s := config.Default()
	s.Secret = string(cacheSecret("s"))
	s.AutoRenew = false
	if tweak != nil {
		tweak(&s)
	}
	keys, err := NewKeySet(
		Key{ID: "a", Algorithm: "HS256", Material: cacheSecret("a")},
		Key{ID: "b", Algorithm: "HS256", Material: cacheSecret("b")},
	)
	if err != nil {
		t.Fatal(err)
	}
	f := &cacheFixture{t: t, keys: keys, clock: newCacheClock()}
	if f.vf, err = NewVerifier(s, &VerifierOptions{Keys: keys, Now: f.clock.Now, CacheSize: size}); err != nil {
		t.Fatal(err)
	}
	if f.issuer, err = NewIssuer(s, keys); err != nil {
		t.Fatal(err)
	}
	return f
}

// token mints a token of a new session, signed with the current key,
// issued at the fixture's start plus after.
func (f *cacheFixture) token(after time.Duration) string {
	f.t.Helper()
	tok, _, err := f.issuer.IssueAt(cacheStart.Add(after), "alice", "user", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// signWith signs claims with the key of the given ID, bypassing the issuer.
func (f *cacheFixture) signWith(id string, claims jwt.MapClaims) string {
	f.t.Helper()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = id
	s, err := t.SignedString(cacheSecret(id))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// held reports whether the cache's current generation holds tok.
func (f *cacheFixture) held(tok string) bool {
	return f.entries(func(v *Verified) bool { return v.raw == tok }) > 0
}

// entries counts the entries of the current generation that match.
func (f *cacheFixture) entries(match func(*Verified) bool) int {
	n := 0
	g := f.vf.cache.generation()
	for i := range g.slots {
		if v := g.slots[i].v.Load(); v != nil && match(v) {
			n++
		}
	}
	return n
}

// get verifies tok as a request would: 200 and the address of the
// verification, or 401.
func (f *cacheFixture) get(tok string) (int, string) {
	v, err := f.vf.Verify(tok, f.clock.Now())
	if err != nil {
		return http.StatusUnauthorized, ""
	}
	return http.StatusOK, fmt.Sprintf("%p", v)
}

func TestVerifiedCacheHitReturnsSameVerification(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 0, nil)
	tok := f.token(0)
	code1, first := f.get(tok)
	code2, second := f.get(tok)
	if code1 != http.StatusOK || code2 != http.StatusOK {
		t.Fatalf("statuses %d, %d; want 200, 200", code1, code2)
	}
	if first != second {
		t.Errorf("second request got claims at %s, first at %s; want the cached ones", second, first)
	}
	if !f.held(tok) {
		t.Errorf("token not cached after a successful request")
	}
	v1, err1 := f.vf.Verify(tok, f.clock.Now())
	v2, err2 := f.vf.Verify(tok, f.clock.Now())
	if err1 != nil || err2 != nil || v1 != v2 {
		t.Errorf("verify twice = %p, %v and %p, %v; want one cached result", v1, err1, v2, err2)
	}
	if tk, _ := v1.Token(); tk.Raw != tok || !tk.Valid || v1.typed.Subject != "alice" {
		t.Errorf("cached token Raw %q Valid %v sub %q", tk.Raw, tk.Valid, v1.typed.Subject)
	}
}

func TestVerifiedCacheRechecksTimeClaims(t *testing.T) {
	t.Parallel()
	const leeway = 30 * time.Second
	tests := []struct {
		name    string
		at      time.Duration // clock, from the token's iat
		leeway  time.Duration
		wantErr error // nil: accepted
	}{
		{"fresh", time.Hour, 0, nil},
		{"just before exp", 48*time.Hour - time.Second, 0, nil},
		{"at exp", 48 * time.Hour, 0, jwt.ErrTokenExpired},
		{"after exp", 49 * time.Hour, 0, jwt.ErrTokenExpired},
		{"within leeway after exp", 48*time.Hour + leeway - time.Second, leeway, nil},
		{"at leeway after exp", 48*time.Hour + leeway, leeway, jwt.ErrTokenExpired},
		{"before iat", -time.Second, 0, jwt.ErrTokenUsedBeforeIssued},
		{"before iat within leeway", -leeway, leeway, nil},
		{"before iat beyond leeway", -leeway - time.Second, leeway, jwt.ErrTokenUsedBeforeIssued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCacheFixture(t, 0, func(s *config.Settings) { s.Leeway = tt.leeway })
			tok := f.token(0)
			if _, err := f.vf.Verify(tok, f.clock.Now()); err != nil {
				t.Fatalf("first verify: %v", err)
			}
			if !f.held(tok) {
				t.Fatalf("token not cached")
			}
			f.clock.set(cacheStart.Add(tt.at))
			v, err := f.vf.Verify(tok, f.clock.Now())
			if tt.wantErr == nil {
				if err != nil || v == nil {
					t.Fatalf("verify at %v: %v; want the cached token accepted", tt.at, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("verify at %v: %v; want %v and ErrTokenInvalid", tt.at, err, tt.wantErr)
			}
			if code, _ := f.get(tok); code != http.StatusUnauthorized {
				t.Errorf("request at %v: status %d, want 401", tt.at, code)
			}
			if f.held(tok) {
				t.Errorf("token still cached after it failed its time checks")
			}
		})
	}
}

func TestVerifiedCacheNotBefore(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 0, nil)
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{
			"sub": "alice",
			"iat": cacheStart.Unix(), "nbf": cacheStart.Add(time.Minute).Unix(),
			"exp": cacheStart.Add(time.Hour).Unix(),
		}
	}
	tok := f.signWith("a", claims())
	if _, err := f.vf.Verify(tok, f.clock.Now()); !errors.Is(err, jwt.ErrTokenNotValidYet) {
		t.Fatalf("before nbf: %v; want ErrTokenNotValidYet", err)
	}
	if f.held(tok) {
		t.Fatalf("a token that is not valid yet was cached")
	}
	f.clock.add(time.Minute)
	if _, err := f.vf.Verify(tok, f.clock.Now()); err != nil {
		t.Fatalf("at nbf: %v", err)
	}
	// A clock stepped back before nbf must not be answered from the cache.
	f.clock.add(-time.Second)
	if _, err := f.vf.Verify(tok, f.clock.Now()); !errors.Is(err, jwt.ErrTokenNotValidYet) {
		t.Fatalf("clock stepped back before nbf: %v; want ErrTokenNotValidYet", err)
	}
}

// TestVerifiedCacheAuthTime: a token whose auth_time lies in the future is
// refused from the cache as the verification refuses it: once the clock
// steps back before its auth_time, a cached token is not served.
func TestVerifiedCacheAuthTime(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 0, nil)
	tok := f.signWith("a", jwt.MapClaims{
		"sub": "alice", "auth_time": cacheStart.Unix(), "exp": cacheStart.Add(2 * time.Hour).Unix(),
	})
	if _, err := f.vf.Verify(tok, f.clock.Now()); err != nil {
		t.Fatalf("at auth_time: %v", err)
	}
	if !f.held(tok) {
		t.Fatal("the token was not cached")
	}
	f.clock.add(-time.Hour)
	if _, err := f.vf.Verify(tok, f.clock.Now()); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("clock stepped back an hour before auth_time: %v; want the token refused", err)
	}
}

func TestVerifiedCacheClearedOnKeyChange(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 0, nil)
	byA := f.token(0)
	byB := f.signWith("b", jwt.MapClaims{"sub": "bob", "iat": cacheStart.Unix(), "exp": cacheStart.Add(time.Hour).Unix()})
	for _, tok := range []string{byA, byB} {
		if code, _ := f.get(tok); code != http.StatusOK {
			t.Fatalf("before rotation: status %d, want 200", code)
		}
		if !f.held(tok) {
			t.Fatalf("token not cached")
		}
	}

	// Rotating keeps both keys, but the cache starts again.
	if err := f.keys.Rotate(Key{ID: "c", Algorithm: "HS256", Material: cacheSecret("c")}); err != nil {
		t.Fatal(err)
	}
	if n := f.entries(func(*Verified) bool { return true }); n != 0 {
		t.Errorf("after Rotate the cache holds %d entries, want 0", n)
	}
	if code, _ := f.get(byB); code != http.StatusOK {
		t.Fatalf("after Rotate, a token of a kept key: status %d, want 200", code)
	}

	// Retiring b: its token, cached a moment ago, is refused at once.
	if err := f.keys.Retire("b"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.get(byB); code != http.StatusUnauthorized {
		t.Errorf("after Retire, a cached token of the retired key: status %d, want 401", code)
	}
	if _, err := f.vf.Verify(byB, f.clock.Now()); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("after Retire: verify = %v, want ErrTokenInvalid", err)
	}
	if code, _ := f.get(byA); code != http.StatusOK {
		t.Errorf("after Retire of b, a token of a: status %d, want 200", code)
	}
}

func TestVerifiedCacheKeepsOnlySuccesses(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 0, nil)
	good := f.token(0)
	dot := strings.LastIndexByte(good, '.')
	flipped := byte('A')
	if good[dot+1] == 'A' {
		flipped = 'B'
	}
	tests := []struct {
		name string
		tok  string
	}{
		{"bad signature", good[:dot+1] + string(flipped) + good[dot+2:]},
		{"unknown key", f.signWith("z", jwt.MapClaims{"sub": "x", "exp": cacheStart.Add(time.Hour).Unix()})},
		{"subject not a string", f.signWith("a", jwt.MapClaims{"sub": 7, "exp": cacheStart.Add(time.Hour).Unix()})},
		{"expired", f.signWith("a", jwt.MapClaims{"sub": "x", "exp": cacheStart.Add(-time.Hour).Unix()})},
		{"no exp", f.signWith("a", jwt.MapClaims{"sub": "x"})},
		{"sid not a string", f.signWith("a", jwt.MapClaims{"sub": "x", "sid": 7, "exp": cacheStart.Add(time.Hour).Unix()})},
	}
	for _, tt := range tests {
		for i := range 2 {
			if code, _ := f.get(tt.tok); code != http.StatusUnauthorized {
				t.Errorf("%s, request %d: status %d, want 401", tt.name, i+1, code)
			}
		}
		if f.held(tt.tok) {
			t.Errorf("%s: the token was cached", tt.name)
		}
	}
	if n := f.entries(func(*Verified) bool { return true }); n != 0 {
		t.Errorf("the cache holds %d entries after only failures, want 0", n)
	}
}

// TestVerifiedCacheCollision: an entry whose hash matches but whose token
// differs is never returned.
func TestVerifiedCacheCollision(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 0, nil)
	a, b := f.token(0), f.token(-time.Second)
	va, err := f.vf.Verify(a, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Forge a collision: store a's verification in b's slot under b's hash.
	g := f.vf.cache.generation()
	hb := f.vf.cache.hash(b)
	forged := &Verified{raw: va.raw, typed: va.typed}
	m, nested := va.frozenClaims()
	forged.claims.Store(&claimSet{m: m, nested: nested})
	forged.hash = hb
	forged.validUntil = va.validUntil
	f.vf.cache.set(g, hb)[0].v.Store(forged)
	f.vf.cache.set(g, hb)[0].tag.Store(tagOf(hb))
	if got := f.vf.cache.get(g, b, f.clock.Now()); got != nil {
		t.Fatalf("get(b) returned the entry of another token with b's hash")
	}
	vb, err := f.vf.Verify(b, f.clock.Now())
	if err != nil || vb.raw != b || vb.typed.ID == va.typed.ID {
		t.Fatalf("verify(b) = %v, %v; want b's own claims", vb, err)
	}
}

func TestVerifiedCacheBound(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 7, 64, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			f := newCacheFixture(t, size, nil)
			slots := len(f.vf.cache.generation().slots)
			if limit := (size + cacheWays - 1) / cacheWays * cacheWays; slots < size || slots > limit {
				t.Fatalf("%d slots for size %d, want %d to %d", slots, size, size, limit)
			}
			var last string
			for i := range 1000 {
				last = f.token(-time.Duration(i) * time.Millisecond)
				if _, err := f.vf.Verify(last, f.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			n := f.entries(func(*Verified) bool { return true })
			if n > slots || n == 0 {
				t.Errorf("%d entries after 1000 tokens, want 1 to %d", n, slots)
			}
			if !f.held(last) {
				t.Errorf("the latest token is not cached")
			}
		})
	}
}

// TestVerifiedCacheKeepsHotEntries: a token in use survives a flood of
// tokens that are each seen once.
func TestVerifiedCacheKeepsHotEntries(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 256, nil)
	hot := f.token(0)
	for i := range 5000 {
		if _, err := f.vf.Verify(hot, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.vf.Verify(f.token(-time.Duration(i+1)*time.Millisecond), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if !f.held(hot) {
		t.Errorf("the token used by every other request was evicted")
	}
}

func TestVerifiedCacheOff(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, -1, nil)
	tok := f.token(0)
	v1, err1 := f.vf.Verify(tok, f.clock.Now())
	v2, err2 := f.vf.Verify(tok, f.clock.Now())
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if v1 == v2 {
		t.Errorf("with the cache off, two verifications returned one result")
	}
	if f.vf.cache.generation().slots != nil {
		t.Errorf("the cache is off but has slots")
	}
}

func TestVerifiedCacheSizeLimit(t *testing.T) {
	t.Parallel()
	s := config.Default()
	s.Secret = string(cacheSecret("s"))
	s.AutoRenew = false
	_, err := NewVerifier(s, &VerifierOptions{CacheSize: MaxCacheSize + 1})
	if err == nil || !strings.Contains(err.Error(), "VerifiedCacheSize") {
		t.Errorf("NewVerifier with a huge cache: %v, want an error naming VerifiedCacheSize", err)
	}
}

// TestVerifiedCacheHitAllocates: a hit allocates nothing.
func TestVerifiedCacheHitAllocates(t *testing.T) {
	f := newCacheFixture(t, 0, nil)
	tok := f.token(0)
	now := f.clock.Now()
	if _, err := f.vf.Verify(tok, now); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := f.vf.Verify(tok, now); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", allocs)
	}
}

// TestVerifiedCacheConcurrent runs requests with a shared token and with
// tokens of their own while the keys rotate and the clock moves; run it with
// -race.
func TestVerifiedCacheConcurrent(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 64, nil)
	shared := f.token(0)
	own := make([]string, 200)
	for i := range own {
		own[i] = f.token(-time.Duration(i) * time.Millisecond)
	}
	stop := make(chan struct{})
	var background sync.WaitGroup
	background.Go(func() { // rotate to a new key and retire the previous one
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			id := fmt.Sprintf("k%d", i)
			if err := f.keys.Rotate(Key{ID: id, Algorithm: "HS256", Material: cacheSecret(id)}); err != nil {
				t.Errorf("Rotate: %v", err)
				return
			}
			if i > 0 {
				if err := f.keys.Retire(fmt.Sprintf("k%d", i-1)); err != nil {
					t.Errorf("Retire: %v", err)
					return
				}
			}
		}
	})
	background.Go(func() { // move the clock, within the tokens' lifetime
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
				f.clock.add(time.Second)
			}
		}
	})
	var workers sync.WaitGroup
	for w := range 8 {
		workers.Go(func() {
			for i := range 2000 {
				tok := shared
				if i%2 == 1 {
					tok = own[(w*31+i)%len(own)]
				}
				v, err := f.vf.Verify(tok, f.clock.Now())
				if err != nil {
					t.Errorf("verify: %v", err)
					return
				}
				if v.raw != tok || v.typed.Subject != "alice" {
					t.Errorf("verify returned the claims of another token")
					return
				}
			}
		})
	}
	workers.Wait()
	close(stop)
	background.Wait()
}
