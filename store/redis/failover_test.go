package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// TestWaitReplicasSurvivesFailover: on a real cluster, the replica of the
// primary that holds the revocations is stopped (its link cut), the
// primary is then lost and the replica promoted (CLUSTER FAILOVER
// TAKEOVER). With Options.WaitReplicas 1, every sign-out that returned
// survives on the new primary, and those made while the replica was cut
// off failed with ErrNotReplicated instead of returning; without it, the
// sign-outs made then returned, and are lost.
func TestWaitReplicasSurvivesFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.StartCluster(t)
	prefix := uniquePrefix()
	const timeout = time.Second
	waiting := open(t, c.URL(), &redis.Options{RevocationKeyPrefix: prefix, Timeout: timeout, WaitReplicas: 1})
	plain := open(t, c.URL(), &redis.Options{RevocationKeyPrefix: prefix, Timeout: timeout})
	primary, replica, err := c.PrimaryOf("{" + prefix + "}data")
	if err != nil || replica == "" {
		t.Fatalf("PrimaryOf: %q, %q, %v; want a primary with a replica", primary, replica, err)
	}

	// Both clients load the cluster's slots before the cut: a client that
	// first asks the paused replica for them waits out its timeout.
	acknowledged, unacknowledged := signOutsAcrossCut(t, waiting, plain, func() {
		if err := c.CutReplica(primary, replica); err != nil {
			t.Fatal(err)
		}
	})
	if err := c.Failover(primary, replica); err != nil {
		t.Fatal(err)
	}

	fresh := open(t, c.URL(), revOpts(prefix, 0))
	got := eventually(t, func() ([]store.Revocation, error) { return fresh.Revocations(ctx, storetest.Base) })
	lost := survivors(t, got, acknowledged, unacknowledged)
	t.Logf("after the failover: %d of %d sign-outs made with WaitReplicas survive; %d of %d made without it while the replica was cut off are lost",
		len(acknowledged), len(acknowledged), lost, len(unacknowledged))
}

// signOutsAcrossCut signs out ten sessions through waiting (a store with
// WaitReplicas 1) while the replica is up, checks that plain (the same
// keys, without the wait) reads them, calls cut to cut the replica off,
// then checks that waiting refuses sign-outs with ErrNotReplicated and
// signs out five more sessions through plain. It returns the sign-outs a
// replica acknowledged and those only the primary holds.
func signOutsAcrossCut(t *testing.T, waiting, plain store.Revoker, cut func()) (acknowledged, unacknowledged []store.Revocation) {
	t.Helper()
	ctx := context.Background()
	for i := range 10 {
		r := storetest.SessionRevocation(i)
		if err := waiting.Revoke(ctx, r, storetest.Base); err != nil {
			t.Fatalf("Revoke %d with the replica up: %v", i, err)
		}
		acknowledged = append(acknowledged, r)
	}
	storetest.WantRevocations(t, plain, storetest.Base, acknowledged...)
	cut()
	for i := 10; i < 13; i++ {
		if err := waiting.Revoke(ctx, storetest.SessionRevocation(i), storetest.Base); !errors.Is(err, redis.ErrNotReplicated) {
			t.Errorf("Revoke %d with the replica cut off = %v; want ErrNotReplicated", i, err)
		}
	}
	for i := 20; i < 25; i++ {
		r := storetest.SessionRevocation(i)
		if err := plain.Revoke(ctx, r, storetest.Base); err != nil {
			t.Fatalf("Revoke %d without waiting: %v", i, err)
		}
		unacknowledged = append(unacknowledged, r)
	}
	return acknowledged, unacknowledged
}

// survivors checks got, the revocations read after the failover: every
// acknowledged one is there, and every unacknowledged one is lost (else
// the replica was not cut off). It returns how many were lost.
func survivors(t *testing.T, got, acknowledged, unacknowledged []store.Revocation) (lost int) {
	t.Helper()
	held := map[store.RevocationKey]bool{}
	for _, r := range got {
		held[r.Key] = true
	}
	for _, r := range acknowledged {
		if !held[r.Key] {
			t.Errorf("a sign-out that returned (%s) is missing after the failover", r.Key)
		}
	}
	for _, r := range unacknowledged {
		if !held[r.Key] {
			lost++
		}
	}
	if lost != len(unacknowledged) {
		t.Errorf("%d of %d sign-outs made without waiting while the replica was cut off survived; the test did not cut it off", len(unacknowledged)-lost, len(unacknowledged))
	}
	return lost
}

// TestWaitReplicasChecked: a negative count, a bad URL value, or a URL
// and Options that disagree are errors; New refuses a client whose
// primary it cannot reach on one connection.
func TestWaitReplicasChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url  string
		opts *redis.Options
		want string
	}{
		{"redis://127.0.0.1:1/0", &redis.Options{WaitReplicas: -1}, "Options.WaitReplicas is -1"},
		{"redis://:s3cret@127.0.0.1:1/0?wait_replicas=x", nil, `"redis://xxxxx@127.0.0.1:1/0?wait_replicas=x": wait_replicas="x"`},
		{"redis-cluster://a:1,b:2?wait_replicas=-1", nil, `wait_replicas="-1"`},
		{"redis://127.0.0.1:1/0?wait_replicas=1", &redis.Options{WaitReplicas: 2}, "differ"},
	} {
		s, err := redis.Open(tt.url, tt.opts)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q): no error; want one containing %q", tt.url, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) = %v; want an error containing %q, without the password", tt.url, err, tt.want)
		}
	}
	ring := goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	if _, err := redis.New(ring, &redis.Options{WaitReplicas: 1}); err == nil || !strings.Contains(err.Error(), "*redis.Ring") {
		t.Errorf("New(ring, WaitReplicas 1) = %v; want an error naming the client", err)
	}
}

// TestWaitReplicasURL: wait_replicas in the URL turns the wait on, and
// leaves the rest of the query to go-redis: on a server without replicas
// a revocation fails with ErrNotReplicated; on a cluster, whose primaries
// have a replica each, it returns.
func TestWaitReplicasURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	alone := open(t, srv.URL()+"?wait_replicas=1&pool_size=2", &redis.Options{RevocationKeyPrefix: uniquePrefix(), Timeout: 2 * time.Second})
	if err := alone.Revoke(ctx, storetest.SessionRevocation(1), storetest.Base); !errors.Is(err, redis.ErrNotReplicated) {
		t.Errorf("Revoke on a server without replicas = %v; want ErrNotReplicated", err)
	}
	c := redistest.SharedCluster(t)
	clustered := open(t, c.URL()+"?wait_replicas=1", &redis.Options{RevocationKeyPrefix: uniquePrefix(), Timeout: patient})
	storetest.MustRevoke(t, clustered, storetest.SessionRevocation(1), storetest.Base)
}
