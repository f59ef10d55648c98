package main

// The load-and-fault test (issue 15): demo instances run as real processes
// on a real store while 200 clients (100 on bolt), each with its own
// session, keep their tokens fresh; meanwhile Redis is restarted and
// instances are killed with SIGKILL. Nothing may be lost: no 5xx, no
// client signed out while it kept its token fresh, no session renewed twice
// within one interval across the fleet, and every instance's counters agree
// with what its clients saw.
//
// The short form runs in `make test` (about 20 s: one Redis restart, one
// SIGKILL per store); `make soak` runs the long form (SLIDINGJWT_SOAK=1:
// three minutes, or SLIDINGJWT_SOAK_DURATION; Redis restarted and a Redis
// instance killed every 20 s, the bolt instance every 15 s) and prints the
// same figures.

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/middleware"
)

const (
	// soakEnv set to 1 runs the long form (make soak).
	soakEnv = "SLIDINGJWT_SOAK"
	// soakDurationEnv overrides the long form's duration (a Go duration).
	soakDurationEnv = "SLIDINGJWT_SOAK_DURATION"
	// soakDefault is the long form's duration.
	soakDefault = 3 * time.Minute

	// The instances' token settings: every token lives 12 s and is due for
	// renewal once 3 s old (threshold 0.75), so a session renews every 3 s
	// or so and a token is renewed several times during the short form,
	// while a client has 9 s of due time to get its renewal through a
	// fault. One interval between two renewals of a session.
	loadLifetime  = 12 * time.Second
	loadThreshold = 0.75
	loadInterval  = time.Second
	// loadStagger spreads the clients' starts over the age at which a
	// token falls due (a quarter of its lifetime), so that from then on
	// renewals fall due all the time, not in waves a fault could miss.
	loadStagger = loadLifetime / 4
	// outageWait bounds how long a Redis restart keeps Redis down while it
	// waits for a request with a token due for renewal; a token stays due
	// for 9 s, so its client renews once Redis is back.
	outageWait = 3 * time.Second
)

// faultKind is a fault the test causes during the load.
type faultKind int

const (
	// restartRedis stops Redis with SIGTERM (its append-only file on) and
	// starts it again on the same port.
	restartRedis faultKind = iota
	// killInstance checks an instance's counters, lets traffic reach it
	// again, kills it with SIGKILL and starts it again on the same port.
	killInstance
)

// fault is one fault, at an offset from the start of the load.
type fault struct {
	at   time.Duration
	kind faultKind
	slot int // for killInstance
}

// loadPlan is one run of the load.
type loadPlan struct {
	clients  int
	fanout   int              // requests of a round, sent at once with the same token
	duration time.Duration    // of the load, from the first client's start
	stagger  time.Duration    // the clients start spread over this
	think    [2]time.Duration // a client's pause between rounds, from [0] to [1]
	faults   []fault
}

