package engine

import (
	"errors"
	"net/http"
	"time"
)

// Outcome is what became of a request's token, as an Observer hears it.
type Outcome string

// The outcomes of a request the middleware did not skip.
const (
	// OutcomeVerified: a token verified from scratch (its first request).
	OutcomeVerified Outcome = "verified"
	// OutcomeCacheHit: a token served from the cache of verified tokens.
	OutcomeCacheHit Outcome = "cache_hit"
	// OutcomeMissing: no token where the lookup looks; 401.
	OutcomeMissing Outcome = "missing"
	// OutcomeTooLarge: a token over MaxTokenSize, refused unread; 401.
	OutcomeTooLarge Outcome = "too_large"
	// OutcomeInvalid: a token that did not verify; 401.
	OutcomeInvalid Outcome = "invalid"
	// OutcomeRevoked: a token of a revoked session or subject; 401.
	OutcomeRevoked Outcome = "revoked"
	// OutcomeNotReady: the revocation list is not loaded yet, so a token
	// cannot be told from a revoked one; 503.
	OutcomeNotReady Outcome = "not_ready"
	// OutcomeCrossOrigin: an unsafe request authenticated by the session
	// cookie came from an untrusted origin (cookie delivery); 403.
	OutcomeCrossOrigin Outcome = "cross_origin"
)

// StoreCall describes one call to the renewal store.
type StoreCall struct {
	// Op is the store method: "allow".
	Op string
	// Backend names the store: its Name() when it has one (see
	// store.Named), else "unknown".
	Backend string
	// Start is when the call began, on the real clock (not Config.Now), so
	// a tracer can date a span of the call.
	Start time.Time
	// Duration is how long the call took.
	Duration time.Duration
	// Err is the call's error; a refusal is not an error.
	Err error
}

// Observer is told what the engine does, for metrics and tracing; every
// front door feeds it (Config.Observer). Its methods run on the request's
// goroutine, must be quick, and are called concurrently. Observations never
// hold a token or a raw claim (Event.Subject is sanitised).
type Observer interface {
	// Request is told the outcome of every request the middleware did not
	// skip, once.
	Request(r *http.Request, o Outcome)
	// Renewal is told every renewal decision (Event.Renewed, or its
	// Reason), as OnRenewal is.
	Renewal(r *http.Request, ev Event)
	// StoreCall is told of every call to the renewal store.
	StoreCall(r *http.Request, c StoreCall)
}

// Observers returns an Observer that tells each of obs in turn; nil
// entries are skipped. It returns nil when none is left, and the one
// observer itself when one is, so a door pays nothing for an empty list.
func Observers(obs ...Observer) Observer {
	var list multi
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

// Outcomes returns every Outcome the engine reports, in a new slice, so
// that metrics can create their series before the first request.
func Outcomes() []Outcome {
	return []Outcome{OutcomeVerified, OutcomeCacheHit, OutcomeMissing, OutcomeTooLarge,
		OutcomeInvalid, OutcomeRevoked, OutcomeNotReady, OutcomeCrossOrigin}
}

// Reasons returns every Reason the engine reports, in the order they are
// checked, in a new slice.
func Reasons() []Reason {
	return []Reason{ReasonDisabled, ReasonThreshold, ReasonSkippedPath, ReasonBackground, ReasonSessionCap,
		ReasonRevocationsStale, ReasonStatus, ReasonHijacked, ReasonRevoked, ReasonStoreError,
		ReasonRateLimited, ReasonTooLarge, ReasonRefused, ReasonSignError}
}

type multi []Observer

func (m multi) Request(r *http.Request, o Outcome) {
	for _, ob := range m {
		ob.Request(r, o)
	}
}

func (m multi) Renewal(r *http.Request, ev Event) {
	for _, ob := range m {
		ob.Renewal(r, ev)
	}
}

func (m multi) StoreCall(r *http.Request, c StoreCall) {
	for _, ob := range m {
		ob.StoreCall(r, c)
	}
}

// outcomeOf maps a verification error to its outcome.
func outcomeOf(err error) Outcome {
	switch {
	case errors.Is(err, ErrTokenMissing):
		return OutcomeMissing
	case errors.Is(err, ErrTokenTooLarge):
		return OutcomeTooLarge
	case errors.Is(err, ErrSessionRevoked):
		return OutcomeRevoked
	case errors.Is(err, ErrRevocationsNotReady):
		return OutcomeNotReady
	case errors.Is(err, ErrCrossOrigin):
		return OutcomeCrossOrigin
	}
	return OutcomeInvalid
}
