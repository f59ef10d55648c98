package slidingprom_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	slidingprom "github.com/slidingjwt/slidingjwt/metrics/prometheus"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// newMetrics returns Metrics with opts, registered on a new pedantic
// registry (which checks every scrape against Describe).
func newMetrics(t *testing.T, opts *slidingprom.Options) (*slidingprom.Metrics, *prometheus.Registry) {
	t.Helper()
	m, err := slidingprom.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return m, reg
}

func TestSeriesExistFromTheStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		backends []string
	}{
		{"no backend", nil},
		{"one backend", []string{"memory"}},
		{"two backends", []string{"redis", "bolt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, reg := newMetrics(t, &slidingprom.Options{Backends: tt.backends})
			if d := diff(scrape(t, reg), zeroSeries(t, tt.backends...)); d != "" {
				t.Errorf("before any request:\n%s", d)
			}
		})
	}
}

// TestEchoApp drives the metrics through a real Echo v4 app over HTTP:
// each step is one request, with the outcome and the renewal result it
// must be counted under.
func TestEchoApp(t *testing.T) {
	t.Parallel()
	st := memory.New(nil)
	t.Cleanup(func() { st.Close() })
	m, reg := newMetrics(t, &slidingprom.Options{Backends: []string{st.Name()}})
	a := newApp(t, st, m)
	tokens := map[string]string{
		"none":    "",
		"garbage": "not.a.jwt",
		"huge":    strings.Repeat("a", 9000),
		"alice":   a.token(t, "alice"),
		"bob":     a.token(t, "bob"),
	}
	const due = 40 * time.Minute // past half of the hour-long lifetime
	steps := []struct {
		at          time.Duration
		path, token string
		status      int
		renewed     bool
		outcome     engine.Outcome
		result      string // "" when no renewal is decided
		storeCall   bool   // whether the store is asked
	}{
		{0, "/api/ok", "none", 401, false, engine.OutcomeMissing, "", false},
		{0, "/api/ok", "garbage", 401, false, engine.OutcomeInvalid, "", false},
		{0, "/api/ok", "huge", 401, false, engine.OutcomeTooLarge, "", false},
		{0, "/api/ok", "alice", 200, false, engine.OutcomeVerified, "threshold", false},
		{0, "/api/ok", "alice", 200, false, engine.OutcomeCacheHit, "threshold", false},
		{0, "/api/ok", "bob", 200, false, engine.OutcomeVerified, "threshold", false},
		{due, skipPath, "alice", 200, false, engine.OutcomeCacheHit, "skipped_path", false},
		{due, "/api/fail", "alice", 400, false, engine.OutcomeCacheHit, "status", false},
		{due, "/api/ok", "alice", 200, true, engine.OutcomeCacheHit, "renewed", true},
		// The cached token remembers its renewal: refused without a store call.
		{due, "/api/ok", "alice", 200, false, engine.OutcomeCacheHit, "rate_limited", false},
		{due, "/api/ok", "bob", 200, true, engine.OutcomeCacheHit, "renewed", true},
		{2 * time.Hour, "/api/ok", "alice", 401, false, engine.OutcomeInvalid, "", false},
	}
	want := zeroSeries(t, st.Name())
	for i, s := range steps {
		a.clock.Set(start.Add(s.at))
		status, renewed := a.get(t, s.path, tokens[s.token])
		if status != s.status || renewed != s.renewed {
			t.Fatalf("step %d (%s with %s at %v): got %d renewed=%v, want %d renewed=%v", i, s.path, s.token, s.at, status, renewed, s.status, s.renewed)
		}
		want[series("slidingjwt_requests_total", "outcome", string(s.outcome))]++
		if s.outcome == engine.OutcomeVerified || s.outcome == engine.OutcomeCacheHit {
			want["slidingjwt_verified_cache_lookups_total"]++
		}
		if s.outcome == engine.OutcomeCacheHit {
			want["slidingjwt_verified_cache_hits_total"]++
		}
		if s.result != "" {
			want[series("slidingjwt_renewals_total", "result", s.result)]++
		}
		if s.storeCall {
			want[storeSeries("slidingjwt_store_call_duration_seconds_count", "memory", "allow")]++
		}
	}
	got := scrape(t, reg)
	sumKey := storeSeries("slidingjwt_store_call_duration_seconds_sum", "memory", "allow")
	if sum := got[sumKey]; sum <= 0 || sum > 3 || math.IsNaN(sum) {
		t.Errorf("%s = %v, want the time of 2 in-memory calls, above 0", sumKey, sum)
	}
	want[sumKey] = got[sumKey]
	if d := diff(got, want); d != "" {
		t.Errorf("after the requests:\n%s", d)
	}

	// The cache counters in the exposition format, with their help.
	const text = `
# HELP slidingjwt_verified_cache_hits_total Tokens that verified and were served from the cache of verified tokens.
# TYPE slidingjwt_verified_cache_hits_total counter
slidingjwt_verified_cache_hits_total 6
# HELP slidingjwt_verified_cache_lookups_total Tokens that verified, looked up in the cache of verified tokens (from the cache or not).
# TYPE slidingjwt_verified_cache_lookups_total counter
slidingjwt_verified_cache_lookups_total 8
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(text),
		"slidingjwt_verified_cache_hits_total", "slidingjwt_verified_cache_lookups_total"); err != nil {
		t.Error(err)
	}
}

// TestStoreErrors: a store that fails (a closed one) is counted as a store
// call with an error, and its renewal as store_error.
func TestStoreErrors(t *testing.T) {
	t.Parallel()
	st := memory.New(nil)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	m, reg := newMetrics(t, nil) // no preset backend: its series come with the first call
	a := newApp(t, st, m)
	tok := a.token(t, "alice")
	a.clock.Set(start.Add(40 * time.Minute))
	for range 2 {
		if status, renewed := a.get(t, "/api/ok", tok); status != 200 || renewed {
			t.Fatalf("got %d renewed=%v, want 200 without renewal (a store error never fails a request)", status, renewed)
		}
	}
	got := scrape(t, reg)
	for _, tt := range []struct {
		series string
		want   float64
	}{
		{storeSeries("slidingjwt_store_call_errors_total", "memory", "allow"), 2},
		{storeSeries("slidingjwt_store_call_duration_seconds_count", "memory", "allow"), 2},
		{series("slidingjwt_renewals_total", "result", "store_error"), 2},
		{series("slidingjwt_renewals_total", "result", "renewed"), 0},
	} {
		if g, ok := got[tt.series]; !ok || g != tt.want {
			t.Errorf("%s: got %v (present %v), want %v", tt.series, g, ok, tt.want)
		}
	}
}

// revocations is a RevocationSource whose data was last refreshed at
// synced.
type revocations struct {
	synced time.Time
	n      int
}

func (r revocations) Staleness(now time.Time) time.Duration { return now.Sub(r.synced) }
func (r revocations) Len() int                              { return r.n }

func TestRevocationGauges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		age       time.Duration // of the source's data at the scrape
		n         int
		staleness float64
	}{
		{"fresh", 0, 0, 0},
		{"ninety seconds old", 90 * time.Second, 3, 90},
		{"fraction of a second", 1500 * time.Millisecond, 12, 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synced := start.Add(-time.Hour)
			now := synced.Add(tt.age)
			_, reg := newMetrics(t, &slidingprom.Options{
				Revocations: revocations{synced: synced, n: tt.n},
				Now:         func() time.Time { return now },
			})
			got := scrape(t, reg)
			if g := got["slidingjwt_revocation_staleness_seconds"]; g != tt.staleness {
				t.Errorf("slidingjwt_revocation_staleness_seconds: got %v, want %v", g, tt.staleness)
			}
			if g := got["slidingjwt_revocations"]; g != float64(tt.n) {
				t.Errorf("slidingjwt_revocations: got %v, want %d", g, tt.n)
			}
		})
	}
	t.Run("no source, no gauges", func(t *testing.T) {
		t.Parallel()
		_, reg := newMetrics(t, nil)
		got := scrape(t, reg)
		for _, name := range []string{"slidingjwt_revocation_staleness_seconds", "slidingjwt_revocations"} {
			if _, ok := got[name]; ok {
				t.Errorf("%s is exported without Options.Revocations", name)
			}
		}
	})
}

// TestLabelValuesAreBounded feeds more label values than the bound, and
// values that cannot be label values, straight to the observer.
func TestLabelValuesAreBounded(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	extra := slidingprom.MaxExtraValues + 4
	t.Run("renewal results", func(t *testing.T) {
		t.Parallel()
		m, reg := newMetrics(t, nil)
		for i := range extra {
			m.Renewal(r, engine.Event{Reason: engine.Reason(fmt.Sprintf("new_%02d", i))})
		}
		m.Renewal(r, engine.Event{Reason: "bad\xff"})
		m.Renewal(r, engine.Event{})
		m.Renewal(r, engine.Event{Reason: "new_00"}) // seen: keeps its own series
		got := scrape(t, reg)
		for i := range extra {
			key := series("slidingjwt_renewals_total", "result", fmt.Sprintf("new_%02d", i))
			want := 0.0
			switch {
			case i == 0:
				want = 2
			case i < slidingprom.MaxExtraValues:
				want = 1
			}
			if g, ok := got[key]; g != want || ok != (want > 0) {
				t.Errorf("%s: got %v (present %v), want %v", key, g, ok, want)
			}
		}
		if g, want := got[series("slidingjwt_renewals_total", "result", "other")], float64(extra-slidingprom.MaxExtraValues+2); g != want {
			t.Errorf("other: got %v, want %v (the values past the bound, the invalid one and the empty one)", g, want)
		}
	})
	t.Run("request outcomes", func(t *testing.T) {
		t.Parallel()
		m, reg := newMetrics(t, nil)
		for i := range extra {
			m.Request(r, engine.Outcome(fmt.Sprintf("new_%02d", i)))
		}
		got := scrape(t, reg)
		n := 0
		for k := range got {
			if strings.HasPrefix(k, "slidingjwt_requests_total{") {
				n++
			}
		}
		if want := len(engine.Outcomes()) + slidingprom.MaxExtraValues + 1; n != want {
			t.Errorf("request series: got %d, want %d (the known ones, %d more, and other)", n, want, slidingprom.MaxExtraValues)
		}
		if g, want := got[series("slidingjwt_requests_total", "outcome", "other")], float64(extra-slidingprom.MaxExtraValues); g != want {
			t.Errorf("other: got %v, want %v", g, want)
		}
	})
	t.Run("store backends", func(t *testing.T) {
		t.Parallel()
		m, reg := newMetrics(t, &slidingprom.Options{Backends: []string{"redis"}})
		for i := range extra {
			m.StoreCall(r, engine.StoreCall{Backend: fmt.Sprintf("b%02d", i), Op: "allow", Err: errors.New("down")})
		}
		m.StoreCall(r, engine.StoreCall{Backend: "\xff", Op: "allow"})
		m.StoreCall(r, engine.StoreCall{Backend: "redis", Op: "allow"}) // preset: not one of the extra
		got := scrape(t, reg)
		backends := map[string]bool{}
		for k := range got {
			if rest, ok := strings.CutPrefix(k, "slidingjwt_store_call_errors_total{backend=\""); ok {
				backends[rest[:strings.IndexByte(rest, '"')]] = true
			}
		}
		if got, want := len(backends), 1+slidingprom.MaxExtraValues+1; got != want {
			t.Errorf("store backends: got %d %v, want %d (redis, %d more, and other)", got, slices.Sorted(maps.Keys(backends)), want, slidingprom.MaxExtraValues)
		}
		if g, want := got[storeSeries("slidingjwt_store_call_errors_total", "other", "other")], float64(extra-slidingprom.MaxExtraValues); g != want {
			t.Errorf("errors of other: got %v, want %v", g, want)
		}
		if g, want := got[storeSeries("slidingjwt_store_call_duration_seconds_count", "other", "other")], float64(extra-slidingprom.MaxExtraValues+1); g != want {
			t.Errorf("calls of other: got %v, want %v", g, want)
		}
		if g := got[storeSeries("slidingjwt_store_call_duration_seconds_count", "redis", "allow")]; g != 1 {
			t.Errorf("calls of redis: got %v, want 1", g)
		}
	})
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	many := make([]string, slidingprom.MaxExtraValues+1)
	for i := range many {
		many[i] = fmt.Sprint("s", i)
	}
	tests := []struct {
		name string
		opts slidingprom.Options
		want string // in the error
	}{
		{"namespace with a dash", slidingprom.Options{Namespace: "my-app"}, `Options.Namespace "my-app"`},
		{"namespace with a digit first", slidingprom.Options{Namespace: "9app"}, `Options.Namespace "9app"`},
		{"label of the metrics", slidingprom.Options{ConstLabels: prometheus.Labels{"outcome": "x"}}, `label "outcome"`},
		{"reserved label", slidingprom.Options{ConstLabels: prometheus.Labels{"__name": "x"}}, `"__name" is not a label name`},
		{"label with a dash", slidingprom.Options{ConstLabels: prometheus.Labels{"a-b": "x"}}, `"a-b" is not a label name`},
		{"label value not UTF-8", slidingprom.Options{ConstLabels: prometheus.Labels{"zone": "\xff"}}, `the value of "zone"`},
		{"empty buckets", slidingprom.Options{Buckets: []float64{}}, "Options.Buckets is empty"},
		{"buckets not increasing", slidingprom.Options{Buckets: []float64{0.1, 0.1}}, "Options.Buckets[1] = 0.1 is not above"},
		{"bucket not a number", slidingprom.Options{Buckets: []float64{math.NaN()}}, "Options.Buckets[0] is NaN"},
		{"bucket infinite", slidingprom.Options{Buckets: []float64{1, math.Inf(1)}}, "Options.Buckets[1] is +Inf"},
		{"empty backend", slidingprom.Options{Backends: []string{"redis", ""}}, `Options.Backends[1] = ""`},
		{"too many backends", slidingprom.Options{Backends: many}, fmt.Sprintf("Options.Backends has %d names", len(many))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := slidingprom.New(&tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if m != nil {
				t.Errorf("got Metrics with the error")
			}
		})
	}
}

func TestNamespaceConstLabelsAndBuckets(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, &slidingprom.Options{
		Namespace:   "myapp",
		ConstLabels: prometheus.Labels{"zone": "eu"},
		Buckets:     []float64{0.001, 0.01},
	})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	m.Request(r, engine.OutcomeVerified)
	m.StoreCall(r, engine.StoreCall{Backend: "redis", Op: "allow", Duration: 5 * time.Millisecond})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) == 0 {
		t.Fatal("nothing gathered")
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "myapp_") {
			t.Errorf("%s: want the prefix myapp_", mf.GetName())
		}
		for _, metric := range mf.GetMetric() {
			if !slices.ContainsFunc(metric.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == "zone" && l.GetValue() == "eu" }) {
				t.Errorf("%s%s: no zone=eu label", mf.GetName(), labelText(metric.GetLabel()))
			}
			if h := metric.GetHistogram(); h != nil {
				var bounds []float64
				for _, b := range h.GetBucket() {
					bounds = append(bounds, b.GetUpperBound())
				}
				if !slices.Equal(bounds, []float64{0.001, 0.01}) {
					t.Errorf("histogram bounds: got %v, want [0.001 0.01]", bounds)
				}
				if got := h.GetBucket()[1].GetCumulativeCount(); got != 1 {
					t.Errorf("the 5 ms call in the 10 ms bucket: got %d, want 1", got)
				}
			}
		}
	}
}

// TestPromlint scrapes, over HTTP, a registry where every metric has
// data, and lints what it served.
func TestPromlint(t *testing.T) {
	t.Parallel()
	st := memory.New(nil)
	t.Cleanup(func() { st.Close() })
	m, reg := newMetrics(t, &slidingprom.Options{
		Backends:    []string{st.Name()},
		Revocations: revocations{synced: start, n: 2},
	})
	a := newApp(t, st, m)
	tok := a.token(t, "alice")
	a.get(t, "/api/ok", tok)
	a.clock.Set(start.Add(40 * time.Minute))
	a.get(t, "/api/ok", tok)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	problems, err := promlint.New(res.Body).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	// And the linter does find a problem when there is one (a counter
	// without _total), so that the check above means something.
	bad := prometheus.NewCounter(prometheus.CounterOpts{Name: "slidingjwt_renewals", Help: "x"})
	if problems, err := testutil.CollectAndLint(bad); err != nil || len(problems) == 0 {
		t.Errorf("promlint found nothing wrong with a counter named without _total (%v)", err)
	}
}

// TestConcurrentObservations: observations from many goroutines, with
// scrapes in between, all count.
func TestConcurrentObservations(t *testing.T) {
	t.Parallel()
	m, reg := newMetrics(t, nil)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				m.Request(r, engine.OutcomeCacheHit)
				m.Renewal(r, engine.Event{Reason: engine.ReasonThreshold})
				// New backends from every goroutine at once, within the bound.
				m.StoreCall(r, engine.StoreCall{Backend: fmt.Sprint("b", (g+i)%4), Op: "allow"})
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	got := scrape(t, reg)
	const total = goroutines * each
	for key, want := range map[string]float64{
		series("slidingjwt_requests_total", "outcome", "cache_hit"):                total,
		series("slidingjwt_renewals_total", "result", "threshold"):                 total,
		"slidingjwt_verified_cache_hits_total":                                     total,
		"slidingjwt_verified_cache_lookups_total":                                  total,
		storeSeries("slidingjwt_store_call_duration_seconds_count", "b0", "allow"): total / 4,
		storeSeries("slidingjwt_store_call_duration_seconds_count", "b3", "allow"): total / 4,
	} {
		if got[key] != want {
			t.Errorf("%s: got %v, want %v", key, got[key], want)
		}
	}
}

// TestObserverAllocations: the observer methods allocate nothing for the
// label values known at New.
func TestObserverAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without the race detector")
	}
	m, err := slidingprom.New(&slidingprom.Options{Backends: []string{"memory"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Request", func() { m.Request(r, engine.OutcomeCacheHit) }},
		{"Renewal", func() { m.Renewal(r, engine.Event{Reason: engine.ReasonThreshold}) }},
		{"Renewal renewed", func() { m.Renewal(r, engine.Event{Renewed: true}) }},
		{"StoreCall", func() { m.StoreCall(r, engine.StoreCall{Backend: "memory", Op: "allow", Duration: time.Millisecond}) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.fn); got != 0 {
			t.Errorf("%s: %v allocations, want 0", tt.name, got)
		}
	}
}

func BenchmarkRequest(b *testing.B) {
	m, err := slidingprom.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request(r, engine.OutcomeCacheHit)
			m.Renewal(r, engine.Event{Reason: engine.ReasonThreshold})
		}
	})
}

// The revocation package's list is a RevocationSource and a
// RevocationHistory.
var (
	_ slidingprom.RevocationSource  = (*revocation.List)(nil)
	_ slidingprom.RevocationHistory = (*revocation.List)(nil)
)

// lossy is a revocations source that also counts lost history.
type lossy struct {
	revocations
	resets, written int64
}

func (l lossy) Resets() int64      { return l.resets }
func (l lossy) WrittenBack() int64 { return l.written }

// TestRevocationHistoryCounters: a source that counts lost history gets
// its two counters, read at scrape time; one that does not, gets none.
func TestRevocationHistoryCounters(t *testing.T) {
	t.Parallel()
	_, reg := newMetrics(t, &slidingprom.Options{Revocations: lossy{revocations{synced: start}, 2, 7}, Now: func() time.Time { return start }})
	got := scrape(t, reg)
	if g := got["slidingjwt_revocation_resets_total"]; g != 2 {
		t.Errorf("slidingjwt_revocation_resets_total: got %v, want 2", g)
	}
	if g := got["slidingjwt_revocations_written_back_total"]; g != 7 {
		t.Errorf("slidingjwt_revocations_written_back_total: got %v, want 7", g)
	}
	_, reg = newMetrics(t, &slidingprom.Options{Revocations: revocations{synced: start}, Now: func() time.Time { return start }})
	got = scrape(t, reg)
	if _, ok := got["slidingjwt_revocation_resets_total"]; ok {
		t.Errorf("slidingjwt_revocation_resets_total exported for a source without Resets")
	}
}

// TestRevocationGaugesOfAList reads the gauges from a real revocation
// list on the in-memory backend, on an injected clock.
func TestRevocationGaugesOfAList(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(start)
	backend := memory.New(nil)
	t.Cleanup(func() { backend.Close() })
	// No catch-up during the test: the last sync stays the first load.
	list, err := revocation.New(t.Context(), revocation.Options{Backend: backend, Now: clock.Now, CatchUp: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { list.Close() })
	for _, sid := range []string{"s1", "s2"} {
		if err := list.RevokeSession(t.Context(), store.SessionRevocationKey(sid), start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	_, reg := newMetrics(t, &slidingprom.Options{Revocations: list, Now: clock.Now})
	clock.Set(start.Add(90 * time.Second))
	got := scrape(t, reg)
	if g := got["slidingjwt_revocations"]; g != 2 {
		t.Errorf("slidingjwt_revocations: got %v, want 2", g)
	}
	if g := got["slidingjwt_revocation_staleness_seconds"]; g != 90 {
		t.Errorf("slidingjwt_revocation_staleness_seconds: got %v, want 90 (the clock moved 90 s since the load)", g)
	}
	for _, name := range []string{"slidingjwt_revocation_resets_total", "slidingjwt_revocations_written_back_total"} {
		if g, ok := got[name]; !ok || g != 0 {
			t.Errorf("%s: got %v (exported: %v), want 0 from a list whose backend lost nothing", name, g, ok)
		}
	}
}
