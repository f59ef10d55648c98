package slidingprom

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slidingjwt/slidingjwt/engine"
)

// DefaultNamespace is the prefix of every metric name when
// Options.Namespace is empty.
const DefaultNamespace = "slidingjwt"

// DefaultBuckets are the upper bounds, in seconds, of the store call
// histogram when Options.Buckets is nil: 50 µs (an in-process store) to
// 1 s (a Redis call that is about to time out).
var DefaultBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1,
}

// The label values that are not one of the engine's.
const (
	// ResultRenewed is the result label of a renewal that sent a new token.
	ResultRenewed = "renewed"
	// OtherValue stands for a label value that cannot be used as it is:
	// one that is not valid UTF-8 or empty, or a new one after
	// MaxExtraValues others were seen.
	OtherValue = "other"
	// MaxExtraValues is how many label values a label may take, beyond
	// the ones known when New ran, before further ones count as
	// OtherValue: the bound that keeps a misbehaving caller from growing
	// the number of series without end.
	MaxExtraValues = 16
)

// StoreOps are the store methods the store call metrics have series for
// from the start, for each of Options.Backends.
var StoreOps = []string{"allow"}

// RevocationSource is what the revocation gauges are read from at scrape
// time. The revocation package's list implements it. Its methods are
// called concurrently with the requests, by the goroutine that scrapes.
type RevocationSource interface {
	// Staleness is how old, at now, the newest revocation data the
	// instance has is: how long a revocation made elsewhere may go unseen.
	Staleness(now time.Time) time.Duration
	// Len is the number of live revocations held.
	Len() int
}

// RevocationHistory is what a RevocationSource may also implement (the
// revocation package's list does) for the counters of lost history:
// how often the shared backend was found to have lost revocations this
// instance had read (a Redis emptied, restarted from an older snapshot, or
// a lagging replica promoted), and how many revocations were written back
// to it. Outside such events both stay where they are, so alert on any
// increase.
type RevocationHistory interface {
	// Resets is how many times the backend was found to have lost history.
	Resets() int64
	// WrittenBack is how many revocations were written back to it.
	WrittenBack() int64
}

// Options configure Metrics. The zero value (or nil) is the default.
type Options struct {
	// Namespace is the first part of every metric name, as in
	// "slidingjwt_requests_total". Optional. Default DefaultNamespace.
	// It must match [a-zA-Z_][a-zA-Z0-9_]*.
	Namespace string

	// ConstLabels are added to every series, e.g. {"instance_group":
	// "eu"}. Optional. Names must be valid and must not be one of the
	// labels these metrics use (outcome, result, backend, op); values must
	// be valid UTF-8. Never put a subject, a session or a token here.
	ConstLabels prometheus.Labels

	// Buckets are the upper bounds, in seconds, of the store call
	// duration histogram, strictly increasing. Optional. Default
	// DefaultBuckets.
	Buckets []float64

	// Backends are the store names (store.Named: "memory", "lru", "bolt",
	// "redis") whose store call series exist from the start, at zero,
	// so that a rate of errors is defined before the first call.
	// Optional. Default none: a backend's series appear on its first
	// call.
	Backends []string

	// Revocations, when set, is read at every scrape for
	// <namespace>_revocation_staleness_seconds and
	// <namespace>_revocations. Optional. Default none: those two gauges
	// are not exported.
	Revocations RevocationSource

	// Now is the clock Revocations' staleness is read at. Optional.
	// Default time.Now.
	Now func() time.Time
}

