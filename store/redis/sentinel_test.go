package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/redis"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// TestSentinelFailover: a primary with one replica behind a real Redis
// Sentinel, opened by the redis-sentinel:// URL. The replica is cut off,
// the primary lost, and the Sentinel promotes the replica. The stores
// follow without being opened again; with wait_replicas=1 every sign-out
// that returned survives and those made during the cut failed with
// ErrNotReplicated; without it, those made during the cut returned and
// are lost.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sn := redistest.StartSentinel(t)
	prefix := uniquePrefix()
	opts := func() *redis.Options {
		return &redis.Options{KeyPrefix: prefix, RevocationKeyPrefix: prefix, Timeout: time.Second}
	}
	waiting := open(t, sn.URL()+"?wait_replicas=1", opts())
	plain := open(t, sn.URL(), opts())

	mustAllow(t, plain, "renewed-before", storetest.Base, time.Minute, true)
	acknowledged, unacknowledged := signOutsAcrossCut(t, waiting, plain, sn.CutReplica)
	mustAllow(t, plain, "renewed-during", storetest.Base, time.Minute, true)
	sn.Failover()

	// The stores opened before the failover follow it.
	after := storetest.SessionRevocation(30)
	eventually(t, func() (struct{}, error) { return struct{}{}, plain.Revoke(ctx, after, storetest.Base) })
	got := eventually(t, func() ([]store.Revocation, error) { return waiting.Revocations(ctx, storetest.Base) })
	lost := survivors(t, got, append(acknowledged, after), unacknowledged)
	// Renewals: the one the replica had holds; the one only the lost
	// primary had is forgotten, once.
	later := storetest.Base.Add(time.Second)
	mustAllow(t, plain, "renewed-before", later, time.Minute, false)
	mustAllow(t, plain, "renewed-during", later, time.Minute, true)
	mustAllow(t, plain, "renewed-during", later, time.Minute, false)
	t.Logf("after the Sentinel's failover: %d of %d acknowledged sign-outs survive, %d of %d unacknowledged ones are lost; the session renewed during the cut renewed once more",
		len(acknowledged), len(acknowledged), lost, len(unacknowledged))
}

// TestOpenSentinelURLs: the redis-sentinel:// form names Sentinels and the
// primary; its errors name the problem and never show a password.
func TestOpenSentinelURLs(t *testing.T) {
	t.Parallel()
	sn := redistest.StartSentinel(t)
	for _, u := range []string{sn.URL(), sn.URL() + "/0?dial_timeout=1s", "redis-sentinel://127.0.0.1:1," + sn.Addr() + "/" + redistest.MasterName} {
		s := open(t, u, relaxed(""))
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("Ping via %q: %v", u, err)
		}
	}
	wantOpenErrors(t, []badURL{
		{"redis-sentinel://a:1", `path "" is not /primary-name`, ""},
		{"redis-sentinel://a:1/name/0/1", `path "/name/0/1"`, ""},
		{"redis-sentinel://:s3cret@a:1,b/name", `address "b" is not host:port`, "s3cret"},
		{"redis-sentinel://:s3cret@a:1/name/x", "invalid database number", "s3cret"},
		{"redis-sentinel://a:1/name?sentinel_password=s3cret&bogus=s3cret", "unexpected option: bogus", "s3cret"},
	})
}
