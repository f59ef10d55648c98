package slidingjwt_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// Open builds everything from the settings: here the environment of a
// single instance, which names no store, so renewals are kept in memory.
// With TOKEN_RENEW_STORE=redis and TOKEN_RENEW_REDIS_URL set, and the
// program importing _ "github.com/slidingjwt/slidingjwt/store/redis", the
// same code runs a fleet that shares renewals and sign-outs. A program
// reads its settings with config.FromEnv; the example supplies them through
// config.FromLookup.
func ExampleOpen() {
	env := map[string]string{
		"TOKEN_SECRET":       "an-example-secret-of-at-least-32-bytes!",
		"TOKEN_EXPIRE_HOURS": "1",
	}
	settings, err := config.FromLookup(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		log.Fatal(err) // names the variable, its value and what is allowed
	}

	auth, err := slidingjwt.Open(context.Background(), settings, nil)
	if err != nil {
		log.Fatal(err) // e.g. a backend the program does not import
	}
	defer auth.Close() // after the server has stopped

	// The doors are built from auth (middleware.From(auth) for Echo v4);
	// the login route issues tokens with its Issuer.
	tok, err := auth.Issuer().Issue("alice", "user", nil)
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("store:", auth.Store().(store.Named).Name())
	fmt.Println("sign-out on:", auth.SignOut() != nil, "list loaded:", auth.Revocations().Ready())
	fmt.Println("token parts:", len(strings.Split(tok, ".")))
	// Output:
	// store: memory
	// sign-out on: true list loaded: true
	// token parts: 3
}

// A store built by the program, with options the settings do not hold, is
// passed in Options.Store. It stays the program's: Close leaves it open.
func ExampleOpen_store() {
	settings := config.Default()
	settings.Secret = "an-example-secret-of-at-least-32-bytes!"

	st := memory.New(&memory.Options{Shards: 8})
	defer st.Close() // after auth.Close

	auth, err := slidingjwt.Open(context.Background(), settings, &slidingjwt.Options{Store: st})
	if err != nil {
		log.Fatal(err)
	}
	if err := auth.Close(); err != nil {
		log.Fatal(err)
	}

	_, _, err = st.Last(context.Background(), "session-digest")
	fmt.Println("same store:", auth.Store() == store.Store(st), "open after Close:", err == nil)
	// Output: same store: true open after Close: true
}
