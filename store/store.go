// Package store defines the Store interface that keeps, per session, the time of
// its last token renewal, and the contract every backend honours.
//
// The middleware asks a Store one question per renewal candidate: "may this
// session renew now?" ([Store.Allow]). The answer is yes at most once per
// interval per key, across every process that shares the backend, so a client
// firing many requests with a near-expiry token receives a single new token.
//
// Backends live in sub-packages and import only this package:
//
//	store/memory  a sharded map in one process; swept as it goes
//	store/lru     a fixed number of entries in one process
//	store/bolt    a bbolt file in one process; survives restarts
//	store/redis   a Redis server shared by many processes
//
// Every backend runs the conformance suite in store/storetest.
//
// # Opening a backend by name
//
// Each backend registers itself under its name when its package is
// imported (Register, in the package's init), as database/sql drivers do,
// so Open can build the backend that a setting such as TOKEN_RENEW_STORE
// names, and a program links a backend's dependencies (bbolt, go-redis)
// only when it imports that backend:
//
//	import _ "github.com/slidingjwt/slidingjwt/store/redis"
//
//	st, err := store.Open("redis", store.Params{URL: url})
//
// The root package slidingjwt imports memory and lru, so those two are
// always registered in a program that uses it; bolt and redis are
// registered only where a program imports them (or store/storeconfig,
// which imports all four).
//
// # Keys
//
// Keys are opaque strings chosen by the caller. The middleware passes a fixed
// length digest of the session identifier, never a raw claim, so a store,
// its file and its logs never hold a token or a subject.
//
// # Clock
//
// The caller owns the clock: a Store never reads the wall clock to decide, it
// compares the now it is given with the time it recorded. Tests therefore
// move time by passing a later now instead of sleeping. A backend may still
// use real time for housekeeping that cannot change an answer, such as a
// Redis expiry that outlives the interval.
package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrClosed is returned by every method of a Store, other than Close, that is
// called after Close.
var ErrClosed = errors.New("store: closed")

// ErrTimeRange is wrapped by the error Allow returns for a now that a store
// cannot record: one outside what int64 nanoseconds since 1970 hold, the
// years 1678 to 2262, such as a zero time.Time.
var ErrTimeRange = errors.New("store: time outside the years 1678 to 2262")

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// CheckTime returns nil when now can be recorded, and otherwise an error
// that wraps ErrTimeRange and names now. Backends call it in Allow before
// anything else that depends on now.
func CheckTime(now time.Time) error {
	if now.Before(minTime) || now.After(maxTime) {
		return fmt.Errorf("%w: now is %s", ErrTimeRange, now.Format(time.RFC3339Nano))
	}
	return nil
}

// Store records, per key, the time of its last renewal.
//
// Implementations are safe for concurrent use by multiple goroutines.
type Store interface {
	// Allow atomically records now as key's last renewal and reports true,
	// unless a renewal of key is recorded at a time t with
	// t-interval < now < t+interval: then it changes nothing and reports
	// false.
	//
	// Of concurrent calls for one key with the same interval, exactly one
	// reports true, across every process that shares the backend, even when
	// their values of now differ slightly (callers read the clock before
	// they race). The window is symmetric so that such jitter, and clock skew
	// between processes, cannot grant a second renewal; a backward step of
	// the wall clock therefore delays a session's next renewal by less than
	// one interval, never by the size of the step.
	//
	// A backend with a hard bound on its entries (store/lru) may forget a
	// live entry when full; that can only grant a renewal early, never
	// refuse one, and the exactly-one guarantee holds while the keys in
	// flight fit in the bound.
	//
	// Keys are non-empty; a backend may refuse keys longer than a few
	// kilobytes with an error (the middleware's are 32 bytes).
	//
	// A ctx already done on entry fails the call and records nothing. A
	// backend may finish a write that had started when ctx ends; it then
	// reports true, because true always means the renewal is recorded.
	//
	// now must lie within the years 1678 to 2262 (see CheckTime); for any
	// other now, Allow records nothing and returns an error wrapping
	// ErrTimeRange.
	//
	// A refusal is (false, nil); a non-nil error reports a backend failure
	// (including a cancelled or expired ctx, and ErrClosed), in which case
	// the caller must treat the answer as "no renewal".
	Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error)

	// Last reports the last renewal recorded for key. ok is false when none
	// is recorded; an entry older than the interval it was recorded with may
	// already be forgotten.
	Last(ctx context.Context, key string) (at time.Time, ok bool, err error)

	// Close releases the backend's resources and stops its background work.
	// It is idempotent: later calls return nil. After Close, Allow and Last
	// return ErrClosed.
	Close() error
}

// Named is implemented by stores that have a name for metrics and traces
// ("memory", "lru", "bolt", "redis"); a wrapper of a store should pass its
// store's name on. Optional.
type Named interface {
	Name() string
}

// Refused reports whether a renewal recorded at last refuses one at now,
// given interval: last-interval < now < last+interval. Backends that compare
// times themselves use it (or its arithmetic) so they agree on the edges.
func Refused(last, now time.Time, interval time.Duration) bool {
	d := now.Sub(last)
	return d > -interval && d < interval
}

// RefusedNanos is Refused for times in Unix nanoseconds, as backends keep
// them. It does not overflow, however far apart last and now are.
func RefusedNanos(last, now int64, interval time.Duration) bool {
	if interval <= 0 {
		return false
	}
	var d uint64 // |now - last|, which fits in a uint64
	if now >= last {
		d = uint64(now) - uint64(last)
	} else {
		d = uint64(last) - uint64(now)
	}
	return d < uint64(interval)
}

// ExpiredNanos reports whether a renewal recorded at last with interval can
// no longer refuse one at now or later: now-last >= interval, without
// overflow. A renewal recorded after now is not expired.
func ExpiredNanos(last, now int64, interval time.Duration) bool {
	return now >= last && !RefusedNanos(last, now, interval)
}
