package bench

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/internal/testkit"

	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// activeSizes are the numbers of active sessions BenchmarkActiveSessions
// runs with.
var activeSizes = []int{1_000, 10_000, 100_000, 1_000_000}

const (
	// zipfS is the exponent of the Zipf access pattern (math/rand/v2
	// needs s > 1); zipfDraws how many session indices it pre-draws, used
	// in a cycle.
	zipfS     = 1.1
	zipfDraws = 1 << 22
	// activeWarm is how many requests of its own access pattern a row
	// serves after every session's first request, before it measures
	// anything: enough to fill the verified-token cache with the tokens
	// the pattern keeps sending.
	activeWarm = 1 << 17
)

// activePattern is an access pattern: the order in which the sessions send
// their requests, as indices into the tokens.
type activePattern struct {
	name  string
	order func(n int) []uint32
}

var activePatterns = []activePattern{
	// round-robin: every session in turn, so each token comes back only
	// after all the others: the verified-token cache's worst case once n
	// exceeds it.
	{"round-robin", func(n int) []uint32 {
		seq := make([]uint32, n)
		for i := range seq {
			seq[i] = uint32(i)
		}
		return seq
	}},
	// zipf: session i is drawn with a probability proportional to
	// 1/(1+i)^1.1, with a fixed seed: a few sessions send most requests,
	// as in real traffic, and the long tail misses the cache.
	{"zipf", func(n int) []uint32 {
		z := rand.NewZipf(rand.New(rand.NewPCG(25, uint64(n))), zipfS, 1, uint64(n-1))
		seq := make([]uint32, zipfDraws)
		for i := range seq {
			seq[i] = uint32(z.Uint64())
		}
		return seq
	}},
}

// activeVariant is a server of the rows: build returns its handler and
// what releases it.
type activeVariant struct {
	name  string
	build func(b *testing.B) (http.Handler, func())
}

var activeVariants = []activeVariant{
	{"ours", func(b *testing.B) (http.Handler, func()) {
		st := memory.New(nil)
		return newApp(b, st, middleware.Config{}).e, func() { _ = st.Close() }
	}},
	{"ours-typed", func(b *testing.B) (http.Handler, func()) {
		st := memory.New(nil)
		return newApp(b, st, middleware.Config{TypedClaimsOnly: true}).e, func() { _ = st.Close() }
	}},
	{"echojwt", func(*testing.B) (http.Handler, func()) {
		return newEcho(echojwt.WithConfig(echojwt.Config{SigningKey: []byte(secret)})), func() {}
	}},
}

// BenchmarkActiveSessions sends requests with the tokens of n active
// sessions (n in activeSizes), one valid token per session, none due for
// renewal, so that every row measures the check path, through Echo as
// BenchmarkRequest does, in two access patterns (activePatterns) and to
// three servers: ours with the default settings, ours-typed with
// Config.TypedClaimsOnly, and echojwt (labstack/echo-jwt/v4) with the same
// key and the same tokens in the same order. Rows are named
// n=<n>/<pattern>/<server>.
//
// Each row first builds its server and warms it: every session's token
// once, in order, then activeWarm requests of the row's pattern. It then
// reports B/session: the live heap (after a full collection) with the
// warmed server, less the live heap before the server was built, divided
// by n. That is what the server keeps for its active sessions: the
// verified-token cache's slots and entries (ours), Echo's own few
// structures, and the store's entries (none: nothing is renewed). It does
// not count the tokens' own bytes, which the benchmark holds before and
// after, as the clients do: with the default lookup a cache entry keeps
// the request's header string, not a copy (BenchmarkVerifiedCache counts
// those bytes per entry, so its B/token is larger). echojwt keeps nothing
// per token; its B/session is Echo's own structures spread over n.
//
// The measured requests continue the pattern where the warm-up stopped,
// and each further -count of the row continues on the same warmed server,
// so a million sessions are warmed once per row, not once per count;
// B/session is measured once per row and reported with every count. After
// the timer each row checks that every request, warm-up included, got 200
// and no new token. Like the request rows, each row also reports
// cpu-ns/op.
//
// The tokens are pre-minted, and kept in a test cache between runs (see
// activetokens_test.go); the rows of one n share them and hold them live
// while they run: about 350 bytes a session (strings, which the collector
// need not scan, and a slice of them), so the rows of a larger n run
// beside a larger live heap, and the collector runs less often, for the
// three servers alike. Compare servers within one n and pattern.
func BenchmarkActiveSessions(b *testing.B) {
	for _, n := range activeSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var tokens []string // minted or read when a row first needs them
			for _, pat := range activePatterns {
				b.Run(pat.name, func(b *testing.B) {
					var order []uint32
					for _, v := range activeVariants {
						var r *activeRow // one per row, across its counts
						b.Run(v.name, func(b *testing.B) {
							if r == nil {
								if tokens == nil {
									tokens = activeBearers(b, n)
								}
								if order == nil {
									order = pat.order(n)
								}
								r = newActiveRow(b, v, tokens, order)
							}
							r.measure(b)
						})
						if r != nil {
							r.close()
							r = nil
						}
					}
				})
			}
		})
	}
}

