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

// tick moves the clock a second forward every d until the returned stop
// is called, which waits for it.
func (f *cacheFixture) tick(d time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(d):
				f.clock.add(time.Second)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// held reports whether the cache's current generation holds tok.
func (f *cacheFixture) held(tok string) bool {
	return f.entries(func(v *Verified) bool { return v.raw == tok }) > 0
}

// entries counts the entries of the current generation that match.
func (f *cacheFixture) entries(match func(*Verified) bool) int {
	n := 0
	f.vf.cache.generation().each(func(sl *cacheSlot) {
		if v := sl.v.Load(); v != nil && match(v) {
			n++
		}
	})
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
	if tk, _ := v1.Token(); tk.Raw != tok || !tk.Valid || v1.sub != "alice" {
		t.Errorf("cached token Raw %q Valid %v sub %q", tk.Raw, tk.Valid, v1.sub)
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
	forged := &Verified{raw: va.raw, key: va.key, sub: va.sub, jti: va.jti, session: va.session,
		expSec: va.expSec, expNsec: va.expNsec, validFrom: va.validFrom, validUntil: va.validUntil}
	f.vf.cache.set(g, hb, true)[0].v.Store(forged)
	f.vf.cache.set(g, hb, true)[0].tag.Store(tagOf(hb))
	if got := f.vf.cache.get(g, b, f.clock.Now()); got != nil {
		t.Fatalf("get(b) returned the entry of another token with b's hash")
	}
	vb, err := f.vf.Verify(b, f.clock.Now())
	if err != nil || vb.raw != b || vb.jti == va.jti {
		t.Fatalf("verify(b) = %v, %v; want b's own claims", vb, err)
	}
}

func TestVerifiedCacheBound(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 7, 64, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			f := newCacheFixture(t, size, nil)
			slots := f.vf.cache.slotCount()
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
			// Into a full set, a token is let in on its second sight.
			if _, err := f.vf.Verify(last, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if !f.held(last) {
				t.Errorf("the latest token, sent twice, is not cached")
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

// TestVerifiedCacheManyTokensInUse: with twice as many tokens in use as
// the cache holds, sent in turn (each comes back only after all the
// others, the order a cache that evicts the least recently used entry
// never answers), the CLOCK eviction keeps answering for most of the
// tokens it holds, round after round; and a flood of tokens seen once
// leaves them there. A cache that replaces a slot picked at random keeps
// about half as many in the first case, and none after the flood.
func TestVerifiedCacheManyTokensInUse(t *testing.T) {
	t.Parallel()
	const size, tokens = 256, 512
	f := newCacheFixture(t, size, nil)
	toks := make([]string, tokens)
	for i := range toks {
		toks[i] = f.token(-time.Duration(i) * time.Millisecond)
	}
	cycle := func() (hits int) {
		t.Helper()
		for _, tok := range toks {
			_, hit, err := f.vf.verifyHit(tok, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if hit {
				hits++
			}
		}
		return hits
	}
	for range 4 {
		cycle()
	}
	if got, want := cycle(), size*5/8; got < want {
		t.Errorf("round-robin over %d tokens with a cache of %d: %d hits in a round, want at least %d", tokens, size, got, want)
	}
	for i := range 4 * size {
		if _, err := f.vf.Verify(f.token(-time.Duration(tokens+i)*time.Millisecond), f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := cycle(), size*5/8; got < want {
		t.Errorf("after %d tokens seen once: %d hits in a round, want at least %d", 4*size, got, want)
	}
}

// TestVerifiedCacheSecondSight: a token that finds its set full is turned
// away on its first sight, leaving the entries in use where they are, and
// let in on its second; while its set has room, a token is cached on its
// first sight.
func TestVerifiedCacheSecondSight(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, cacheWays, nil) // one set
	verify := func(tok string) {
		t.Helper()
		if _, err := f.vf.Verify(tok, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	inUse := make([]string, cacheWays)
	for i := range inUse {
		inUse[i] = f.token(-time.Duration(i) * time.Millisecond)
		verify(inUse[i])
		if !f.held(inUse[i]) {
			t.Fatalf("token %d, seen once while the set has room, is not cached", i)
		}
	}
	late := f.token(-time.Second)
	verify(late)
	if f.held(late) {
		t.Errorf("a token seen once was let into a full set")
	}
	for i, tok := range inUse {
		if !f.held(tok) {
			t.Errorf("token %d was evicted by a token seen once", i)
		}
	}
	verify(late)
	if !f.held(late) {
		t.Errorf("a token seen twice was not let into its full set")
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
	if f.vf.cache.generation().chunks != nil {
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
	stopClock := f.tick(100 * time.Microsecond) // within the tokens' lifetime
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
				if v.raw != tok || v.sub != "alice" {
					t.Errorf("verify returned the claims of another token")
					return
				}
			}
		})
	}
	workers.Wait()
	close(stop)
	background.Wait()
	stopClock()
}

// keptMaps counts the entries of g that keep a claims map.
func keptMaps(g *cacheGen) int64 {
	var n int64
	g.each(func(sl *cacheSlot) {
		if v := sl.v.Load(); v != nil {
			if p := v.claims.Load(); p != nil && !p.fresh && p != claimsTaken {
				n++
			}
		}
	})
	return n
}

// TestVerifiedCacheMapLimit: a door that hands each request its own claims
// map has the cache keep maps for at most its limit of entries (one slot in
// eight here); the others decode a map per request, equal and just as
// private. An entry that expires or is replaced gives its map back, and a
// token wanted again can then keep one.
func TestVerifiedCacheMapLimit(t *testing.T) {
	t.Parallel()
	// Four times the slots the tokens need, so that no set is full and
	// no entry is evicted.
	const slots = 8192
	f := newCacheFixture(t, slots, nil)
	g := f.vf.cache.generation()
	if g.mapLimit != slots/cacheMapShare {
		t.Fatalf("a cache of %d slots keeps %d maps, want %d", slots, g.mapLimit, slots/cacheMapShare)
	}
	claimsOf := func(tok string) jwt.MapClaims {
		t.Helper()
		v, err := f.vf.Verify(tok, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		tk, _ := v.Token()
		return tk.Claims.(jwt.MapClaims)
	}
	toks := make([]string, 1500)
	for i := range toks {
		toks[i] = f.token(-time.Duration(i) * time.Second)
	}
	for _, tok := range toks {
		claimsOf(tok) // takes the map the verification decoded
		claimsOf(tok) // keeps a map, while there is room
	}
	if got, want := g.maps.Load(), g.mapLimit; got != want {
		t.Fatalf("%d maps counted after 1 500 tokens wanted twice, want %d", got, want)
	}
	if got, want := keptMaps(g), g.maps.Load(); got != want {
		t.Fatalf("%d entries keep a map, %d counted", got, want)
	}
	// Beyond the limit, and within it: each caller's map is its own.
	for _, tok := range []string{toks[0], toks[len(toks)-1]} {
		a := claimsOf(tok)
		a["sub"] = "mallory"
		a["injected"] = true
		b := claimsOf(tok)
		if got, want := b["sub"], "alice"; got != want {
			t.Errorf("sub %v after another caller's write, want %v", got, want)
		}
		if _, ok := b["injected"]; ok {
			t.Errorf("a claim written by another caller reached the next")
		}
	}
	// Every entry expires: the hits that drop them give their maps back.
	f.clock.add(f.vf.settings.UserLifetime + time.Hour)
	for _, tok := range toks {
		if _, err := f.vf.Verify(tok, f.clock.Now()); err == nil {
			t.Fatal("an expired token verified")
		}
	}
	if got := g.maps.Load(); got != 0 {
		t.Fatalf("%d maps counted once every entry expired, want 0", got)
	}
	// New tokens keep maps again.
	fresh := make([]string, 200)
	for i := range fresh {
		fresh[i] = f.token(f.clock.Now().Sub(cacheStart) - time.Duration(i)*time.Second)
		claimsOf(fresh[i])
		claimsOf(fresh[i])
	}
	if got, want := g.maps.Load(), int64(len(fresh)); got != want || keptMaps(g) != want {
		t.Fatalf("%d maps counted, %d kept, want %d", got, keptMaps(g), want)
	}
}

// TestVerifiedCacheMapCountConcurrent: requests that want claims maps,
// tokens that expire and entries replaced, all at once, leave the count of
// kept maps equal to the maps the entries keep, and within the limit.
func TestVerifiedCacheMapCountConcurrent(t *testing.T) {
	t.Parallel()
	const slots = 2048
	f := newCacheFixture(t, slots, nil)
	life := f.vf.settings.UserLifetime
	toks := make([]string, 4*slots)
	for i := range toks {
		// Minted over the last lifetime: they expire one after another
		// as the clock moves.
		toks[i] = f.token(-life + time.Duration(i)*time.Second)
	}
	stopClock := f.tick(50 * time.Microsecond)
	var workers sync.WaitGroup
	for w := range 8 {
		workers.Go(func() {
			for i := range 4000 {
				tok := toks[(w*977+i*31)%len(toks)]
				if i%3 == 0 {
					tok = toks[len(toks)-1-i%64] // a few hot ones
				}
				v, err := f.vf.Verify(tok, f.clock.Now())
				if err != nil {
					continue // expired
				}
				tk, _ := v.Token()
				tk.Claims.(jwt.MapClaims)["sub"] = "mallory"
			}
		})
	}
	workers.Wait()
	stopClock()
	g := f.vf.cache.generation()
	if got, want := g.maps.Load(), keptMaps(g); got != want || got > g.mapLimit {
		t.Fatalf("%d maps counted, %d kept by entries, limit %d", got, want, g.mapLimit)
	}
	if g.maps.Load() == 0 {
		t.Fatal("no entry keeps a map: the case shows nothing")
	}
}

// TestVerifiedEvictedKeepsNoMap: a request still holding a verification
// the cache has dropped gets claims maps of its own, and the dropped entry
// keeps none, uncounted.
func TestVerifiedEvictedKeepsNoMap(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, 64, nil)
	tok := f.token(0)
	v, err := f.vf.Verify(tok, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	v.Token()
	v.release() // as the cache does when it replaces or expires v
	for range 3 {
		if tk, _ := v.Token(); tk.Claims.(jwt.MapClaims)["sub"] != "alice" {
			t.Fatalf("claims %v", tk.Claims)
		}
	}
	if p := v.claims.Load(); p != claimsTaken || v.gen.maps.Load() != 0 {
		t.Fatalf("a dropped entry keeps a map (%v), %d counted", p != claimsTaken, v.gen.maps.Load())
	}
}

// TestVerifiedClaimsConcurrentUncached: the goroutines of one request
// asking a verification the cache did not take for its claims at once each
// get claims of their own, without a panic.
func TestVerifiedClaimsConcurrentUncached(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t, -1, nil)
	for range 200 {
		v, err := f.vf.Verify(f.token(0), f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		v.Token() // the first caller takes the map the verification decoded
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				tk, _ := v.Token()
				m := tk.Claims.(jwt.MapClaims)
				if m["sub"] != "alice" {
					t.Errorf("sub %v", m["sub"])
				}
				m["sub"] = "mallory"
			})
		}
		wg.Wait()
	}
}