// Metrics counts what the engine does, for Prometheus. It is an
// engine.Observer (give it to a front door's Config.Observer, or combine
// it with others through engine.Observers) and a prometheus.Collector
// (register it with a prometheus.Registerer). Every series of a known
// label value exists, at zero, from New on.
//
// The metrics, with the default namespace:
//
//	slidingjwt_requests_total{outcome}                      counter
//	slidingjwt_renewals_total{result}                       counter
//	slidingjwt_verified_cache_lookups_total                 counter
//	slidingjwt_verified_cache_hits_total                    counter
//	slidingjwt_store_call_duration_seconds{backend,op}      histogram
//	slidingjwt_store_call_errors_total{backend,op}          counter
//	slidingjwt_revocation_staleness_seconds                 gauge (with Options.Revocations)
//	slidingjwt_revocations                                  gauge (with Options.Revocations)
//	slidingjwt_revocation_resets_total                      counter (with a RevocationHistory)
//	slidingjwt_revocations_written_back_total               counter (with a RevocationHistory)
//
// No label ever holds a subject, a session or a token, and each label
// takes a bounded number of values (see MaxExtraValues).
//
// A Metrics is safe for concurrent use; its observer methods take no lock
// for the known label values and do not allocate. It may serve several
// front doors at once; it holds nothing that needs closing.
type Metrics struct {
	requests    *family
	renewals    *family
	lookups     prometheus.Counter
	hits        prometheus.Counter
	storeTime   *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec

	storeMu    sync.Mutex // serialises the creation of store series
	storeSeen  sync.Map   // storeKey -> *storeSeries
	storeExtra atomic.Int32

	revocations  RevocationSource
	now          func() time.Time
	stalenessDsc *prometheus.Desc
	countDsc     *prometheus.Desc
	history      RevocationHistory // Options.Revocations, when it is one
	resetsDsc    *prometheus.Desc
	writtenDsc   *prometheus.Desc
}

var (
	_ engine.Observer      = (*Metrics)(nil)
	_ prometheus.Collector = (*Metrics)(nil)
)

// Label names.
const (
	labelOutcome = "outcome"
	labelResult  = "result"
	labelBackend = "backend"
	labelOp      = "op"
)

var metricName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// New returns Metrics with opts (nil for the defaults). It returns an
// error, naming the option and the value, when an option is invalid; it
// does not register anything.
func New(opts *Options) (*Metrics, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	ns := o.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	buckets := DefaultBuckets
	if o.Buckets != nil {
		buckets = o.Buckets
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	opt := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: ns, Name: name, Help: help, ConstLabels: o.ConstLabels}
	}

	m := &Metrics{
		lookups: prometheus.NewCounter(prometheus.CounterOpts(opt("verified_cache_lookups_total",
			"Tokens that verified, looked up in the cache of verified tokens (from the cache or not)."))),
		hits: prometheus.NewCounter(prometheus.CounterOpts(opt("verified_cache_hits_total",
			"Tokens that verified and were served from the cache of verified tokens."))),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "store_call_duration_seconds", ConstLabels: o.ConstLabels, Buckets: buckets,
			Help: "Duration of calls to the renewal store, errors included, by store backend and method.",
		}, []string{labelBackend, labelOp}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts(opt("store_call_errors_total",
			"Calls to the renewal store that failed, by store backend and method.")), []string{labelBackend, labelOp}),
		revocations: o.Revocations,
		now:         o.Now,
	}
	// The series of every outcome and reason the engine reports exist
	// from the start, in the engine's order.
	var outcomes []string
	for _, v := range engine.Outcomes() {
		outcomes = append(outcomes, string(v))
	}
	m.requests = newFamily(prometheus.NewCounterVec(prometheus.CounterOpts(opt("requests_total",
		"Requests the middleware authenticated or refused, by outcome.")), []string{labelOutcome}), outcomes)
	results := []string{ResultRenewed}
	for _, v := range engine.Reasons() {
		results = append(results, string(v))
	}
	m.renewals = newFamily(prometheus.NewCounterVec(prometheus.CounterOpts(opt("renewals_total",
		"Renewal decisions: renewed, or the reason the token was not renewed.")), []string{labelResult}), results)
	for _, b := range o.Backends {
		for _, op := range StoreOps {
			m.storeSeries(b, op, true)
		}
	}
	if o.Revocations != nil {
		m.stalenessDsc = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "revocation_staleness_seconds"),
			"How old the newest revocation data of this instance is: how long a revocation made elsewhere may go unseen.",
			nil, o.ConstLabels)
		m.countDsc = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "revocations"),
			"Live revocations (sessions and subjects signed out) this instance holds.",
			nil, o.ConstLabels)
		if h, ok := o.Revocations.(RevocationHistory); ok {
			m.history = h
			m.resetsDsc = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "revocation_resets_total"),
				"Times the shared revocation backend was found to have lost revocations this instance had read (emptied, restarted from an older snapshot, a lagging replica promoted).",
				nil, o.ConstLabels)
			m.writtenDsc = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "revocations_written_back_total"),
				"Revocations this instance wrote back to a shared backend that had lost them.",
				nil, o.ConstLabels)
		}
	}
	return m, nil
}

