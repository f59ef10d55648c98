// Package echov5 is the Echo v5 front door of slidingjwt: a middleware that
// validates JWTs and renews them on a sliding window, for applications on
// github.com/labstack/echo/v5. It is the Echo v4 middleware (package
// middleware of the root module) with the same Config, defaults, lookup,
// responses and events, over the same decision: package engine's, which
// the net/http door (package nethttp) shares too. It lives in a module of
// its own, github.com/slidingjwt/slidingjwt/echov5, so that an application
// on Echo v4 or net/http never has echo/v5 in its module graph.
//
// The package is named echov5, not middleware, so that it reads apart from
// Echo's own middleware package, which an Echo v5 application imports next
// to it (middleware.Recover, middleware.RequestLogger):
//
//	e := echo.New()
//	e.Use(middleware.Recover())
//	api := e.Group("/api", echov5.New(settings, st))
//	api.GET("/me", func(c *echo.Context) error {
//		return c.String(http.StatusOK, echov5.ClaimsFrom(c).Subject)
//	})
//
// # What a request goes through
//
//  1. Config.Skipper may skip the middleware entirely; Config.BeforeFunc
//     runs for the rest.
//  2. The token is looked up as echo-jwt looks it up (Config.TokenLookupFuncs,
//     then Config.TokenLookup, "Authorization: Bearer" by default), every
//     value found tried until one verifies. A request without one gets 401
//     {"message":"missing or malformed jwt"}, one whose tokens all fail 401
//     {"message":"invalid or expired jwt"}, both with WWW-Authenticate, or
//     whatever Config.ErrorHandler answers.
//  3. The verified token goes into the context: a *jwt.Token under
//     Config.ContextKey ("user"), as with echo-jwt, and the typed claims
//     under ClaimsContextKey (read them with ClaimsFrom). Both are the
//     request's own copies.
//  4. When the token is due for renewal (package engine decides: the
//     threshold, skip paths, the session cap, a renewal this process just
//     made), the handler runs with the renewal pending, and it is decided
//     where the response's headers leave: a final status below 400 asks
//     Config.Store for the session's slot and, when granted, sends the new
//     token in X-New-Token (with Cache-Control: no-store and Vary:
//     Authorization); a status of 400 or more, a hijacked connection, or
//     an error that Echo's error handler turns into such a status, sends
//     none and leaves the store alone.
//
// # Where the renewal is decided
//
// In Echo v5, c.Response() is an http.ResponseWriter, normally Echo's
// *echo.Response, which earlier middleware may have wrapped (Gzip, for
// one, which holds a short response back until the chain returns). A
// pending renewal wraps both ends: the context's writer, installed with
// c.SetResponse, so that the status the handler writes decides before any
// wrapper below holds it back or changes it; and the writer inside
// *echo.Response, so that what reaches the client by Echo's Response
// without passing the first (the error handler after the middleware
// returned, a handler that calls echo.UnwrapResponse and flushes it, an
// earlier middleware that kept the Response) is decided before it leaves
// too. Whichever sees a final status first decides; the other passes
// everything on. Echo's Response keeps its Status and Committed in step,
// so Echo's error handler and request logger see the status that left.
//
// Echo's Response commits on any status, a 1xx too: a handler that sends
// 103 Early Hints must write it below the Response (res.Unwrap(), with res
// from echo.UnwrapResponse), where the renewal lets it pass undecided.
package echov5
