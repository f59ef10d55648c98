package redistest

import (
	"fmt"
	"net"
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

func TestSkipsWithoutRedisServer(t *testing.T) {
	// Not parallel: it empties PATH for the whole process.
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireEnv, "") // CI sets it; here the skip itself is tested
	var sub *testing.T
	t.Run("missing", func(t *testing.T) {
		sub = t
		Start(t)
		t.Error("Start returned without redis-server on PATH; want a skip")
	})
	if !sub.Skipped() {
		t.Errorf("subtest was not skipped")
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
