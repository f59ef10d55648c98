// Package slidingotel records what the slidingjwt engine does on the
// OpenTelemetry span of each request: the request's outcome as a span
// attribute, every renewal decision as a span event, and every call to the
// renewal store as a span event or, optionally, as a child span.
//
// It lives in a module of its own (github.com/slidingjwt/slidingjwt/tracing/otel),
// so that applications that do not trace never have OpenTelemetry in their
// module graph. Its package name is slidingotel, not otel, so that it can
// be imported beside go.opentelemetry.io/otel without renaming either.
//
// The Observer adds to the span that is current in the request's context
// (trace.SpanFromContext): put the tracing middleware that starts server
// spans (otelhttp, or Echo's otelecho) in front of the slidingjwt
// middleware. A request without a recording span costs a context lookup
// and nothing else.
//
// Nothing it records holds a subject, a session or a token.
//
//	tr := slidingotel.New(nil)
//	mw, err := middleware.Config{Settings: s, Store: st, Observer: tr}.ToMiddleware()
//
// To feed metrics as well, combine observers with engine.Observers.
package slidingotel

import (
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/slidingjwt/slidingjwt/engine"
)

// ScopeName is the instrumentation scope of the store spans' tracer.
const ScopeName = "github.com/slidingjwt/slidingjwt/tracing/otel"

// Event and span names.
const (
	// EventRenewal is the span event of a renewal decision.
	EventRenewal = "slidingjwt.renewal"
	// EventStoreCall is the span event of a store call (without
	// Options.StoreSpans).
	EventStoreCall = "slidingjwt.store_call"
	// SpanStorePrefix begins the name of a store span; the store method
	// follows ("slidingjwt.store allow").
	SpanStorePrefix = "slidingjwt.store "
)

// Attribute keys.
const (
	// KeyOutcome is set on the request's span: the engine.Outcome of its
	// token (verified, cache_hit, missing, too_large, invalid, revoked,
	// not_ready).
	KeyOutcome = attribute.Key("slidingjwt.outcome")
	// KeyRenewalResult is "renewed", or the engine.Reason the token was
	// not renewed.
	KeyRenewalResult = attribute.Key("slidingjwt.renewal.result")
	// KeyRenewalExpiresAt is the renewed token's expiry, RFC 3339, when
	// the result is "renewed".
	KeyRenewalExpiresAt = attribute.Key("slidingjwt.renewal.expires_at")
	// KeyRenewalError is the store, BeforeRenew or signing error of a
	// renewal that failed (results store_error, refused, sign_error).
	KeyRenewalError = attribute.Key("slidingjwt.renewal.error")
	// KeyStoreBackend names the store ("memory", "lru", "bolt",
	// "redis", or the application's name for it).
	KeyStoreBackend = attribute.Key("slidingjwt.store.backend")
	// KeyStoreOp is the store method ("allow").
	KeyStoreOp = attribute.Key("slidingjwt.store.op")
	// KeyStoreDuration is how long the store call took, in seconds
	// (events only: a span has its own start and end).
	KeyStoreDuration = attribute.Key("slidingjwt.store.duration_seconds")
	// KeyStoreError is the store call's error, when it failed.
	KeyStoreError = attribute.Key("slidingjwt.store.error")
)

// ResultRenewed is KeyRenewalResult's value for a renewal that sent a new
// token.
const ResultRenewed = "renewed"

// Options configure an Observer. The zero value (or nil) is the default.
type Options struct {
	// StoreSpans records each store call as a child span of the request's
	// span (named SpanStorePrefix + op, with its error as the span's
	// status) instead of a span event. Optional. Default false.
	//
	// The engine tells the observer of a call after it returned, with its
	// duration, so the span is started and ended after the fact, with
	// explicit timestamps (the start is the end less the duration). It
	// therefore cannot be the parent of spans the store itself makes
	// (a go-redis tracing hook's span is its sibling), and it costs a span
	// for each renewal that reaches the store. An event carries the same
	// facts on the request's span, for less; hence the default.
	StoreSpans bool

	// TracerProvider provides the tracer of the store spans. Optional.
	// Default: the provider of the request's span
	// (trace.Span.TracerProvider), so the store span goes where its
	// parent goes.
	TracerProvider trace.TracerProvider

	// Now is the clock that dates the end of a store call. Optional.
	// Default time.Now. (The engine measures durations on the real
	// clock, whatever its Config.Now.)
	Now func() time.Time
}

// Observer is an engine.Observer that records on the request's span. Give
// it to a front door's Config.Observer. It is safe for concurrent use and
// holds nothing that needs closing.
type Observer struct {
	storeSpans bool
	provider   trace.TracerProvider
	now        func() time.Time
}

var _ engine.Observer = (*Observer)(nil)

// New returns an Observer with opts (nil for the defaults).
func New(opts *Options) *Observer {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Observer{storeSpans: o.StoreSpans, provider: o.TracerProvider, now: o.Now}
}

// span returns r's span when it records, else nil.
func span(r *http.Request) trace.Span {
	if r == nil {
		return nil
	}
	s := trace.SpanFromContext(r.Context())
	if !s.IsRecording() {
		return nil
	}
	return s
}

// Request sets KeyOutcome on the request's span. Part of engine.Observer.
func (o *Observer) Request(r *http.Request, outcome engine.Outcome) {
	if s := span(r); s != nil {
		s.SetAttributes(KeyOutcome.String(string(outcome)))
	}
}

// Renewal adds an EventRenewal to the request's span. Part of
// engine.Observer.
func (o *Observer) Renewal(r *http.Request, ev engine.Event) {
	s := span(r)
	if s == nil {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 2)
	if ev.Renewed {
		attrs = append(attrs, KeyRenewalResult.String(ResultRenewed),
			KeyRenewalExpiresAt.String(ev.NewExpiresAt.UTC().Format(time.RFC3339)))
	} else {
		attrs = append(attrs, KeyRenewalResult.String(string(ev.Reason)))
	}
	if ev.Err != nil {
		attrs = append(attrs, KeyRenewalError.String(ev.Err.Error()))
	}
	s.AddEvent(EventRenewal, trace.WithAttributes(attrs...))
}

// StoreCall adds an EventStoreCall to the request's span or, with
// Options.StoreSpans, records a child span. Part of engine.Observer.
func (o *Observer) StoreCall(r *http.Request, c engine.StoreCall) {
	s := span(r)
	if s == nil {
		return
	}
	end := o.now()
	if !o.storeSpans {
		attrs := make([]attribute.KeyValue, 0, 4)
		attrs = append(attrs, KeyStoreBackend.String(c.Backend), KeyStoreOp.String(c.Op),
			KeyStoreDuration.Float64(c.Duration.Seconds()))
		if c.Err != nil {
			attrs = append(attrs, KeyStoreError.String(c.Err.Error()))
		}
		s.AddEvent(EventStoreCall, trace.WithAttributes(attrs...), trace.WithTimestamp(end))
		return
	}
	tp := o.provider
	if tp == nil {
		tp = s.TracerProvider()
	}
	_, child := tp.Tracer(ScopeName).Start(r.Context(), SpanStorePrefix+c.Op,
		trace.WithTimestamp(end.Add(-c.Duration)),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KeyStoreBackend.String(c.Backend), KeyStoreOp.String(c.Op)))
	if c.Err != nil {
		child.RecordError(c.Err)
		child.SetStatus(codes.Error, c.Err.Error())
	}
	child.End(trace.WithTimestamp(end))
}