func (o *Options) validate() error {
	if o.Namespace != "" && !metricName.MatchString(o.Namespace) {
		return fmt.Errorf("slidingprom: Options.Namespace %q is not a metric name: want [a-zA-Z_][a-zA-Z0-9_]*", o.Namespace)
	}
	for name, value := range o.ConstLabels {
		switch {
		case !metricName.MatchString(name) || len(name) >= 2 && name[:2] == "__":
			return fmt.Errorf("slidingprom: Options.ConstLabels: %q is not a label name: want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __", name)
		case name == labelOutcome || name == labelResult || name == labelBackend || name == labelOp:
			return fmt.Errorf("slidingprom: Options.ConstLabels: label %q is one these metrics set themselves", name)
		case !utf8.ValidString(value):
			return fmt.Errorf("slidingprom: Options.ConstLabels: the value of %q is not valid UTF-8: %q", name, value)
		}
	}
	if o.Buckets != nil {
		if len(o.Buckets) == 0 {
			return errors.New("slidingprom: Options.Buckets is empty: leave it nil for DefaultBuckets")
		}
		for i, b := range o.Buckets {
			if math.IsNaN(b) || math.IsInf(b, 0) {
				return fmt.Errorf("slidingprom: Options.Buckets[%d] is %v: want a finite number of seconds", i, b)
			}
			if i > 0 && b <= o.Buckets[i-1] {
				return fmt.Errorf("slidingprom: Options.Buckets[%d] = %v is not above Options.Buckets[%d] = %v: want strictly increasing bounds", i, b, i-1, o.Buckets[i-1])
			}
		}
	}
	if len(o.Backends) > MaxExtraValues {
		return fmt.Errorf("slidingprom: Options.Backends has %d names, more than %d", len(o.Backends), MaxExtraValues)
	}
	for i, b := range o.Backends {
		if b == "" || !utf8.ValidString(b) {
			return fmt.Errorf("slidingprom: Options.Backends[%d] = %q: want a store's name, non-empty UTF-8", i, b)
		}
	}
	return nil
}

// Request counts a request by its outcome; a token that verified also
// counts as a lookup of the verified-token cache, and as a hit when it was
// served from there. Part of engine.Observer.
func (m *Metrics) Request(_ *http.Request, o engine.Outcome) {
	m.requests.get(string(o)).Inc()
	switch o {
	case engine.OutcomeCacheHit:
		m.hits.Inc()
		m.lookups.Inc()
	case engine.OutcomeVerified:
		m.lookups.Inc()
	}
}

// Renewal counts a renewal decision: ResultRenewed, or ev.Reason. Part of
// engine.Observer.
func (m *Metrics) Renewal(_ *http.Request, ev engine.Event) {
	result := ResultRenewed
	if !ev.Renewed {
		result = string(ev.Reason)
	}
	m.renewals.get(result).Inc()
}

// StoreCall records a store call's duration, and counts it when it
// failed, by c.Backend and c.Op. Part of engine.Observer.
func (m *Metrics) StoreCall(_ *http.Request, c engine.StoreCall) {
	s := m.storeSeries(c.Backend, c.Op, false)
	s.duration.Observe(c.Duration.Seconds())
	if c.Err != nil {
		s.errors.Inc()
	}
}

