//go:build !race

package slidingotel_test

const raceEnabled = false
