package bolt

// Name returns "bolt", the backend's name in metrics and traces (see
// store.Named).
func (s *Store) Name() string { return "bolt" }
