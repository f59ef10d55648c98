package nethttp_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/slidingjwt/slidingjwt/doortest"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/nethttp"
)

// muxDoor is the net/http application doortest.Run drives: the routes
// doortest.Door lists on an http.ServeMux, each under MountPrefix and
// behind the middleware, and /health without it.
func muxDoor(t testing.TB, s doortest.Setup) http.Handler {
	t.Helper()
	mw, err := nethttp.Config{
		Settings:    s.Settings,
		Store:       s.Store,
		Keys:        s.Keys,
		Now:         s.Now,
		MountPrefix: s.MountPrefix,
		OnRenewal:   func(_ *http.Request, ev engine.Event) { s.OnRenewal(ev) },
		Observer:    s.Observer,
		Revocations: s.Revocations,
	}.ToMiddleware()
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
	api("/status", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "idle") })
	api("/status/deep", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "idle") })
	api("/statusx", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "x") })
	api("/forbidden", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	api("/boom", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	})
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
		rc := http.NewResponseController(w)
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			if err := rc.Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
		}
	})
	return mux
}

// TestDoorScenarios runs the scenario table every front door passes.
func TestDoorScenarios(t *testing.T) { doortest.Run(t, muxDoor) }
