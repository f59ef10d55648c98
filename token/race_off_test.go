//go:build !race

package token

// raceEnabled: see race_on_test.go.
const raceEnabled = false
