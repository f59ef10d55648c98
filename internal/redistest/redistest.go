// Package redistest starts real redis-server processes for tests.
//
// A test calls Start and gets a private server on a free loopback port, with
// no persistence (unless the AppendOnly option asks for it), that is stopped
// when the test ends:
//
//	srv := redistest.Start(t)
//	st, err := redis.Open(srv.URL(), nil)
//
// When redis-server is not on PATH the test is skipped, not failed, so the
// module's tests still pass on a machine without Redis; with
// SLIDINGJWT_REQUIRE_TOOLS=1 (see RequireEnv), as CI sets, it fails
// instead. Servers are cheap (a few milliseconds to start), so each test
// may have its own; tests that stop or pause the server must.
//
// Stop and Restart let a test simulate an outage: Restart brings the server
// back on the same port, so clients that held the old address reconnect to
// it. It comes back empty, unless the server was started with AppendOnly:
// then it reloads what it had.
//
// Save and RestartFromSnapshot simulate a server that comes back older than
// it was (a restart from an RDB snapshot, as after losing the append-only
// file's last second): RestartFromSnapshot kills the server and starts it
// from the snapshot the last Save wrote, so every write after that Save is
// lost.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/testkit"
)

const (
	// startTimeout bounds the wait for a new server to answer PING.
	startTimeout = 10 * time.Second
	// stopTimeout bounds the wait for a server to exit after SIGTERM before
	// it is killed.
	stopTimeout = 5 * time.Second
	// portAttempts is how many free ports Start tries before it gives up;
	// another process may take a port between our probe and the server's bind.
	portAttempts = 5
)

// SkipMessage is the reason a test is skipped when redis-server is missing.
const SkipMessage = "redis-server not found: install it with `apt-get install redis-server` (make test does this on Debian)"

// RequireEnv names the environment variable that turns the skip into a
// failure: CI sets it to "1", so a missing server cannot pass as a skip.
// Only the value "1" requires the server; unset, empty, "0" or any other
// value leaves the skip.
const RequireEnv = "SLIDINGJWT_REQUIRE_TOOLS"

// required reports whether RequireEnv asks for a failure instead of a skip.
func required() bool { return os.Getenv(RequireEnv) == "1" }

// Server is one redis-server process owned by a test. Its methods are safe
// for concurrent use, but Start and Restart may fail the test, so call them
// from the test's own goroutine.
type Server struct {
	tb     testing.TB
	bin    string
	dir    string // the server's working directory, a tb.TempDir
	socket string // the unix socket path, in a short directory of its own
	port   int
	aof    bool     // AppendOnly
	extra  []string // more arguments, from options such as ReplicaOf

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	out  *testkit.SyncBuffer
	done chan struct{} // closed when cmd.Wait returns
	err  error         // cmd.Wait's result, readable once done is closed
}

// An Option changes how Start runs the server.
type Option func(*Server)

// AppendOnly runs the server with its append-only file on, fsynced after
// every write (appendonly yes, appendfsync always), in the test's temporary
// directory: the data survives Stop and Restart, and even a kill.
func AppendOnly() Option {
	return func(s *Server) { s.aof = true }
}

// ReplicaOf runs the server as a replica of the server at addr
// ("127.0.0.1:port").
func ReplicaOf(addr string) Option {
	return func(s *Server) {
		host, port, _ := net.SplitHostPort(addr)
		s.extra = append(s.extra, "--replicaof", host, port)
	}
}

// Start starts a redis-server for tb on a free loopback port and registers
// its shutdown with tb.Cleanup. By default the server keeps nothing on disk;
// see the options. It skips tb when redis-server is not on PATH, or fails it
// if RequireEnv is "1", and fails it when the server cannot be started.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if required() {
			tb.Fatalf("%s; %s=1, so this is a failure", SkipMessage, RequireEnv)
		}
		tb.Skip(SkipMessage)
	}
	// A unix socket path is limited to about 100 bytes, and tb.TempDir
	// embeds the test name, so the socket gets a short directory.
	sockDir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(sockDir) })

	s := &Server{
		tb:     tb,
		bin:    bin,
		dir:    tb.TempDir(),
		socket: filepath.Join(sockDir, "redis.sock"),
	}
	for _, o := range opts {
		o(s)
	}
	tb.Cleanup(s.Stop)

	var errs []error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: pick a port: %v", err)
		}
		p, err := s.launch(port)
		if err == nil {
			s.mu.Lock()
			s.port, s.proc = port, p
			s.mu.Unlock()
			return s
		}
		errs = append(errs, err)
	}
	tb.Fatalf("redistest: redis-server did not start after %d attempts:\n%v", portAttempts, errors.Join(errs...))
	return nil
}

// Addr returns the server's "127.0.0.1:port" address.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// URL returns a redis:// URL for database 0 of the server.
func (s *Server) URL() string {
	return "redis://" + s.Addr() + "/0"
}

