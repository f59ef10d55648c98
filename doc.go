// Package slidingjwt gives Go web services (Echo v4 and v5, net/http, Gin)
// sliding-window JWT expiration: a request that carries a valid token whose
// remaining lifetime has fallen below a threshold gets a fresh token in the
// X-New-Token response header, at most once per session per interval.
// Active users are never logged out; idle users still expire; an optional
// absolute cap ends every session after a fixed time; a user can sign out
// of one session or of all of them, on every instance.
//
// A program reads its settings, opens an Auth from them, and puts the
// middleware built from the Auth in front of its protected routes:
//
//	settings, err := config.FromEnv() // names a bad variable and what is allowed
//	if err != nil {
//		log.Fatal(err)
//	}
//	auth, err := slidingjwt.Open(ctx, settings, nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer auth.Close()
//
//	api := e.Group("/api", middleware.From(auth)) // Echo v4
//	api.POST("/logout", middleware.SignOutHandler(auth))
//
//	// in /login, once the password is checked:
//	tok, err := auth.Issuer().Issue(user, "user", nil)
//
// The Auth owns the parts every door shares: the settings, the renewal
// store that TOKEN_RENEW_STORE names, the revocation list and the SignOut
// over it (on whenever the store keeps revocations), the key set and the
// Issuer. The memory and lru stores are always there; a program that sets
// TOKEN_RENEW_STORE=bolt or redis imports the backend, as database/sql
// drivers are imported, and Open fails at start, naming the import, when
// it does not:
//
//	import _ "github.com/slidingjwt/slidingjwt/store/redis"
//
// The module is a set of small packages:
//
//	config      settings, their defaults and environment variables, Validate
//	token       keys, verification, the Issuer of login tokens
//	revocation  the in-process copy of revoked sessions, SignOut
//	engine      the request on net/http types: verify, check, renew
//	middleware  the Echo v4 door; nethttp the net/http door; echov5 (a
//	            module of its own) the Echo v5 door
//	store       the Store interface: one atomic "may this session renew
//	            now?", the revocation side, the backend registry
//	store/...   backends: memory, lru (bounded), bolt (survives restarts),
//	            redis (shared by many instances); storeconfig links all four
//
// The renewal is decided when the response header is written, and only a
// response below 400 consumes the session's renewal slot; see package
// engine for the whole decision.
package slidingjwt
