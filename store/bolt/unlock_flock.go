//go:build !windows && !plan9 && !solaris && !aix && !android

package bolt

import (
	"os"
	"syscall"
)

// unlock drops the flock that bbolt took on f. Closing f alone is not
// enough when bbolt panicked after mapping the file: the mapping keeps the
// open file, and so its lock, alive.
func unlock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
