package slidingotel_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
	slidingotel "github.com/slidingjwt/slidingjwt/tracing/otel"
)

// start is where every test's clock starts.
var start = time.Date(2030, time.May, 4, 12, 0, 0, 0, time.UTC)

// app is a real Echo v4 app behind the slidingjwt middleware, served over
// HTTP by a handler that starts a server span around it, as otelhttp
// would.
type app struct {
	url      string
	clock    *testkit.Clock
	issuer   *token.Issuer
	client   *http.Client
	recorder *tracetest.SpanRecorder
	spans    chan trace.SpanContext // of each request's span, once it ended
}

// newApp serves an Echo app whose middleware tells obs, renewing through
// st; its tracer provider samples with sampler. Users' tokens live an
// hour, renewal is due in the second half, once a minute.
func newApp(t *testing.T, st store.Store, obs engine.Observer, sampler sdktrace.Sampler) *app {
	t.Helper()
	s := config.Default()
	s.Secret = "0123456789abcdef0123456789abcdef"
	s.UserLifetime = time.Hour
	s.MinRenewInterval = time.Minute
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
	e.GET("/api/ok", func(c echo.Context) error { return c.String(http.StatusOK, "ok") }, mw)

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sampler))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	a := &app{clock: clock, issuer: issuer, recorder: rec, spans: make(chan trace.SpanContext, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tp.Tracer("test").Start(r.Context(), "GET "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		e.ServeHTTP(w, r.WithContext(ctx))
		span.End()
		a.spans <- span.SpanContext()
	}))
	t.Cleanup(srv.Close)
	a.url, a.client = srv.URL, srv.Client()
	return a
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

// get sends GET /api/ok with tok ("" for none), and returns the status, the
// renewed token if any, the request's span and the spans that are its
// children, once the request's span has ended.
func (a *app) get(t *testing.T, tok string) (status int, renewed string, span sdktrace.ReadOnlySpan, children []sdktrace.ReadOnlySpan) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+"/api/ok", nil)
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
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	sc := <-a.spans
	for _, s := range a.recorder.Ended() {
		switch {
		case s.SpanContext().Equal(sc):
			span = s
		case s.Parent().Equal(sc):
			children = append(children, s)
		}
	}
	return res.StatusCode, res.Header.Get(middleware.HeaderNewToken), span, children
}

// attrs maps a list of attributes by key, values as strings.
func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// event is a span event as the tests compare it: its name and its
// attributes but the duration, which is the real clock's.
type event struct {
	name  string
	attrs map[string]string
}

func events(t *testing.T, s sdktrace.ReadOnlySpan) []event {
	t.Helper()
	var out []event
	for _, e := range s.Events() {
		a := attrs(e.Attributes)
		if d, ok := a[string(slidingotel.KeyStoreDuration)]; ok {
			if e.Name != slidingotel.EventStoreCall {
				t.Errorf("%s event has a store duration", e.Name)
			}
			if strings.HasPrefix(d, "-") {
				t.Errorf("store call duration %s is negative", d)
			}
			delete(a, string(slidingotel.KeyStoreDuration))
		} else if e.Name == slidingotel.EventStoreCall {
			t.Errorf("store call event without %s", slidingotel.KeyStoreDuration)
		}
		out = append(out, event{e.Name, a})
	}
	return out
}

func equalEvents(a, b []event) bool {
	return slices.EqualFunc(a, b, func(x, y event) bool {
		if x.name != y.name || len(x.attrs) != len(y.attrs) {
			return false
		}
		for k, v := range x.attrs {
			if y.attrs[k] != v {
				return false
			}
		}
		return true
	})
}

func renewal(result string, extra ...string) event {
	e := event{slidingotel.EventRenewal, map[string]string{string(slidingotel.KeyRenewalResult): result}}
	for i := 0; i+1 < len(extra); i += 2 {
		e.attrs[extra[i]] = extra[i+1]
	}
	return e
}

func storeCall(backend, errText string) event {
	e := event{slidingotel.EventStoreCall, map[string]string{
		string(slidingotel.KeyStoreBackend): backend,
		string(slidingotel.KeyStoreOp):      "allow",
	}}
	if errText != "" {
		e.attrs[string(slidingotel.KeyStoreError)] = errText
	}
	return e
}

