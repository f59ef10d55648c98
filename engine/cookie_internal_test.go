package engine

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// TestCookieValues: the session cookie's values are read as net/http
// reads them (spaces trimmed, quotes removed, every Cookie header), empty
// ones skipped, at most 20, without allocating.
func TestCookieValues(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    []string
	}{
		{"none", nil, nil},
		{"one among others", []string{"a=1; s=tok; b=2"}, []string{"tok"}},
		{"quoted", []string{`s="tok"`}, []string{"tok"}},
		{"empty skipped", []string{"s=; s=tok"}, []string{"tok"}},
		{"two headers", []string{"s=one", "x=y;  s=two "}, []string{"one", "two"}},
		{"prefix of another name", []string{"ss=no; s2=no"}, nil},
		{"capped", []string{strings.Repeat("s=v; ", 30)}, slices.Repeat([]string{"v"}, maxSourceValues)},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = tt.headers
		if got := cookieValues(r, "s", nil); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header["Cookie"] = []string{"a=1; s=tok; b=2"}
	var buf [2]string
	if n := testing.AllocsPerRun(100, func() { _ = cookieValues(r, "s", buf[:0]) }); n != 0 {
		t.Errorf("cookieValues allocates %v times, want 0", n)
	}
}

// TestCookieLookupMustNameTheCookie: in cookie delivery an explicit
// TokenLookup without the session cookie is refused at start, naming
// both; an empty one reads the cookie.
func TestCookieLookupMustNameTheCookie(t *testing.T) {
	t.Parallel()
	s := config.Default()
	s.Secret = "0123456789abcdef0123456789abcdef"
	s.Delivery = config.DeliveryCookie
	cfg := Config[*http.Request]{Settings: s, Store: memory.New(nil), Request: func(r *http.Request) *http.Request { return r },
		TokenLookup: "header:Authorization:Bearer "}
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "cookie:__Host-session") || !strings.Contains(err.Error(), `"header:Authorization:Bearer "`) {
		t.Errorf("error %v, want one naming the lookup and cookie:__Host-session", err)
	}
	cfg.TokenLookup = ""
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if src := e.Lookup().Sources(); len(src) != 1 || src[0].Spec != "cookie:__Host-session" {
		t.Errorf("sources %+v, want the session cookie only", src)
	}
}
