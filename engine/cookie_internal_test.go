package engine

import (
	"net/http"
	"net/textproto"
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

// FuzzCookieValues: cookieValues reads any Cookie header, for any name
// without '=' (the only names that can reach it), as the plain reading does
// (parts cut at ';', spaces trimmed, the name before the first '=', quotes
// removed, empty values skipped, at most maxSourceValues).
func FuzzCookieValues(f *testing.F) {
	for _, seed := range []struct{ line, name string }{
		{"s=tok", "s"},
		{"a=1; s=tok; b=2", "s"},
		{` s="tok" ;s=`, "s"},
		{"s==x; s=a=b", "s"},
		{"ss=no; s2=no; s", "s"},
		{"__Host-session=eyJ.eyJ.sig", "__Host-session"},
		{";;; =x; s=\"\"", "s"},
		{"x=1", ""},
		{"=1", ""},
	} {
		f.Add(seed.line, seed.name)
	}
	f.Fuzz(func(t *testing.T, line, name string) {
		if strings.IndexByte(name, '=') >= 0 {
			return // refused at start: ParseLookup, config's cookie name
		}
		r := &http.Request{Header: http.Header{"Cookie": {line, line}}}
		got := cookieValues(r, name, nil)
		if want := plainCookieValues(r, name); !slices.Equal(got, want) {
			t.Errorf("cookieValues(%q, %q) = %q, want %q", line, name, got, want)
		}
	})
}

// plainCookieValues is cookieValues written the plain way, with
// strings.Cut: the reference FuzzCookieValues compares it with.
func plainCookieValues(r *http.Request, name string) []string {
	var dst []string
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if v == "" {
				continue
			}
			if dst = append(dst, v); len(dst) == maxSourceValues {
				return dst
			}
		}
	}
	return dst
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
