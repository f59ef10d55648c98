package middleware_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// TestSessionCapOverRenewalChains drives many sessions through the real
// middleware, each a client that sends requests at random times and always
// adopts X-New-Token, and checks the absolute cap: no token ever expires
// after auth_time + MaxSessionAge, no renewed token is born expired, no
// request is accepted past the cap (plus leeway), and a client active
// often enough is never logged out before the cap.
func TestSessionCapOverRenewalChains(t *testing.T) {
	t.Parallel()
	type setup struct {
		lifetime, interval, cap, leeway time.Duration
		threshold                       float64
	}
	setups := []setup{
		{2 * time.Hour, time.Minute, 10 * time.Hour, 30 * time.Second, 0.5},
		{24 * time.Hour, time.Minute, 30 * time.Hour, 0, 0.5},
		{10 * time.Minute, 20 * time.Second, 45*time.Minute + 17*time.Second, 5 * time.Second, 0.8},
		{time.Hour, 5 * time.Minute, 90 * time.Minute, time.Minute, 0.25},
		{time.Hour, time.Second, 59 * time.Minute, 0, 1}, // the cap is shorter than one lifetime
	}
	rng := rand.New(rand.NewPCG(6, 2026))
	const chains = 150
	// The property must not hold vacuously: count what the chains did.
	var renewals, capped int
	for i := range chains {
		su := setups[i%len(setups)]
		active := i%3 == 0 // requests at least every threshold x lifetime / 4
		t.Run(fmt.Sprintf("chain%03d", i), func(t *testing.T) {
			a := newHostileApp(t, nil, func(s *config.Settings, _ *middleware.Config) {
				s.UserLifetime, s.GuestLifetime = su.lifetime, su.lifetime
				s.MinRenewInterval, s.MaxSessionAge, s.Leeway, s.RenewThreshold = su.interval, su.cap, su.leeway, su.threshold
			})
			issued := epoch.Add(time.Duration(rng.Int64N(int64(time.Hour))))
			token, exp, err := a.issuer.IssueAt(issued, "alice", "user", nil)
			if err != nil {
				t.Fatal(err)
			}
			capAt := time.Unix(issued.Unix(), 0).Add(su.cap)
			maxGap := su.lifetime
			if active {
				maxGap = time.Duration(su.threshold * float64(su.lifetime) / 4)
			}
			now := issued
			for step := 0; step < 120; step++ {
				now = now.Add(time.Duration(rng.Int64N(int64(maxGap))))
				a.clock.Set(now)
				rec := a.serve(bearer(token))
				switch rec.Code {
				case http.StatusOK:
				case http.StatusUnauthorized:
					if !now.After(exp.Add(su.leeway)) {
						t.Fatalf("step %d at +%v: 401 for a token that expires at +%v", step, now.Sub(issued), exp.Sub(issued))
					}
					if active && !now.After(capAt) {
						t.Fatalf("step %d at +%v: an active client was logged out before the cap (+%v)", step, now.Sub(issued), su.cap)
					}
					return
				default:
					t.Fatalf("step %d: status %d, want 200 or 401", step, rec.Code)
				}
				if now.After(capAt.Add(su.leeway)) {
					t.Fatalf("step %d at +%v: accepted after the cap +%v and the leeway", step, now.Sub(issued), su.cap)
				}
				fresh := rec.Header().Get(middleware.HeaderNewToken)
				if fresh == "" {
					continue
				}
				mc, _, err := verifyToken(fresh, "HS256", []byte(hostileSecret), now, 0)
				if err != nil {
					t.Fatalf("step %d: renewed token does not verify at its own issue time: %v", step, err)
				}
				newExp := time.Unix(unixClaim(mc, "exp"), 0)
				if newExp.After(capAt) {
					t.Fatalf("step %d: renewed exp +%v is past the cap +%v", step, newExp.Sub(issued), su.cap)
				}
				if !newExp.After(now) {
					t.Fatalf("step %d at +%v: renewed token expires at +%v, not after now", step, now.Sub(issued), newExp.Sub(issued))
				}
				if got, want := unixClaim(mc, "auth_time"), issued.Unix(); got != want {
					t.Fatalf("step %d: auth_time = %d, want %d", step, got, want)
				}
				token, exp = fresh, newExp
				renewals++
				if newExp.Equal(capAt) {
					capped++
				}
			}
			// However the chain went, the session is over after the cap.
			a.clock.Set(capAt.Add(su.leeway + time.Second))
			if rec := a.serve(bearer(token)); rec.Code != http.StatusUnauthorized {
				t.Fatalf("after the cap: status %d, want 401", rec.Code)
			}
		})
	}
	if renewals < chains || capped < chains/10 {
		t.Errorf("%d chains made %d renewals, %d of them up to the cap; want at least %d and %d", chains, renewals, capped, chains, chains/10)
	}
	t.Logf("%d chains, %d renewals, %d up to the cap", chains, renewals, capped)
}

