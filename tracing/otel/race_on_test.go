//go:build race

package slidingotel_test

const raceEnabled = true
