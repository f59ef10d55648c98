package main

// The fleet of the load-and-fault test (loadfault_test.go): demo instances
// run as real processes from a binary built once, the gate that lets the
// test stop sending to one instance and wait for its requests in flight,
// and the scrape of an instance's /metrics.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds the wait for a started instance to answer
	// /health: a bound for a broken start, not an expected duration.
	readyTimeout = 30 * time.Second
	// exitTimeout bounds the wait for an instance to exit after a signal.
	exitTimeout = 10 * time.Second
	// logTailLines is how many of an instance's last log lines are kept
	// for a failure message.
	logTailLines = 40
)

// buildDemo builds the demo into a temporary directory, without the race
// detector (the instances are the system under test, the test's clients
// are what -race watches), and returns the binary's path.
func buildDemo(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if toolsRequired() {
			t.Fatalf("no go command on PATH to build the demo (%v); %s=1, so this is a failure", err, requireToolsEnv)
		}
		t.Skipf("no go command on PATH to build the demo: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "demo")
	cmd := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build the demo: %v\n%s", err, out)
	}
	return bin
}

// demoProcess is one run of the demo binary.
type demoProcess struct {
	cmd  *exec.Cmd
	log  *logTail
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, readable once done is closed
}

// startProcess starts bin with exactly env (nothing of the test's own
// environment, so no TOKEN_* setting leaks in) and waits until it
// answers /health. It returns the process and its base URL.
func startProcess(t *testing.T, bin string, env []string) (*demoProcess, string) {
	t.Helper()
	p := &demoProcess{log: newLogTail(), done: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start the demo: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	// However the test ends, no instance outlives it.
	t.Cleanup(func() { p.stop(syscall.SIGTERM) })

	var base string
	select {
	case base = <-p.log.listening:
	case <-p.done:
		t.Fatalf("the demo exited before listening (%v):\n%s", p.err, p.log)
	case <-time.After(readyTimeout):
		t.Fatalf("the demo did not say where it listens within %v:\n%s", readyTimeout, p.log)
	}
	health := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := health.Get(base + "/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, base
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-p.done:
			t.Fatalf("the demo exited before it was ready (%v):\n%s", p.err, p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo at %s did not answer /health within %v (last: %v):\n%s", base, readyTimeout, err, p.log)
		}
		// Polling: the process tells readiness no other way.
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *demoProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGKILL the demo: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("the demo did not exit within %v of SIGKILL", exitTimeout)
	}
}

// stop sends sig, waits for the exit, and kills the process if it does
// not come. Stopping an exited process does nothing.
func (p *demoProcess) stop(sig os.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail is an instance's stdout and stderr: it keeps the last lines for
// failure messages (bounded: an instance logs every renewal) and reports
// the URL of the "demo listening" line once.
type logTail struct {
	listening chan string // receives the base URL once

	mu      sync.Mutex
	partial []byte
	lines   []string // ring of the last logTailLines lines
	next    int
	total   int
	told    bool
}

func newLogTail() *logTail { return &logTail{listening: make(chan string, 1)} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.add(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	// A line longer than this is not the demo's; keep memory bounded.
	if len(l.partial) > 64<<10 {
		l.add(string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

// add records one line; the caller holds l.mu.
func (l *logTail) add(line string) {
	if !l.told && strings.Contains(line, `msg="demo listening"`) {
		for _, field := range strings.Fields(line) {
			if url, ok := strings.CutPrefix(field, "url="); ok {
				l.told = true
				l.listening <- url
			}
		}
	}
	if len(l.lines) < logTailLines {
		l.lines = append(l.lines, line)
	} else {
		l.lines[l.next] = line
		l.next = (l.next + 1) % logTailLines
	}
	l.total++
}

// String returns the last lines, oldest first.
func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	if skipped := l.total - len(l.lines); skipped > 0 {
		fmt.Fprintf(&b, "[%d earlier lines]\n", skipped)
	}
	for i := range l.lines {
		b.WriteString(l.lines[(l.next+i)%len(l.lines)])
		b.WriteByte('\n')
	}
	return b.String()
}

// fleet is the set of demo instances the clients send to. Each slot is
// one place in the fleet (a port, as behind a load balancer); an
// incarnation is one process in it, replaced when the test kills it.
type fleet struct {
	t   *testing.T
	bin string
	env []string // every instance's environment, but ADDR

	mu      sync.RWMutex
	slots   []*slot
	changed chan struct{} // closed and replaced at every change of the fleet

	started []*incarnation // every incarnation, in start order; the test's goroutine only
}

// slot is one place in the fleet.
type slot struct {
	name   string
	port   int
	cur    *incarnation // nil while down; guarded by fleet.mu
	starts int
}

// incarnation is one process of a slot, with what the clients saw of it.
type incarnation struct {
	name   string // slot name and start number, as "A#2"
	base   string
	proc   *demoProcess
	client *http.Client // a connection pool of its own: none outlives the process

	open     bool           // clients may send to it; guarded by fleet.mu
	inflight sync.WaitGroup // requests sent while open and not yet counted
	killed   atomic.Bool    // set before SIGKILL: its connection errors are expected

	// What the clients saw, counted before a request leaves inflight.
	answered atomic.Int64 // API answers, any status
	ok       atomic.Int64 // 2xx answers
	renewed  atomic.Int64 // answers carrying X-New-Token
}

// newFleet starts one instance per name, all with env.
func newFleet(t *testing.T, bin string, env []string, names ...string) *fleet {
	t.Helper()
	f := &fleet{t: t, bin: bin, env: env, changed: make(chan struct{})}
	for _, name := range names {
		s := &slot{name: name}
		f.slots = append(f.slots, s)
		f.up(s, f.start(s))
	}
	return f
}

// start starts a new process for s, on the slot's port once it has one.
func (f *fleet) start(s *slot) *incarnation {
	f.t.Helper()
	env := append(append([]string(nil), f.env...), "ADDR=127.0.0.1:"+strconv.Itoa(s.port))
	proc, base := startProcess(f.t, f.bin, env)
	if s.port == 0 {
		_, port, err := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
		if err != nil {
			f.t.Fatalf("the demo listens at %q: %v", base, err)
		}
		if s.port, err = strconv.Atoi(port); err != nil {
			f.t.Fatalf("the demo listens at %q: %v", base, err)
		}
	}
	s.starts++
	transport := &http.Transport{
		MaxIdleConns:        0, // no total bound; the per-host one applies
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     time.Minute,
	}
	f.t.Cleanup(transport.CloseIdleConnections)
	inc := &incarnation{
		name:   fmt.Sprintf("%s#%d", s.name, s.starts),
		base:   base,
		proc:   proc,
		client: &http.Client{Transport: transport, Timeout: 30 * time.Second},
	}
	f.started = append(f.started, inc)
	return inc
}

// broadcast wakes the clients waiting for a change; the caller holds f.mu.
func (f *fleet) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// up puts inc in s and opens it to the clients.
func (f *fleet) up(s *slot, inc *incarnation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.cur, inc.open = inc, true
	f.broadcast()
}

// down takes s's incarnation out of the fleet, without waiting for its
// requests: it is dead.
func (f *fleet) down(s *slot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.cur != nil {
		s.cur.open = false
	}
	s.cur = nil
	f.broadcast()
}

// quiesce stops sending to inc and waits for the requests it has in
// flight, so its counters and the clients' agree.
func (f *fleet) quiesce(inc *incarnation) {
	f.mu.Lock()
	inc.open = false
	f.broadcast()
	f.mu.Unlock()
	inc.inflight.Wait()
}

// reopen lets the clients send to inc again after quiesce.
func (f *fleet) reopen(inc *incarnation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inc.open = true
	f.broadcast()
}

// enter picks n targets among the open incarnations, round robin from
// offset (the same one twice when only one is open), and counts each as in
// flight: the caller calls inflight.Done for each once it has counted the
// answer. With none open it returns none, and the channel that is closed
// at the fleet's next change.
func (f *fleet) enter(n, offset int) ([]*incarnation, <-chan struct{}) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var open []*incarnation
	for _, s := range f.slots {
		if s.cur != nil && s.cur.open {
			open = append(open, s.cur)
		}
	}
	if len(open) == 0 {
		return nil, f.changed
	}
	targets := make([]*incarnation, n)
	for i := range targets {
		inc := open[(offset+i)%len(open)]
		inc.inflight.Add(1)
		targets[i] = inc
	}
	return targets, f.changed
}

// all returns every incarnation started, killed ones too.
func (f *fleet) all() []*incarnation { return f.started }

// current returns the incarnations in the fleet now.
func (f *fleet) current() []*incarnation {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var list []*incarnation
	for _, s := range f.slots {
		if s.cur != nil {
			list = append(list, s.cur)
		}
	}
	return list
}

// scrape reads the series of base's /metrics, keyed by name and labels as
// written (slidingjwt_renewals_total{result="renewed"}).
func scrape(client *http.Client, base string) (map[string]float64, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("GET /metrics: line %q has no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("GET /metrics: line %q: %v", line, err)
		}
		series[line[:i]] = v
	}
	return series, sc.Err()
}

// sumOf adds the series of the metric name, over all its label values.
func sumOf(series map[string]float64, name string) float64 {
	var sum float64
	for key, v := range series {
		if key == name || strings.HasPrefix(key, name+"{") {
			sum += v
		}
	}
	return sum
}