// TestSpanEvents: each request's span gets its outcome and, in order, its
// store call and renewal decision.
func TestSpanEvents(t *testing.T) {
	t.Parallel()
	mem := memory.New(nil)
	t.Cleanup(func() { mem.Close() })
	st := &timedStore{Store: mem}
	a := newApp(t, st, slidingotel.New(nil), sdktrace.AlwaysSample())
	alice := a.token(t, "alice")
	const due = 40 * time.Minute
	renewedExp := start.Add(due + time.Hour).Format(time.RFC3339)
	steps := []struct {
		name    string
		at      time.Duration
		token   string
		status  int
		renewed bool
		outcome string
		events  []event
	}{
		{"no token", 0, "", 401, false, "missing", nil},
		{"bad token", 0, "not.a.jwt", 401, false, "invalid", nil},
		{"fresh token", 0, alice, 200, false, "verified", []event{renewal("threshold")}},
		{"fresh token again", 0, alice, 200, false, "cache_hit", []event{renewal("threshold")}},
		{"due token", due, alice, 200, true, "cache_hit", []event{
			storeCall("memory", ""),
			renewal("renewed", string(slidingotel.KeyRenewalExpiresAt), renewedExp),
		}},
		{"due token again", due, alice, 200, false, "cache_hit", []event{renewal("rate_limited")}},
	}
	for _, s := range steps {
		a.clock.Set(start.Add(s.at))
		status, renewed, span, children := a.get(t, s.token)
		if status != s.status || (renewed != "") != s.renewed {
			t.Fatalf("%s: got %d renewed=%v, want %d renewed=%v", s.name, status, renewed != "", s.status, s.renewed)
		}
		if span == nil {
			t.Fatalf("%s: the request's span was not recorded", s.name)
		}
		if got := attrs(span.Attributes())[string(slidingotel.KeyOutcome)]; got != s.outcome {
			t.Errorf("%s: outcome attribute: got %q, want %q", s.name, got, s.outcome)
		}
		if got := events(t, span); !equalEvents(got, s.events) {
			t.Errorf("%s: events:\n got %v\nwant %v", s.name, got, s.events)
		}
		if len(children) != 0 {
			t.Errorf("%s: %d child spans, want none without StoreSpans", s.name, len(children))
		}
		for _, e := range span.Events() {
			if !e.Time.Before(span.EndTime()) && !e.Time.Equal(span.EndTime()) || e.Time.Before(span.StartTime()) {
				t.Errorf("%s: event %s at %v, outside its span (%v to %v)", s.name, e.Name, e.Time, span.StartTime(), span.EndTime())
			}
		}
		for _, e := range span.Events() {
			for _, kv := range e.Attributes {
				// The duration is the engine's measure of the call, which
				// holds the store's own.
				if kv.Key == slidingotel.KeyStoreDuration {
					if got, inner := time.Duration(kv.Value.AsFloat64()*1e9), st.took(); got < inner-time.Nanosecond {
						t.Errorf("%s: store call lasted %v, less than the call inside it (%v)", s.name, got, inner)
					}
				}
			}
		}
		if s.renewed {
			if got, want := expiryOf(t, renewed), renewedExp; got != want {
				t.Errorf("%s: the renewed token expires at %s, want %s (as the event says)", s.name, got, want)
			}
		}
	}
}

// expiryOf reads the exp claim of tok, RFC 3339.
func expiryOf(t *testing.T, tok string) string {
	t.Helper()
	return time.Unix(claimsOf(t, tok).Exp, 0).UTC().Format(time.RFC3339)
}

type claims struct {
	Exp int64  `json:"exp"`
	Sid string `json:"sid"`
	Jti string `json:"jti"`
}

// claimsOf decodes the claims of tok the tests read.
func claimsOf(t *testing.T, tok string) claims {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.Sid == "" || c.Jti == "" {
		t.Fatalf("token without sid or jti: %s", raw)
	}
	return c
}

// dueRequest sends alice's token once renewal is due, through a with its
// store, and returns the request's span and its children.
func dueRequest(t *testing.T, a *app) (renewed string, span sdktrace.ReadOnlySpan, children []sdktrace.ReadOnlySpan) {
	t.Helper()
	tok := a.token(t, "alice")
	a.clock.Set(start.Add(40 * time.Minute))
	status, renewed, span, children := a.get(t, tok)
	if status != http.StatusOK {
		t.Fatalf("got %d, want 200", status)
	}
	if span == nil {
		t.Fatal("the request's span was not recorded")
	}
	return renewed, span, children
}

