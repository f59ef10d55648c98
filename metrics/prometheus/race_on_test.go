//go:build race

package slidingprom_test

const raceEnabled = true
