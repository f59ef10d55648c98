// Package doortest holds the end-to-end scenarios every front door of
// slidingjwt runs (the Echo v4 middleware, the net/http middleware, the
// Echo v5 middleware, and any door an application writes over package
// engine), the way store/storetest holds the contract every store runs.
//
// A door takes part by building, from a Setup, an http.Handler that serves
// the routes Door describes behind its middleware; Run sends real HTTP
// requests through it (httptest), on a clock the scenarios move, and checks
// status, headers, tokens and store calls. Every scenario runs with every
// store backend of the module (memory, lru, bolt, and redis on a real
// redis-server), so a door is checked with the store an application picks.
package doortest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/engine"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/token"
)

// Setup is what a door's application is built from. Run sets every field
// (MountPrefix only in the scenario that mounts the routes under a prefix;
// it is "" elsewhere); the door passes each to its middleware's Config
// field of the same name (OnRenewal adapted to the door's callback
// signature).
type Setup struct {
	Settings    config.Settings
	Store       store.Store
	Keys        *token.KeySet
	Now         func() time.Time
	MountPrefix string
	// OnRenewal must be called with every event the door's middleware
	// reports.
	OnRenewal func(ev engine.Event)
	// Observer is the door's Config.Observer.
	Observer engine.Observer
	// Revocations is the door's Config.Revocations.
	Revocations *revocation.List
	// SignOut, when set, is what POST /api/logout calls with the request's
	// typed claims (see Door); nil in every scenario but the one that signs
	// out while the request is in flight.
	SignOut func(ctx context.Context, claims *token.Claims) error
	// Delivery is what the door's sign-in helper (SetSessionCookie) is
	// given in the /signin route: engine.NewDelivery of Settings, Keys,
	// Now and Revocations.
	Delivery *engine.Delivery
}

// Door builds the application under test: the door's middleware, built from
// s (its defaults for everything Setup does not set), in front of these
// routes, each under MountPrefix when set (s.MountPrefix + "/api/me"):
//
//	GET /api/me            200, body: the sub claim, read through the door's typed claims accessor
//	POST /api/me           the same
//	GET /api/status        200 "idle" (Run makes /api/status a renewal skip path)
//	GET /api/status/deep   200 "idle"
//	GET /api/statusx       200 "x"
//	GET /api/forbidden     403
//	GET /api/boom          500
//	GET /api/silent        the handler writes nothing (net/http then sends 200)
//	GET /api/stream        200, written, then three chunks, "chunk 0\n",
//	                       "chunk 1\n" and "chunk 2\n", each flushed
//	POST /api/logout       calls Setup.SignOut with the request's claims
//	                       (the door's typed claims accessor), then 204;
//	                       500 when it fails (registered when SignOut is set)
//
// and, without the middleware, any method of /signin (never under
// MountPrefix), which calls the door's sign-in helper with s.Delivery and
// the token in the request's X-Signin-Token header, then answers 204; the
// helper's answer when it refuses (its status and message); and GET
// /health, 200 "ok" (Run requests it only
// when MountPrefix is empty). Any other path answers 404, whether or not
// the door's router runs the middleware for it first (an Echo group does,
// http.ServeMux does not). A body may end with a newline.
//
// A door fails t (t.Fatal) when its middleware cannot be built, and
// releases what it starts with t.Cleanup. Run calls it once per
// application, from parallel subtests, each time with a Setup of its own.
type Door func(t testing.TB, s Setup) http.Handler
