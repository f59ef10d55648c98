package redis_test

import (
	"context"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/store/redis"
)

// Open suits most applications: one URL, usually from TOKEN_RENEW_REDIS_URL.
// The example needs a server, so it is compiled but not run.
func ExampleOpen() {
	st, err := redis.Open("redis://localhost:6379/0", nil)
	if err != nil {
		log.Fatal(err) // a malformed URL; the server is not contacted yet
	}
	defer st.Close()

	ctx := context.Background()
	if err := st.Ping(ctx); err != nil {
		// Not fatal: until Redis answers, requests are served without
		// renewal.
		log.Printf("renewal store not reachable yet: %v", err)
	}

	ok, err := st.Allow(ctx, "session-digest", time.Now(), time.Minute)
	if err != nil {
		log.Printf("no renewal this time: %v", err)
	}
	log.Printf("renew now: %v", ok)
}

// New shares a client the application already has. Set ContextTimeoutEnabled
// so that the store's Timeout also bounds reads from the socket.
func ExampleNew() {
	client := goredis.NewClient(&goredis.Options{
		Addr:                  "localhost:6379",
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
	})
	defer client.Close() // after st.Close: the Store does not close it

	st, err := redis.New(client, &redis.Options{
		KeyPrefix: "shop:renew:",
		Timeout:   100 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	// Pass st as the middleware's Store.
}

// On Redis Cluster every renewal touches one key, so a cluster client works
// as it is.
func ExampleNew_cluster() {
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 []string{"redis-0:6379", "redis-1:6379", "redis-2:6379"},
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
	})
	defer client.Close()

	st, err := redis.New(client, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
}
