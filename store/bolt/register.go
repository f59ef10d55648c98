package bolt

import "github.com/slidingjwt/slidingjwt/store"

// init registers the backend as "bolt" (store.Register), so that
// store.Open("bolt", p), and TOKEN_RENEW_STORE=bolt, open the file p.Path
// (TOKEN_RENEW_STORE_PATH) as Open does, with the default Options.
func init() {
	store.Register("bolt", func(p store.Params) (store.Store, error) {
		st, err := Open(p.Path, nil)
		if err != nil {
			return nil, err
		}
		return st, nil
	})
}