// closedStore is a real store that fails every call, as closed.
func closedStore(t *testing.T) store.Store {
	t.Helper()
	st := memory.New(nil)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStoreErrorEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, closedStore(t), slidingotel.New(nil), sdktrace.AlwaysSample())
	renewed, span, _ := dueRequest(t, a)
	if renewed != "" {
		t.Fatal("renewed through a closed store")
	}
	errText := store.ErrClosed.Error()
	want := []event{storeCall("memory", errText), renewal("store_error", string(slidingotel.KeyRenewalError), errText)}
	if got := events(t, span); !equalEvents(got, want) {
		t.Errorf("events:\n got %v\nwant %v", got, want)
	}
	if span.Status().Code == codes.Error {
		t.Errorf("the request's span has status %v: a store error does not fail the request", span.Status())
	}
}

// TestStoreSpans: with StoreSpans, each store call is a child span of the
// request's span, within it, ending when the observer is told, failing
// when the call failed; and there is no store event.
func TestStoreSpans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		store   func(t *testing.T) store.Store
		errText string
		renewal event
	}{
		{"ok", func(t *testing.T) store.Store {
			st := memory.New(nil)
			t.Cleanup(func() { st.Close() })
			return st
		}, "", renewal("renewed")},
		{"failing", closedStore, store.ErrClosed.Error(), renewal("store_error", string(slidingotel.KeyRenewalError), store.ErrClosed.Error())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The end of a store call is dated by the observer's clock:
			// record the readings it takes.
			var readings []time.Time
			now := func() time.Time {
				r := time.Now()
				readings = append(readings, r)
				return r
			}
			st := &timedStore{Store: tt.store(t)}
			a := newApp(t, st, slidingotel.New(&slidingotel.Options{StoreSpans: true, Now: now}), sdktrace.AlwaysSample())
			_, span, children := dueRequest(t, a)
			got := events(t, span)
			if len(got) != 1 || got[0].name != slidingotel.EventRenewal || got[0].attrs[string(slidingotel.KeyRenewalResult)] != tt.renewal.attrs[string(slidingotel.KeyRenewalResult)] {
				t.Errorf("events: got %v, want only the renewal (%v)", got, tt.renewal)
			}
			if len(children) != 1 {
				t.Fatalf("child spans: got %d, want 1", len(children))
			}
			c := children[0]
			if got, want := c.Name(), slidingotel.SpanStorePrefix+"allow"; got != want {
				t.Errorf("name: got %q, want %q", got, want)
			}
			if got, want := c.InstrumentationScope().Name, slidingotel.ScopeName; got != want {
				t.Errorf("scope: got %q, want %q", got, want)
			}
			wantAttrs := map[string]string{string(slidingotel.KeyStoreBackend): "memory", string(slidingotel.KeyStoreOp): "allow"}
			if got := attrs(c.Attributes()); !equalEvents([]event{{"", got}}, []event{{"", wantAttrs}}) {
				t.Errorf("attributes: got %v, want %v", got, wantAttrs)
			}
			if len(readings) != 1 || !c.EndTime().Equal(readings[0]) {
				t.Errorf("end %v, want the observer's clock reading %v", c.EndTime(), readings)
			}
			// The span lasts the engine's measure of the call, which
			// holds the store's own.
			if got, inner := c.EndTime().Sub(c.StartTime()), st.took(); got < inner {
				t.Errorf("store span lasts %v, less than the call inside it (%v)", got, inner)
			}
			if c.StartTime().After(c.EndTime()) || c.StartTime().Before(span.StartTime()) || c.EndTime().After(span.EndTime()) {
				t.Errorf("store span %v to %v, not within the request's %v to %v", c.StartTime(), c.EndTime(), span.StartTime(), span.EndTime())
			}
			if tt.errText == "" {
				if c.Status().Code != codes.Unset || len(c.Events()) != 0 {
					t.Errorf("status %v events %v, want none for a call that succeeded", c.Status(), c.Events())
				}
				return
			}
			if c.Status().Code != codes.Error || c.Status().Description != tt.errText {
				t.Errorf("status: got %v, want Error %q", c.Status(), tt.errText)
			}
			if len(c.Events()) != 1 || c.Events()[0].Name != "exception" {
				t.Errorf("events: got %v, want the recorded error", c.Events())
			}
		})
	}
}

