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
// slidingjwt.Open builds the store the settings name too, through the same
// registry (store.Open), and links only the backends a program imports
// (memory and lru always). This package imports all four, so every value of
// TOKEN_RENEW_STORE works in a program that imports it, which therefore
// links bbolt and go-redis; use it for that, or to give a backend options
// beyond the settings (Options). A program that always uses one backend can
// call that backend's constructor instead and link only it.
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
// A backend without options in opts is opened through the store registry
// (store.Open), as slidingjwt.Open opens it, so both build the same store
// from the same settings; this package imports all four backends, so all
// four are registered. A backend with options is built by its constructor
// with them.
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
	st, err := open(s, o)
	if err != nil {
		return nil, fmt.Errorf("storeconfig: %s: %w", describe(s), err)
	}
	return st, nil
}

// open builds the backend s.Store names: with its constructor when o
// configures it, else through the registry.
func open(s config.Settings, o Options) (store.Store, error) {
	switch {
	case s.Store == config.StoreMemory && o.Memory != nil:
		return memory.New(o.Memory), nil
	case s.Store == config.StoreLRU && o.LRU != nil:
		lo := *o.LRU
		if s.StoreSize != 0 {
			lo.Size = s.StoreSize
		}
		st, err := lru.New(&lo)
		if err != nil {
			return nil, err
		}
		return st, nil
	case s.Store == config.StoreBolt && o.Bolt != nil:
		st, err := bolt.Open(s.StorePath, o.Bolt)
		if err != nil {
			return nil, err
		}
		return st, nil
	case s.Store == config.StoreRedis && o.Redis != nil:
		st, err := redis.Open(s.RedisURL, o.Redis)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	return store.Open(s.Store, store.Params{Path: s.StorePath, Size: s.StoreSize, URL: s.RedisURL})
}

// describe names the settings that chose and configured the store, for an
// error: TOKEN_RENEW_STORE and the variable its backend reads. The Redis
// URL is named, not shown: it may hold a password, and the redis package's
// errors show it masked.
func describe(s config.Settings) string {
	switch s.Store {
	case config.StoreLRU:
		return fmt.Sprintf("%s=%s, %s=%d", config.EnvStore, s.Store, config.EnvStoreSize, s.StoreSize)
	case config.StoreBolt:
		return fmt.Sprintf("%s=%s, %s=%q", config.EnvStore, s.Store, config.EnvStorePath, s.StorePath)
	case config.StoreRedis:
		return fmt.Sprintf("%s=%s, %s", config.EnvStore, s.Store, config.EnvRedisURL)
	}
	return fmt.Sprintf("%s=%s", config.EnvStore, s.Store)
}
