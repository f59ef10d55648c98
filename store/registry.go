package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// This file is the backend registry: a backend package registers itself by
// name in an init function, as database/sql drivers do, so that a program
// links a backend, and its dependencies, only when it imports the backend's
// package, and a name read from the settings (TOKEN_RENEW_STORE) can still
// open it:
//
//	import _ "github.com/slidingjwt/slidingjwt/store/redis" // registers "redis"
//
//	st, err := store.Open("redis", store.Params{URL: "redis://localhost:6379/0"})
//
// The backends of this module register as "memory", "lru", "bolt" and
// "redis". The root package slidingjwt imports memory and lru, so those two
// are in every program that uses it.

// Params are what the settings say about a backend to open (package config
// reads them from the environment). A backend uses the fields that concern
// it and ignores the others.
type Params struct {
	// Path is the file of a backend that keeps one, such as "bolt"
	// (TOKEN_RENEW_STORE_PATH).
	Path string
	// Size is the most entries a bounded backend, such as "lru", holds
	// (TOKEN_RENEW_STORE_SIZE); 0 means the backend's default.
	Size int
	// URL addresses the server of a networked backend, such as "redis"
	// (TOKEN_RENEW_REDIS_URL). It may hold a password: an Opener never
	// shows it unmasked in an error.
	URL string
}

// Opener opens a backend with its default options and the Params given. It
// returns a new Store, which the caller owns and closes, or an error that
// names the bad parameter. The Store may also implement Revoker.
type Opener func(Params) (Store, error)

var registry struct {
	mu      sync.RWMutex
	openers map[string]Opener
}

// Register makes a backend available by name to Open. A backend package
// calls it from an init function, so that importing the package is enough.
//
// Register panics if open is nil, if name is empty, or if a backend is
// already registered under name: each of these is a programming mistake
// that would otherwise surface later as the wrong backend, or none, being
// opened. It is safe to call from several goroutines.
func Register(name string, open Opener) {
	if name == "" {
		panic("store: Register with an empty backend name")
	}
	if open == nil {
		panic(fmt.Sprintf("store: Register of backend %q with a nil Opener", name))
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, dup := registry.openers[name]; dup {
		panic(fmt.Sprintf("store: Register called twice for backend %q", name))
	}
	if registry.openers == nil {
		registry.openers = make(map[string]Opener)
	}
	registry.openers[name] = open
}

// Open opens the backend registered under name with p. It fails when no
// backend of that name is registered, with an error that names it, lists
// the registered ones and says which package to import; otherwise it
// returns what the backend's Opener returns. It is safe to call from
// several goroutines; each call opens a new Store, which the caller owns.
func Open(name string, p Params) (Store, error) {
	registry.mu.RLock()
	open := registry.openers[name]
	registry.mu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("store: no backend named %q is registered (registered: %s): %s",
			name, registeredList(), importHint(name))
	}
	st, err := open(p)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("store: the Opener of backend %q returned neither a store nor an error", name)
	}
	return st, nil
}

// Backends returns the names of the registered backends, sorted.
func Backends() []string {
	registry.mu.RLock()
	names := make([]string, 0, len(registry.openers))
	for name := range registry.openers {
		names = append(names, name)
	}
	registry.mu.RUnlock()
	slices.Sort(names)
	return names
}

// modulePath is the path of the module whose backends live in store/NAME.
const modulePath = "github.com/slidingjwt/slidingjwt"

// importHint says how a program makes the backend called name available:
// for a backend of this module, the blank import that registers it; for any
// other name, to import the package that registers it.
func importHint(name string) string {
	switch name {
	case "memory", "lru", "bolt", "redis":
		return fmt.Sprintf("add import _ %q to the program", modulePath+"/store/"+name)
	}
	return fmt.Sprintf("import the package that registers backend %q", name)
}

// registeredList returns the registered names, comma separated, or "none".
func registeredList() string {
	names := Backends()
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
