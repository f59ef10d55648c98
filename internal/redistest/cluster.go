package redistest

import (
	"bufio"
	"errors"
	"fmt"
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
)

// ClusterSkipMessage is the reason a cluster test is skipped when
// redis-server or redis-cli is missing, or the server cannot run a cluster.
const ClusterSkipMessage = "a Redis Cluster needs redis-server and redis-cli 7.0 or later: install them with `apt-get install redis-server redis-tools` (make deps does this on Debian)"

const (
	// clusterNodes is the size of a cluster: three primaries, each with
	// one replica.
	clusterNodes = 6
	// nodeTimeout is the cluster-node-timeout, in milliseconds: how long
	// a node may be unreachable before the others count it failed. Low,
	// so that failovers in tests take a second or two.
	nodeTimeout = 1000
	// clusterTimeout bounds the wait for a new cluster to agree on its
	// slots, and for a failover.
	clusterTimeout = 60 * time.Second
)

// Cluster is a Redis Cluster of six redis-server processes on loopback:
// three primaries holding the 16384 slots, each with one replica, created
// with redis-cli --cluster create. Its methods are safe for concurrent
// use. Close stops every node.
type Cluster struct {
	dir   string
	bin   string
	nodes []*clusterNode
}

type clusterNode struct {
	port, bus int
	dir       string

	mu   sync.Mutex
	proc *process // nil once killed
}

// ErrNoClusterTools is wrapped by the error of NewCluster when redis-server
// or redis-cli is not on PATH.
var ErrNoClusterTools = errors.New("redistest: redis-server or redis-cli not found")

// NewCluster starts six nodes, creates the cluster and waits until every
// node reports it healthy (cluster_state:ok) and every replica is in sync.
// It takes a few seconds; tests that do not change the cluster share one
// (see SharedCluster). On failure every process it started is stopped.
func NewCluster() (*Cluster, error) {
	bin, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoClusterTools, err)
	}
	// cluster-port, which lets a node's bus port be any free port, came
	// with Redis 7.0.
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: redis-server --version: %v", ErrNoClusterTools, err)
	}
	if v := serverMajor(string(out)); v < 7 {
		return nil, fmt.Errorf("%w: %s is older than 7.0", ErrNoClusterTools, strings.TrimSpace(string(out)))
	}
	dir, err := os.MkdirTemp("", "redistest-cluster")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin}
	if err := c.start(cli); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(cli string) error {
	for i := range clusterNodes {
		n, err := c.startNode(i)
		if err != nil {
			return err
		}
		c.nodes = append(c.nodes, n)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("redis-cli --cluster create: %v:\n%s", err, out)
	}
	return c.WaitHealthy()
}

