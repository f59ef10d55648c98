package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

	var acknowledged []store.Revocation
	for i := range 10 {
		r := storetest.SessionRevocation(i)
		if err := waiting.Revoke(ctx, r, storetest.Base); err != nil {
			t.Fatalf("Revoke %d with the replica up: %v", i, err)
		}
		acknowledged = append(acknowledged, r)
	}
	// Both clients load the cluster's slots now: a client that first
	// asks the paused replica for them waits out its timeout.
	storetest.WantRevocations(t, plain, storetest.Base, acknowledged...)
	if err := c.CutReplica(primary, replica); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 13; i++ {
		err := waiting.Revoke(ctx, storetest.SessionRevocation(i), storetest.Base)
		if !errors.Is(err, redis.ErrNotReplicated) {
			t.Errorf("Revoke %d with the replica cut off = %v; want ErrNotReplicated", i, err)
		}
	}
	var unacknowledged []store.Revocation
	for i := 20; i < 25; i++ {
		r := storetest.SessionRevocation(i)
		if err := plain.Revoke(ctx, r, storetest.Base); err != nil {
			t.Fatalf("Revoke %d without waiting: %v", i, err)
		}
		unacknowledged = append(unacknowledged, r)
	}
	if err := c.Failover(primary, replica); err != nil {
		t.Fatal(err)
	}

	fresh := open(t, c.URL(), revOpts(prefix, 0))
	got := eventually(t, func() ([]store.Revocation, error) { return fresh.Revocations(ctx, storetest.Base) })
	held := map[store.RevocationKey]bool{}
	for _, r := range got {
		held[r.Key] = true
	}
	for _, r := range acknowledged {
		if !held[r.Key] {
			t.Errorf("a sign-out acknowledged by the replica (%s) is lost after the failover", r.Key)
		}
	}
	lost := 0
	for _, r := range unacknowledged {
		if !held[r.Key] {
			lost++
		}
	}
	t.Logf("after the failover: %d of %d sign-outs made with WaitReplicas survive; %d of %d made without it while the replica was cut off are lost",
		len(acknowledged), len(acknowledged), lost, len(unacknowledged))
	if lost != len(unacknowledged) {
		t.Errorf("%d of %d sign-outs made without waiting while the replica was cut off survived; the test did not cut it off", len(unacknowledged)-lost, len(unacknowledged))
	}
}

// TestWaitReplicasNeedsAKnownClient: New refuses WaitReplicas with a client
// whose primary it cannot reach on one connection, and a negative count.
func TestWaitReplicasChecked(t *testing.T) {
	t.Parallel()
	if _, err := redis.Open("redis://127.0.0.1:1/0", &redis.Options{WaitReplicas: -1}); err == nil {
		t.Errorf("Open with WaitReplicas -1: no error")
	}
}
