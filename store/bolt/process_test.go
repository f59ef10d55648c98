package bolt_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// The tests in this file run a copy of the test binary as a child process
// (TestHelperProcess) that opens a store and then blocks, so that the parent
// can kill it or compete with it for the file.
const (
	helperEnv     = "SLIDINGJWT_BOLT_HELPER" // what the child does
	helperPathEnv = "SLIDINGJWT_BOLT_PATH"   // the file it opens
	helperKeysEnv = "SLIDINGJWT_BOLT_KEYS"   // how many keys it renews
	helperTimeout = 30 * time.Second         // for the child's first line
)

// TestHelperProcess is not a test: it is the child process of the tests
// below, and skips unless they started it.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for the tests in this file")
	}
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	switch mode {
	case "renew":
		// Renew n keys concurrently; print once all were granted.
		n, err := strconv.Atoi(os.Getenv(helperKeysEnv))
		if err != nil {
			fail(err)
		}
		s, err := bolt.Open(os.Getenv(helperPathEnv), nil)
		if err != nil {
			fail(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, k := range storetest.Keys(n) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := s.Allow(ctx, k, storetest.Base, storetest.Interval); !ok || err != nil {
					errs <- fmt.Errorf("Allow(%s) = %v, %v", k, ok, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			fail(err)
		}
		fmt.Println("allowed")
	case "hold":
		if _, err := bolt.Open(os.Getenv(helperPathEnv), nil); err != nil {
			fail(err)
		}
		fmt.Println("opened")
	default:
		fail(fmt.Errorf("unknown mode %q", mode))
	}
	// Block, holding the store open, until killed (or the parent goes away
	// and closes our stdin).
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// startHelper starts TestHelperProcess in mode on path, waits for its first
// line of output and returns it. The child is killed when the test ends.
func startHelper(t *testing.T, mode, path string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	cmd.Env = append(cmd.Env, env...)
	stdin, err := cmd.StdinPipe() // never written: the child blocks reading it
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case line := <-lines:
		return cmd, line
	case <-time.After(helperTimeout):
		t.Fatalf("helper %q printed nothing within %v", mode, helperTimeout)
		return nil, ""
	}
}

// kill sends SIGKILL to the child and waits until it is gone.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child exited with %v, want killed", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child exited with %v, want killed by SIGKILL", err)
	}
}

// TestRenewalSurvivesKill: once Allow has reported true, the renewal is in
// the file, even if the process is killed at once with SIGKILL (no Close,
// no deferred code). Many concurrent renewals sharing commits are checked
// too.
func TestRenewalSurvivesKill(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 300} {
		t.Run(fmt.Sprintf("%d keys", n), func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			cmd, line := startHelper(t, "renew", path, helperKeysEnv+"="+strconv.Itoa(n))
			if line != "allowed" {
				t.Fatalf("child said %q, want %q", line, "allowed")
			}
			kill(t, cmd)

			s := open(t, path, nil)
			keys := storetest.Keys(n)
			for _, k := range keys {
				mustLast(t, s, k, storetest.Base)
			}
			mustAllow(t, s, keys[0], storetest.Base.Add(storetest.Interval/2), false)
			mustAllow(t, s, keys[n-1], storetest.Base.Add(storetest.Interval), true)
		})
	}
}

// TestOpenLockedFile: a file held by another process, or by another open in
// this one, makes Open fail with an error that says so, names the file and
// reports the Options.Timeout it gave up after. How long Open really waited
// is not checked: a duration compared with a threshold belongs in a
// benchmark, and the waiting is bbolt's retry loop.
func TestOpenLockedFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		holder  string // "process" or "this process"
		timeout time.Duration
		gaveUp  string // how the error reports the wait
	}{
		{"another process, 300ms", "process", 300 * time.Millisecond, "gave up after 300ms"},
		{"another process, one try", "process", -1, "gave up after 0s"},
		{"this process, 100ms", "this process", 100 * time.Millisecond, "gave up after 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			var cmd *exec.Cmd
			if tt.holder == "process" {
				var line string
				cmd, line = startHelper(t, "hold", path)
				if line != "opened" {
					t.Fatalf("child said %q, want %q", line, "opened")
				}
			} else {
				open(t, path, nil)
			}

			s, err := bolt.Open(path, &bolt.Options{Timeout: tt.timeout})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open of a locked file succeeded")
			}
			if !errors.Is(err, bolt.ErrLocked) {
				t.Errorf("error %q does not wrap ErrLocked", err)
			}
			if !errors.Is(err, berrors.ErrTimeout) {
				t.Errorf("error %q does not wrap bbolt.ErrTimeout", err)
			}
			for _, want := range []string{path, "locked by another process", tt.gaveUp} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}

			if cmd != nil {
				// The kernel drops the lock of a killed process.
				kill(t, cmd)
				open(t, path, &bolt.Options{Timeout: -1})
			}
		})
	}
}
