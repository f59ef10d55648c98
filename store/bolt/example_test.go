package bolt_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/slidingjwt/slidingjwt/store/bolt"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "renewals")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "renewals.db")

	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

	s, err := bolt.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	first, _ := s.Allow(ctx, "session-digest", now, time.Minute)
	if err := s.Close(); err != nil { // stops the pruner, closes the file
		log.Fatal(err)
	}

	// After a restart the renewal is still there.
	s, err = bolt.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	again, _ := s.Allow(ctx, "session-digest", now.Add(10*time.Second), time.Minute)
	later, _ := s.Allow(ctx, "session-digest", now.Add(time.Minute), time.Minute)
	fmt.Println(first, again, later)
	// Output: true false true
}