// TestNothingRecordedWithoutASpan: requests without a span, or with one
// that is not sampled, get nothing and fail nothing.
func TestNothingRecordedWithoutASpan(t *testing.T) {
	t.Parallel()
	t.Run("unsampled", func(t *testing.T) {
		t.Parallel()
		st := memory.New(nil)
		t.Cleanup(func() { st.Close() })
		a := newApp(t, st, slidingotel.New(&slidingotel.Options{StoreSpans: true}), sdktrace.NeverSample())
		tok := a.token(t, "alice")
		a.clock.Set(start.Add(40 * time.Minute))
		status, renewed, span, children := a.get(t, tok)
		if status != http.StatusOK || span != nil || len(children) != 0 {
			t.Errorf("got %d, span %v, %d children; want 200 and nothing recorded", status, span, len(children))
		}
		if renewed == "" {
			t.Error("no renewal: the observer must not change what the middleware does")
		}
		if n := len(a.recorder.Ended()) + len(a.recorder.Started()); n != 0 {
			t.Errorf("recorded %d spans, want none", n)
		}
	})
	t.Run("no span at all", func(t *testing.T) {
		t.Parallel()
		o := slidingotel.New(&slidingotel.Options{StoreSpans: true})
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		o.Request(r, engine.OutcomeVerified)
		o.Renewal(r, engine.Event{Renewed: true, NewExpiresAt: start})
		o.StoreCall(r, engine.StoreCall{Backend: "memory", Op: "allow", Err: store.ErrClosed})
		o.Request(nil, engine.OutcomeMissing)
	})
}

// TestNoSecrets: no attribute of any span or event holds the token, the
// subject or the session key, in a run that renews, is rate limited and
// fails a store call.
func TestNoSecrets(t *testing.T) {
	t.Parallel()
	for _, storeSpans := range []bool{false, true} {
		for _, st := range []store.Store{memory.New(nil), closedStore(t)} {
			t.Cleanup(func() { st.Close() })
			a := newApp(t, st, slidingotel.New(&slidingotel.Options{StoreSpans: storeSpans}), sdktrace.AlwaysSample())
			const sub = "subject-7f3a"
			tok, _, err := a.issuer.IssueAt(start, sub, config.RoleUser, nil)
			if err != nil {
				t.Fatal(err)
			}
			a.clock.Set(start.Add(40 * time.Minute))
			_, renewed, _, _ := a.get(t, tok)
			a.get(t, tok)
			claims := claimsOf(t, tok)
			secrets := []string{tok, sub, strings.Split(tok, ".")[2], claims.Sid, claims.Jti}
			if renewed != "" {
				secrets = append(secrets, renewed)
			}
			var values []string
			for _, s := range a.recorder.Ended() {
				for _, kv := range s.Attributes() {
					values = append(values, kv.Value.String())
				}
				for _, e := range s.Events() {
					for _, kv := range e.Attributes {
						values = append(values, kv.Value.String())
					}
				}
			}
			if len(values) == 0 {
				t.Fatal("nothing recorded")
			}
			for _, v := range values {
				for _, secret := range secrets {
					if strings.Contains(v, secret) {
						t.Errorf("attribute value %q holds %q", v, secret)
					}
				}
			}
		}
	}
}

// timedStore measures the time its store's Allow calls take, as the store
// sees it (the engine's measure is around it).
type timedStore struct {
	store.Store
	mu sync.Mutex
	d  time.Duration
}

func (s *timedStore) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	t0 := time.Now()
	ok, err := s.Store.Allow(ctx, key, now, interval)
	s.mu.Lock()
	s.d += time.Since(t0)
	s.mu.Unlock()
	return ok, err
}

// Name passes the store's name on (store.Named).
func (s *timedStore) Name() string { return s.Store.(store.Named).Name() }

func (s *timedStore) took() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

// TestObserverAllocations: a request without a recording span costs no
// allocation.
func TestObserverAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without the race detector")
	}
	o := slidingotel.New(&slidingotel.Options{StoreSpans: true})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, span := tp.Tracer("test").Start(context.Background(), "unsampled")
	defer span.End()
	for name, r := range map[string]*http.Request{
		"no span":        httptest.NewRequest(http.MethodGet, "/", nil),
		"unsampled span": httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil),
	} {
		got := testing.AllocsPerRun(100, func() {
			o.Request(r, engine.OutcomeCacheHit)
			o.Renewal(r, engine.Event{Renewed: true, NewExpiresAt: start})
			o.StoreCall(r, engine.StoreCall{Backend: "memory", Op: "allow", Err: store.ErrClosed})
		})
		if got != 0 {
			t.Errorf("%s: %v allocations, want 0", name, got)
		}
	}
}
