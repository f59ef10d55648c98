//go:build race

package token

// raceEnabled is set under the race detector, whose sync.Pool drops items
// at random, so that allocation counts through a pool are not exact.
const raceEnabled = true
