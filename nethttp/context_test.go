package nethttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store/memory"
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

// TestTokenFromIsLazy: the default config makes the request's *jwt.Token
// on the first TokenFrom, sharing its claims map with ClaimsFrom's Map,
// and returns the same token on every later call, also from concurrent
// goroutines of the request (run with -race); with TypedClaimsOnly there
// is none.
func TestTokenFromIsLazy(t *testing.T) {
	t.Parallel()
	s := config.Default()
	s.Secret = "nethttp-context-test-secret-0123456789"
	for _, typed := range []bool{false, true} {
		issuer, err := token.NewIssuer(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := issuer.Issue("alice", "user", map[string]any{"team": "blue"})
		if err != nil {
			t.Fatal(err)
		}
		mw, err := Config{Settings: s, Store: memory.New(nil), Keys: issuer.Keys(), TypedClaimsOnly: typed}.ToMiddleware()
		if err != nil {
			t.Fatal(err)
		}
		var toks [4]*jwt.Token
		var claims jwt.MapClaims
		h := mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			var wg sync.WaitGroup
			for i := range toks {
				wg.Go(func() { toks[i] = TokenFrom(r.Context()) })
			}
			wg.Wait()
			claims = ClaimsFrom(r.Context()).Map()
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+raw)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if typed {
			if toks[0] != nil {
				t.Errorf("TypedClaimsOnly: TokenFrom gave a token")
			}
			continue
		}
		for i, tok := range toks {
			if tok == nil || tok != toks[0] {
				t.Fatalf("TokenFrom call %d: %p, want the one token %p", i, tok, toks[0])
			}
		}
		mc, ok := toks[0].Claims.(jwt.MapClaims)
		if !ok || mc["team"] != "blue" || toks[0].Raw != raw || !toks[0].Valid {
			t.Fatalf("the token: claims %v, raw %v, valid %v", toks[0].Claims, toks[0].Raw == raw, toks[0].Valid)
		}
		mc["team"] = "red"
		if claims["team"] != "red" {
			t.Error("TokenFrom's claims and ClaimsFrom's Map are not the same map")
		}
	}
}
