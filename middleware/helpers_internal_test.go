package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    string
		header  map[string]string
		query   string
		want    string
		wantErr bool
	}{
		{"bearer", DefaultTokenLookup, map[string]string{"Authorization": "Bearer abc"}, "", "abc", false},
		{"bearer any case", DefaultTokenLookup, map[string]string{"Authorization": "bearer abc"}, "", "abc", false},
		{"basic is missing", DefaultTokenLookup, map[string]string{"Authorization": "Basic abc"}, "", "", true},
		{"prefix only", DefaultTokenLookup, map[string]string{"Authorization": "Bearer "}, "", "", true},
		{"query ignored by header lookup", DefaultTokenLookup, nil, "token=abc", "", true},
		{"custom header", "header:X-Token", map[string]string{"X-Token": "abc"}, "", "abc", false},
		{"query", "query:token", nil, "token=abc", "abc", false},
		{"header then query", DefaultTokenLookup + ",query:token", nil, "token=q", "q", false},
		{"cookie", "cookie:jwt", map[string]string{"Cookie": "jwt=c"}, "", "c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup, err := newLookup(tt.spec)
			if err != nil {
				t.Fatalf("newLookup(%q): %v", tt.spec, err)
			}
			req := httptest.NewRequest(http.MethodGet, "/?"+tt.query, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			c := echo.New().NewContext(req, httptest.NewRecorder())
			got, err := lookup(c)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("lookup = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLookupSpecErrors(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"header", "header:", "body:token", "header:Authorization,foo:bar", ":x"} {
		if _, err := newLookup(spec); err == nil || !strings.Contains(err.Error(), "TokenLookup") {
			t.Errorf("newLookup(%q) error = %v; want one naming TokenLookup", spec, err)
		}
	}
}

func TestSanitizeSubject(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"Zoë 李", "Zoë 李"},
		{"a\r\nb", "a??b"},
		{"tab\there", "tab?here"},
		{"nul\x00", "nul?"},
		{"bad\xffutf8", "bad?utf8"},
		{"ansi\x1b[31m", "ansi?[31m"},
		{strings.Repeat("x", 70), strings.Repeat("x", 64) + "..."},
	}
	for _, tt := range tests {
		if got := SanitizeSubject(tt.in); got != tt.want {
			t.Errorf("SanitizeSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
