package middleware

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// cacheStart is the injected clock's first reading.
var cacheStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// cacheClock is a clock the tests move by hand.
type cacheClock struct{ now atomic.Int64 }

func newCacheClock() *cacheClock {
	c := &cacheClock{}
	c.set(cacheStart)
	return c
}

func (c *cacheClock) Now() time.Time      { return time.Unix(0, c.now.Load()).UTC() }
func (c *cacheClock) set(t time.Time)     { c.now.Store(t.UnixNano()) }
func (c *cacheClock) add(d time.Duration) { c.now.Add(int64(d)) }

func cacheSecret(id string) []byte {
	return []byte(strings.Repeat(id, 40))
}

// countingStore counts the calls that reach a store.
type countingStore struct {
	store.Store
	allows atomic.Int64
}

func (s *countingStore) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	s.allows.Add(1)
	return s.Store.Allow(ctx, key, now, interval)
}

// TestRenewedHere: once this process has renewed a session with a token,
// more requests with that token within the interval are refused without
// asking the store, unless a session key function is configured.
func TestRenewedHere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		size      int
		keyFunc   func(echo.Context, *Claims) string
		wantCalls int64 // store calls for the three due requests
	}{
		{"cached", 0, nil, 2},
		{"cache off", -1, nil, 3},
		{"session key function", 0, func(_ echo.Context, c *Claims) string { return c.Subject }, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := config.Default()
			s.Secret = string(cacheSecret("s"))
			st := &countingStore{Store: memory.New(nil)}
			t.Cleanup(func() { _ = st.Close() })
			clock := newCacheClock()
			var reasons []engine.Reason
			mwf, err := Config{
				Settings: s, Store: st, Now: clock.Now, VerifiedCacheSize: tc.size, SessionKey: tc.keyFunc,
				OnRenewal: func(_ echo.Context, ev RenewalEvent) {
					if ev.Renewed {
						reasons = append(reasons, "renewed")
						return
					}
					reasons = append(reasons, ev.Reason)
					if ev.Session == "" {
						t.Errorf("event %q without a session key", ev.Reason)
					}
				},
			}.ToMiddleware()
			if err != nil {
				t.Fatal(err)
			}
			issuer, err := NewIssuer(s, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := issuer.IssueAt(cacheStart.Add(-40*time.Hour), "alice", "user", nil)
			if err != nil {
				t.Fatal(err)
			}
			e := echo.New()
			e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, mwf)
			get := func() string {
				req := httptest.NewRequest(http.MethodGet, "/me", nil)
				req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d, want 200", rec.Code)
				}
				return rec.Header().Get(HeaderNewToken)
			}
			if get() == "" {
				t.Fatal("the first due request was not renewed")
			}
			clock.add(s.MinRenewInterval - time.Second)
			if get() != "" {
				t.Fatal("a second renewal within the interval")
			}
			clock.add(time.Second)
			if get() == "" {
				t.Fatal("no renewal once the interval had passed")
			}
			if got := st.allows.Load(); got != tc.wantCalls {
				t.Errorf("the store was asked %d times, want %d", got, tc.wantCalls)
			}
			want := []engine.Reason{"renewed", engine.ReasonRateLimited, "renewed"}
			if fmt.Sprint(reasons) != fmt.Sprint(want) {
				t.Errorf("events %v, want %v", reasons, want)
			}
		})
	}
}
