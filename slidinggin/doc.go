// Package slidinggin is the Gin front door of slidingjwt: a gin.HandlerFunc
// that verifies the request's JWT and sends a renewed one in the
// X-New-Token response header when it is due, with the decision every
// other door (Echo v4, Echo v5, net/http) shares: package engine's. The
// handlers read the claims with ClaimsFrom; Config.ContextKey also puts
// each request's own *jwt.Token in the context, for handlers that read it
// with c.Get as echo-jwt's do. It lives in a module of its own,
// github.com/slidingjwt/slidingjwt/slidinggin, so that an application on
// another framework never has Gin in its module graph, and it is not
// named gin, so that it reads apart from Gin's own package.
//
// # Quick start
//
// The README's Gin quick start is a complete program: config.FromEnv
// fails at start when TOKEN_SECRET is unset; slidingjwt.Open opens the
// store TOKEN_RENEW_STORE names (bolt and redis need their package
// imported) with sign-out on; /login checks a password (PBKDF2, from the
// environment) before it issues a token with auth.Issuer(); From builds
// the middleware from the Auth, so that the ready-made sign-out handlers
// reach the check it runs:
//
//	api := r.Group("/api", slidinggin.From(auth))
//	api.GET("/me", func(c *gin.Context) {
//		c.JSON(http.StatusOK, gin.H{"user": slidinggin.ClaimsFrom(c).Subject})
//	})
//	api.POST("/logout", slidinggin.SignOutHandler(auth))
//	api.POST("/logout-all", slidinggin.SignOutAllHandler(auth))
//
// # Where the renewal is decided
//
// Gin's c.Writer records the status a handler sets and sends it with the
// first write, flush or WriteHeaderNow (c.AbortWithStatus). While a
// renewal is pending, c.Writer decides it there, on the status Gin
// recorded: below 400 the store is asked for the session's slot and, when
// it is granted, the new token goes into the headers; 400 or more, or a
// hijacked connection, leaves the store alone. A handler that writes
// nothing is sent by Gin after the chain returns, with the status set (200
// unless changed): the renewal is decided on it when the middleware
// returns, unless a handler recorded an error with c.Error, in which case
// it waits for the status the error-handling middleware writes.
package slidinggin
