package bolt_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// The child process of TestRevocationSurvivesKill, started from a copy of
// the test binary like TestHelperProcess in process_test.go.
const (
	revokeHelperEnv = "SLIDINGJWT_BOLT_REVOKE_HELPER" // the number of sessions the child revokes
)

// revokedBy lists what the child revokes for n: n sessions and n subjects,
// recorded concurrently.
func revokedBy(n int) []store.Revocation {
	var rs []store.Revocation
	for i := range n {
		rs = append(rs, storetest.SessionRevocation(i), storetest.SubjectRevocation(i))
	}
	return rs
}

// TestRevokeHelperProcess is not a test: it is the child process of
// TestRevocationSurvivesKill, and skips unless started by it.
func TestRevokeHelperProcess(t *testing.T) {
	arg := os.Getenv(revokeHelperEnv)
	if arg == "" {
		t.Skip("helper process for TestRevocationSurvivesKill")
	}
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	n, err := strconv.Atoi(arg)
	if err != nil {
		fail(err)
	}
	s, err := bolt.Open(os.Getenv(helperPathEnv), nil)
	if err != nil {
		fail(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for _, rv := range revokedBy(n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Revoke(ctx, rv, storetest.Base); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fail(err)
	}
	fmt.Println("revoked")
	// Hold the store open, without Close, until killed.
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// TestRevocationSurvivesKill: once Revoke has returned, the revocation is
// in the file, even if the process is killed at once with SIGKILL (no
// Close, no deferred code), and a reopened store lists it.
func TestRevocationSurvivesKill(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 100} {
		t.Run(fmt.Sprintf("%d sessions and subjects", n), func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestRevokeHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), revokeHelperEnv+"="+strconv.Itoa(n), helperPathEnv+"="+path)
			stdin, err := cmd.StdinPipe()
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
				if line != "revoked" {
					t.Fatalf("child said %q, want %q", line, "revoked")
				}
			case <-time.After(helperTimeout):
				t.Fatalf("child printed nothing within %v", helperTimeout)
			}
			kill(t, cmd)

			s := open(t, path, nil)
			storetest.WantRevocations(t, s, storetest.Base, revokedBy(n)...)
			// A revocation recorded before the kill still counts toward
			// the cap and merges like any other.
			longer := storetest.SessionRevocation(0)
			longer.Until = longer.Until.Add(time.Hour)
			storetest.MustRevoke(t, s, longer, storetest.Base)
			if got, want := s.RevocationsLen(), 2*n; got != want {
				t.Errorf("RevocationsLen after a merge = %d, want %d", got, want)
			}
		})
	}
}
