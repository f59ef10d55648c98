package nethttp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/token"
)

type parentKey struct{}

// TestClaimsContext: the context the middleware gives a request answers
// the claims, even beneath contexts derived from it, passes every other
// key to its parent, and is cancelled with its parent.
func TestClaimsContext(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), parentKey{}, "p"))
	claims, tok := &token.Claims{Subject: "alice"}, &jwt.Token{Raw: "x"}
	ctx := context.Context(&claimsContext{Context: parent, claims: claims, token: tok})

	derived, stop := context.WithTimeout(context.WithValue(ctx, parentKey{}, "shadow"), time.Hour)
	defer stop()
	for name, c := range map[string]context.Context{"its own": ctx, "a derived one": derived} {
		if got := ClaimsFrom(c); got != claims {
			t.Errorf("ClaimsFrom(%s): got %p, want %p", name, got, claims)
		}
		if got := TokenFrom(c); got != tok {
			t.Errorf("TokenFrom(%s): got %p, want %p", name, got, tok)
		}
	}
	if got := ctx.Value(parentKey{}); got != "p" {
		t.Errorf("a parent's value: got %v, want p", got)
	}
	if ClaimsFrom(parent) != nil || TokenFrom(context.Background()) != nil {
		t.Error("a context without the middleware's claims answers some")
	}
	if s := ctx.(interface{ String() string }).String(); !strings.HasSuffix(s, ".WithValue(nethttp claims)") {
		t.Errorf("String: got %q", s)
	}

	afterFunc := make(chan struct{})
	context.AfterFunc(ctx, func() { close(afterFunc) })
	why := errors.New("client went away")
	cancel(why)
	for name, c := range map[string]context.Context{"its own": ctx, "a derived one": derived} {
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s context not done after the parent was cancelled", name)
		}
		if !errors.Is(context.Cause(c), why) {
			t.Errorf("Cause(%s): got %v, want %v", name, context.Cause(c), why)
		}
	}
	select {
	case <-afterFunc:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc did not run after the parent was cancelled")
	}
}
