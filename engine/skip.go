package engine

import "strings"

// skipped reports whether path is one of the renewal skip paths, or below
// one at a "/" boundary, with or without the mount prefix.
func (e *Engine[C]) skipped(path string) bool {
	if len(e.skipPaths) == 0 {
		return false
	}
	if e.mount != "" && underPrefix(path, e.mount) {
		if rest := path[len(e.mount):]; rest != "" && e.matchSkip(rest) {
			return true
		}
	}
	return e.matchSkip(path)
}

func (e *Engine[C]) matchSkip(path string) bool {
	for _, p := range e.skipPaths {
		if underPrefix(path, p) {
			return true
		}
	}
	return false
}

// underPrefix reports whether path is prefix or lies below it at a "/".
func underPrefix(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/' || strings.HasSuffix(prefix, "/")
}
