// Command v5 is the end-to-end benchmark's server for the Echo v5 door, a
// module of its own as echov5 is, so that Echo v5 stays out of the root
// module's go.mod. Like bench/e2e/server it runs one variant a process,
// picked with -variant, serving GET /api/me with {"sub":"alice"};
// bench/e2e/run.sh builds and drives it.
//
//	echo5       bare Echo v5, no authentication
//	echo5-ours  Echo v5 with package echov5, default config
package main

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt/bench/e2e/internal/serve"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/echov5"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

func main() {
	serve.Main(map[string]serve.Variant{
		"echo5":      {Build: echo5},
		"echo5-ours": {Auth: true, Build: echo5Ours},
	})
}

func echo5(config.Settings) (http.Handler, func(), error) {
	e := echo.New()
	e.GET(serve.Path, func(c *echo.Context) error {
		return c.JSONBlob(http.StatusOK, serve.Body(serve.Subject))
	})
	return e, nil, nil
}

func echo5Ours(s config.Settings) (http.Handler, func(), error) {
	st := memory.New(nil)
	mw, err := echov5.Config{Settings: s, Store: st}.ToMiddleware()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	e := echo.New()
	e.GET(serve.Path, func(c *echo.Context) error {
		return c.JSONBlob(http.StatusOK, serve.Body(echov5.ClaimsFrom(c).Subject))
	}, mw)
	return e, func() { st.Close() }, nil
}