// Socket returns the path of the server's unix socket.
func (s *Server) Socket() string {
	return s.socket
}

// Stop shuts the server down: SIGTERM, then SIGKILL if it has not exited
// within a few seconds. Stopping a stopped server does nothing. The data is
// lost, and Restart starts an empty server on the same port, unless the
// server runs with AppendOnly.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// Restart starts the server again on the same port after Stop (it stops it
// first if it is running), with the same options; with AppendOnly it
// reloads its data. It fails the test if the server does not come back.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	p, err := s.launch(s.port)
	if err != nil {
		s.tb.Fatalf("redistest: restart on port %d: %v", s.port, err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

// Pause stops the server (SIGSTOP) without killing it: it neither answers
// nor replicates until Resume.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume lets a paused server run again (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		s.tb.Fatalf("redistest: signal %v to a stopped server", sig)
	}
	if err := s.proc.cmd.Process.Signal(sig); err != nil {
		s.tb.Fatalf("redistest: signal %v: %v", sig, err)
	}
}

// Kill kills the server (SIGKILL; a paused one too): it is gone, with
// whatever it had not written or replicated. Restart brings it back.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Save makes the server write its RDB snapshot now (SAVE), in its working
// directory; RestartFromSnapshot starts the server from it. It fails the
// test if the server does not answer +OK.
func (s *Server) Save() {
	s.tb.Helper()
	if err := Command(s.Addr(), "SAVE"); err != nil {
		s.tb.Fatalf("redistest: SAVE: %v", err)
	}
}

// RestartFromSnapshot kills the server (SIGKILL, so it writes nothing on
// the way out) and starts it again on the same port from the snapshot the
// last Save wrote: the server comes back with the data it had at that
// Save, and every write after it is lost. It is for servers started
// without AppendOnly (with it, the server would reload its append-only
// file instead); such a server fails the test.
func (s *Server) RestartFromSnapshot() {
	s.tb.Helper()
	if s.aof {
		s.tb.Fatalf("redistest: RestartFromSnapshot on a server started with AppendOnly, which reloads its append-only file instead")
	}
	s.Kill()
	p, err := s.launch(s.port)
	if err != nil {
		s.tb.Fatalf("redistest: restart from the snapshot on port %d: %v", s.port, err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

// launch starts redis-server on port and waits until it answers PING. On
// failure the process is gone and the error carries its output.
func (s *Server) launch(port int) (*process, error) {
	aof := []string{"--appendonly", "no"}
	if s.aof {
		aof = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	args := append([]string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--unixsocket", s.socket,
		"--unixsocketperm", "700",
		"--dir", s.dir,
		"--save", "",
		"--daemonize", "no",
		"--loglevel", "warning",
	}, aof...)
	args = append(args, s.extra...)
	p, err := startProcess(s.bin, args...)
	if err != nil {
		return nil, err
	}

	if err := p.waitPing(port); err != nil {
		return nil, err
	}
	return p, nil
}

// waitPing waits until the process answers PING on port. On failure the
// process is gone and the error carries its output.
func (p *process) waitPing(port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(startTimeout)
	for {
		err := ping(addr)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server on port %d exited (%v):\n%s", port, p.err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("redis-server on port %d did not answer PING within %v (last error: %v):\n%s",
				port, startTimeout, err, p.out.String())
		}
		// Polling is the simplest way to wait for an external process;
		// the loop ends as soon as the server answers.
		time.Sleep(5 * time.Millisecond)
	}
}

// startProcess starts bin with args, its output kept for errors.
func startProcess(bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	out := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, waits a little, then kills.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// freePort asks the kernel for a free loopback port. The port is released
// before the server binds it, so a caller must expect it to be taken in the
// meantime and try again.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping sends one RESP PING to addr and expects +PONG.
func ping(addr string) error {
	line, err := Call(addr, "PING")
	if err != nil {
		return err
	}
	if line != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Command sends one command to the server at addr and expects +OK.
func Command(addr string, args ...string) error {
	line, err := Call(addr, args...)
	if err != nil {
		return err
	}
	if line != "+OK" {
		return fmt.Errorf("%s answered %q", strings.Join(args, " "), line)
	}
	return nil
}

// Call sends one command to the server at addr, on a connection of its
// own, and returns the answer: a one-line answer (+OK, :1, -ERR ...) as it
// is, without its line end; a bulk string (INFO, CLUSTER NODES) as its
// content. It speaks the wire protocol (RESP) itself so this package needs
// no client library.
func Call(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return "", err
	}
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(req.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if n, err := strconv.Atoi(strings.TrimPrefix(line, "$")); strings.HasPrefix(line, "$") && err == nil && n >= 0 {
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return line, nil
}
