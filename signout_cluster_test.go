package slidingjwt_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store/redis"
)

// openClusterStore opens a store with its own cluster client on c.
func openClusterStore(t *testing.T, c *redistest.Cluster) *redis.Store {
	t.Helper()
	st, err := redis.Open(c.URL(), &redis.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSignOutPropagatesOnCluster: TestSignOutPropagates on a real Redis
// Cluster of three primaries and three replicas, opened by its
// redis-cluster:// URL: a session signed out on A is refused by B, by
// pub/sub or by the catch-up read alone, and another session of the same
// user keeps working.
func TestSignOutPropagatesOnCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	for _, tc := range []struct {
		name string
		cfg  soConfig
	}{
		{"pub/sub", soConfig{catchUp: time.Hour}},
		{"catch-up only", soConfig{noWatch: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSoFleet(t)
			a := f.start(t, "A", openClusterStore(t, c), tc.cfg)
			b := f.start(t, "B", openClusterStore(t, c), tc.cfg)
			sub := "alice-" + tc.name
			revoked := map[string]string{"the signed-out token": f.mint(t, sub, start)}
			other := map[string]string{"another session": f.mint(t, sub, start.Add(time.Minute))}
			f.wantOK(t, "before the sign-out", revoked, a, b)

			f.logout(t, a, "/api/logout", revoked["the signed-out token"])
			f.wantEnded(t, "on the instance that signed out, at once", revoked, a)
			delay := f.pollEnded(t, b, revoked)
			t.Logf("%s: B refused the token %v after A's /logout returned (polling every %v)", tc.name, delay, soPollEvery)
			f.wantOK(t, "after the sign-out", other, a, b)
			if n := b.bgErrs.Load(); n > 0 {
				t.Errorf("B's list reported %d background errors, the last %v", n, b.lastErr.Load())
			}
		})
	}
}

// measureEnv turns on TestPropagationDelayOnCluster, which measures rather
// than checks: SLIDINGJWT_MEASURE_PROPAGATION=1 go test -run
// TestPropagationDelayOnCluster -v .
const measureEnv = "SLIDINGJWT_MEASURE_PROPAGATION"

// TestPropagationDelayOnCluster measures, over HTTP on loopback, how long
// after an instance's /logout returns the two other instances of three,
// on one Redis Cluster with the default catch-up, refuse the token: the
// time until the first 401 each gives, polling the two in turn as fast as
// one client can (so each figure includes up to one request to the other). It
// logs the median and the 99th percentile; docs/redis-topologies.md quotes
// them. It only runs when measureEnv is 1.
func TestPropagationDelayOnCluster(t *testing.T) {
	if os.Getenv(measureEnv) != "1" {
		t.Skipf("a measurement, not a check: set %s=1 to run it", measureEnv)
	}
	const signOuts = 250
	c := redistest.StartCluster(t)
	f := newSoFleet(t)
	ins := []*soInstance{
		f.start(t, "A", openClusterStore(t, c), soConfig{}),
		f.start(t, "B", openClusterStore(t, c), soConfig{}),
		f.start(t, "C", openClusterStore(t, c), soConfig{}),
	}
	var delays []time.Duration
	for i := range signOuts {
		tok := f.mint(t, fmt.Sprintf("user-%d", i), start)
		from := ins[i%3]
		f.logout(t, from, "/api/logout", tok)
		done := time.Now()
		// Poll the two others in turn, so that neither waits for the
		// other to refuse first.
		var waiting []*soInstance
		for _, in := range ins {
			if in != from {
				waiting = append(waiting, in)
			}
		}
		for len(waiting) > 0 {
			if time.Since(done) > soDeadline {
				t.Fatalf("sign-out %d not seen on %s within %v", i, waiting[0].name, soDeadline)
			}
			in := waiting[0]
			waiting = waiting[1:]
			if ended(f.me(t, in, tok)) {
				delays = append(delays, time.Since(done))
			} else {
				waiting = append(waiting, in)
			}
		}
	}
	slices.Sort(delays)
	q := func(p float64) time.Duration { return delays[int(p*float64(len(delays)-1))] }
	t.Logf("%d sign-outs, %d refusals seen on the two other instances: median %v, p90 %v, p99 %v, max %v",
		signOuts, len(delays), q(0.5), q(0.9), q(0.99), delays[len(delays)-1])
}