// startNode starts node i on two free ports, its own and its cluster bus
// port, trying other ports when another process takes one between the
// probe and the node's bind.
func (c *Cluster) startNode(i int) (*clusterNode, error) {
	var errs []error
	for attempt := range portAttempts {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		n := &clusterNode{port: ports[0], bus: ports[1], dir: filepath.Join(c.dir, fmt.Sprintf("%d-%d", i, attempt))}
		if err := os.Mkdir(n.dir, 0o700); err != nil {
			return nil, err
		}
		p, err := n.launch(c.bin)
		if err == nil {
			n.proc = p
			return n, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("node %d did not start after %d attempts:\n%w", i, portAttempts, errors.Join(errs...))
}

// launch starts one cluster node and waits until it answers PING.
func (n *clusterNode) launch(bin string) (*process, error) {
	p, err := startProcess(bin,
		"--port", strconv.Itoa(n.port),
		"--cluster-port", strconv.Itoa(n.bus),
		"--bind", "127.0.0.1",
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.Itoa(nodeTimeout),
		"--dir", n.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	if err != nil {
		return nil, err
	}
	if err := p.waitPing(n.port); err != nil {
		return nil, fmt.Errorf("cluster node: %w", err)
	}
	return p, nil
}

func (n *clusterNode) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }

// serverMajor reads the major version from redis-server --version
// ("Redis server v=7.0.15 sha=..."), or 0.
func serverMajor(version string) int {
	_, v, ok := strings.Cut(version, "v=")
	if !ok {
		return 0
	}
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

// Addrs returns the "127.0.0.1:port" address of every node, running or not.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.addr())
	}
	return out
}

// URL returns a redis-cluster:// URL naming every node, the form
// store/redis.Open takes for a cluster.
func (c *Cluster) URL() string {
	return "redis-cluster://" + strings.Join(c.Addrs(), ",")
}

// Close stops every node and removes their files. It is idempotent.
func (c *Cluster) Close() {
	for _, n := range c.nodes {
		n.mu.Lock()
		p := n.proc
		n.proc = nil
		n.mu.Unlock()
		if p != nil {
			p.stop()
		}
	}
	_ = os.RemoveAll(c.dir)
}

// info returns the fields of INFO section (or CLUSTER INFO, for
// "cluster") of the node at addr.
func info(addr, section string) (map[string]string, error) {
	var text string
	var err error
	if section == "cluster" {
		text, err = Call(addr, "CLUSTER", "INFO")
	} else {
		text, err = Call(addr, "INFO", section)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// WaitHealthy waits until every running node reports cluster_state:ok and
// every running replica has its link to its primary up.
func (c *Cluster) WaitHealthy() error {
	deadline := time.Now().Add(clusterTimeout)
	for {
		err := c.healthy(true)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: the cluster is not healthy after %v: %w", clusterTimeout, err)
		}
		time.Sleep(50 * time.Millisecond) // polling external processes
	}
}

// Failover loses the primary at primary for good (Kill) and promotes its
// replica at replica in its place (Resume, then Takeover), as after the
// loss of a machine: whatever the primary had not sent the replica is
// gone.
func (c *Cluster) Failover(primary, replica string) error {
	if err := c.Kill(primary); err != nil {
		return err
	}
	if err := c.Resume(replica); err != nil {
		return err
	}
	return c.Takeover(replica)
}

// healthy reports, as an error, a running node whose cluster_state is not
// ok, and with links, a running replica whose link to its primary is down.
func (c *Cluster) healthy(links bool) error {
	for _, n := range c.running() {
		ci, err := info(n.addr(), "cluster")
		if err != nil {
			return err
		}
		if ci["cluster_state"] != "ok" {
			return fmt.Errorf("%s: cluster_state %q", n.addr(), ci["cluster_state"])
		}
		if !links {
			continue
		}
		ri, err := info(n.addr(), "replication")
		if err != nil {
			return err
		}
		if ri["role"] == "slave" && ri["master_link_status"] != "up" {
			return fmt.Errorf("%s: replica link %q", n.addr(), ri["master_link_status"])
		}
	}
	return nil
}

func (c *Cluster) running() []*clusterNode {
	var out []*clusterNode
	for _, n := range c.nodes {
		n.mu.Lock()
		if n.proc != nil {
			out = append(out, n)
		}
		n.mu.Unlock()
	}
	return out
}

// nodeOf returns the node at addr, or nil.
func (c *Cluster) nodeOf(addr string) *clusterNode {
	for _, n := range c.nodes {
		if n.addr() == addr {
			return n
		}
	}
	return nil
}

// PrimaryOf returns the address of the running primary that serves key's
// slot, and of its replica (empty if it has none running).
func (c *Cluster) PrimaryOf(key string) (primary, replica string, err error) {
	slot := strconv.Itoa(Slot(key))
	for _, n := range c.running() {
		ri, err := info(n.addr(), "replication")
		if err != nil {
			return "", "", err
		}
		if ri["role"] != "master" {
			continue
		}
		// The node's own view of the slot: CLUSTER NODES marks itself
		// "myself" and lists its slot ranges.
		nodes, err := Call(n.addr(), "CLUSTER", "NODES")
		if err != nil {
			return "", "", err
		}
		myID, mine := "", false
		for _, line := range strings.Split(nodes, "\n") {
			f := strings.Fields(line)
			if len(f) < 8 || !strings.Contains(f[2], "myself") {
				continue
			}
			myID = f[0]
			for _, r := range f[8:] {
				lo, hi, ok := strings.Cut(r, "-")
				if !ok {
					hi = lo
				}
				a, err1 := strconv.Atoi(lo)
				b, err2 := strconv.Atoi(hi)
				s := Slot(key)
				if err1 == nil && err2 == nil && a <= s && s <= b {
					mine = true
				}
			}
		}
		if !mine {
			continue
		}
		for _, line := range strings.Split(nodes, "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && f[3] == myID && !strings.Contains(f[2], "fail") {
				addr, _, _ := strings.Cut(f[1], "@")
				if c.nodeOf(addr) != nil && c.nodeOf(addr).alive() {
					replica = addr
				}
			}
		}
		return n.addr(), replica, nil
	}
	return "", "", fmt.Errorf("redistest: no running primary serves slot %s", slot)
}

func (n *clusterNode) alive() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil
}