// soakDuration returns whether the long form was asked for, and its
// duration.
func soakDuration(t *testing.T) (bool, time.Duration) {
	t.Helper()
	if os.Getenv(soakEnv) != "1" {
		return false, 0
	}
	v := os.Getenv(soakDurationEnv)
	if v == "" {
		return true, soakDefault
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 30*time.Second {
		t.Fatalf("%s=%q: want a Go duration of at least 30s, such as 10m", soakDurationEnv, v)
	}
	return true, d
}

// faultsEvery returns faults of kind from first on, every period, on the
// slots in turn, ending 5 s before end so the last one is checked.
func faultsEvery(kind faultKind, first, period, end time.Duration, slots int) []fault {
	var list []fault
	for at, i := first, 0; at < end-5*time.Second; at, i = at+period, i+1 {
		list = append(list, fault{at: at, kind: kind, slot: i % slots})
	}
	return list
}

// plans returns the redis and bolt runs, short or long.
func plans(soak bool, d time.Duration) (redisRun, boltRun loadPlan) {
	redisRun = loadPlan{
		clients:  200,
		fanout:   2,
		duration: 15 * time.Second,
		stagger:  loadStagger,
		think:    [2]time.Duration{150 * time.Millisecond, 450 * time.Millisecond},
		// Redis restarts while renewals fall due (they do from 3 s on),
		// then instance A is killed.
		faults: []fault{{at: 6 * time.Second, kind: restartRedis}, {at: 9 * time.Second, kind: killInstance, slot: 0}},
	}
	boltRun = loadPlan{
		clients:  100,
		fanout:   2,
		duration: 15 * time.Second,
		stagger:  loadStagger,
		think:    [2]time.Duration{150 * time.Millisecond, 450 * time.Millisecond},
		faults:   []fault{{at: 7 * time.Second, kind: killInstance}},
	}
	if soak {
		redisRun.duration, boltRun.duration = d, d
		redisRun.faults = append(faultsEvery(restartRedis, 6*time.Second, 20*time.Second, d, 1),
			faultsEvery(killInstance, 13*time.Second, 20*time.Second, d, 2)...)
		slices.SortFunc(redisRun.faults, func(a, b fault) int { return cmp.Compare(a.at, b.at) })
		boltRun.faults = faultsEvery(killInstance, 7*time.Second, 15*time.Second, d, 1)
	}
	return redisRun, boltRun
}

// loadEnv is the environment of every instance, with the store's settings.
func loadEnv(secret string, store ...string) []string {
	hours := strconv.FormatFloat(loadLifetime.Hours(), 'g', -1, 64)
	return append([]string{
		"TOKEN_SECRET=" + secret,
		"TOKEN_EXPIRE_HOURS=" + hours,
		"GUEST_TOKEN_EXPIRE_HOURS=" + hours,
		"TOKEN_RENEW_THRESHOLD=" + strconv.FormatFloat(loadThreshold, 'g', -1, 64),
		"TOKEN_RENEW_MIN_INTERVAL_SECONDS=" + strconv.FormatFloat(loadInterval.Seconds(), 'g', -1, 64),
	}, store...)
}

func TestLoadAndFault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the load-and-fault test runs demo processes under load for about 20 s; skipped with -short")
	}
	soak, d := soakDuration(t)
	redisRun, boltRun := plans(soak, d)
	bin := buildDemo(t)
	secret := randomSecret()

	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t, redistest.AppendOnly())
		env := loadEnv(secret, "TOKEN_RENEW_STORE=redis", "TOKEN_RENEW_REDIS_URL="+srv.URL())
		f := newFleet(t, bin, env, "A", "B")
		runLoad(t, redisRun, f, srv)
	})
	t.Run("bolt", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "renewals.db")
		env := loadEnv(secret, "TOKEN_RENEW_STORE=bolt", "TOKEN_RENEW_STORE_PATH="+path)
		f := newFleet(t, bin, env, "A")
		runLoad(t, boltRun, f, nil)
	})
}

// loadRun is one run of the load against a fleet.
type loadRun struct {
	t     *testing.T
	plan  loadPlan
	fleet *fleet
	redis *redistest.Server // nil for a fleet without Redis
	start time.Time

	stop     chan struct{} // closed when the clients must stop
	stopOnce sync.Once

	problems  problems
	retried   atomic.Int64 // connection errors of killed instances, retried elsewhere
	renewals  atomic.Int64 // X-New-Token answers, fleet-wide
	errors5xx atomic.Int64
	signedOut atomic.Int64 // 401 answers

	outage atomic.Pointer[outage] // the Redis restart under way or last made

	// Written by the test's goroutine only.
	checks      []string  // the counter checks made
	faults      []string  // the faults survived
	outages     []*outage // the Redis restarts
	storeErrors float64   // renewals refused for a store error, summed over the checks
}

