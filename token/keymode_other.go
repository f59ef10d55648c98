//go:build !unix

package token

// checkKeyFileMode does nothing where the OS has no POSIX file modes.
func checkKeyFileMode(string) error { return nil }
