package bench

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
)

// heap is live, pointer-free memory the benchmarks run beside when
// BENCH_HEAP_MB is set, as an application's own data: with next to nothing
// live, Go's minimum heap goal of 4 MB makes the collector run hundreds of
// times a second, and rows that allocate little per request (bare,
// context-set, check) then measure its cycles more than their code,
// in parallel most of all. Being pointer-free, it adds no marking work.
var heap [][]byte

func TestMain(m *testing.M) {
	if s := os.Getenv("BENCH_HEAP_MB"); s != "" {
		mb, err := strconv.Atoi(s)
		if err != nil || mb < 0 {
			fmt.Fprintf(os.Stderr, "BENCH_HEAP_MB=%q: want a number of megabytes\n", s)
			os.Exit(2)
		}
		for range mb {
			heap = append(heap, make([]byte, 1<<20))
		}
	}
	code := m.Run()
	redistest.CloseShared() // the cluster of the renew/redis-cluster row
	os.Exit(code)
}