// runLoad runs plan's clients against f, causes plan's faults, and checks
// what it promises; srv is the Redis server of the fleet, if any.
func runLoad(t *testing.T, plan loadPlan, f *fleet, srv *redistest.Server) {
	r := &loadRun{t: t, plan: plan, fleet: f, redis: srv, stop: make(chan struct{})}
	clients := make([]*loadClient, plan.clients)
	var running sync.WaitGroup
	// Runs before the instances are stopped (cleanups run last first), so
	// a test that fails early leaves no client behind.
	t.Cleanup(func() { r.halt(); running.Wait() })
	r.start = time.Now()
	for i := range clients {
		clients[i] = &loadClient{id: i}
		running.Go(func() { r.client(clients[i]) })
	}

	for _, ft := range plan.faults {
		r.pause(time.Until(r.start.Add(ft.at)))
		switch ft.kind {
		case restartRedis:
			r.restartRedis()
		case killInstance:
			r.killAndRestart(f.slots[ft.slot])
		}
	}
	r.pause(time.Until(r.start.Add(plan.duration)))
	r.halt()
	running.Wait()
	elapsed := time.Since(r.start)

	// The clients are done: each instance's counters must now match what
	// its clients saw since it started.
	for _, inc := range f.current() {
		r.checkCounters(inc, "at the end")
	}
	r.problems.report(t, "what the clients saw")

	// No session renewed twice within one interval, across the fleet: the
	// iat of every renewed token a client received, whole seconds, must be
	// an interval or more after the previous one (two renewals an interval
	// apart can never share a second).
	var sessions problems
	doubles, minRenewals, maxRenewals := 0, -1, 0
	for _, c := range clients {
		if c.sid == "" {
			sessions.add("client %d never got a token", c.id)
			continue
		}
		iats := slices.Clone(c.renewals)
		slices.Sort(iats)
		for i := 1; i < len(iats); i++ {
			if gap := time.Duration(iats[i]-iats[i-1]) * time.Second; gap < loadInterval {
				doubles++
				sessions.add("client %d: its session was renewed twice within %v: tokens issued at +%v and +%v",
					c.id, loadInterval, r.since(iats[i-1]), r.since(iats[i]))
			}
		}
		if len(iats) == 0 && !c.signedOut {
			sessions.add("client %d: its session was never renewed in %v (tokens live %v, due after %v)",
				c.id, elapsed.Round(time.Second), loadLifetime, loadStagger)
		}
		if minRenewals < 0 || len(iats) < minRenewals {
			minRenewals = len(iats)
		}
		maxRenewals = max(maxRenewals, len(iats))
	}
	sessions.report(t, "the sessions")

	var served int64
	for _, inc := range f.all() {
		served += inc.ok.Load()
	}
	renewals := r.renewals.Load()
	t.Logf("figures: %d clients, each its own session, for %v: %d requests served (%.0f/s), %d renewals (%.1f per session, from %d to %d); sessions renewed twice within %v: %d; 5xx: %d; 401: %d",
		plan.clients, elapsed.Round(100*time.Millisecond), served, float64(served)/elapsed.Seconds(),
		renewals, float64(renewals)/float64(plan.clients), minRenewals, maxRenewals,
		loadInterval, doubles, r.errors5xx.Load(), r.signedOut.Load())
	// Renewals fell due during every Redis restart.
	var due []string
	for _, o := range r.outages {
		n := o.due.Load()
		if n == 0 {
			t.Errorf("the Redis restart at +%v (%v) overlapped no request with a token due for renewal: it tested nothing",
				o.at.Sub(r.start).Round(100*time.Millisecond), o.took.Round(time.Millisecond))
		}
		due = append(due, strconv.FormatInt(n, 10))
	}
	if len(due) > 0 {
		t.Logf("figures: requests with a token due for renewal that overlapped each Redis restart: %s", strings.Join(due, ", "))
	}
	t.Logf("figures: faults survived: %d (%d connection errors of killed instances retried; %v renewals refused for a store error, each retried by a later request)",
		len(r.faults), r.retried.Load(), r.storeErrors)
	for _, s := range r.faults {
		t.Logf("  fault: %s", s)
	}
	for _, s := range r.checks {
		t.Logf("  counters: %s", s)
	}
}

// since returns how long after the start of the load a token of iat was
// issued, for messages (no raw claim is printed).
func (r *loadRun) since(iat int64) time.Duration {
	return time.Unix(iat, 0).Sub(r.start.Truncate(time.Second))
}

// halt tells the clients to stop after their current round.
func (r *loadRun) halt() { r.stopOnce.Do(func() { close(r.stop) }) }

// pause waits for d, or until the clients must stop; it reports whether
// they may go on.
func (r *loadRun) pause(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-r.stop:
			return false
		default:
			return true
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.stop:
		return false
	}
}

// wait waits for ch, or until the clients must stop.
func (r *loadRun) wait(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-r.stop:
		return false
	}
}

