package storeconfig_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store/storeconfig"
)

// The environment picks the store: here a bbolt file, so renewals survive a
// restart. A program reads the variables with config.FromEnv; the example
// supplies them through config.FromLookup.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "storeconfig")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	env := map[string]string{
		"TOKEN_SECRET":           "an-example-secret-of-at-least-32-bytes!",
		"TOKEN_RENEW_STORE":      "bolt",
		"TOKEN_RENEW_STORE_PATH": filepath.Join(dir, "renewals.db"),
	}
	settings, err := config.FromLookup(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		log.Fatal(err)
	}

	st, err := storeconfig.Open(settings, nil)
	if err != nil {
		log.Fatal(err) // names TOKEN_RENEW_STORE_PATH when the file cannot be opened
	}
	defer st.Close() // pass st as the middleware's Store until then

	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first, _ := st.Allow(ctx, "session-digest", now, settings.MinRenewInterval)
	again, _ := st.Allow(ctx, "session-digest", now.Add(time.Second), settings.MinRenewInterval)
	fmt.Printf("%T %v %v\n", st, first, again)
	// Output: *bolt.Store true false
}

// A setting that names no backend is refused before anything is opened,
// with an error that names the variable, its value and what is allowed.
func ExampleOpen_badSetting() {
	settings := config.Default()
	settings.Store = "etcd"
	_, err := storeconfig.Open(settings, nil)
	fmt.Println(err)
	// Output: config: TOKEN_RENEW_STORE="etcd" is not allowed: one of memory, lru, bolt, redis
}
