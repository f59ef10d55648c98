package lru

// Name returns "lru", the backend's name in metrics and traces (see
// store.Named).
func (s *Store) Name() string { return "lru" }
