package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MasterName is the name the Sentinel of StartSentinel monitors its
// primary under.
const MasterName = "slidingjwt"

// Sentinel is a primary, one replica of it, and one Redis Sentinel
// (redis-server --sentinel) that monitors the primary with a quorum of
// one, so that it alone decides a failover. Down-after is one second.
type Sentinel struct {
	tb      testing.TB
	Primary *Server
	Replica *Server
	addr    string
	proc    *process
}

// StartSentinel starts a primary, a replica of it and a Sentinel, waits
// until the replica is in sync and the Sentinel knows it, and stops them
// all when tb ends. It skips tb without redis-server, or fails it as
// Start does.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	primary := Start(tb)
	replica := Start(tb, ReplicaOf(primary.Addr()))
	s := &Sentinel{tb: tb, Primary: primary, Replica: replica}
	if err := waitFor(func() error {
		ri, err := info(replica.Addr(), "replication")
		if err == nil && ri["master_link_status"] != "up" {
			err = fmt.Errorf("replica link %q", ri["master_link_status"])
		}
		return err
	}); err != nil {
		tb.Fatalf("redistest: the replica did not sync: %v", err)
	}
	dir := tb.TempDir()
	var errs []error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: pick a port: %v", err)
		}
		p, err := s.launch(primary.bin, dir, port)
		if err == nil {
			s.proc, s.addr = p, fmt.Sprintf("127.0.0.1:%d", port)
			break
		}
		errs = append(errs, err)
	}
	if s.proc == nil {
		tb.Fatalf("redistest: the Sentinel did not start: %v", errs)
	}
	tb.Cleanup(func() { s.proc.stop() })
	if err := waitFor(func() error {
		n, err := Call(s.addr, "SENTINEL", "REPLICAS", MasterName)
		if err == nil && n != "*1" {
			err = fmt.Errorf("SENTINEL REPLICAS answered %q", n)
		}
		return err
	}); err != nil {
		tb.Fatalf("redistest: the Sentinel does not know the replica: %v", err)
	}
	return s
}

// launch writes the Sentinel's configuration (a Sentinel rewrites it, so
// it is a file of its own) and starts it on port.
func (s *Sentinel) launch(bin, dir string, port int) (*process, error) {
	conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", port))
	host, pport, _ := strings.Cut(s.Primary.Addr(), ":")
	text := strings.Join([]string{
		"port " + strconv.Itoa(port),
		"bind 127.0.0.1",
		"dir " + dir,
		"sentinel monitor " + MasterName + " " + host + " " + pport + " 1",
		"sentinel down-after-milliseconds " + MasterName + " 1000",
		"sentinel failover-timeout " + MasterName + " 10000",
		"",
	}, "\n")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	p, err := startProcess(bin, conf, "--sentinel", "--loglevel", "warning")
	if err != nil {
		return nil, err
	}
	if err := p.waitPing(port); err != nil {
		return nil, err
	}
	return p, nil
}

// Addr returns the Sentinel's "127.0.0.1:port" address.
func (s *Sentinel) Addr() string { return s.addr }

// URL returns the redis-sentinel:// URL of the primary under MasterName,
// the form store/redis.Open takes.
func (s *Sentinel) URL() string { return "redis-sentinel://" + s.addr + "/" + MasterName }

// CutReplica cuts the replica off the primary, as Cluster.CutReplica does.
func (s *Sentinel) CutReplica() {
	s.tb.Helper()
	s.Replica.Pause()
	if err := cutLinks(s.Primary.Addr()); err != nil {
		s.tb.Fatal(err)
	}
}

// Failover loses the primary for good (Kill), lets the replica run again,
// and has the Sentinel promote it (SENTINEL FAILOVER), waiting until the
// replica is a primary.
func (s *Sentinel) Failover() {
	s.tb.Helper()
	s.Primary.Kill()
	s.Replica.Resume()
	if err := waitFor(func() error {
		if ri, err := info(s.Replica.Addr(), "replication"); err == nil && ri["role"] == "master" {
			return nil
		}
		// The Sentinel may refuse while it has not seen the replica
		// answer again since the pause; ask until it starts.
		ans, err := Call(s.addr, "SENTINEL", "FAILOVER", MasterName)
		if err == nil {
			err = fmt.Errorf("SENTINEL FAILOVER answered %q", ans)
		}
		return err
	}); err != nil {
		s.tb.Fatalf("redistest: the replica was not promoted: %v", err)
	}
}

// WaitReplicated waits until every replica of the primary at addr has
// received everything the primary has: the offsets its INFO replication
// reports for them equal its own.
func WaitReplicated(primary string) error {
	return waitFor(func() error {
		ri, err := info(primary, "replication")
		if err != nil {
			return err
		}
		if ri["connected_slaves"] == "0" {
			return fmt.Errorf("%s has no replica connected", primary)
		}
		for k, v := range ri {
			if !strings.HasPrefix(k, "slave") || !strings.Contains(v, "offset=") {
				continue
			}
			_, off, _ := strings.Cut(v, "offset=")
			off, _, _ = strings.Cut(off, ",")
			if off != ri["master_repl_offset"] {
				return fmt.Errorf("%s: replica at offset %s, primary at %s", primary, off, ri["master_repl_offset"])
			}
		}
		return nil
	})
}

// cutLinks closes the replication connections of the primary at addr
// (CLIENT KILL TYPE replica): one replica's, in these tests.
func cutLinks(primary string) error {
	n, err := Call(primary, "CLIENT", "KILL", "TYPE", "replica")
	if err != nil {
		return err
	}
	if n != ":1" {
		return fmt.Errorf("redistest: CLIENT KILL TYPE replica on %s answered %q; want one replication link closed", primary, n)
	}
	return nil
}

// waitFor calls f until it returns nil, for up to clusterTimeout, and
// returns its last error after that.
func waitFor(f func() error) error {
	deadline := time.Now().Add(clusterTimeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", clusterTimeout, err)
		}
		time.Sleep(20 * time.Millisecond) // polling external processes
	}
}
