//go:build !race

package middleware

// raceEnabled: see race_on_test.go.
const raceEnabled = false
