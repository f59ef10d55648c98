package modgraph_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rootModule is the module path of the repository's root module.
const rootModule = "github.com/slidingjwt/slidingjwt"

// userMain is the only source file of the user's module: it imports the
// Echo v4 middleware and nothing else of this repository.
const userMain = `package main

import _ "github.com/slidingjwt/slidingjwt/middleware"

func main() {}
`

// userGraph builds a fresh module in dir that imports only the middleware
// package, with a replace directive to this checkout, and returns its
// `go mod graph`, one edge a line. It skips t when there is no go command.
func userGraph(t *testing.T, dir string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH (%v): cannot build a module to check its graph", err)
	}
	// The root module's directory, from the go.mod that governs this
	// package's directory.
	gomod := strings.TrimSpace(run(t, goBin, ".", "env", "GOMOD"))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD = %q; want the root module's go.mod", gomod)
	}
	root := filepath.Dir(gomod)

	goMod := fmt.Sprintf("module example.com/user\n\ngo 1.26.8\n\nrequire %s v0.0.0-00010101000000-000000000000\n\nreplace %s => %s\n",
		rootModule, rootModule, root)
	for name, text := range map[string]string{"go.mod": goMod, "main.go": userMain} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, goBin, dir, "mod", "tidy")
	return strings.Split(strings.TrimSpace(run(t, goBin, dir, "mod", "graph")), "\n")
}

// run runs the go command in dir with the module cache and GOPROXY of the
// environment, updating go.mod and go.sum as needed and ignoring any
// go.work, and returns its standard output. A failure fails t with the
// command's standard error.
func run(t *testing.T, goBin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return stdout.String()
}

// mentions returns the edges of the graph ("from to" lines) in which a
// module whose path starts with prefix appears, at any version.
func mentions(lines []string, prefix string) []string {
	var hits []string
	for _, line := range lines {
		for _, node := range strings.Fields(line) {
			path, _, _ := strings.Cut(node, "@")
			if path == prefix || strings.HasPrefix(path, prefix+"/") {
				hits = append(hits, line)
				break
			}
		}
	}
	return hits
}

// TestMiddlewareUserGraph: a module that imports only the middleware
// package has none of the other modules' dependencies in its graph, which
// does hold this repository and Echo v4 (so an empty or unrelated graph
// cannot pass).
func TestMiddlewareUserGraph(t *testing.T) {
	t.Parallel()
	lines := userGraph(t, t.TempDir())
	tests := []struct {
		name   string
		prefix string
		want   bool // whether the graph must hold the module
	}{
		{"has the root module", rootModule, true},
		{"has Echo v4", "github.com/labstack/echo/v4", true},
		{"no chromedp (demo browser tests)", "github.com/chromedp/chromedp", false},
		{"no cdproto (demo browser tests)", "github.com/chromedp/cdproto", false},
		{"no Echo v5 (the Echo v5 front door)", "github.com/labstack/echo/v5", false},
		{"no Gin (the Gin front door)", "github.com/gin-gonic/gin", false},
		{"no Prometheus (metrics)", "github.com/prometheus", false},
		{"no OpenTelemetry (tracing)", "go.opentelemetry.io", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hits := mentions(lines, tt.prefix)
			if got := len(hits) > 0; got != tt.want {
				t.Errorf("go mod graph of a module importing only middleware holds %s: got %v, want %v; edges:\n%s",
					tt.prefix, got, tt.want, strings.Join(hits, "\n"))
			}
		})
	}
}

// TestLinkedPackages: the backends' dependencies, bbolt and go-redis, are
// linked only by programs that import those backends or
// store/storeconfig, which builds any of them; middleware, config and the
// root package (slidingjwt.Open, which links the memory and lru backends)
// link none of them, and package store links no config.
func TestLinkedPackages(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH (%v): cannot list the packages a program links", err)
	}
	const (
		bbolt      = "go.etcd.io/bbolt"
		goredis    = "github.com/redis/go-redis/v9"
		storeconf  = rootModule + "/store/storeconfig"
		boltStore  = rootModule + "/store/bolt"
		redisStore = rootModule + "/store/redis"
		memStore   = rootModule + "/store/memory"
		lruStore   = rootModule + "/store/lru"
	)
	tests := []struct {
		pkg     string
		linked  []string
		missing []string
	}{
		{rootModule + "/middleware", nil, []string{bbolt, goredis, storeconf, boltStore, redisStore}},
		{rootModule + "/config", nil, []string{bbolt, goredis, storeconf, boltStore, redisStore}},
		{storeconf, []string{bbolt, goredis, boltStore, redisStore}, nil},
		{rootModule, []string{memStore, lruStore}, []string{bbolt, goredis, storeconf, boltStore, redisStore}},
		{rootModule + "/store", nil, []string{rootModule + "/config", memStore, lruStore, boltStore, redisStore}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			t.Parallel()
			deps := map[string]bool{}
			for _, p := range strings.Fields(run(t, goBin, ".", "list", "-deps", tt.pkg)) {
				deps[p] = true
			}
			for _, p := range tt.linked {
				if !deps[p] {
					t.Errorf("%s does not link %s; want it linked", tt.pkg, p)
				}
			}
			for _, p := range tt.missing {
				if deps[p] {
					t.Errorf("%s links %s; want it left out", tt.pkg, p)
				}
			}
		})
	}
}
