package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/redis"
)

// The renew rows of the backends that need a file or a server.
func init() {
	renewStores = append(renewStores,
		renewStore{name: "bolt", unit: "commits/op", open: openBolt},
		renewStore{name: "redis", unit: "roundtrips/op", open: openRedis},
		renewStore{name: "redis-cluster", unit: "roundtrips/op", open: openRedisCluster},
	)
}

// openBolt opens a bolt store on a new file, fsync on (bbolt's default), in
// BENCH_DIR or a temporary directory. It counts the write transactions
// committed: bbolt gives each its own transaction ID, and every commit ends
// in fdatasync.
func openBolt(b *testing.B) (store.Store, func() int64) {
	dir := b.TempDir()
	if d := os.Getenv("BENCH_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "bench-bolt"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	db, err := bbolt.Open(filepath.Join(dir, "renewals.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, err := bolt.New(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = st.Close()
		_ = db.Close()
	})
	commits := func() int64 {
		var id int
		if err := db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
			b.Error(err)
		}
		return int64(id)
	}
	return st, commits
}

// openRedis starts a redis-server (skipping when there is none) and returns
// a store on a client that counts the round trips it makes.
func openRedis(b *testing.B) (store.Store, func() int64) {
	srv := redistest.Start(b)
	opts, err := goredis.ParseURL(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	client := goredis.NewClient(opts)
	var trips atomic.Int64
	client.AddHook(tripCounter{&trips})
	b.Cleanup(func() { _ = client.Close() })
	// A longer per-call limit than the default 250ms, so that a loaded
	// benchmark machine does not turn a slow call into a skipped renewal.
	st, err := redis.New(client, &redis.Options{Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	// Load the renewal script once, as a running server has, so that the
	// measured calls are the steady state (EVALSHA, one round trip each).
	if _, err := st.Allow(context.Background(), "warm-up", time.Now(), time.Second); err != nil {
		b.Fatal(err)
	}
	return st, trips.Load
}

// openRedisCluster returns a store on the Redis Cluster of three primaries
// and three replicas the benchmarks share (started on first use, skipping
// when redis-server or redis-cli is missing), through a cluster client
// that counts the round trips it makes. Renewal keys spread over the
// three primaries.
func openRedisCluster(b *testing.B) (store.Store, func() int64) {
	c := redistest.SharedCluster(b)
	client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})
	var trips atomic.Int64
	client.AddHook(tripCounter{&trips})
	b.Cleanup(func() { _ = client.Close() })
	st, err := redis.New(client, &redis.Options{Timeout: 5 * time.Second, KeyPrefix: fmt.Sprintf("bench%d:", benchPrefix.Add(1))})
	if err != nil {
		b.Fatal(err)
	}
	// Load the renewal script on every primary, as on a running cluster.
	for i := range 64 {
		if _, err := st.Allow(context.Background(), fmt.Sprintf("warm-up-%d", i), time.Now(), time.Second); err != nil {
			b.Fatal(err)
		}
	}
	return st, trips.Load
}

// benchPrefix gives each run of a cluster row keys of its own, as the
// cluster is shared by the runs.
var benchPrefix atomic.Int64

// tripCounter is a go-redis hook that counts commands and pipelines sent.
type tripCounter struct{ n *atomic.Int64 }

func (tripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (t tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		t.n.Add(1)
		return next(ctx, cmd)
	}
}

func (t tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		t.n.Add(1)
		return next(ctx, cmds)
	}
}
