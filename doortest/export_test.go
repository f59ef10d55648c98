package doortest

import (
	"slices"
	"testing"
)

// RunMemoryOnly is Run with the memory store alone. Only this package's
// tests see it (an _test.go file): the broken-door children of
// TestRunCatchesBrokenDoors use it, because a door's wiring mistake fails
// the same scenarios whatever the store, and six child processes that
// each ran every store (and a redis-server each) would make the package's
// own test several times slower without catching more.
func RunMemoryOnly(t *testing.T, door Door) {
	t.Helper()
	all := backends(t)
	i := slices.IndexFunc(all, func(b backend) bool { return b.name == "memory" })
	run(t, door, all[i:i+1])
}
