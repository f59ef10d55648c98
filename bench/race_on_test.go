//go:build race

package bench

// raceEnabled: the race detector is on, and allocation counts are not
// exact (its sync.Pool drops items at random).
const raceEnabled = true
