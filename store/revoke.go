package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// This file is the revocation side of the package: sign-out of one session,
// or of every session of a subject issued before a cut-off. It is separate
// from Store, which keeps renewal timestamps; a backend may implement both,
// and every backend in this module does.
//
// A revocation names its session or subject by a RevocationKey, a digest the
// caller computes with SessionRevocationKey or SubjectRevocationKey, so no
// backend, file or log ever holds a raw session id or subject.

// RevocationKey identifies what a revocation applies to: the first 16 bytes
// of the SHA-256 of a session identifier or a subject, each hashed with its
// own prefix (see SessionRevocationKey and SubjectRevocationKey). Sixteen
// bytes keep the in-process copy small; at a million revocations the chance
// of any two keys colliding is about 1 in 10^27.
type RevocationKey [16]byte

// Prefixes hashed before the identity, so that a session id and a subject
// with the same text never share a key.
const (
	sessionKeyPrefix = "sid\x00"
	subjectKeyPrefix = "sub\x00"
)

// SessionRevocationKey returns the key that revokes the session id: the
// session identity the middleware uses for a token and its renewals.
func SessionRevocationKey(id string) RevocationKey {
	return revocationKey(sessionKeyPrefix, id)
}

// SubjectRevocationKey returns the key that revokes sessions of the subject
// sub (a token's "sub" claim).
func SubjectRevocationKey(sub string) RevocationKey {
	return revocationKey(subjectKeyPrefix, sub)
}

func revocationKey(prefix, id string) RevocationKey {
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	var k RevocationKey
	copy(k[:], h.Sum(sum[:0]))
	return k
}

// String returns the key as 32 lower-case hex digits. The key is a digest,
// so this is safe to log.
func (k RevocationKey) String() string { return hex.EncodeToString(k[:]) }

// RevocationKind says what a Revocation revokes.
type RevocationKind uint8

const (
	// RevokeSession revokes one session: every token whose session key is
	// the revocation's Key, whenever it was issued.
	RevokeSession RevocationKind = 1
	// RevokeSubject revokes every session of one subject that began before
	// the revocation's Before: every token whose subject key is the Key and
	// whose auth_time (else iat) is before Before. Tokens issued at or
	// after Before stay valid, so the user can sign in again.
	RevokeSubject RevocationKind = 2
)

// String returns "session", "subject", or the number of an unknown kind.
func (k RevocationKind) String() string {
	switch k {
	case RevokeSession:
		return "session"
	case RevokeSubject:
		return "subject"
	}
	return fmt.Sprintf("RevocationKind(%d)", uint8(k))
}

// Revocation is one recorded sign-out.
type Revocation struct {
	// Kind is RevokeSession or RevokeSubject.
	Kind RevocationKind
	// Key is the digest of the session id or subject.
	Key RevocationKey
	// Before is, for a subject, the cut-off: tokens whose auth_time (else
	// iat) is before it are revoked. For a session it is the time of the
	// revocation, kept for information only.
	Before time.Time
	// Until is when the revocation may be forgotten: no token it matches
	// can be accepted at or after Until. A revocation is live at now while
	// now is before Until.
	Until time.Time
}

// Live reports whether r is still in force at now: now is before r.Until.
func (r Revocation) Live(now time.Time) bool { return now.Before(r.Until) }

// Validate reports whether a backend can record r: a known Kind and times
// within the years 1678 to 2262 (see CheckTime). Its errors name the bad
// value and wrap ErrTimeRange for a time out of range.
func (r Revocation) Validate() error {
	if r.Kind != RevokeSession && r.Kind != RevokeSubject {
		return fmt.Errorf("store: revocation of kind %d; want RevokeSession (1) or RevokeSubject (2)", uint8(r.Kind))
	}
	if err := CheckTime(r.Before); err != nil {
		return fmt.Errorf("store: %s revocation %s: Before: %w", r.Kind, r.Key, err)
	}
	if err := CheckTime(r.Until); err != nil {
		return fmt.Errorf("store: %s revocation %s: Until: %w", r.Kind, r.Key, err)
	}
	return nil
}

// Merge returns r recorded again as o, which must have the same Kind and
// Key: the later Before and the later Until of the two. Merging is
// commutative and idempotent, so instances that learn revocations in any
// order, any number of times, end up with the same record.
func (r Revocation) Merge(o Revocation) Revocation {
	if o.Before.After(r.Before) {
		r.Before = o.Before
	}
	if o.Until.After(r.Until) {
		r.Until = o.Until
	}
	return r
}

// DefaultMaxRevocations is the cap on live revocations a backend, or the
// in-process copy, holds when its MaxRevocations option is zero. A million
// revocations keep the in-process copy (package revocation) well under
// 100 MB.
const DefaultMaxRevocations = 1_000_000

// ErrRevocationsFull is wrapped by the error Revoke returns when the backend
// already holds its cap of live revocations. Nothing is recorded and nothing
// is forgotten: an application maps it to 503 Service Unavailable, and an
// operator raises the cap or waits for revocations to expire.
var ErrRevocationsFull = errors.New("store: revocation list is full")

