// Package revocation keeps, in each instance of an application, the copy of
// the revoked sessions that requests are checked against: sign-out that
// holds for a token that was copied, and "log out everywhere" for a user.
//
// It imports package store only (no Echo, no JWT): the front doors call
// Check on the request path with keys they derive from the verified token,
// and a /logout handler calls RevokeSession or RevokeSubject.
//
//	list, err := revocation.New(ctx, revocation.Options{Backend: st}) // st: a store/redis Store, say
//	if err != nil { ... }                                             // only for bad Options
//	defer list.Close()                                                // before st.Close()
//
//	// on each request, after the token is verified:
//	switch list.Check(store.SessionRevocationKey(sid), store.SubjectRevocationKey(sub), authTime, now) {
//	case revocation.Revoked:  // 401, the session has ended
//	case revocation.NotReady: // 503, the list is not loaded (or stale, with WhenStale: Refuse)
//	}
//
//	// in /logout:
//	err := list.RevokeSession(ctx, store.SessionRevocationKey(sid), until)
//	// errors.Is(err, store.ErrRevocationsFull): 503
//
// # What is revoked
//
// A session revocation matches every token of one session, whenever it was
// issued; a subject revocation matches the tokens of one subject whose
// auth_time (else iat) is before its cut-off, so the user can sign in again
// at once. Both last until their Until, which the caller sets past the
// latest expiry any matching token can have; after it the revocation is
// forgotten everywhere, which bounds the list.
//
// # How a revocation travels
//
// RevokeSession and RevokeSubject write to the backend (Options.Backend,
// a store.Revoker) and then to the local copy, so the instance that signs a
// user out refuses the token on the very next request. Other instances
// learn it two ways: a watch (store.RevocationWatcher: Redis pub/sub with
// store/redis) delivers it within a round trip or two, and a catch-up read
// every Options.CatchUp (default 1s) fetches what changed since the last
// one (store.RevocationFeed), so a lost message or a reconnect delays a
// revocation by one period at most, and costs no full read.
//
// # Start, outage, lost state
//
// New loads the list before it returns. When the backend is unreachable,
// the List is not Ready and Check answers NotReady (503) until a
// background retry loads it: an instance without the list cannot tell a
// revoked token from a good one. After that, an unreachable backend makes
// the copy stale: by default Check goes on answering from it
// (ServeLastKnown); with WhenStale: Refuse it answers NotReady once the
// last successful catch-up is older than Options.StaleAfter. Staleness
// reports the age, so operators can alert on it.
//
// The copy never forgets a revocation before its Until, whatever the
// backend says later. When the backend is seen to have lost its state (a
// Redis server restarted without its append-only file, or emptied with
// FLUSHALL: a new history; restarted from an older snapshot, or a replica
// promoted while it lagged: the same history, rolled back; see
// store.RevocationPage.Reset), each List writes back the live revocations
// the backend lacks, so that an instance started afterwards learns them
// too. A revocation the List made or heard by a watch, and has not read
// back yet, counts: a catch-up that does not read it back shows it lost.
// Resets and WrittenBack count these events for metrics.
//
// # Cost and bounds
//
// Check takes no lock and allocates nothing: the copy is split in 1024
// shards, each holding one immutable table per kind behind an atomic
// pointer, and a per-table filter answers most keys that no revocation
// matches without a map look-up. A change copies the one table it touches
// and publishes the copy, so revocations cost more as the list grows (tens
// of microseconds per revocation at a million), which suits a list that
// every request reads and few change. The copy holds at most
// Options.MaxRevocations revocations made through it (more fail with
// store.ErrRevocationsFull and change nothing); BenchmarkMemory measures
// its size per revocation at a million.
//
// # Clocks
//
// The List reads Options.Now (time.Now by default) for the time of a
// revocation, for judging expiry during catch-up and for Staleness; Check
// is given the request's now. Instances sharing a backend should agree on
// the time to within the tokens' leeway.
package revocation
