// Command demo is a small Echo application that uses slidingjwt the way a
// real service would: a login route, guest mode, protected API routes, and a
// web page whose client picks up renewed tokens.
//
// It reads the settings of package config from the environment, plus:
//
//	ADDR           listen address (default localhost:8080)
//	AUTH_ACCOUNTS  comma-separated user:pass or user:pass:role; empty means
//	               guest mode (no login, everyone gets a guest token)
//	CORS_ORIGINS   comma-separated origins allowed to call the API from
//	               another origin (default none)
//	PAGE_ADDR      optional second listen address that serves only the web
//	               page, which then calls the API cross-origin; its origin
//	               must be listed in CORS_ORIGINS
//
// TOKEN_RENEW_STORE picks the renewal store (memory by default; lru, bolt
// with TOKEN_RENEW_STORE_PATH, redis with TOKEN_RENEW_REDIS_URL), which
// package store/storeconfig builds.
//
// GET /metrics serves the Prometheus metrics (the slidingjwt counters of
// package metrics/prometheus, fed by the middleware's Observer, plus the Go
// runtime's and the process's) and GET /metrics/summary a JSON summary of
// the slidingjwt counters for the page's panel; both are outside the
// middleware, so they need no token and never renew one. A real service
// would keep /metrics off its public listener.
//
// TOKEN_RENEW_SKIP_PATHS defaults to /api/status here (the page polls it),
// so polling alone never keeps an idle session alive.
//
// With an HMAC algorithm (JWT_ALGORITHM HS256, the default, HS384 or
// HS512) and no TOKEN_SECRET it runs in guest mode with a random secret
// (tokens then die with the process) and says so; with accounts it refuses
// to start without one. The other algorithms (RS*, PS*, ES*, EdDSA) sign
// with the PEM key in TOKEN_PRIVATE_KEY_FILE, in guest mode as with
// accounts, and TOKEN_SECRET must then be empty. A bad setting makes it
// exit with status 2 and an error that names the variable, the value and
// what is allowed (see config.Settings.Validate).
//
// Run it with `make demo`, which sets short lifetimes so a renewal and an
// expiry can be watched within a couple of minutes, and open
// http://localhost:8080/: the page shows the token's countdown, renews it
// when "Call /api/me" is pressed in the second half of its life, and polls
// /api/status without ever renewing.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/slidingjwt/slidingjwt/store/storeconfig"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
}

// run starts the demo and serves until ctx ends. ready, when not nil,
// receives the listening address once the server accepts connections.
func run(ctx context.Context, lookup func(string) (string, bool), logOut io.Writer, ready chan<- string) error {
	return serve(ctx, lookup, logOut, ready, hooks{})
}

// hooks let tests watch what serve starts; run passes none.
type hooks struct {
	// wrap, when set, wraps the API server's handler (tests count requests).
	wrap func(http.Handler) http.Handler
	// pageReady, when set and PAGE_ADDR is set, receives the page
	// listener's address before ready receives the API's.
	pageReady chan<- string
	// now, when set, is the clock that tokens are issued, checked and
	// renewed by (the Issuer and the middleware's Config.Now), so tests
	// move time instead of waiting for it.
	now func() time.Time
}

// serve is run with test hooks.
func serve(ctx context.Context, lookup func(string) (string, bool), logOut io.Writer, ready chan<- string, h hooks) error {
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts, err := loadOptions(lookup, logger)
	if err != nil {
		return err
	}
	// The store TOKEN_RENEW_STORE names, configured by
	// TOKEN_RENEW_STORE_PATH, TOKEN_RENEW_STORE_SIZE or
	// TOKEN_RENEW_REDIS_URL.
	st, err := storeconfig.Open(opts.settings, nil)
	if err != nil {
		return err
	}
	defer st.Close()

	e, closeServer, err := newServer(opts, st, logger, h.now)
	if err != nil {
		return err
	}
	defer closeServer() // before st.Close: the revocation list reads the store
	var api http.Handler = e
	if h.wrap != nil {
		api = h.wrap(api)
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return err
	}
	listeners := []net.Listener{ln}
	servers := []*http.Server{newHTTPServer(api)}
	if opts.pageAddr != "" {
		pageLn, err := net.Listen("tcp", opts.pageAddr)
		if err != nil {
			ln.Close()
			return err
		}
		apiBase := baseURL(opts.addr, ln.Addr())
		listeners = append(listeners, pageLn)
		servers = append(servers, newHTTPServer(pageHandler(apiBase, opts.settings.Delivery)))
		logger.Info("page listening", "url", baseURL(opts.pageAddr, pageLn.Addr()), "api", apiBase)
		if h.pageReady != nil {
			h.pageReady <- pageLn.Addr().String()
		}
	}
	logger.Info("demo listening", "url", "http://"+ln.Addr().String(), "store", opts.settings.Store,
		"guest_mode", len(opts.accounts) == 0, "user_lifetime", opts.settings.UserLifetime,
		"guest_lifetime", opts.settings.GuestLifetime, "renew_interval", opts.settings.MinRenewInterval,
		"renew_skip_paths", opts.settings.RenewSkipPaths)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Requests still running, or connections a client opened
			// and never used: drop them rather than fail the exit.
			logger.Warn("graceful shutdown timed out; closing the remaining connections", "err", err)
			srv.Close()
		}
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
}

// baseURL is the URL a browser can reach the API at: the host of the
// configured address (localhost when it names no host or every interface)
// with the port the listener actually got.
func baseURL(configured string, actual net.Addr) string {
	host, _, err := net.SplitHostPort(configured)
	if err != nil || host == "" {
		host = "localhost"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	_, port, err := net.SplitHostPort(actual.String())
	if err != nil {
		return "http://" + actual.String()
	}
	return "http://" + net.JoinHostPort(host, port)
}

// randomSecret returns 32 random bytes, hex encoded.
func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