// restartRedis restarts the fleet's Redis gracefully: SIGTERM, then the
// same port with the append-only file reloaded.
//
// Renewals must fall due while Redis is down, or the restart tests
// nothing: the clients count the requests with a due token that overlapped
// it, and the run fails when there were none (see runLoad).
func (r *loadRun) restartRedis() {
	// Tokens carry whole seconds, so a token falls due at a whole second
	// (its iat plus a quarter of its lifetime) and the clients renew in a
	// burst just after each one: the restart starts with such a burst.
	now := time.Now()
	r.pause(now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond).Sub(now))
	o := &outage{at: time.Now()}
	o.from.Store(o.at.UnixNano())
	r.outage.Store(o)
	r.outages = append(r.outages, o)
	r.redis.Stop()
	// The restart must meet a request with a token due for renewal, or
	// it tests nothing; on a loaded machine the burst may come late, so
	// Redis stays down until one such request has been answered (the
	// engine serves it without a renewal), for at most outageWait.
	for deadline := time.Now().Add(outageWait); o.due.Load() == 0 && time.Now().Before(deadline); {
		if !r.pause(5 * time.Millisecond) {
			break
		}
	}
	r.redis.Restart()
	o.took = time.Since(o.at)
	o.to.Store(time.Now().UnixNano())
	r.faults = append(r.faults, fmt.Sprintf("+%v Redis restarted (SIGTERM, append-only file on), answering again %v later",
		o.at.Sub(r.start).Round(100*time.Millisecond), o.took.Round(time.Millisecond)))
}

// outage is one Redis restart: from when Stop was called to when Restart
// returned.
type outage struct {
	at   time.Time
	took time.Duration // set when it is over; the test's goroutine only

	from, to atomic.Int64 // Unix nanoseconds; to is 0 while it lasts
	due      atomic.Int64 // requests with a token due for renewal that overlapped it
}

// overlaps counts a request with a token due for renewal, sent at sent and
// answered at answered, if it overlapped the outage.
func (o *outage) overlaps(sent, answered time.Time) {
	to := o.to.Load()
	if answered.UnixNano() >= o.from.Load() && (to == 0 || sent.UnixNano() <= to) {
		o.due.Add(1)
	}
}

// killAndRestart checks the counters of s's instance, lets the clients
// send to it again until it has answered a request per client, kills it
// with SIGKILL, and starts a new one on the same port.
func (r *loadRun) killAndRestart(s *slot) {
	t := r.t
	t.Helper()
	inc := s.cur // only this goroutine changes s.cur
	if inc == nil {
		t.Fatalf("slot %s has no instance to kill", s.name)
	}
	r.checkCounters(inc, "before its SIGKILL")
	mark := inc.answered.Load() + int64(r.plan.clients)
	r.fleet.reopen(inc)
	r.waitUntil(fmt.Sprintf("requests to reach %s again", inc.name), func() bool { return inc.answered.Load() >= mark })

	inc.killed.Store(true)
	killed := time.Now()
	inc.proc.kill(t)
	r.fleet.down(s)
	// The requests still on their way to the dead process must fail
	// before a new one listens on its port, or a late one (a client slow
	// to dial on a loaded machine) would reach the new process while its
	// client counts it for the old.
	inc.inflight.Wait()
	inc.client.CloseIdleConnections()
	next := r.fleet.start(s)
	r.fleet.up(s, next)
	r.faults = append(r.faults, fmt.Sprintf("+%v SIGKILL %s with requests in flight; %s answering on its port %v later",
		killed.Sub(r.start).Round(100*time.Millisecond), inc.name, next.name, time.Since(killed).Round(time.Millisecond)))
}

