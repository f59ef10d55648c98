package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/testkit"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// sessions is how many sessions BenchmarkSessions records.
const sessions = 1_000_000

// sessionKey returns the i-th session key, shaped like the middleware's: 32
// hex digits of a digest, in a string of its own that only the store keeps.
func sessionKey(i int) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:16])
}

// sizedStore is a store that reports how many entries it holds.
type sizedStore interface {
	store.Store
	Len() int
}

// BenchmarkSessions records one renewal for each of 1 000 000 sessions, all
// within one interval, and reports the live heap the store then holds per
// session it holds, keys included. One op is the whole 1 000 000.
func BenchmarkSessions(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(b *testing.B) sizedStore
		unit string
	}{
		{"memory", func(*testing.B) sizedStore {
			return memory.New(nil)
		}, "B/session"},
		{"lru", func(b *testing.B) sizedStore {
			st, err := lru.New(nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}, "B/entry"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			now := time.Now()
			var perEntry float64
			var held int
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				before := testkit.LiveHeap()
				b.StartTimer()
				st := tc.open(b)
				for i := range sessions {
					if ok, err := st.Allow(ctx, sessionKey(i), now, time.Hour); !ok || err != nil {
						b.Fatalf("Allow(session %d) = %v, %v; want true", i, ok, err)
					}
				}
				b.StopTimer()
				after := testkit.LiveHeap()
				held = st.Len()
				perEntry = float64(after-before) / float64(held)
				runtime.KeepAlive(st)
				_ = st.Close()
				b.StartTimer()
			}
			b.ReportMetric(perEntry, tc.unit)
			b.ReportMetric(float64(held), "entries")
		})
	}
}

// BenchmarkVerifiedCache fills the middleware's cache of verified tokens,
// at its default size, through Echo, and reports the live heap per cached
// token: its slot, the token itself, its verification (typed claims and
// digests), and its share of the claims maps the cache keeps (for at most
// one entry in eight). Each token is sent twice in a row: the first
// request takes the claims its verification decoded, and the second, a
// hit, asks the cache for its own copy, as every token in use does. The
// cache is set-associative (8 ways), so as many tokens as slots would
// leave some sets short and others overflowing; four times as many
// distinct tokens fill every set (each expects 32), so the cache then
// holds one token per slot. One op is the whole fill. last-1000-hit-rate
// is the share of the fill's last 1000 tokens, sent once more, that the
// middleware reports as cache hits.
func BenchmarkVerifiedCache(b *testing.B) {
	slots := (middleware.DefaultVerifiedCacheSize + 7) / 8 * 8 // rounded up to whole sets
	minter := newApp(b, memory.New(nil), middleware.Config{})
	var hitCount hitCounter
	var perEntry, hitRate float64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		list := minter.bearers(b, 4*slots, 0)
		var length int
		for _, v := range list {
			length += len(v) // a cached token keeps the header value
		}
		before := testkit.LiveHeap()
		b.StartTimer()
		a := newApp(b, memory.New(nil), middleware.Config{Observer: &hitCount})
		req := httptest.NewRequest(http.MethodGet, path, nil)
		auth := []string{""}
		req.Header[echo.HeaderAuthorization] = auth
		s := newSink()
		for _, v := range list {
			auth[0] = v
			for range 2 {
				clear(s.h)
				s.code = 0
				a.e.ServeHTTP(s, req)
				if s.code != http.StatusOK {
					b.Fatalf("status %d, want 200", s.code)
				}
			}
		}
		b.StopTimer()
		after := testkit.LiveHeap()
		// The list was live before and after; the cache shares the
		// strings of the tokens it holds, which count as its own.
		perEntry = float64(after-before)/float64(slots) + float64(length)/float64(len(list))
		// The last tokens of the fill again, counting the cache's hits as
		// the middleware reports them. Some must hit, or the row measured
		// no cache.
		hits0 := hitCount.hits.Load()
		for _, v := range list[len(list)-1000:] {
			auth[0] = v
			clear(s.h)
			s.code = 0
			a.e.ServeHTTP(s, req)
		}
		hits := int(hitCount.hits.Load() - hits0)
		runtime.KeepAlive(a)
		runtime.KeepAlive(list)
		if hits == 0 {
			b.Fatalf("none of the last 1000 tokens came from the cache: the row does not measure it")
		}
		hitRate = float64(hits) / 1000
		b.StartTimer()
	}
	b.ReportMetric(perEntry, "B/token")
	b.ReportMetric(hitRate, "last-1000-hit-rate")
}

// hitCounter is an engine.Observer that counts the requests served from the
// cache of verified tokens.
type hitCounter struct{ hits atomic.Int64 }

func (h *hitCounter) Request(_ *http.Request, o engine.Outcome) {
	if o == engine.OutcomeCacheHit {
		h.hits.Add(1)
	}
}
func (h *hitCounter) Renewal(*http.Request, engine.Event)       {}
func (h *hitCounter) StoreCall(*http.Request, engine.StoreCall) {}
