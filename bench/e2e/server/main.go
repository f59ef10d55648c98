// Command server is the end-to-end benchmark's server for the doors of the
// root module, Echo v4 and net/http: one variant a process, picked with
// -variant, each serving GET /api/me with {"sub":"alice"}. bench/e2e/run.sh
// builds and drives it; see bench/e2e/README.md.
//
//	echo4          bare Echo v4, no authentication
//	echo4-ours     Echo v4 with package middleware, default config
//	echo4-echojwt  Echo v4 with echo-jwt, default config
//	nethttp        bare net/http (http.ServeMux), no authentication
//	nethttp-ours   net/http with package nethttp, default config
package main

import (
	"net/http"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/bench/e2e/internal/serve"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/nethttp"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

func main() {
	serve.Main(map[string]serve.Variant{
		"echo4":         {Build: echo4},
		"echo4-ours":    {Auth: true, Build: echo4Ours},
		"echo4-echojwt": {Auth: true, Build: echo4EchoJWT},
		"nethttp":       {Build: netHTTP},
		"nethttp-ours":  {Auth: true, Build: netHTTPOurs},
	})
}

func echo4(config.Settings) (http.Handler, func(), error) {
	e := echo.New()
	e.GET(serve.Path, func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, serve.Body(serve.Subject))
	})
	return e, nil, nil
}

func echo4Ours(s config.Settings) (http.Handler, func(), error) {
	st := memory.New(nil)
	mw, err := middleware.Config{Settings: s, Store: st}.ToMiddleware()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	e := echo.New()
	e.GET(serve.Path, func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, serve.Body(middleware.ClaimsFrom(c).Subject))
	}, mw)
	return e, func() { st.Close() }, nil
}

func echo4EchoJWT(s config.Settings) (http.Handler, func(), error) {
	e := echo.New()
	e.GET(serve.Path, func(c echo.Context) error {
		// Where echo-jwt leaves the token by default.
		sub, _ := c.Get("user").(*jwt.Token).Claims.GetSubject()
		return c.JSONBlob(http.StatusOK, serve.Body(sub))
	}, echojwt.WithConfig(echojwt.Config{SigningKey: []byte(s.Secret)}))
	return e, nil, nil
}

func netHTTP(config.Settings) (http.Handler, func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+serve.Path, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, serve.Body(serve.Subject))
	})
	return mux, nil, nil
}

func netHTTPOurs(s config.Settings) (http.Handler, func(), error) {
	st := memory.New(nil)
	mw, err := nethttp.Config{Settings: s, Store: st}.ToMiddleware()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+serve.Path, mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, serve.Body(nethttp.ClaimsFrom(r.Context()).Subject))
	})))
	return mux, func() { st.Close() }, nil
}

// writeJSON answers 200 with body as Echo's JSONBlob does.
func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
