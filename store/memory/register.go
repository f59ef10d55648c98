package memory

import "github.com/slidingjwt/slidingjwt/store"

// init registers the backend as "memory" (store.Register), so that
// store.Open("memory", p), and TOKEN_RENEW_STORE=memory, build a Store with
// the default Options. It takes none of the Params.
func init() {
	store.Register("memory", func(store.Params) (store.Store, error) {
		return New(nil), nil
	})
}
