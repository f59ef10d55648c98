package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStartAnswersOnTCPAndSocket(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	if err := ping(srv.Addr()); err != nil {
		t.Fatalf("PING %s: %v", srv.Addr(), err)
	}
	if got, want := srv.URL(), "redis://"+srv.Addr()+"/0"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	if host, _, err := net.SplitHostPort(srv.Addr()); err != nil || host != "127.0.0.1" {
		t.Errorf("Addr() = %q; want a 127.0.0.1 address", srv.Addr())
	}
	if err := pingUnix(srv.Socket()); err != nil {
		t.Fatalf("PING over %s: %v", srv.Socket(), err)
	}
}

func TestStopAndRestartKeepThePort(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	addr := srv.Addr()
	srv.Stop()
	if err := ping(addr); err == nil {
		t.Fatalf("PING %s after Stop succeeded; want an error", addr)
	}
	srv.Stop() // a second Stop does nothing
	srv.Restart()
	if got := srv.Addr(); got != addr {
		t.Errorf("Addr() after Restart = %q, want %q", got, addr)
	}
	if err := ping(addr); err != nil {
		t.Fatalf("PING %s after Restart: %v", addr, err)
	}
	srv.Restart() // restarting a running server stops it first
	if err := ping(addr); err != nil {
		t.Fatalf("PING %s after a second Restart: %v", addr, err)
	}
}

func TestParallelServersAreDistinct(t *testing.T) {
	t.Parallel()
	const n = 4
	var mu sync.Mutex
	seen := make(map[string]bool)
	for i := range n {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			srv := Start(t)
			mu.Lock()
			defer mu.Unlock()
			if seen[srv.Addr()] {
				t.Errorf("address %s handed out twice", srv.Addr())
			}
			seen[srv.Addr()] = true
		})
	}
}

func TestCleanupStopsServer(t *testing.T) {
	t.Parallel()
	var addr string
	t.Run("owner", func(t *testing.T) {
		addr = Start(t).Addr()
	})
	if addr == "" {
		t.Skip("the subtest did not start a server")
	}
	if err := ping(addr); err == nil {
		t.Fatalf("PING %s after the owning test ended succeeded; want an error", addr)
	}
}

// TestSkipsWithoutRedisServer: without redis-server on PATH, Start skips
// the test unless RequireEnv is exactly "1".
func TestSkipsWithoutRedisServer(t *testing.T) {
	// Not parallel: it empties PATH for the whole process.
	t.Setenv("PATH", t.TempDir())
	for _, value := range []string{"", "0", "true", "yes"} {
		t.Run(fmt.Sprintf("%s=%q", RequireEnv, value), func(t *testing.T) {
			t.Setenv(RequireEnv, value) // CI sets it to 1; here the skip itself is tested
			var sub *testing.T
			t.Run("missing", func(t *testing.T) {
				sub = t
				Start(t)
				t.Error("Start returned without redis-server on PATH; want a skip")
			})
			if !sub.Skipped() {
				t.Errorf("subtest was not skipped")
			}
		})
	}
}

// helperEnv makes TestHelperStartWithoutServer, run in a child process by
// TestFailsWithoutRedisServerWhenRequired, call Start.
const helperEnv = "SLIDINGJWT_REDISTEST_HELPER"

// TestHelperStartWithoutServer is not a test: it is the child process of
// TestFailsWithoutRedisServerWhenRequired, and skips unless started by it.
func TestHelperStartWithoutServer(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestFailsWithoutRedisServerWhenRequired")
	}
	Start(t)
	fmt.Println("Start returned")
}

// TestFailsWithoutRedisServerWhenRequired: with RequireEnv=1 and no
// redis-server on PATH, Start fails the test, and says how to install the
// server. The failure ends a test, so it runs in a copy of the test binary.
func TestFailsWithoutRedisServerWhenRequired(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperStartWithoutServer$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir(), RequireEnv+"=1", helperEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child ended with %v; want exit status 1, a failed test", err)
	}
	for _, want := range []string{
		"--- FAIL: TestHelperStartWithoutServer",
		SkipMessage,
		RequireEnv + "=1, so this is a failure",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output does not contain %q", want)
		}
	}
	for _, unwanted := range []string{"--- SKIP", "Start returned"} {
		if strings.Contains(string(out), unwanted) {
			t.Errorf("child output contains %q; want Start to fail the test", unwanted)
		}
	}
}

func pingUnix(path string) error {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(string(buf[:n])); got != "+PONG" {
		return fmt.Errorf("PING answered %q", got)
	}
	return nil
}

// TestAppendOnlyKeepsDataAcrossRestart: with AppendOnly the data written
// before Stop is there after Restart; without it the server comes back
// empty.
func TestAppendOnlyKeepsDataAcrossRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want string // GET k after the restart, as RESP
	}{
		{"default", nil, "$-1"},
		{"AppendOnly", []Option{AppendOnly()}, "$1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := Start(t, tt.opts...)
			if got, err := command(srv.Addr(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"); err != nil || got != "+OK" {
				t.Fatalf("SET k v = %q, %v; want +OK", got, err)
			}
			srv.Restart()
			got, err := command(srv.Addr(), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
			if err != nil || got != tt.want {
				t.Fatalf("GET k after Restart = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// command sends one RESP command to addr and returns the first line of the
// answer.
func command(addr, resp string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	if _, err := conn.Write([]byte(resp)); err != nil {
		return "", err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line, nil
}
