// Package bolt is a store.Store kept in a bbolt file (go.etcd.io/bbolt), so
// that recorded renewals survive a restart of the process.
//
// Choose it for a single instance whose sessions must not all become
// renewable again when it restarts, and that has no Redis at hand. A bbolt
// file can be opened for writing by one process at a time: the store is for
// one process. Several instances that share sessions need store/redis; an
// instance that can forget renewals on restart is faster with store/memory.
//
// # Durability and speed
//
// When Allow reports true, the renewal is committed and synced to the file:
// it survives a crash of the process (kill -9) as soon as Allow returns.
// Concurrent renewals share one commit: a single writer goroutine takes
// every renewal queued while the previous commit was syncing and writes them
// in one transaction, without waiting for more to arrive. A lone renewal
// therefore costs one commit, and many concurrent renewals cost much less
// than one commit each.
//
// The entries that can still refuse a renewal are mirrored in memory, and
// Allow decides from that copy: a refused call does not touch the file and
// costs about as much as a refusal by store/memory.
//
// # Bound
//
// An entry is useless once its interval has passed, so it is dropped from
// memory and from the file. A background goroutine does this every
// Options.PrunePeriod, deleting in write transactions of bounded size so
// that a large file never holds up renewals for long; Prune runs the same
// pass on demand. Because the caller owns the clock, the pruner measures age
// against the now of the latest granted renewal, never against the wall
// clock. Memory and file therefore hold about the sessions renewed within
// one interval plus one prune period. (After the caller's clock steps back,
// entries recorded before the step stay until the clock catches up again.)
// A reopened store loads every record in the file, however old it looks,
// and its pruner waits for the first renewal it grants to learn the
// caller's clock.
// bbolt reuses the pages it frees but never shrinks its file.
//
// # Revocations
//
// The Store is also a store.RevocationFeed: revocations (sign-outs) live in
// a bucket of their own, Options.RevocationBucket, bounded by
// Options.MaxRevocations and by expiry, never by the renewals. Revoke
// commits and syncs its record before it returns, so a revoked session
// stays revoked after kill -9 and a reopen; every revocation in the file is
// loaded when the store opens. See revoke.go for the record format.
//
// # Lifecycle
//
// Open opens (or creates) a file and owns it; New uses a *bbolt.DB the
// application already has open and leaves it open. Either loads the recorded
// renewals and starts the writer and the pruner. Close stops both, waits for
// them, and closes the file if Open opened it; later calls return
// store.ErrClosed. A Store is safe for concurrent use.
package bolt
