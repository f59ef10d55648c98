// Command gin is the end-to-end benchmark's server for the Gin door, a
// module of its own as slidinggin is, so that Gin stays out of the root
// module's go.mod. Like bench/e2e/server it runs one variant a process,
// picked with -variant, serving GET /api/me with {"sub":"alice"};
// bench/e2e/run.sh builds and drives it.
//
//	gin        bare Gin, no authentication
//	gin-ours   Gin with package slidinggin, default config
//	gin-token  the same with ContextKey "user": a *jwt.Token a request
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/slidingjwt/slidingjwt/bench/e2e/internal/serve"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/slidinggin"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

func main() {
	// Release mode: no debug line per route, as in production.
	gin.SetMode(gin.ReleaseMode)
	serve.Main(map[string]serve.Variant{
		"gin":       {Build: bare},
		"gin-ours":  {Auth: true, Build: func(s config.Settings) (http.Handler, func(), error) { return ours(s, false) }},
		"gin-token": {Auth: true, Build: func(s config.Settings) (http.Handler, func(), error) { return ours(s, true) }},
	})
}

// engine is a Gin engine without its default logger and recovery
// middleware, which bare Echo and net/http do not have either.
func engine() *gin.Engine { return gin.New() }

func bare(config.Settings) (http.Handler, func(), error) {
	r := engine()
	r.GET(serve.Path, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", serve.Body(serve.Subject))
	})
	return r, nil, nil
}

// ours is the Gin door with its default config; withToken also puts each
// request's *jwt.Token under "user".
func ours(s config.Settings, withToken bool) (http.Handler, func(), error) {
	st := memory.New(nil)
	cfg := slidinggin.Config{Settings: s, Store: st}
	if withToken {
		cfg.ContextKey = "user"
	}
	mw, err := cfg.ToMiddleware()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	r := engine()
	r.GET(serve.Path, mw, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", serve.Body(slidinggin.ClaimsFrom(c).Subject))
	})
	return r, func() { st.Close() }, nil
}
