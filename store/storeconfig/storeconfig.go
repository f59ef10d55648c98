// Package storeconfig builds the renewal store that config.Settings names,
// for programs that let the environment choose it: TOKEN_RENEW_STORE
// (memory, lru, bolt or redis), TOKEN_RENEW_STORE_PATH (the bbolt file),
// TOKEN_RENEW_STORE_SIZE (the lru bound) and TOKEN_RENEW_REDIS_URL.
//
//	settings, err := config.FromEnv()
//	if err != nil {
//		log.Fatal(err)
//	}
//	st, err := storeconfig.Open(settings, nil)
//	if err != nil {
//		log.Fatal(err) // names the variable, e.g. TOKEN_RENEW_STORE_PATH
//	}
//	defer st.Close()
//
// It is opt-in: the middleware never picks a backend by itself, and only a
// program that imports this package links every backend, bbolt and go-redis
// included. A program that always uses one backend should call that
// backend's constructor instead and link only it.
package storeconfig

import (
	"fmt"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/lru"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/store/redis"
)

// Options tunes the backends beyond what the settings hold, such as a Redis
// key prefix or the bbolt lock timeout. Only the options of the backend the
// settings name are used. A nil *Options, and a nil field, give that
// backend's defaults.
type Options struct {
	// Memory configures the memory store. Optional. Default nil.
	Memory *memory.Options
	// LRU configures the lru store. Settings.StoreSize, when it is not 0,
	// replaces LRU.Size. Optional. Default nil.
	LRU *lru.Options
	// Bolt configures the bolt store; the file is Settings.StorePath.
	// Optional. Default nil.
	Bolt *bolt.Options
	// Redis configures the redis store; the server is Settings.RedisURL.
	// Optional. Default nil.
	Redis *redis.Options
}

// Open builds the store that s.Store names, configured by the other store
// settings and opts (nil for the defaults):
//
//	memory  memory.New
//	lru     lru.New, bounded by s.StoreSize (0: lru.DefaultSize)
//	bolt    bolt.Open(s.StorePath): the file is created when missing, and
//	        a file that another process holds fails after the lock timeout
//	redis   redis.Open(s.RedisURL), which does not contact the server: a
//	        program starts while Redis is down, and its requests are served
//	        without renewal until it answers
//
// It checks only the store settings (config.Settings.ValidateStore), not
// the rest of s. Every error names the variables involved: an invalid
// setting is a *config.Error; a backend that cannot be opened gives an
// error that names TOKEN_RENEW_STORE and the variable that configures it,
// and wraps the backend's error, which says what failed (for example
// bolt.ErrLocked). A Redis URL is never shown with its password.
//
// The store is a *memory.Store, *lru.Store, *bolt.Store or *redis.Store,
// which a program may assert to reach its extra methods (redis Ping, bolt
// Prune). The caller owns it and closes it when done. Open is safe to call
// from several goroutines; each call builds a new store.
func Open(s config.Settings, opts *Options) (store.Store, error) {
	if err := s.ValidateStore(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	switch s.Store {
	case config.StoreMemory:
		return memory.New(o.Memory), nil
	case config.StoreLRU:
		var lo lru.Options
		if o.LRU != nil {
			lo = *o.LRU
		}
		if s.StoreSize != 0 {
			lo.Size = s.StoreSize
		}
		st, err := lru.New(&lo)
		if err != nil {
			return nil, fmt.Errorf("storeconfig: %s=%s, %s=%d: %w", config.EnvStore, s.Store, config.EnvStoreSize, s.StoreSize, err)
		}
		return st, nil
	case config.StoreBolt:
		st, err := bolt.Open(s.StorePath, o.Bolt)
		if err != nil {
			return nil, fmt.Errorf("storeconfig: %s=%s, %s=%q: %w", config.EnvStore, s.Store, config.EnvStorePath, s.StorePath, err)
		}
		return st, nil
	case config.StoreRedis:
		// The URL is not shown here: it may hold a password. The redis
		// package's errors show it masked.
		st, err := redis.Open(s.RedisURL, o.Redis)
		if err != nil {
			return nil, fmt.Errorf("storeconfig: %s=%s, %s: %w", config.EnvStore, s.Store, config.EnvRedisURL, err)
		}
		return st, nil
	}
	// ValidateStore accepts no other name; this guards a name added to
	// config but not here.
	return nil, fmt.Errorf("storeconfig: %s=%q: no backend of that name in this package", config.EnvStore, s.Store)
}
