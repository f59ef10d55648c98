// Package modgraph holds no code, only tests of what a user of this
// repository's packages gets:
//
//   - a module that imports github.com/slidingjwt/slidingjwt/middleware,
//     and nothing else of this repository, must not get the dependencies of
//     the repository's other modules (the demo's browser driver, Echo v5,
//     Gin, Prometheus, OpenTelemetry) in its module graph;
//   - middleware, config and the root package (slidingjwt.Open) must not
//     link the store backends' dependencies (bbolt, go-redis), which only
//     the backends and store/storeconfig do; the root package links the
//     memory and lru backends, and package store links no config.
//
// The first test builds such a module in a temporary directory, with a
// replace directive to this checkout, and runs `go mod tidy` and `go mod
// graph` in it through the go command on PATH (module cache and GOPROXY as
// the environment sets them). The tests are skipped when no go command can
// be found.
package modgraph
