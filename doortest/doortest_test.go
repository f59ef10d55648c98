package doortest_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"

	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/nethttp"
)

// brokenEnv names, in the child process, the door mistake to make.
const brokenEnv = "DOORTEST_BROKEN_DOOR"

// mistake is one way a door can be wired wrong, and the scenarios that
// must catch it.
type mistake struct {
	name string
	// change alters the door: its middleware's config, or the handler it
	// returns.
	config  func(*nethttp.Config)
	handler func(http.Handler) http.Handler
	// caughtBy are scenarios that must fail.
	caughtBy []string
}

var mistakes = []mistake{
	{
		name:     "MountPrefix not passed to the middleware",
		config:   func(c *nethttp.Config) { c.MountPrefix = "" },
		caughtBy: []string{"MountPrefix"},
	},
	{
		name:     "events not passed on",
		config:   func(c *nethttp.Config) { c.OnRenewal = nil },
		caughtBy: []string{"Threshold", "RateLimit", "FailedResponsesWriteNothing", "SkipPaths"},
	},
	{
		name: "401 without WWW-Authenticate",
		config: func(c *nethttp.Config) {
			c.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintln(w, `{"message":"unauthorized"}`)
			}
		},
		caughtBy: []string{"Unauthorized", "SkipPaths", "SessionCap"},
	},
	{
		name:     "revocations not passed to the middleware",
		config:   func(c *nethttp.Config) { c.Revocations = nil },
		caughtBy: []string{"SignOut", "SignOutInFlight"},
	},
	{
		name: "X-New-Token exposed to every origin",
		handler: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Expose-Headers", engine.HeaderNewToken)
				next.ServeHTTP(w, r)
			})
		},
		caughtBy: []string{"ResponseHeaders"},
	},
	{
		name: "X-New-Token dropped by a later layer",
		handler: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(dropToken{w}, r)
			})
		},
		caughtBy: []string{"Threshold", "RenewedTokenClaims", "OneRenewalUnderConcurrency", "StreamingResponseCarriesToken"},
	},
	{
		name: "Set-Cookie dropped by a later layer",
		handler: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(dropCookies{w}, r)
			})
		},
		caughtBy: []string{"CookieRenewal", "CookieBoth", "CookieUnauthorized", "CookieSignIn"},
	},
	{
		name: "origin headers removed by a proxy",
		handler: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Del("Origin")
				r.Header.Del("Sec-Fetch-Site")
				next.ServeHTTP(w, r)
			})
		},
		caughtBy: []string{"CookieCrossOrigin", "CookieSignIn"},
	},
}

// dropCookies deletes every Set-Cookie when a handler writes the headers
// or the body, as a proxy that strips cookies would.
type dropCookies struct{ http.ResponseWriter }

func (d dropCookies) WriteHeader(status int) {
	d.Header().Del("Set-Cookie")
	d.ResponseWriter.WriteHeader(status)
}

func (d dropCookies) Write(b []byte) (int, error) {
	d.Header().Del("Set-Cookie")
	return d.ResponseWriter.Write(b)
}

// dropToken deletes X-New-Token when a handler writes the headers or the
// body (a response nothing was written to leaves without it seeing it).
type dropToken struct{ http.ResponseWriter }

func (d dropToken) WriteHeader(status int) {
	d.Header().Del(engine.HeaderNewToken)
	d.ResponseWriter.WriteHeader(status)
}

func (d dropToken) Write(b []byte) (int, error) {
	d.Header().Del(engine.HeaderNewToken)
	return d.ResponseWriter.Write(b)
}

// door is the net/http door, with m's mistake when m is not nil.
func door(m *mistake) doortest.Door {
	return func(t testing.TB, s doortest.Setup) http.Handler {
		t.Helper()
		cfg := nethttp.Config{
			Settings:    s.Settings,
			Store:       s.Store,
			Keys:        s.Keys,
			Now:         s.Now,
			MountPrefix: s.MountPrefix,
			OnRenewal:   func(_ *http.Request, ev engine.Event) { s.OnRenewal(ev) },
			Observer:    s.Observer,
			Revocations: s.Revocations,
		}
		if m != nil && m.config != nil {
			m.config(&cfg)
		}
		mw, err := cfg.ToMiddleware()
		if err != nil {
			t.Fatalf("nethttp.Config.ToMiddleware: %v", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
		api := func(path string, h http.HandlerFunc) { mux.Handle("GET "+s.MountPrefix+"/api"+path, mw(h)) }
		me := func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, nethttp.ClaimsFrom(r.Context()).Subject)
		}
		api("/me", me)
		mux.Handle("POST "+s.MountPrefix+"/api/me", mw(http.HandlerFunc(me)))
		mux.HandleFunc("/signin", func(w http.ResponseWriter, r *http.Request) {
			if err := nethttp.SetSessionCookie(w, r, s.Delivery, r.Header.Get("X-Signin-Token")); err != nil {
				se := engine.AsSignInError(err)
				http.Error(w, se.Message, se.Status)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		for path, body := range map[string]string{"/status": "idle", "/status/deep": "idle", "/statusx": "x"} {
			api(path, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) })
		}
		api("/forbidden", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
		api("/boom", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
		api("/silent", func(http.ResponseWriter, *http.Request) {})
		if s.SignOut != nil {
			mux.Handle("POST "+s.MountPrefix+"/api/logout", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := s.SignOut(r.Context(), nethttp.ClaimsFrom(r.Context())); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})))
		}
		api("/stream", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			for i := range 3 {
				fmt.Fprintf(w, "chunk %d\n", i)
				_ = http.NewResponseController(w).Flush()
			}
		})
		if m != nil && m.handler != nil {
			return m.handler(mux)
		}
		return mux
	}
}

// TestBrokenDoorChild runs the table, with the memory store, against one
// broken door; it runs only in the child process TestRunCatchesBrokenDoors
// starts.
func TestBrokenDoorChild(t *testing.T) {
	name, ok := os.LookupEnv(brokenEnv)
	if !ok {
		t.Skip("run by TestRunCatchesBrokenDoors")
	}
	i := slices.IndexFunc(mistakes, func(m mistake) bool { return m.name == name })
	if i < 0 {
		t.Fatalf("%s = %q names no mistake", brokenEnv, name)
	}
	// Memory only: see RunMemoryOnly. TestRun runs every store.
	doortest.RunMemoryOnly(t, door(&mistakes[i]))
}

// TestRunCatchesBrokenDoors: the table fails a door wired wrong, in the
// scenarios that check what the mistake breaks. Run fails its *testing.T,
// so each broken door runs in a child process of this test binary.
func TestRunCatchesBrokenDoors(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in the child process")
	}
	failed := regexp.MustCompile(`(?m)^    --- FAIL: TestBrokenDoorChild/(\w+) `)
	for _, m := range mistakes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenDoorChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the table passed a door with the mistake %q:\n%s", m.name, out)
			}
			var got []string
			for _, sm := range failed.FindAllStringSubmatch(string(out), -1) {
				got = append(got, sm[1])
			}
			for _, want := range m.caughtBy {
				if !slices.Contains(got, want) {
					t.Errorf("scenario %s did not fail; failed: %q", want, got)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}

// TestRun: the table passes the net/http door as it should be wired, with
// every store.
func TestRun(t *testing.T) { doortest.Run(t, door(nil)) }
