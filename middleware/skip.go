package middleware

import "strings"

// skipped reports whether path is one of the renewal skip paths, or below
// one at a "/" boundary, with or without the mount prefix.
func (m *mw) skipped(path string) bool {
	if len(m.skipPaths) == 0 {
		return false
	}
	if m.mount != "" && underPrefix(path, m.mount) {
		if rest := path[len(m.mount):]; rest != "" && m.matchSkip(rest) {
			return true
		}
	}
	return m.matchSkip(path)
}

func (m *mw) matchSkip(path string) bool {
	for _, p := range m.skipPaths {
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
