// Package serve is the part every server of the end-to-end benchmark
// shares (bench/e2e/run.sh drives them): the settings, the token, the
// handler's answer, the listener, a check that the variant answers as it
// should before any load, an optional CPU profile, and a clean stop on
// SIGTERM. A program under bench/e2e (one per Go module: the root's Echo
// v4 and net/http servers, Echo v5's, later Gin's) only says how each of
// its variants builds its http.Handler, and calls Main.
package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/token"
)

// Path is the one route every variant serves.
const Path = "/api/me"

// Subject is the token's subject, and what the bare variants answer with.
const Subject = "alice"

// Secret is the HMAC key of the benchmark's tokens. It protects nothing.
const Secret = "e2e-benchmark-secret-0123456789abcdef"

// newTokenHeader is the response header of a renewed token. The token is
// far from due, so no response may carry it.
const newTokenHeader = "X-New-Token"

// Settings are config.Default with Secret and a 48-hour lifetime: a token
// minted at start is not due for renewal for 24 hours, so no request of a
// run renews, and every door runs with its defaults otherwise.
func Settings() config.Settings {
	s := config.Default()
	s.Secret = Secret
	s.UserLifetime = 48 * time.Hour
	return s
}

type me struct {
	Sub string `json:"sub"`
}

// Body is the handler's answer for a subject, {"sub":"alice"}: every
// variant builds it on each request, from the verified claims when it has
// them.
func Body(sub string) []byte {
	b, err := json.Marshal(me{Sub: sub})
	if err != nil {
		panic(err) // a struct of one string always encodes
	}
	return b
}

// Variant is one server of the benchmark.
type Variant struct {
	// Auth says the variant checks the token: a request without one must
	// get 401. A bare variant answers it with 200.
	Auth bool
	// Build returns the variant's handler, serving GET Path, and a
	// function that releases what it holds (nil when nothing).
	Build func(s config.Settings) (http.Handler, func(), error)
}

// Main runs the variant named by -variant until SIGTERM or SIGINT. Once it
// listens and has checked its own answers it prints one line,
//
//	ready addr=127.0.0.1:PORT token=TOKEN
//
// which the driver waits for. It exits with status 1 on any error.
func Main(variants map[string]Variant) {
	if err := run(variants, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "e2e server:", err)
		os.Exit(1)
	}
}

func run(variants map[string]Variant, args []string, stdout io.Writer) error {
	names := make([]string, 0, len(variants))
	for name := range variants {
		names = append(names, name)
	}
	slices.Sort(names)

	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	name := fs.String("variant", "", "the server to run: "+strings.Join(names, ", "))
	addr := fs.String("addr", "127.0.0.1:0", "the address to listen on (port 0: a free one)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the serving, from ready to stop, to this file")
	list := fs.Bool("list", false, "print the variants, one a line, and exit")
	heapMB := fs.Int("heap-mb", 0, "hold this many megabytes of live, pointer-free data while serving, as an application holds its own")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
		return nil
	}
	v, ok := variants[*name]
	if !ok {
		return fmt.Errorf("-variant %q: want one of %s", *name, strings.Join(names, ", "))
	}
	if *heapMB < 0 {
		return fmt.Errorf("-heap-mb %d: want a number of megabytes, 0 or more", *heapMB)
	}
	// With next to nothing live, Go's minimum heap goal of 4 MB makes the
	// collector run hundreds of times a second, and a variant pays for
	// what it allocates many times what it would in an application that
	// holds data of its own (see BENCH_HEAP_MB in bench/). Pointer-free,
	// the data adds no marking work.
	live := make([][]byte, *heapMB)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	defer runtime.KeepAlive(live)

	settings := Settings()
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		return err
	}
	tok, err := issuer.Issue(Subject, "user", nil)
	if err != nil {
		return err
	}
	h, release, err := v.Build(settings)
	if err != nil {
		return fmt.Errorf("%s: %w", *name, err)
	}
	if release != nil {
		defer release()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The same plain server for every variant (what echo.Start would
	// build): the variants differ only in their handler.
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()

	url := "http://" + ln.Addr().String() + Path
	if err := check(url, tok, v.Auth); err != nil {
		return fmt.Errorf("%s: %w", *name, err)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	fmt.Fprintf(stdout, "ready addr=%s token=%s\n", ln.Addr(), tok)
	select {
	case <-stop:
		return nil
	case err := <-served:
		return err
	}
}

// check asks the server once with the token and, for a variant that
// checks tokens, once without: with it, 200, the body Body(Subject) and no
// renewed token; without it, 401 (200 for a bare variant). A variant that
// is misbuilt (no auth, a renewing config, a wrong answer) fails here,
// before it is measured.
func check(url, tok string, auth bool) error {
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	get := func(withToken bool) (*http.Response, []byte, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return nil, nil, err
		}
		if withToken {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res, body, err
	}

	res, body, err := get(true)
	if err != nil {
		return err
	}
	var problems []error
	if res.StatusCode != http.StatusOK {
		problems = append(problems, fmt.Errorf("with the token: status %d, want 200", res.StatusCode))
	}
	if want := Body(Subject); !bytes.Equal(bytes.TrimSpace(body), want) {
		problems = append(problems, fmt.Errorf("with the token: body %q, want %q", body, want))
	}
	if res.Header.Get(newTokenHeader) != "" {
		problems = append(problems, errors.New("with the token: the response renews it; the benchmark measures requests that do not renew"))
	}

	res, _, err = get(false)
	if err != nil {
		return err
	}
	want := http.StatusOK
	if auth {
		want = http.StatusUnauthorized
	}
	if res.StatusCode != want {
		problems = append(problems, fmt.Errorf("without a token: status %d, want %d", res.StatusCode, want))
	}
	return errors.Join(problems...)
}
