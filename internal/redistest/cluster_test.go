package redistest

import (
	"strconv"
	"testing"
)

// TestCluster: a new cluster has six nodes, three of them primaries with
// one replica each, agrees on its slots, and Slot computes the slot the
// server does (CLUSTER KEYSLOT), hash tags included.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := StartCluster(t)
	if got := len(c.Addrs()); got != clusterNodes {
		t.Fatalf("%d nodes, want %d", got, clusterNodes)
	}
	primaries := 0
	for _, addr := range c.Addrs() {
		ri, err := info(addr, "replication")
		if err != nil {
			t.Fatalf("INFO replication on %s: %v", addr, err)
		}
		if ri["role"] == "master" {
			primaries++
			if ri["connected_slaves"] != "1" {
				t.Errorf("primary %s has %s replicas, want 1", addr, ri["connected_slaves"])
			}
		}
	}
	if primaries != 3 {
		t.Errorf("%d primaries, want 3", primaries)
	}
	for _, key := range []string{"a", "slidingjwt:renew:abc", "{slidingjwt:revoke:}data", "x{}y", "{user1000}.following", "{", "}{x}"} {
		got, err := Call(c.Addrs()[0], "CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatal(err)
		}
		if want := ":" + strconv.Itoa(Slot(key)); got != want {
			t.Errorf("CLUSTER KEYSLOT %q = %s, Slot = %s", key, got, want)
		}
	}
	primary, replica, err := c.PrimaryOf("{slidingjwt:revoke:}data")
	if err != nil || primary == "" || replica == "" {
		t.Errorf("PrimaryOf = %q, %q, %v; want a primary and its replica", primary, replica, err)
	}
}
