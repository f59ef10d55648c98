// Package redis is a store.Store kept in Redis, for applications that run
// several instances behind a load balancer: every instance asks the same
// server, so a session renews at most once per interval however its
// requests are spread. A single instance is better served by store/memory
// (no network) or store/bolt (survives restarts, no server to run).
//
// It uses github.com/redis/go-redis/v9. Open dials from a URL and owns the
// client; New wraps a client the application already has (a Sentinel
// failover client, a Cluster client, one with custom TLS or credentials)
// and leaves it open on Close.
//
// # How it works
//
// Each Store.Allow is one round trip: a short Lua script, sent with EVALSHA
// (EVAL the first time a server sees it), reads the key's last renewal,
// compares it with the caller's now, and records now only when the caller is
// outside the refusal window. The script runs atomically on the server, so
// of any number of concurrent callers, in any number of processes, exactly
// one wins. The comparison uses the caller's clock, never Redis's, as the
// store contract requires. Last is one GET.
//
// A key is stored as KeyPrefix followed by the caller's key, and its value is
// the renewal time in Unix nanoseconds as a decimal string. Each write sets
// an expiry of twice the interval (at least one second), so Redis itself
// forgets sessions that stopped renewing: there is nothing to sweep, and
// memory stays bounded by the sessions active within two intervals. Twice
// the interval keeps an entry alive for as long as it can refuse anything,
// provided the instances' clocks agree to within one interval.
//
// # Redis Cluster
//
// Every command touches a single key, so the store works unchanged with a
// *redis.ClusterClient passed to New; keys spread over the slots by their
// hash. Do not put a hash tag ("{...}") in KeyPrefix unless you want every
// session on one shard. Replication is asynchronous: after a failover the
// new primary may have missed the latest renewals, which lets those sessions
// renew once more, early. Nothing worse can happen.
//
// # Failures and timeouts
//
// Every call is bounded by Options.Timeout (default 250ms) and by the
// caller's context, whichever ends first. (go-redis stops a socket read at a
// deadline but does not watch for cancellation, so a context cancelled while
// the answer is awaited ends the call at the latest when Timeout runs out;
// the error then wraps context.Canceled.) When Redis is down, slow or
// unreachable, Allow returns an error within that bound and the middleware
// serves the request without renewing the token; the session keeps its
// current token and tries again on a later request. A Store needs no
// reconstruction after an outage: the client reconnects by itself. (After
// a run of failed dials go-redis fails calls at once and probes the server
// about once a second, so renewals resume within a second or so of Redis
// coming back. It reports failed dials through its own logger; see
// redis.SetLogger in go-redis.)
//
// A client owned by the Store (Open) honours context deadlines on the socket
// and makes no retries of its own, so Timeout is the whole budget. For a
// client given to New, set ContextTimeoutEnabled: true in its go-redis
// options; without it a stalled socket read lasts the client's ReadTimeout
// (seconds, by default) however short Timeout is. Consider MaxRetries: -1
// too: once deadlines are honoured retries cannot outlast Timeout, they only
// spend it.
//
// # Cost
//
// One round trip per renewal candidate, which is a request whose token is
// close enough to expiry to be renewed, not every request. On loopback that
// is tens of microseconds; across a network it is the network's round trip.
//
// # Revocations
//
// The Store is also a store.RevocationFeed, a store.RevocationWatcher and a
// store.BatchRevoker, so that a fleet shares its sign-outs: package
// revocation keeps an in-process copy on each instance. Revoke is one Lua
// script that deletes expired revocations, enforces
// Options.MaxRevocations across every instance atomically, merges the
// revocation with the one recorded and publishes it on a channel that
// WatchRevocations subscribes to. Every change takes the next number of a
// sequence, so RevocationsSince reads only what changed after a reader's
// cursor, not the whole list. The keys, all under
// Options.RevocationKeyPrefix and one Redis Cluster hash tag, are described
// in revoke.go; they carry no expiry of their own (the scripts delete
// expired revocations), so a maxmemory-policy of volatile-* never evicts
// them; do not use allkeys-*.
//
// Run Redis with its append-only file (appendonly yes, appendfsync
// everysec or always) so that revocations survive a restart of the
// server. A server that comes back without them, or is emptied with
// FLUSHALL, starts a new history (a new epoch): readers see a Reset and
// write back the revocations they hold that it lacks, so none is
// forgotten while an instance that knew it runs.
//
// A server can also come back older under the same epoch: restarted from
// an RDB snapshot, after losing the last second of an append-only file
// fsynced every second, or a replica promoted while it lagged. Each change
// therefore gets a random id, kept for the latest 20 000 changes, and a
// reader's cursor names the newest change it saw: a server that no longer
// holds it has lost history, whatever its sequence number says, and the
// reader sees a Reset as above (package revocation counts these in
// List.Resets and List.WrittenBack). A reader that falls more than 20 000
// changes behind sees a Reset too, and writes back nothing.
//
// # Format
//
// The revocation keys hold a format version ({prefix}format, "2" in this
// release; earlier releases wrote the same data, log, seq and epoch keys
// without it and without the history key). A store that finds a format it
// does not know fails its reads and writes of revocations with an error
// naming it, so a list that cannot read them turns stale and, with
// revocation.Refuse, refuses, rather than misreading them. In a fleet
// being upgraded from an earlier release, both read and write the same
// records; the earlier release ignores the history and format keys, and
// the later one checks a cursor only against the changes it wrote itself,
// so a rollback that loses only earlier-release changes goes unseen until
// the upgrade is complete.
//
// # Lifecycle
//
// A Store is safe for concurrent use. Close marks it closed (later calls
// return store.ErrClosed) and closes the client if the Store opened it.
package redis
