//go:build windows || plan9 || solaris || aix || android

package bolt

import "os"

// unlock does nothing here: bbolt's fcntl locks go away when f is closed,
// and on Windows the lock lasts until the process exits.
func unlock(*os.File) {}
