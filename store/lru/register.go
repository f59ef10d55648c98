package lru

import "github.com/slidingjwt/slidingjwt/store"

// init registers the backend as "lru" (store.Register), so that
// store.Open("lru", p), and TOKEN_RENEW_STORE=lru, build a Store of
// p.Size entries (TOKEN_RENEW_STORE_SIZE; 0 gives DefaultSize), with the
// other Options at their defaults.
func init() {
	store.Register("lru", func(p store.Params) (store.Store, error) {
		st, err := New(&Options{Size: p.Size})
		if err != nil {
			return nil, err
		}
		return st, nil
	})
}
