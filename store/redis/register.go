package redis

import "github.com/slidingjwt/slidingjwt/store"

// init registers the backend as "redis" (store.Register), so that
// store.Open("redis", p), and TOKEN_RENEW_STORE=redis, open the server at
// p.URL (TOKEN_RENEW_REDIS_URL) as Open does, with the default Options:
// without contacting it. A redis-cluster:// URL opens a Redis Cluster.
func init() {
	store.Register("redis", func(p store.Params) (store.Store, error) {
		st, err := Open(p.URL, nil)
		if err != nil {
			return nil, err
		}
		return st, nil
	})
}
