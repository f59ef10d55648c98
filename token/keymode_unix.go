//go:build unix

package token

import (
	"fmt"
	"os"
)

// checkKeyFileMode refuses a private key file that every local user can
// read. os.Stat follows symbolic links, so the file judged is the one the
// link reaches (a Kubernetes secret volume is a chain of links).
// Group-readable is fine: 0440 with an fsGroup is the hardened pattern.
func checkKeyFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if mode := fi.Mode().Perm(); mode&0o004 != 0 {
		return fmt.Errorf("mode %04o lets every local user read the private key: chmod o-r the file (0600, or 0440 with a group), or set %s=true where the mode cannot be changed",
			mode, envAllowWorldReadable)
	}
	return nil
}
