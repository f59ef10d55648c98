// Package slidingprom exports what the slidingjwt engine does as Prometheus
// metrics: requests by outcome, renewal decisions by result, lookups and
// hits of the verified-token cache, the duration and errors of renewal
// store calls by backend, and, when given a revocation list, how stale it
// is and how many revocations it holds.
//
// It lives in a module of its own (github.com/slidingjwt/slidingjwt/metrics/prometheus),
// so that applications that do not use Prometheus never have
// client_golang in their module graph. Its package name is slidingprom,
// not prometheus, so that it can be imported beside client_golang's
// prometheus package without renaming either.
//
// A Metrics is an engine.Observer, fed by every front door (the Echo v4
// middleware, the net/http door and the Echo v5 door take it as
// Config.Observer), and a prometheus.Collector:
//
//	m, err := slidingprom.New(&slidingprom.Options{Backends: []string{"redis"}})
//	if err != nil { ... }
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m)
//	mw, err := middleware.Config{Settings: s, Store: st, Observer: m}.ToMiddleware()
//	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
//
// Serve /metrics outside the middleware (or on a renewal skip path), so
// that scrapes need no token and never renew one.
//
// To feed tracing as well, combine observers with engine.Observers.
package slidingprom