// waitUntil polls cond (the clients tell it no other way) until it holds;
// it fails the test after a generous bound.
func (r *loadRun) waitUntil(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("waited %v for %s", readyTimeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkCounters stops sending to inc, waits for its requests in flight,
// scrapes its /metrics and compares them with what its clients saw: the
// requests it answered, those it served (2xx), and its renewals.
func (r *loadRun) checkCounters(inc *incarnation, when string) {
	t := r.t
	t.Helper()
	r.fleet.quiesce(inc)
	series, err := scrape(inc.client, inc.base)
	if err != nil {
		t.Errorf("%s %s: scrape: %v", inc.name, when, err)
		return
	}
	const (
		requests = "slidingjwt_requests_total"
		renewals = "slidingjwt_renewals_total"
	)
	tests := []struct {
		what string
		got  float64
		want int64
	}{
		{"requests (" + requests + ")", sumOf(series, requests), inc.answered.Load()},
		{"requests served (" + requests + `{outcome="verified"|"cache_hit"})`,
			series[requests+`{outcome="verified"}`] + series[requests+`{outcome="cache_hit"}`], inc.ok.Load()},
		{`renewals (` + renewals + `{result="renewed"})`, series[renewals+`{result="renewed"}`], inc.renewed.Load()},
	}
	for _, tt := range tests {
		if tt.got != float64(tt.want) {
			t.Errorf("%s %s: %s: got %v, want %d, what its clients saw", inc.name, when, tt.what, tt.got, tt.want)
		}
	}
	storeErrors := series[renewals+`{result="store_error"}`]
	r.storeErrors += storeErrors
	r.checks = append(r.checks, fmt.Sprintf("%s %s: %d requests, %d renewed, %v rate limited, %v store errors: /metrics agrees with the clients",
		inc.name, when, inc.answered.Load(), inc.renewed.Load(), series[renewals+`{result="rate_limited"}`], storeErrors))
}

// problems collects what the clients saw go wrong; it keeps the first few
// messages and counts the rest.
type problems struct {
	mu    sync.Mutex
	first []string
	n     int
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if len(p.first) < 20 {
		p.first = append(p.first, fmt.Sprintf(format, args...))
	}
}

// report fails t with the problems, if any.
func (p *problems) report(t *testing.T, of string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return
	}
	t.Errorf("%d problems in %s, the first %d:\n%s", p.n, of, len(p.first), strings.Join(p.first, "\n"))
}

// loadClient is one client with its own session. Only its goroutine
// touches it until the run ends.
type loadClient struct {
	id        int
	sid       string // its session, from its first token
	token     string
	claims    loadClaims // of token
	got       time.Time  // when token arrived
	renewals  []int64    // the iat of every renewed token it received
	signedOut bool       // it got a 401, and stopped
}

// loadClaims are the claims the test reads from a token.
type loadClaims struct {
	Sid string `json:"sid"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// parseLoadClaims reads the claims of a token the demo issued; the
// signature is the demo's business.
func parseLoadClaims(token string) (loadClaims, error) {
	var c loadClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, fmt.Errorf("a token of %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, fmt.Errorf("token payload: %v", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("token payload: %v", err)
	}
	if c.Sid == "" || c.Iat == 0 || c.Exp <= c.Iat {
		return c, fmt.Errorf("token claims without sid, iat or a later exp")
	}
	return c, nil
}

// client runs one client: it gets a guest token (a session of its own),
// then sends rounds of requests until told to stop, taking every renewed
// token it is sent.
func (r *loadRun) client(c *loadClient) {
	if !r.pause(time.Duration(c.id) * r.plan.stagger / time.Duration(r.plan.clients)) {
		return
	}
	if !r.signIn(c) {
		return
	}
	for round := 0; ; round++ {
		if !r.pause(0) {
			return
		}
		targets, changed := r.fleet.enter(r.plan.fanout, c.id+round)
		if len(targets) == 0 {
			// Every instance is being checked or restarted.
			if !r.wait(changed) {
				return
			}
			continue
		}
		answers := make([]loadAnswer, len(targets))
		var wg sync.WaitGroup
		for i := 1; i < len(targets); i++ {
			wg.Go(func() { answers[i] = call(targets[i], c.token) })
		}
		answers[0] = call(targets[0], c.token)
		wg.Wait()

		answered := false
		outage := r.outage.Load()
		for _, a := range answers {
			if a.err == nil && outage != nil && c.due(a.sent) {
				outage.overlaps(a.sent, a.answered)
			}
			if a.err != nil {
				if a.inc.killed.Load() {
					r.retried.Add(1) // the next round goes to the others
				} else {
					r.problems.add("client %d: %s, which the test did not kill: %v", c.id, a.inc.name, a.err)
				}
				continue
			}
			answered = true
			switch {
			case a.status >= 200 && a.status < 300:
				if a.newToken != "" {
					r.renewals.Add(1)
					r.accept(c, a)
				}
			case a.status == http.StatusUnauthorized:
				r.problems.add("client %d: signed out by %s: %s", c.id, a.inc.name, c.explain(a.sent))
				c.signedOut = true
				r.signedOut.Add(1)
			default:
				if a.status >= 500 {
					r.errors5xx.Add(1)
				}
				r.problems.add("client %d: %s answered %d", c.id, a.inc.name, a.status)
			}
		}
		if c.signedOut {
			return // the failure is told; its session is over
		}
		if !answered {
			// Its instances died under it: wait for the fleet to change.
			if !r.wait(changed) {
				return
			}
			continue
		}
		think := r.plan.think[0] + rand.N(r.plan.think[1]-r.plan.think[0])
		if !r.pause(think) {
			return
		}
	}
}

// due reports whether c's token was due for renewal at t: less than the
// threshold of its lifetime left, as the engine decides.
func (c *loadClient) due(t time.Time) bool {
	left := time.Unix(c.claims.Exp, 0).Sub(t)
	return float64(left) < loadThreshold*float64(time.Duration(c.claims.Exp-c.claims.Iat)*time.Second)
}

// explain says why a 401 for c's token sent at sent came; the test causes
// no expiry, so every explanation is a failure, but a useful one.
func (c *loadClient) explain(sent time.Time) string {
	left := time.Unix(c.claims.Exp, 0).Sub(sent)
	if left <= 0 {
		return fmt.Sprintf("its token had expired %v before (received %v earlier, no renewal since)",
			-left.Round(time.Millisecond), sent.Sub(c.got).Round(time.Millisecond))
	}
	return fmt.Sprintf("its token still had %v to live", left.Round(time.Millisecond))
}

// accept takes the renewed token of answer a.
func (r *loadRun) accept(c *loadClient, a loadAnswer) {
	claims, err := parseLoadClaims(a.newToken)
	if err != nil {
		r.problems.add("client %d: %s sent a renewed token that does not parse: %v", c.id, a.inc.name, err)
		return
	}
	if claims.Sid != c.sid {
		r.problems.add("client %d: %s renewed its token into another session's", c.id, a.inc.name)
		return
	}
	c.renewals = append(c.renewals, claims.Iat)
	if claims.Exp >= c.claims.Exp {
		c.token, c.claims, c.got = a.newToken, claims, time.Now()
	}
}

// signIn gets c a guest token from an instance of the fleet; it reports
// false when the clients must stop first.
func (r *loadRun) signIn(c *loadClient) bool {
	for {
		targets, changed := r.fleet.enter(1, c.id)
		if len(targets) == 0 {
			if !r.wait(changed) {
				return false
			}
			continue
		}
		inc := targets[0]
		token, err := guestToken(inc)
		inc.inflight.Done()
		if err == nil {
			claims, perr := parseLoadClaims(token)
			if perr != nil {
				r.problems.add("client %d: the guest token of %s: %v", c.id, inc.name, perr)
				return false
			}
			c.sid, c.token, c.claims, c.got = claims.Sid, token, claims, time.Now()
			return true
		}
		if !inc.killed.Load() {
			r.problems.add("client %d: /auth-status of %s: %v", c.id, inc.name, err)
			return false
		}
		r.retried.Add(1)
		if !r.wait(changed) {
			return false
		}
	}
}

// guestToken asks inc's /auth-status for a new guest session.
func guestToken(inc *incarnation) (string, error) {
	resp, err := inc.client.Get(inc.base + "/auth-status")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if body.AccessToken == "" {
		return "", fmt.Errorf("no access_token in the answer")
	}
	return body.AccessToken, nil
}

// loadAnswer is what became of one request.
type loadAnswer struct {
	inc      *incarnation
	sent     time.Time
	answered time.Time
	status   int
	newToken string
	err      error // the request got no answer
}

// call sends GET /api/me with token to inc, counts the answer on inc, and
// only then ends the request's time in flight (see fleet.quiesce).
func call(inc *incarnation, token string) (a loadAnswer) {
	defer inc.inflight.Done()
	a.inc, a.sent = inc, time.Now()
	req, err := http.NewRequest(http.MethodGet, inc.base+"/api/me", nil)
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := inc.client.Do(req)
	if err != nil {
		a.err = err
		return a
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		a.err = err
		return a
	}
	a.status, a.answered = resp.StatusCode, time.Now()
	inc.answered.Add(1)
	if a.status >= 200 && a.status < 300 {
		inc.ok.Add(1)
		if a.newToken = resp.Header.Get(middleware.HeaderNewToken); a.newToken != "" {
			inc.renewed.Add(1)
		}
	}
	return a
}