// TestNoRenewalIntoThePast: a token accepted within the leeway after its
// exp, whose session cap falls between that exp and now, is not renewed
// into a token that has already expired.
func TestNoRenewalIntoThePast(t *testing.T) {
	t.Parallel()
	a := newHostileApp(t, nil, func(s *config.Settings, _ *middleware.Config) {
		s.MaxSessionAge = 24*time.Hour + 10*time.Second // leeway 30 s
	})
	token, _, err := a.issuer.IssueAt(epoch, "alice", "user", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := a.get(24*time.Hour+20*time.Second, token)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 (within the leeway)", rec.Code)
	}
	if fresh := rec.Header().Get(middleware.HeaderNewToken); fresh != "" {
		mc, _, _ := verifyToken(fresh, "HS256", []byte(hostileSecret), epoch, 0)
		t.Fatalf("renewed into a token that expires at +%v, before now (+24h0m20s)", time.Unix(unixClaim(mc, "exp"), 0).Sub(epoch))
	}
	if ev, _ := a.lastEvent(); ev.Reason != engine.ReasonSessionCap {
		t.Errorf("reason = %q, want %q", ev.Reason, engine.ReasonSessionCap)
	}
}

// TestBackwardClockStep renews a session, steps the wall clock back, and
// checks that the session can renew again no later than one interval after
// its last renewal (in clock time): at once when the step is at least one
// interval, since the store's window is symmetric.
//
// The request that renews carries an older token of the same session (a
// second tab that did not see the first renewal): the token the first
// renewal minted has its iat at the old time, and a token issued more than
// the leeway in the future is refused until the clock catches up, which
// the test also pins down.
func TestBackwardClockStep(t *testing.T) {
	t.Parallel()
	steps := []time.Duration{time.Hour, 10 * time.Minute, 61 * time.Second, time.Minute, 59 * time.Second, 30 * time.Second, time.Second}
	for _, step := range steps {
		t.Run(step.String(), func(t *testing.T) {
			t.Parallel()
			a := newHostileApp(t, nil) // interval 60 s, leeway 30 s
			interval, leeway := a.settings.MinRenewInterval, a.settings.Leeway
			older, _, err := a.issuer.IssueAt(epoch, "alice", "user", nil)
			if err != nil {
				t.Fatal(err)
			}
			renewedAt := 14 * time.Hour
			fresh := a.get(renewedAt, older).Header().Get(middleware.HeaderNewToken)
			if fresh == "" {
				t.Fatal("first renewal missing")
			}
			// The clock steps back, then runs forward one second at a time.
			stepped := renewedAt - step
			deadline := max(stepped, renewedAt+interval)
			renewedAgain := time.Duration(-1)
			for at := stepped; at <= renewedAt+interval+time.Second; at += time.Second {
				if rec := a.get(at, older); rec.Header().Get(middleware.HeaderNewToken) != "" {
					renewedAgain = at
					break
				}
			}
			switch {
			case renewedAgain < 0:
				t.Fatalf("no renewal within one interval of the last one")
			case renewedAgain > deadline:
				t.Fatalf("renewed again at %v after the step, want by %v", renewedAgain-stepped, deadline-stepped)
			case step >= interval && renewedAgain != stepped:
				t.Errorf("renewed again %v after a step of %v, want at once", renewedAgain-stepped, step)
			}
			// The token minted at renewedAt is refused while its iat is
			// more than the leeway ahead of the clock, and accepted after.
			wantFresh := http.StatusOK
			if step > leeway {
				wantFresh = http.StatusUnauthorized
			}
			if got := a.get(stepped, fresh).Code; got != wantFresh {
				t.Errorf("the newest token right after the step: status %d, want %d", got, wantFresh)
			}
			if got := a.get(renewedAt-leeway, fresh).Code; got != http.StatusOK {
				t.Errorf("the newest token once the clock is back within the leeway: status %d, want 200", got)
			}
		})
	}
}
