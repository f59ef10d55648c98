package redis_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// TestMain stops the Redis Cluster the cluster tests share, once they ran.
func TestMain(m *testing.M) {
	code := m.Run()
	redistest.CloseShared()
	os.Exit(code)
}

// The cluster tests run on a real Redis Cluster of three primaries and
// three replicas (redistest.SharedCluster), opened by the redis-cluster://
// URL form, and pass the same contracts as one server.

func TestClusterConformance(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	storetest.Run(t, func(tb testing.TB) store.Store {
		return open(tb, c.URL(), relaxed(uniquePrefix()))
	})
}

func TestClusterRevokerConformance(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		return open(tb, c.URL(), revOpts(uniquePrefix(), maxRevocations))
	})
}

// TestClusterRevokerConformanceNew: the same through New, with the
// application's ClusterClient.
func TestClusterRevokerConformanceNew(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	storetest.RunRevoker(t, func(tb testing.TB, maxRevocations int) store.Revoker {
		return mustNew(tb, client, revOpts(uniquePrefix(), maxRevocations))
	})
}

// TestClusterKeys: renewal keys spread over the slots, hence over the
// three primaries; the revocation keys all share one slot (their hash
// tag), which the scripts need.
func TestClusterKeys(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	prefix := uniquePrefix()
	s := open(t, c.URL(), &redis.Options{KeyPrefix: prefix, RevocationKeyPrefix: prefix, Timeout: patient})
	primaries := map[string]bool{}
	for i := range 60 {
		key := fmt.Sprintf("session-%d", i)
		mustAllow(t, s, key, storetest.Base, time.Minute, true)
		p, _, err := c.PrimaryOf(prefix + key)
		if err != nil {
			t.Fatal(err)
		}
		primaries[p] = true
	}
	if len(primaries) != 3 {
		t.Errorf("60 renewal keys on %d primaries, want all 3", len(primaries))
	}
	storetest.MustRevoke(t, s, storetest.SessionRevocation(1), storetest.Base)
	tag := "{" + prefix + "}"
	slot := redistest.Slot(tag + "data")
	for _, k := range []string{"exp", "log", "seq", "epoch", "hist", "format"} {
		if got := redistest.Slot(tag + k); got != slot {
			t.Errorf("%s%s in slot %d, data in %d", tag, k, got, slot)
		}
	}
}

// TestClusterWatch: a revocation made through one Store reaches watches
// through every other Store of the cluster. The script publishes on the
// primary that holds the revocation keys; the watches subscribe on the
// node of the channel's slot, which the test makes another primary, so
// the message crosses the cluster bus: plain pub/sub reaches every node.
func TestClusterWatch(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	var prefix string
	for {
		prefix = uniquePrefix()
		keys, _, err1 := c.PrimaryOf("{" + prefix + "}data")
		channel, _, err2 := c.PrimaryOf(prefix + "events")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if keys != channel {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const watchers = 4
	got := make(chan store.Revocation, watchers)
	for i := range watchers {
		// Each watcher's client knows one node only at first, so the
		// subscriptions do not all start from the same one.
		w := open(t, "redis-cluster://"+c.Addrs()[i%len(c.Addrs())], revOpts(prefix, 0))
		subscribed := make(chan struct{})
		go func() {
			_ = w.WatchRevocations(ctx, func(r store.Revocation) { got <- r }, func() { close(subscribed) })
		}()
		waitFor(t, subscribed, fmt.Sprintf("subscription %d", i))
	}
	writer := open(t, c.URL(), revOpts(prefix, 0))
	rv := storetest.SessionRevocation(1)
	storetest.MustRevoke(t, writer, rv, storetest.Base)
	for i := range watchers {
		select {
		case r := <-got:
			if r.Key != rv.Key {
				t.Errorf("watch delivered %s, want %s", r.Key, rv.Key)
			}
		case <-time.After(hangLimit):
			t.Fatalf("%d of %d watches got the revocation within %v", i, watchers, hangLimit)
		}
	}
}

// TestOpenClusterURLs: the redis-cluster:// form names one node or more;
// its errors name the problem and never show the password.
func TestOpenClusterURLs(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	good := []string{
		c.URL(),
		"redis-cluster://" + c.Addrs()[0],
		"redis-cluster://" + c.Addrs()[0] + "/?dial_timeout=1s&addr=" + c.Addrs()[1],
		"redis-cluster://" + c.Addrs()[0] + "," + c.Addrs()[1] + "/0?pool_size=4",
	}
	for _, u := range good {
		s := open(t, u, relaxed(""))
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("Ping via %q: %v", u, err)
		}
	}
	wantOpenErrors(t, []badURL{
		{"redis-cluster://", `address ""`, ""},
		{"redis-cluster://a:1,,b:2", `address ""`, ""},
		{"redis-cluster://a:1,b", `address "b" is not host:port`, ""},
		{"redis-cluster://:s3cret@a:1,b:2/1", "only database 0", "s3cret"},
		{"redis-cluster://:s3cret@a:1,b:2?dial_timeout=soon", "invalid dial_timeout", "s3cret"},
		{"redis-cluster://:s3cret@a:1,b:2?bogus=s3cret", "unexpected option: bogus", "s3cret"},
		{"rediss-cluster://u:s3/cr3t@a:1", `"rediss-cluster://xxxxx@a:1"`, "cr3t"},
	})
}

// badURL is a URL Open must refuse: its error contains want, and never
// secret.
type badURL struct {
	url, want, secret string
}

// wantOpenErrors checks that Open refuses each URL as its case says.
func wantOpenErrors(t *testing.T, cases []badURL) {
	t.Helper()
	for _, tt := range cases {
		s, err := redis.Open(tt.url, nil)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q): no error; want one containing %q", tt.url, tt.want)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "store/redis: ") || !strings.Contains(msg, tt.want) {
			t.Errorf("Open(%q) error = %q; want store/redis: ... %q", tt.url, msg, tt.want)
		}
		if tt.secret != "" && strings.Contains(msg, tt.secret) {
			t.Errorf("Open(%q) error = %q; it shows a password", tt.url, msg)
		}
	}
}
