package slidingjwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// TestListTurnsNotReadyDuringHandler: the revocation list is checked again
// where the renewal is committed, after the handler ran. A list that, while
// the handler of a due request runs, is closed, overflows (it learned more
// revocations than it can hold), or goes stale (with either policy) lets
// the request through, since it was admitted, but commits no renewal and
// asks the store nothing.
func TestListTurnsNotReadyDuringHandler(t *testing.T) {
	t.Parallel()
	const staleAfter = time.Minute
	for _, tc := range []struct {
		name   string
		policy revocation.StalePolicy
		// during runs inside the handler.
		during func(t *testing.T, l *revocation.List, backend store.Revoker, clock *testkit.Clock)
	}{
		{"closed", revocation.ServeLastKnown, func(t *testing.T, l *revocation.List, _ store.Revoker, _ *testkit.Clock) {
			_ = l.Close()
		}},
		{"overflowing", revocation.ServeLastKnown, func(t *testing.T, l *revocation.List, backend store.Revoker, clock *testkit.Clock) {
			now := clock.Now()
			for i := range 5 { // MaxRevocations 2: the copy holds at most 4
				r := store.Revocation{Kind: store.RevokeSession, Key: store.SessionRevocationKey("other-" + string(rune('a'+i))), Before: now, Until: now.Add(time.Hour)}
				if err := backend.Revoke(context.Background(), r, now); err != nil {
					t.Errorf("Revoke: %v", err)
				}
			}
			if err := l.Sync(context.Background()); err != nil {
				t.Errorf("Sync: %v", err)
			}
		}},
		{"stale, Refuse", revocation.Refuse, func(t *testing.T, _ *revocation.List, _ store.Revoker, clock *testkit.Clock) {
			clock.Set(clock.Now().Add(2 * staleAfter))
		}},
		{"stale, ServeLastKnown", revocation.ServeLastKnown, func(t *testing.T, _ *revocation.List, _ store.Revoker, clock *testkit.Clock) {
			clock.Set(clock.Now().Add(2 * staleAfter))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSoFleet(t)
			f.clock.Set(start.Add(20 * time.Hour)) // the token is due
			backend := memory.New(nil)
			t.Cleanup(func() { _ = backend.Close() })
			list, err := revocation.New(context.Background(), revocation.Options{
				Backend: backend, Now: f.clock.Now, MaxRevocations: 2,
				CatchUp: staleAfter / 2, StaleAfter: staleAfter, WhenStale: tc.policy,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = list.Close() })
			counting := &testkit.CountingStore{Store: backend}
			var mu sync.Mutex
			var events []engine.Event
			mw, err := middleware.Config{
				Settings: f.settings, Store: counting, Revocations: list, Now: f.clock.Now,
				OnRenewal: func(_ echo.Context, ev engine.Event) {
					mu.Lock()
					events = append(events, ev)
					mu.Unlock()
				},
			}.ToMiddleware()
			if err != nil {
				t.Fatal(err)
			}
			e := echo.New()
			e.GET("/api/me", func(c echo.Context) error {
				tc.during(t, list, backend, f.clock)
				return c.String(http.StatusOK, "ok")
			}, mw)
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+f.mint(t, "alice", start))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Header().Get(middleware.HeaderNewToken) != "" {
				t.Errorf("got %d with X-New-Token set %v; want 200 without a renewal", rec.Code, rec.Header().Get(middleware.HeaderNewToken) != "")
			}
			if n := counting.Allows(); n != 0 {
				t.Errorf("the store was asked %d times, want 0", n)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != 1 || events[0].Reason != engine.ReasonRevocationsStale {
				t.Errorf("events %+v, want one %q", events, engine.ReasonRevocationsStale)
			}
		})
	}
}
