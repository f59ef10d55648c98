package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/nethttp"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// TestDoorCheckAllocations: a request whose token the cache of verified
// tokens answers allocates exactly what the benchmark table says, on the
// Echo v4 and the net/http doors, with and without TypedClaimsOnly; a
// change to the request path that allocates more (a buffer escaping
// through the Door interface, say) fails here, in make test, not only in
// make bench. In cookie delivery a request that does not ask for
// X-Session-Expires allocates what the same request in header delivery
// does; one that asks pays for the header's text and value. Run without
// the race detector (make test's allocation step).
func TestDoorCheckAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	for _, tc := range []struct {
		name   string
		typed  bool
		echo   bool
		cookie bool // TOKEN_DELIVERY=cookie, the token in the session cookie
		ask    bool // the request asks for X-Session-Expires
		want   float64
	}{
		// Echo's context map, the request's *jwt.Token, its header map,
		// signature and claims map with its nested object, the typed
		// Claims, and Echo's own bookkeeping.
		{"echo/check", false, true, false, false, 10},
		{"echo/check-typed", true, true, false, false, 4},
		// The door's context and the typed Claims: the *jwt.Token is made
		// only when a handler asks (TokenFrom), and this one does not.
		{"nethttp/check", false, false, false, false, 3},
		{"nethttp/check-typed", true, false, false, false, 3},
		{"echo/cookie/check", false, true, true, false, 10},
		{"nethttp/cookie/check", false, false, true, false, 3},
		// The expiry's text and the header's value.
		{"echo/cookie/check asking", false, true, true, true, 12},
	} {
		st := memory.New(nil)
		t.Cleanup(func() { _ = st.Close() })
		set := settings()
		if tc.cookie {
			set.Delivery = config.DeliveryCookie
		}
		a := newApp(t, st, middleware.Config{Settings: set, TypedClaimsOnly: tc.typed})
		h, tok := http.Handler(a.e), a.token(t, 0)
		if !tc.echo {
			h = newMux(t, nethttp.Config{Settings: set, Store: st, Keys: a.issuer.Keys(), TypedClaimsOnly: tc.typed})
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if tc.cookie {
			req.Header.Set("Cookie", config.DefaultCookieName+"="+tok)
		} else {
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		}
		if tc.ask {
			req.Header.Set(engine.HeaderSessionExpires, "?")
		}
		s := newSink()
		h.ServeHTTP(s, req) // verified once: the cache holds it
		got := testing.AllocsPerRun(200, func() {
			clear(s.h)
			s.code = 0
			h.ServeHTTP(s, req)
		})
		if s.code != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", tc.name, s.code)
		}
		if got, want := s.h.Get(engine.HeaderSessionExpires) != "", tc.ask; got != want {
			t.Errorf("%s: %s on the response: %v, want %v", tc.name, engine.HeaderSessionExpires, got, want)
		}
		if got != tc.want {
			t.Errorf("%s: %v allocations a request, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDoorColdAllocations: the first request of a token, a full
// verification through the Echo v4 door, allocates exactly what the
// benchmark table says for check-cold and check-cold-typed. With
// TypedClaimsOnly the claims are read into typed values only: a change
// that makes the first sight build the claims map again (or any other
// per-token copy) fails here. Run without the race detector.
func TestDoorColdAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector")
	}
	for _, tc := range []struct {
		name  string
		typed bool
		want  float64
	}{
		// The verification's own (typed claims, strings, digests, the
		// golang-jwt validator's dates), the cache entry, the request's
		// *jwt.Token, header map and claims map decoded for it, and Echo's.
		{"echo/check-cold", false, 37},
		// The same without the *jwt.Token and its maps.
		{"echo/check-cold-typed", true, 14},
	} {
		st := memory.New(nil)
		t.Cleanup(func() { _ = st.Close() })
		a := newApp(t, st, middleware.Config{TypedClaimsOnly: tc.typed})
		const runs = 200
		list := a.bearers(t, runs+2, 0) // AllocsPerRun runs the function once more first
		req := httptest.NewRequest(http.MethodGet, path, nil)
		auth := []string{""}
		req.Header[echo.HeaderAuthorization] = auth
		s := newSink()
		next := 0
		got := testing.AllocsPerRun(runs, func() {
			clear(s.h)
			s.code = 0
			auth[0] = list[next]
			next++
			a.e.ServeHTTP(s, req)
			if s.code != http.StatusOK {
				t.Fatalf("%s: status %d, want 200", tc.name, s.code)
			}
		})
		if got != tc.want {
			t.Errorf("%s: %v allocations a first request, want %v", tc.name, got, tc.want)
		}
	}
}