// activeRow is one row's server, warmed, and where its pattern has got to.
type activeRow struct {
	h          http.Handler
	close      func()
	tokens     []string
	order      []uint32
	next       int     // index into order of the next request
	perSession float64 // B/session
	req        *http.Request
	auth       []string
	sink       *sink
}

// newActiveRow builds v's server, warms it, and measures the heap it
// keeps per session.
func newActiveRow(b *testing.B, v activeVariant, tokens []string, order []uint32) *activeRow {
	b.Helper()
	r := &activeRow{tokens: tokens, order: order, auth: []string{""}, sink: newSink()}
	r.req = httptest.NewRequest(http.MethodGet, path, nil)
	r.req.Header[echo.HeaderAuthorization] = r.auth
	before := testkit.LiveHeap()
	r.h, r.close = v.build(b)
	var l local
	refused, status := -1, 0 // the first session whose token is not answered 200
	for i, tok := range tokens {
		r.serve(tok, &l)
		if r.sink.code != http.StatusOK && refused < 0 {
			refused, status = i, r.sink.code
		}
	}
	warm := min(activeWarm, len(order))
	for range warm {
		r.step(&l)
	}
	after := testkit.LiveHeap()
	r.perSession = (float64(after) - float64(before)) / float64(len(tokens))
	if refused >= 0 {
		b.Logf("session %d: its token got %d; its claims: %s", refused, status, payloadOf(tokens[refused]))
	}
	var t tally
	t.add(&l)
	t.check(b, int64(len(tokens)+warm), want{status: http.StatusOK})
	return r
}

// payloadOf returns the decoded claims of the token in the Authorization
// value auth, to say which token a server refused.
func payloadOf(auth string) string {
	parts := strings.Split(auth, ".")
	if len(parts) != 3 {
		return "(not a JWT)"
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(p)
}

// serve sends one request with the Authorization value auth.
func (r *activeRow) serve(auth string, l *local) {
	r.auth[0] = auth
	clear(r.sink.h)
	r.sink.code = 0
	r.h.ServeHTTP(r.sink, r.req)
	l.record(r.sink)
}

// step sends the next request of the row's pattern.
func (r *activeRow) step(l *local) {
	r.serve(r.tokens[r.order[r.next]], l)
	if r.next++; r.next == len(r.order) {
		r.next = 0
	}
}

// measure times requests of the row's pattern and checks them after the
// timer.
func (r *activeRow) measure(b *testing.B) {
	b.Helper()
	var l local
	var n int64
	b.ReportAllocs()
	runtime.GC()
	cpu0, cpuOK := cpuTime()
	for b.Loop() {
		r.step(&l)
		n++
	}
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
	b.ReportMetric(r.perSession, "B/session")
	var t tally
	t.add(&l)
	t.check(b, n, want{status: http.StatusOK})
}
