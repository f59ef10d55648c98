// Package slidingjwt gives Echo v4 applications sliding-window JWT
// expiration: a request that carries a valid token whose remaining lifetime
// has fallen below a threshold gets a fresh token in the X-New-Token
// response header, at most once per session per interval. Active users are
// never logged out; idle users still expire; an optional absolute cap ends
// every session after a fixed time.
//
// The module is a set of small packages:
//
//	config      settings, their defaults and environment variables, Validate
//	middleware  the Echo middleware, the Issuer for login tokens, key sets
//	store       the Store interface: one atomic "may this session renew now?"
//	store/...   backends: memory, lru (bounded), bolt (survives restarts),
//	            redis (shared by many instances)
//
// A program reads its settings, picks a store, and puts the middleware in
// front of its protected routes:
//
//	settings, err := config.FromEnv()
//	if err != nil {
//		log.Fatal(err)
//	}
//	st := memory.New(nil)
//	defer st.Close()
//	mw, err := middleware.Config{Settings: settings, Store: st}.ToMiddleware()
//	if err != nil {
//		log.Fatal(err)
//	}
//	api := e.Group("/api", mw)
//
// The renewal is decided when the response header is written, and only a
// response below 400 consumes the session's renewal slot; see package
// middleware for the whole decision.
package slidingjwt