// WaitReplicated waits until every running replica of the primary at addr
// has received everything the primary has: the offsets its INFO
// replication reports for them equal its own.
func (c *Cluster) WaitReplicated(primary string) error { return WaitReplicated(primary) }

// Pause stops the node at addr (SIGSTOP) without killing it: it neither
// answers nor replicates until Resume. A paused replica falls behind its
// primary, as one whose link was cut.
func (c *Cluster) Pause(addr string) error { return c.signal(addr, syscall.SIGSTOP) }

// CutReplica cuts the replica at replica off its primary at primary, as
// a network partition would: it pauses the replica (Pause), then closes
// the primary's replication connections (CLIENT KILL TYPE replica), so
// that nothing the primary writes from then on reaches the replica, even
// from the socket buffers, until the replica is resumed and reconnects.
// (Pause alone would not do: what the primary sent meanwhile waits in the
// paused replica's socket and is applied when it resumes.)
func (c *Cluster) CutReplica(primary, replica string) error {
	if err := c.Pause(replica); err != nil {
		return err
	}
	return cutLinks(primary)
}

// Resume lets a paused node run again (SIGCONT).
func (c *Cluster) Resume(addr string) error { return c.signal(addr, syscall.SIGCONT) }

func (c *Cluster) signal(addr string, sig syscall.Signal) error {
	n := c.nodeOf(addr)
	if n == nil {
		return fmt.Errorf("redistest: no node at %s", addr)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return fmt.Errorf("redistest: the node at %s is not running", addr)
	}
	return n.proc.cmd.Process.Signal(sig)
}

// Kill kills the node at addr (SIGKILL): it is gone, with whatever it had
// not replicated, and does not come back.
func (c *Cluster) Kill(addr string) error {
	n := c.nodeOf(addr)
	if n == nil {
		return fmt.Errorf("redistest: no node at %s", addr)
	}
	n.mu.Lock()
	p := n.proc
	n.proc = nil
	n.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Signal(syscall.SIGCONT) // a paused node dies too
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// Takeover promotes the replica at addr with CLUSTER FAILOVER TAKEOVER,
// without its primary's agreement (as when the primary is lost), and waits
// until the replica reports itself a primary and the cluster is healthy.
func (c *Cluster) Takeover(addr string) error {
	if err := Command(addr, "CLUSTER", "FAILOVER", "TAKEOVER"); err != nil {
		return err
	}
	deadline := time.Now().Add(clusterTimeout)
	for {
		ri, err := info(addr, "replication")
		if err == nil && ri["role"] == "master" {
			if err = c.healthy(false); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: %s not a healthy primary %v after CLUSTER FAILOVER TAKEOVER (%v)", addr, clusterTimeout, err)
		}
		time.Sleep(20 * time.Millisecond) // polling external processes
	}
}

// Slot returns the Redis Cluster slot of key: CRC16 of the key, or of its
// hash tag (the text between the first "{" and the next "}", if not
// empty), modulo 16384.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// freePorts asks the kernel for n distinct free loopback ports, holding
// them all until it has n, so that none repeats.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
)

// SharedCluster returns the cluster shared by the tests of this process,
// starting it on the first call. Tests that use it must not change its
// nodes (no Pause, Kill or Takeover: start their own with StartCluster),
// and use keys of their own. The package's TestMain calls CloseShared
// after the tests. Without redis-server or redis-cli the test is skipped,
// or fails when RequireEnv is "1"; a cluster that cannot start fails it.
func SharedCluster(tb testing.TB) *Cluster {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = NewCluster() })
	return clusterOrSkip(tb, shared, sharedErr)
}

// CloseShared stops the shared cluster, if one was started.
func CloseShared() {
	if shared != nil {
		shared.Close()
	}
}

// StartCluster starts a cluster of tb's own, stopped when tb ends; for
// tests that pause, kill or promote nodes. It skips or fails tb as
// SharedCluster does.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := NewCluster()
	if c != nil {
		tb.Cleanup(c.Close)
	}
	return clusterOrSkip(tb, c, err)
}

func clusterOrSkip(tb testing.TB, c *Cluster, err error) *Cluster {
	tb.Helper()
	switch {
	case errors.Is(err, ErrNoClusterTools) && !required():
		tb.Skip(ClusterSkipMessage)
	case errors.Is(err, ErrNoClusterTools):
		tb.Fatalf("%s; %s=1, so this is a failure", ClusterSkipMessage, RequireEnv)
	case err != nil:
		tb.Fatalf("redistest: start a cluster: %v", err)
	}
	return c
}