// Revoker is the backend side of revocation: durable or shared storage of
// Revocations. Package revocation keeps an in-process copy of them, which
// is what requests are checked against; a Revoker is asked only when a
// revocation is made and when the copy catches up.
//
// Like Store, a Revoker never reads the wall clock to decide: every method
// that judges whether a revocation is live is given now. Implementations are
// safe for concurrent use.
type Revoker interface {
	// Revoke records r. Recording the same (Kind, Key) again merges the two
	// (see Revocation.Merge): the later Until and the later Before are kept,
	// so a revocation is never shortened. A revocation whose Until is not
	// after now is not live at all: Revoke records nothing and returns nil.
	//
	// Revoke fails with an error wrapping ErrRevocationsFull, and records
	// nothing, when r is not live at now already and the backend holds its
	// cap of revocations live at now; expired revocations do not count.
	// Merging into a live revocation needs no room and always succeeds.
	//
	// An r that fails Validate, or a now out of range (CheckTime), is an
	// error and records nothing. A ctx already done on entry fails the call
	// and records nothing.
	Revoke(ctx context.Context, r Revocation, now time.Time) error

	// Revocations returns every revocation live at now, in no particular
	// order.
	Revocations(ctx context.Context, now time.Time) ([]Revocation, error)

	// Close releases the backend. It is idempotent; after it, Revoke and
	// Revocations return ErrClosed. A backend that is also a Store has one
	// Close for both.
	Close() error
}

// RevocationCursor marks a place in a backend's sequence of changes to its
// revocations, so that a reader can ask for what changed after it
// (RevocationFeed). The zero cursor is the start: everything.
type RevocationCursor struct {
	// Epoch names the backend's history. A backend that lost its state (a
	// Redis server restarted without persistence, or emptied with
	// FLUSHALL) starts a new history with a new Epoch.
	Epoch string
	// Seq counts the changes of the history; each change gets the next
	// number.
	Seq int64
	// Change identifies a change the reader saw at or after Seq, for a
	// backend whose history can be rolled back under the same Epoch (a
	// Redis restarted from an older snapshot, or a replica promoted while
	// it lagged): such a backend reports a Reset when it no longer holds
	// that change, even once new changes have brought its Seq back up.
	// Empty when the backend does not name its changes.
	Change string
}

// RevocationPage is one answer of RevocationFeed.RevocationsSince.
type RevocationPage struct {
	// Revocations are the revocations live at now that changed after the
	// cursor, each in its current form, in the order of their last change.
	Revocations []Revocation
	// Next is the cursor to pass to the next call.
	Next RevocationCursor
	// More reports that the page was cut at its limit: calling again with
	// Next returns more at once.
	More bool
	// Reset reports that the backend's history does not continue the
	// cursor passed in (its Epoch differs, its Seq is behind the
	// cursor's, or it no longer holds the cursor's Change): the backend
	// lost state. The page then starts from the beginning of the current
	// history, and the reader should write back the revocations it knows
	// that the backend lacks (Revoke merges them), so that readers that
	// start later learn them too.
	Reset bool
}

// RevocationFeed is a Revoker that can list its revocations incrementally,
// so that a reader catches up by reading what changed rather than the whole
// list. Every backend in this module implements it.
type RevocationFeed interface {
	Revoker
	// RevocationsSince returns the revocations live at now that changed
	// after cursor: at most limit of them (a limit of zero or less means
	// the backend's default page size), and the cursor to continue from.
	// The zero cursor lists every live revocation. See RevocationPage for
	// a backend that lost its state.
	RevocationsSince(ctx context.Context, cursor RevocationCursor, now time.Time, limit int) (RevocationPage, error)
}

// RevocationWatcher is a Revoker that pushes revocations to readers as they
// are recorded by any of its clients (store/redis does, with Redis pub/sub),
// so that they reach other instances faster than a periodic read would.
type RevocationWatcher interface {
	Revoker
	// WatchRevocations subscribes to the revocations recorded from now on
	// and calls revoked with each, in the calling goroutine, until ctx ends
	// (it then returns ctx's error), the backend is closed (ErrClosed) or
	// the subscription fails (any other error). It calls subscribed, when
	// not nil, once the subscription is in place.
	//
	// Delivery is best effort: revocations recorded while no subscription
	// is in place are not delivered. A reader therefore reads what changed
	// (RevocationsSince) after subscribed is called, and calls
	// WatchRevocations again after it returns.
	WatchRevocations(ctx context.Context, revoked func(Revocation), subscribed func()) error
}

// BatchRevoker is a Revoker that records many revocations at a cost well
// below one round trip each (store/redis pipelines them). A reader uses it
// to write back what a backend that lost its state has forgotten.
type BatchRevoker interface {
	Revoker
	// RevokeBatch records each of rs as Revoke would, with the same now.
	// When some fail it returns an error that wraps the first failure
	// (ErrRevocationsFull when the cap refused one); the others may have
	// been recorded. Writing the same batch again is harmless.
	RevokeBatch(ctx context.Context, rs []Revocation, now time.Time) error
}
