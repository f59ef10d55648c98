package revocation_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store/redis"
)

// TestMain stops the Redis Cluster the tests may share, once they ran.
func TestMain(m *testing.M) {
	code := m.Run()
	redistest.CloseShared()
	os.Exit(code)
}

// TestClusterFailover: a Redis Cluster loses the primary that holds the
// revocations after its replica was cut off (so the replica lags), and the
// replica is promoted (CLUSTER FAILOVER TAKEOVER). Meanwhile instances A
// and B keep signing out, and sessions keep renewing. The running
// instances follow without a restart; no sign-out that one of them had
// learned comes back to life, on them or on an instance C started
// afterwards (they see the lost history and write it back), and a session
// whose renewal was recorded only on the lost primary renews at most once
// more within its interval: the test counts how many do.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.StartCluster(t)
	prefix := uniquePrefix()
	clock := testkit.NewClock(base)
	openStore := func() *redis.Store {
		st, err := redis.Open(c.URL(), &redis.Options{KeyPrefix: prefix, RevocationKeyPrefix: prefix, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a := newList(t, openStore(), clock, revocation.Options{CatchUp: time.Hour})
	b := newList(t, feedOnly{openStore()}, clock, revocation.Options{CatchUp: time.Hour})
	ws := newSpy(openStore())
	w := newList(t, ws, clock, revocation.Options{CatchUp: time.Hour})
	<-ws.subscribed
	raw := openStore()
	renewals := openStore()
	primary, replica, err := c.PrimaryOf("{" + prefix + "}data")
	if err != nil || replica == "" {
		t.Fatalf("PrimaryOf: %q, %q, %v; want a primary with a replica", primary, replica, err)
	}
	until := base.Add(lifetime)
	const interval = time.Minute
	revoke := func(l *revocation.List, from, to int) []int {
		var out []int
		for i := from; i < to; i++ {
			var err error
			eventually(t, "a sign-out", func() bool {
				err = l.RevokeSession(ctx, sessionKey(i), until)
				return err == nil
			})
			out = append(out, i)
		}
		return out
	}
	renew := func(from, to int) (onPrimary []string) {
		for i := from; i < to; i++ {
			key := fmt.Sprintf("session-%d", i)
			ok, err := renewals.Allow(ctx, key, clock.Now(), interval)
			if err != nil || !ok {
				t.Fatalf("Allow(%s) = %v, %v; want a first renewal", key, ok, err)
			}
			if p, _, _ := c.PrimaryOf(prefix + key); p == primary {
				onPrimary = append(onPrimary, key)
			}
		}
		return onPrimary
	}

	// Replicated: sign-outs and renewals the replica has.
	kept := revoke(a, 0, 10)
	keptRenewals := renew(0, 60)
	if err := c.WaitReplicated(primary); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatalf("B Sync: %v", err)
	}
	// raw loads the cluster's slots now: a client that first asks the
	// paused replica for them waits out its timeout.
	if _, err := raw.Revocations(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Cut off: what only the primary gets, and the instances learn.
	if err := c.CutReplica(primary, replica); err != nil {
		t.Fatal(err)
	}
	lost := revoke(a, 100, 110)
	if err := b.Sync(ctx); err != nil {
		t.Fatalf("B Sync: %v", err)
	}
	wantSessions(t, "B before the failover", b, clock.Now(), revocation.Revoked, lost...)
	// Sign-outs that only A learns, its own, and sign-outs that only W
	// learns, by pub/sub: no catch-up reads them before the failover.
	ownLost := revoke(a, 150, 155)
	var heard []int
	for i := 300; i < 305; i++ {
		revokeIn(t, raw, clock.Now(), sessionRev(i, until))
		heard = append(heard, i)
	}
	eventually(t, "W hears the sign-outs", func() bool {
		return w.Check(sessionKey(304), noKey, base, clock.Now()) == revocation.Revoked
	})
	lost = append(append(lost, ownLost...), heard...)
	lostRenewals := renew(60, 120)

	if err := c.Failover(primary, replica); err != nil {
		t.Fatal(err)
	}
	// After the failover B signs out more sessions than were lost, so the
	// sequence number passes the instances' cursors again.
	after := revoke(b, 200, 230)
	// W first: it learned the lost sign-outs by pub/sub only.
	syncEventually(t, "W", w)
	syncEventually(t, "A", a)
	syncEventually(t, "B", b)
	all := append(append(append([]int{}, kept...), lost...), after...)
	wantSessions(t, "A", a, clock.Now(), revocation.Revoked, append(append(append([]int{}, kept...), lost[:15]...), after...)...)
	wantSessions(t, "B", b, clock.Now(), revocation.Revoked, all...)
	wantSessions(t, "W", w, clock.Now(), revocation.Revoked, heard...)
	// W, which learned every lost sign-out by pub/sub alone, writes them
	// all back; B sees its cursor's change gone; nothing is written twice.
	if got, want := w.WrittenBack(), int64(len(lost)); got != want {
		t.Errorf("W WrittenBack = %d, want %d: the lost sign-outs it heard of", got, want)
	}
	if w.Resets() == 0 || b.Resets() == 0 {
		t.Errorf("Resets: W %d, B %d; want both to see the lost history", w.Resets(), b.Resets())
	}
	if got, want := a.WrittenBack()+b.WrittenBack()+w.WrittenBack(), int64(len(lost)); got != want {
		t.Errorf("%d written back in all, want %d", got, want)
	}
	t.Logf("after the failover: A Resets %d WrittenBack %d, B Resets %d WrittenBack %d, W Resets %d WrittenBack %d",
		a.Resets(), a.WrittenBack(), b.Resets(), b.WrittenBack(), w.Resets(), w.WrittenBack())
	cl := waitReady(t, openStore(), clock)
	wantSessions(t, "C, started after the failover", cl, clock.Now(), revocation.Revoked, all...)
	wantSessions(t, "C", cl, clock.Now(), revocation.OK, 1000)

	// Renewals, a second later, within the interval.
	clock.Set(base.Add(time.Second))
	allowed := func(keys []string) (n int) {
		for _, key := range keys {
			var ok bool
			var err error
			eventually(t, "a renewal answer", func() bool {
				ok, err = renewals.Allow(ctx, key, clock.Now(), interval)
				return err == nil
			})
			if ok {
				n++
			}
		}
		return n
	}
	if n := allowed(keptRenewals); n != 0 {
		t.Errorf("%d of %d sessions renewed before the replica was cut off renew again within their interval; want 0", n, len(keptRenewals))
	}
	extra := allowed(lostRenewals)
	t.Logf("extra renewals after the failover: %d of the %d sessions whose renewal only the lost primary had (%d of 60 renewed while the replica was cut off; the others live on the other primaries); 0 of %d renewed before",
		extra, len(lostRenewals), len(lostRenewals), len(keptRenewals))
	if n := allowed(append(keptRenewals, lostRenewals...)); n != 0 {
		t.Errorf("%d sessions renewed a second time after the failover; want at most one extra renewal each", n)
	}
}