// Describe sends the descriptions of every metric. Part of
// prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.vec.Describe(ch)
	m.renewals.vec.Describe(ch)
	m.lookups.Describe(ch)
	m.hits.Describe(ch)
	m.storeTime.Describe(ch)
	m.storeErrors.Describe(ch)
	if m.revocations != nil {
		ch <- m.stalenessDsc
		ch <- m.countDsc
	}
	if m.history != nil {
		ch <- m.resetsDsc
		ch <- m.writtenDsc
	}
}

// Collect sends every series, reading Options.Revocations at Options.Now.
// Part of prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.vec.Collect(ch)
	m.renewals.vec.Collect(ch)
	m.lookups.Collect(ch)
	m.hits.Collect(ch)
	m.storeTime.Collect(ch)
	m.storeErrors.Collect(ch)
	if m.revocations != nil {
		ch <- prometheus.MustNewConstMetric(m.stalenessDsc, prometheus.GaugeValue, m.revocations.Staleness(m.now()).Seconds())
		ch <- prometheus.MustNewConstMetric(m.countDsc, prometheus.GaugeValue, float64(m.revocations.Len()))
	}
	if m.history != nil {
		ch <- prometheus.MustNewConstMetric(m.resetsDsc, prometheus.CounterValue, float64(m.history.Resets()))
		ch <- prometheus.MustNewConstMetric(m.writtenDsc, prometheus.CounterValue, float64(m.history.WrittenBack()))
	}
}

// family is a counter with one label whose values are bounded: the known
// ones, created by newFamily and read without a lock, then at most
// MaxExtraValues others, then OtherValue.
type family struct {
	vec   *prometheus.CounterVec
	known map[string]prometheus.Counter // read-only after newFamily

	mu    sync.Mutex
	extra map[string]prometheus.Counter
}

func newFamily(vec *prometheus.CounterVec, values []string) *family {
	f := &family{vec: vec, known: make(map[string]prometheus.Counter, len(values)), extra: map[string]prometheus.Counter{}}
	for _, v := range values {
		f.known[v] = vec.WithLabelValues(v)
	}
	return f
}

// get returns the counter of value.
func (f *family) get(value string) prometheus.Counter {
	if c, ok := f.known[value]; ok {
		return c
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.extra[value]; ok {
		return c
	}
	label := value
	if value == "" || !utf8.ValidString(value) || len(f.extra) >= MaxExtraValues {
		label = OtherValue
	}
	c, err := f.vec.GetMetricWithLabelValues(label)
	if err != nil { // cannot happen for the labels above; never panic
		c = f.vec.WithLabelValues(OtherValue)
	}
	if label != OtherValue {
		f.extra[value] = c
	}
	return c
}

// storeKey names the series of one backend and method.
type storeKey struct{ backend, op string }

type storeSeries struct {
	duration prometheus.Observer
	errors   prometheus.Counter
}

// storeSeries returns the series of backend and op, creating both (the
// error counter at zero) on the first call. Past MaxExtraValues pairs
// other than the preset ones, a new pair counts as OtherValue for both
// labels.
func (m *Metrics) storeSeries(backend, op string, preset bool) *storeSeries {
	k := storeKey{backend, op}
	if s, ok := m.storeSeen.Load(k); ok {
		return s.(*storeSeries)
	}
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	if s, ok := m.storeSeen.Load(k); ok {
		return s.(*storeSeries)
	}
	label := k
	bad := func(s string) bool { return s == "" || !utf8.ValidString(s) }
	if !preset && (bad(backend) || bad(op) || m.storeExtra.Load() >= MaxExtraValues) {
		label = storeKey{OtherValue, OtherValue}
		if s, ok := m.storeSeen.Load(label); ok {
			return s.(*storeSeries) // not remembered under k: the map stays bounded
		}
	}
	s := &storeSeries{
		duration: m.storeTime.WithLabelValues(label.backend, label.op),
		errors:   m.storeErrors.WithLabelValues(label.backend, label.op),
	}
	m.storeSeen.Store(label, s)
	if !preset && label == k {
		m.storeExtra.Add(1)
	}
	return s
}
