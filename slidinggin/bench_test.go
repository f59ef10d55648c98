package slidinggin_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/slidinggin"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// The rows of BenchmarkRequest in this module: the Gin door's rows of the
// root module's bench package (check, check-typed, invalid, renew/memory)
// beside a bare Gin row, all serving one route with the same handler.

// benchPath is the one route every row serves.
const benchPath = "/api/me"

// benchSettings are the defaults with a test secret and an interval long
// enough that a renewed session stays refused for the whole run.
func benchSettings() config.Settings {
	s := config.Default()
	s.Secret = testSecret
	s.MinRenewInterval = time.Hour
	return s
}

// benchHandler is the route's handler in every row: 200, no body.
func benchHandler(c *gin.Context) { c.Status(http.StatusOK) }

// benchRouter returns a Gin engine with the one route, behind the
// middleware built from cfg unless bare, and the issuer of its tokens.
func benchRouter(b *testing.B, cfg slidinggin.Config, bare bool) (*gin.Engine, *token.Issuer) {
	b.Helper()
	cfg.Settings = benchSettings()
	issuer, err := token.NewIssuer(cfg.Settings, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	if bare {
		r.GET(benchPath, benchHandler)
		return r, issuer
	}
	st := memory.New(nil)
	b.Cleanup(func() { _ = st.Close() })
	cfg.Store, cfg.Keys = st, issuer.Keys()
	mw, err := cfg.ToMiddleware()
	if err != nil {
		b.Fatal(err)
	}
	r.GET(benchPath, mw, benchHandler)
	return r, issuer
}

// bearers mints n tokens of n sessions issued age ago, as Authorization
// values, on every CPU.
func bearers(b *testing.B, issuer *token.Issuer, n int, age time.Duration) []string {
	b.Helper()
	out := make([]string, n)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				var tok string
				tok, _, errs[w] = issuer.IssueAt(time.Now().Add(-age), "alice", "user", nil)
				out[i] = "Bearer " + tok
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// sink keeps the status and headers of a response and discards its body;
// it is reused from one request to the next.
type sink struct {
	h    http.Header
	code int
}

func (s *sink) Header() http.Header { return s.h }

func (s *sink) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(p), nil
}

// benchServe measures b.N requests to h, serially or with b.RunParallel,
// each with the Authorization value next gives (none when next is nil),
// and checks after the timer that each got status, and a new token when
// renewed.
func benchServe(b *testing.B, h http.Handler, next func() string, parallel bool, status int, renewed bool) {
	b.Helper()
	var got, news atomic.Int64
	loop := func(more func() bool) {
		req := httptest.NewRequest(http.MethodGet, benchPath, nil)
		auth := []string{""}
		if next != nil {
			req.Header["Authorization"] = auth
		}
		s := &sink{h: make(http.Header)}
		var n, m int64
		for more() {
			if next != nil {
				auth[0] = next()
			}
			clear(s.h)
			s.code = 0
			h.ServeHTTP(s, req)
			if s.code == status {
				n++
			}
			if _, ok := s.h[slidinggin.HeaderNewToken]; ok {
				m++
			}
		}
		got.Add(n)
		news.Add(m)
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) { loop(pb.Next) })
	} else {
		i := 0
		loop(func() bool { i++; return i <= b.N })
	}
	b.StopTimer()
	if got.Load() != int64(b.N) {
		b.Fatalf("%d of %d requests got %d", got.Load(), b.N, status)
	}
	want := int64(0)
	if renewed {
		want = int64(b.N)
	}
	if news.Load() != want {
		b.Fatalf("%d of %d requests got %s, want %d", news.Load(), b.N, slidinggin.HeaderNewToken, want)
	}
}

// one returns a next that gives v every time.
func one(v string) func() string { return func() string { return v } }

// each returns a next that gives each of list once, from any goroutine.
func each(list []string) func() string {
	var i atomic.Int64
	return func() string { return list[i.Add(1)-1] }
}

func BenchmarkRequest(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	rows := []struct {
		name string
		run  func(b *testing.B, parallel bool)
	}{
		{"bare", func(b *testing.B, parallel bool) {
			r, _ := benchRouter(b, slidinggin.Config{}, true)
			benchServe(b, r, nil, parallel, http.StatusOK, false)
		}},
		{"check", func(b *testing.B, parallel bool) {
			r, issuer := benchRouter(b, slidinggin.Config{}, false)
			benchServe(b, r, one(bearers(b, issuer, 1, 0)[0]), parallel, http.StatusOK, false)
		}},
		{"check-token", func(b *testing.B, parallel bool) {
			// Each request also gets its own *jwt.Token under "user".
			r, issuer := benchRouter(b, slidinggin.Config{ContextKey: "user"}, false)
			benchServe(b, r, one(bearers(b, issuer, 1, 0)[0]), parallel, http.StatusOK, false)
		}},
		{"invalid", func(b *testing.B, parallel bool) {
			r, issuer := benchRouter(b, slidinggin.Config{}, false)
			tok := bearers(b, issuer, 1, 0)[0]
			// Change the signature's first character: the token still
			// decodes, its signature does not match.
			sig := strings.LastIndexByte(tok, '.') + 1
			c := byte('A')
			if tok[sig] == 'A' {
				c = 'B'
			}
			bad := tok[:sig] + string(c) + tok[sig+1:]
			benchServe(b, r, one(bad), parallel, http.StatusUnauthorized, false)
		}},
		{"renew/memory", func(b *testing.B, parallel bool) {
			r, issuer := benchRouter(b, slidinggin.Config{}, false)
			// 40 h old of 48: due, each token a session of its own.
			benchServe(b, r, each(bearers(b, issuer, b.N, 40*time.Hour)), parallel, http.StatusOK, true)
		}},
	}
	for _, row := range rows {
		b.Run(row.name, func(b *testing.B) { row.run(b, false) })
		b.Run(row.name+"/parallel", func(b *testing.B) { row.run(b, true) })
	}
}
