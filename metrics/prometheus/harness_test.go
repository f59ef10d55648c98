package slidingprom_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	slidingprom "github.com/slidingjwt/slidingjwt/metrics/prometheus"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// start is where every test's clock starts.
var start = time.Date(2030, time.May, 4, 12, 0, 0, 0, time.UTC)

// skipPath is the app's renewal skip path.
const skipPath = "/api/health"

// settings are the app's: user tokens live an hour, renewal is due in the
// second half, once a minute per session.
func settings() config.Settings {
	s := config.Default()
	s.Secret = "0123456789abcdef0123456789abcdef"
	s.UserLifetime = time.Hour
	s.RenewThreshold = 0.5
	s.MinRenewInterval = time.Minute
	s.RenewSkipPaths = []string{skipPath}
	return s
}

// app is a real Echo v4 application behind the slidingjwt middleware,
// served over real HTTP, on an injected clock.
type app struct {
	url    string
	clock  *testkit.Clock
	issuer *token.Issuer
	client *http.Client
}

// newApp serves an Echo app whose middleware tells obs, renewing through
// st. Routes: /api/ok (200), /api/fail (400), and skipPath (200).
func newApp(t *testing.T, st store.Store, obs engine.Observer) *app {
	t.Helper()
	s := settings()
	issuer, err := token.NewIssuer(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock(start)
	mw, err := middleware.Config{Settings: s, Store: st, Keys: issuer.Keys(), Now: clock.Now, Observer: obs}.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	api := e.Group("/api", mw)
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	api.GET("/ok", ok)
	api.GET("/health", ok)
	api.GET("/fail", func(c echo.Context) error { return echo.NewHTTPError(http.StatusBadRequest, "no") })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &app{url: srv.URL, clock: clock, issuer: issuer, client: srv.Client()}
}

// token issues a user token at the app's clock.
func (a *app) token(t *testing.T, sub string) string {
	t.Helper()
	tok, _, err := a.issuer.IssueAt(a.clock.Now(), sub, config.RoleUser, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// get sends GET path with tok as its bearer token ("" sends none) and
// returns the status and whether the response carried a new token.
func (a *app) get(t *testing.T, path, tok string) (status int, renewed bool) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get(middleware.HeaderNewToken) != ""
}

// scrape gathers g and returns every sample by its series, such as
// `slidingjwt_requests_total{outcome="verified"}`; a histogram gives its
// _count and _sum.
func scrape(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := labelText(m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[mf.GetName()+labels] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[mf.GetName()+labels] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[mf.GetName()+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"+labels] = m.GetHistogram().GetSampleSum()
			default:
				t.Fatalf("%s: unexpected type %v", mf.GetName(), mf.GetType())
			}
		}
	}
	return out
}

func labelText(labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// series is the key scrape gives a series of name with one label.
func series(name, label, value string) string {
	return fmt.Sprintf("%s{%s=%q}", name, label, value)
}

// storeSeries is the key of a store call series (name ends in _count,
// _sum or _total).
func storeSeries(name, backend, op string) string {
	return fmt.Sprintf("%s{backend=%q,op=%q}", name, backend, op)
}

// zeroSeries returns every series New creates, at zero, for backends.
func zeroSeries(t *testing.T, backends ...string) map[string]float64 {
	t.Helper()
	want := map[string]float64{
		"slidingjwt_verified_cache_lookups_total": 0,
		"slidingjwt_verified_cache_hits_total":    0,
	}
	for _, o := range engine.Outcomes() {
		want[series("slidingjwt_requests_total", "outcome", string(o))] = 0
	}
	want[series("slidingjwt_renewals_total", "result", slidingprom.ResultRenewed)] = 0
	for _, r := range engine.Reasons() {
		want[series("slidingjwt_renewals_total", "result", string(r))] = 0
	}
	for _, b := range backends {
		want[storeSeries("slidingjwt_store_call_duration_seconds_count", b, "allow")] = 0
		want[storeSeries("slidingjwt_store_call_duration_seconds_sum", b, "allow")] = 0
		want[storeSeries("slidingjwt_store_call_errors_total", b, "allow")] = 0
	}
	return want
}

// diff describes how got differs from want, series by series, in order.
func diff(got, want map[string]float64) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var b strings.Builder
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			fmt.Fprintf(&b, "missing %s (want %v)\n", k, w)
		case !wok:
			fmt.Fprintf(&b, "unexpected %s = %v\n", k, g)
		case g != w:
			fmt.Fprintf(&b, "%s: got %v, want %v\n", k, g, w)
		}
	}
	return b.String()
}
