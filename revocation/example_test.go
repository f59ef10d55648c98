package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slidingjwt/slidingjwt/revocation"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// A single instance with the in-memory backend; a fleet passes a store/redis
// Store instead, and every instance gets the same answers within a second.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	backend := memory.New(nil)
	defer backend.Close()
	list, err := revocation.New(ctx, revocation.Options{Backend: backend, Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer list.Close() // before the backend's Close

	session := store.SessionRevocationKey("session-42")
	alice := store.SubjectRevocationKey("alice")
	issued := now.Add(-time.Minute) // the token's auth_time (else iat)
	fmt.Println("before sign-out:", list.Check(session, alice, issued, now))

	// POST /logout: the session ends; until covers its tokens' lifetime.
	_ = list.RevokeSession(ctx, session, now.Add(49*time.Hour))
	fmt.Println("after sign-out:", list.Check(session, alice, issued, now))

	// POST /logout-all: every session of alice begun before now ends...
	other := store.SessionRevocationKey("session-43")
	_ = list.RevokeSubject(ctx, alice, now, now.Add(49*time.Hour))
	fmt.Println("her other session:", list.Check(other, alice, issued, now))
	// ...and she can sign in again.
	fmt.Println("a new sign-in:", list.Check(store.SessionRevocationKey("session-44"), alice, now, now))
	// Output:
	// before sign-out: ok
	// after sign-out: revoked
	// her other session: revoked
	// a new sign-in: ok
}

// A full list refuses a new revocation, and forgets none: the application
// answers 503 and the user may try again later.
func ExampleList_RevokeSession_full() {
	ctx := context.Background()
	backend := memory.New(nil)
	defer backend.Close()
	list, err := revocation.New(ctx, revocation.Options{Backend: backend, MaxRevocations: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer list.Close()

	until := time.Now().Add(time.Hour)
	fmt.Println(list.RevokeSession(ctx, store.SessionRevocationKey("first"), until))
	err = list.RevokeSession(ctx, store.SessionRevocationKey("second"), until)
	if errors.Is(err, store.ErrRevocationsFull) {
		fmt.Println("503 Service Unavailable")
	}
	fmt.Println(list.Len())
	// Output:
	// <nil>
	// 503 Service Unavailable
	// 1
}
