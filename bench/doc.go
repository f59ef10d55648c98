// Package bench holds the benchmark suite of slidingjwt; it has no API, only
// _test.go files, and nothing imports it.
//
// Run it, and summarise the runs, with:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./bench | tee bench.out
//	benchstat bench.out
//
// (make bench does both, then runs the request rows again with
// BENCH_HEAP_MB=64, below, all but renew/lru, renew/bolt and the renew/redis rows;
// BENCHTIME=300ms keeps it to a few minutes.) Only ratios between rows of one run carry over from one
// machine to another.
//
// # Request rows
//
// BenchmarkRequest sends requests through a real Echo instance with
// e.ServeHTTP: one GET route whose handler answers 200 with no body, the
// middleware registered on the route, no network, a response writer that
// keeps the headers and drops the body. Each row checks, after
// the timer, that every measured request got the status it should and
// X-New-Token exactly when it should, and fails otherwise. Tokens are HS256,
// with the claims the Issuer writes and a small "metadata" object. A row
// that sends one token sends it from 64 copies of it in turn: a server
// reads every request into a string of its own, never the one the
// verified-token cache keeps, so the cache compares the whole token.
//
//	bare              Echo alone, no middleware: the floor.
//	context-set       a middleware that only stores two values in the Echo
//	                  context (c.Set), as this one stores the token and its
//	                  claims: Echo allocates the context's map for them, and
//	                  this is the floor of check.
//	echojwt           labstack/echo-jwt/v4 with the same key, jwt.MapClaims,
//	                  the same token every time (it parses every time): the
//	                  baseline.
//	echojwt-cold      echo-jwt with the pre-minted tokens of check-cold, so
//	                  the two compare the same memory traffic.
//	check             a valid token not due for renewal, the same token every
//	                  time: an active client, served from the cache of
//	                  verified tokens; the request still gets its own
//	                  *jwt.Token and claims (deep copies).
//	check-revocation  check with Config.Revocations holding 10 000 revoked
//	                  sessions: the revocation check on the request path.
//	check-typed       check with Config.TypedClaimsOnly: the handler reads
//	                  claims through ClaimsFrom only, so no *jwt.Token, and
//	                  no copy of the claims map, is made for the request.
//	nethttp/check     check through the net/http door (package nethttp)
//	                  behind http.ServeMux instead of Echo.
//	nethttp/check-typed  the same, with TypedClaimsOnly.
//	check-cold        a valid token never seen before, a new one for every
//	                  request (b.N tokens minted before the timer), the
//	                  cache at its default size and filling up: the full
//	                  verification of the first request of every token.
//	check-cold-typed  check-cold with TypedClaimsOnly: the claims are read
//	                  into typed values only, and no claims map is made.
//	check-uncached    check with the verified-token cache off
//	                  (VerifiedCacheSize -1): every request verifies one
//	                  token in full, what a cache miss costs, without
//	                  check-cold's b.N tokens in memory; beside echojwt.
//	check-uncached-typed  the same, with TypedClaimsOnly.
//	invalid           a token whose signature does not match, answered 401;
//	                  failures are never cached.
//	ratelimited       a token due for renewal whose session this instance
//	                  has just renewed with it: the renewal is refused
//	                  without asking the store (what a client's concurrent
//	                  requests, or a client that keeps its old token, cost).
//	ratelimited-store the same, but another instance sharing the store
//	                  renewed the session, so the store is asked, and
//	                  refuses, on every request.
//	renew/<store>     a token due for renewal from a new session on every
//	                  request (minted before the timer): verify, ask the
//	                  store, record the renewal, sign and send a new token.
//	                  The worst case, paid once per session per renewal.
//	cookie/check      check with TOKEN_DELIVERY=cookie: the token in the
//	                  session cookie (a request that does not ask for
//	                  X-Session-Expires, as most of a page's do not).
//	cookie/renew/memory  renew/memory with the token in the session cookie,
//	                  renewed by Set-Cookie.
//
// Every row also runs as <row>/parallel with b.RunParallel, GOMAXPROCS
// goroutines. Besides ns/op, each row reports cpu-ns/op, the CPU time of
// the whole process (GC included) per request, which moves much less than
// ns/op when other processes compete for the CPUs.
//
// A benchmark process has next to nothing live, so Go's minimum heap goal
// (4 MB) makes the collector run hundreds of times a second, and the rows
// that allocate little per request (context-set, check, ratelimited: Echo's
// 360-byte context map) measure its cycles as much as their code. A serial
// row leaves the collector the idle second core; a parallel row makes it
// share the busy ones, and its mark phase, write barriers on, lasts longer.
// So on two cores check/parallel gains little over check, and
// context-set/parallel gains nothing, while bare, which allocates nothing,
// scales. BENCH_HEAP_MB=64 runs the rows beside 64 MB of live,
// pointer-free data, as an application holds: it spaces the collections
// and, being pointer-free, adds no marking work.
//
// renew/bolt writes a bbolt file, fsync on, in a temporary directory (set
// BENCH_DIR to put it on another file system) and reports commits/op: bbolt
// write transactions, each ending in fdatasync, per renewal. renew/redis
// needs redis-server on PATH (it is skipped otherwise), starts a private
// one, and reports roundtrips/op; its per-call limit is raised to 5s so
// that a loaded machine does not turn slow calls into skipped renewals.
// renew/redis-cluster is the same on a Redis Cluster of three primaries
// and three replicas on loopback (it needs redis-cli too), started once
// for the run, through a go-redis ClusterClient: the renewal keys spread
// over the three primaries, each renewal is still one round trip.
//
// # Micro rows
//
// BenchmarkMicro gives the cost of the pieces, for context: parse is
// golang-jwt's Parse of the token alone (as echo-jwt calls it), hmac-floor
// the least any verifier must do (base64url-decode the token and check its
// HMAC-SHA256, no JSON, no allocation), issue the Issuer minting a login
// token, sign golang-jwt signing the same claims.
//
// # Memory rows
//
// BenchmarkSessions records 1 000 000 sessions, all within one interval, in
// a store and reports the live heap it then holds per entry, keys included
// (runtime.MemStats after a GC): store/memory holds them all (B/session),
// store/lru keeps its default bound of 100 000 (B/entry). One op is the
// whole million. BenchmarkVerifiedCache fills the cache of verified tokens
// at its default size (84 520 slots) with four times as many distinct
// tokens (it is 8-way set-associative: fewer would leave sets short), about
// 340 000, minted in the op's untimed part, and reports the live heap
// per cached token (B/token), and which share of the last 1000 tokens are
// still cached (last-1000-hit-rate, as the middleware's observer counts
// cache hits).
package bench
