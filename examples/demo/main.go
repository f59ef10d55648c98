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
//
// Without TOKEN_SECRET it runs in guest mode with a random secret (tokens
// then die with the process) and says so; with accounts it refuses to start
// without one. A bad setting makes it exit with status 2 and the message
// from config.Validate.
//
// Run it with `make demo`, which sets short lifetimes so a renewal and an
// expiry can be watched within a couple of minutes.
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
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts, err := loadOptions(lookup, logger)
	if err != nil {
		return err
	}
	st, err := openStore(opts.settings)
	if err != nil {
		return err
	}
	defer st.Close()

	e, err := newServer(opts, st, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	logger.Info("demo listening", "url", "http://"+ln.Addr().String(), "store", opts.settings.Store,
		"guest_mode", len(opts.accounts) == 0, "user_lifetime", opts.settings.UserLifetime,
		"guest_lifetime", opts.settings.GuestLifetime, "renew_interval", opts.settings.MinRenewInterval)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// randomSecret returns 32 random bytes, hex encoded.
func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
