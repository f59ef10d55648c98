package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/engine"
)

// compileLookup compiles spec and funcs as the middleware does.
func compileLookup(spec string, funcs []echomw.ValuesExtractor) (*mw, *engine.Lookup, error) {
	if err := checkFuncs(funcs); err != nil {
		return nil, nil, err
	}
	l, err := engine.ParseLookup(spec, len(funcs), true)
	if err != nil {
		return nil, nil, err
	}
	ex, err := echoExtractors(l, funcs)
	if err != nil {
		return nil, nil, err
	}
	return &mw{extractors: ex}, l, nil
}

// lookupValues returns every value the lookup yields for c, source by
// source, as Serve tries them.
func lookupValues(m *mw, l *engine.Lookup, c echo.Context) []string {
	var all []string
	for _, s := range l.Sources() {
		vals, ok := m.Values(c, &s)
		if !ok {
			vals = engine.RequestValues(c.Request(), &s, nil)
		}
		all = append(all, vals...)
	}
	return all
}

func TestLookup(t *testing.T) {
	t.Parallel()
	numbered := func(prefix string, n int) []string {
		var vs []string
		for i := 1; i <= n; i++ {
			vs = append(vs, fmt.Sprintf("%s%d", prefix, i))
		}
		return vs
	}
	fromHeader := func(name string) echomw.ValuesExtractor {
		return func(c echo.Context) ([]string, error) { return c.Request().Header.Values(name), nil }
	}
	failing := func(echo.Context) ([]string, error) { return []string{"never"}, errors.New("no value") }
	tests := []struct {
		name   string
		spec   string
		funcs  []echomw.ValuesExtractor
		header map[string][]string
		query  string
		want   []string
	}{
		{"bearer", DefaultTokenLookup, nil, map[string][]string{"Authorization": {"Bearer abc"}}, "", []string{"abc"}},
		{"bearer any case", DefaultTokenLookup, nil, map[string][]string{"Authorization": {"bearer abc"}}, "", []string{"abc"}},
		{"basic is missing", DefaultTokenLookup, nil, map[string][]string{"Authorization": {"Basic abc"}}, "", nil},
		{"prefix only", DefaultTokenLookup, nil, map[string][]string{"Authorization": {"Bearer "}}, "", nil},
		{"query ignored by header lookup", DefaultTokenLookup, nil, nil, "token=abc", nil},
		{"custom header", "header:X-Token", nil, map[string][]string{"X-Token": {"abc"}}, "", []string{"abc"}},
		{"header without prefix keeps an empty value", "header:X-Token", nil, map[string][]string{"X-Token": {""}}, "", []string{""}},
		{"query", "query:token", nil, nil, "token=abc", []string{"abc"}},
		{"query keeps an empty value", "query:token", nil, nil, "token=", []string{""}},
		{"header then query", DefaultTokenLookup + ",query:token", nil, map[string][]string{"Authorization": {"Bearer h"}}, "token=q", []string{"h", "q"}},
		{"query then header", "query:token," + DefaultTokenLookup, nil, map[string][]string{"Authorization": {"Bearer h"}}, "token=q", []string{"q", "h"}},
		{"cookie", "cookie:jwt", nil, map[string][]string{"Cookie": {"jwt=c"}}, "", []string{"c"}},
		{"every header value, in order", DefaultTokenLookup, nil,
			map[string][]string{"Authorization": {"Bearer one", "Basic x", "bearer two"}}, "", []string{"one", "two"}},
		{"20 header values at most", DefaultTokenLookup, nil,
			map[string][]string{"Authorization": numbered("Bearer ", 25)}, "", numbered("", 20)},
		{"20 header values at most, without prefix", "header:X-Token", nil,
			map[string][]string{"X-Token": numbered("", 25)}, "", numbered("", 20)},
		{"past position 20, the first match is the last", DefaultTokenLookup, nil,
			map[string][]string{"Authorization": append(numbered("Basic ", 21), "Bearer late", "Bearer later")}, "", []string{"late"}},
		{"20 query values at most", "query:token", nil, nil,
			"token=1&token=2&token=3&token=4&token=5&token=6&token=7&token=8&token=9&token=10&token=11&token=12" +
				"&token=13&token=14&token=15&token=16&token=17&token=18&token=19&token=20&token=21&token=22",
			numbered("", 20)},
		{"functions only", "", []echomw.ValuesExtractor{fromHeader("X-Api-Key")},
			map[string][]string{"X-Api-Key": {"k"}, "Authorization": {"Bearer h"}}, "", []string{"k"}},
		{"functions before the lookup", DefaultTokenLookup, []echomw.ValuesExtractor{fromHeader("X-Api-Key"), fromHeader("X-Other")},
			map[string][]string{"X-Api-Key": {"k1", "k2"}, "X-Other": {"o"}, "Authorization": {"Bearer h"}}, "", []string{"k1", "k2", "o", "h"}},
		{"a failing function yields nothing", DefaultTokenLookup, []echomw.ValuesExtractor{failing},
			map[string][]string{"Authorization": {"Bearer h"}}, "", []string{"h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, l, err := compileLookup(tt.spec, tt.funcs)
			if err != nil {
				t.Fatalf("compileLookup(%q): %v", tt.spec, err)
			}
			req := httptest.NewRequest(http.MethodGet, "/?"+tt.query, nil)
			for k, vs := range tt.header {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			c := echo.New().NewContext(req, httptest.NewRecorder())
			if got := lookupValues(m, l, c); !slices.Equal(got, tt.want) {
				t.Errorf("values = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLookupSpecErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec  string
		funcs []echomw.ValuesExtractor
		want  string
	}{
		{"header", nil, `"header"`},
		{"header:", nil, `"header:"`},
		{"body:token", nil, `"body"`},
		{"header:Authorization,foo:bar", nil, `"foo"`},
		{":x", nil, `":x"`},
		{" cookie:jwt", nil, `" cookie"`},
		{"header:Authorization:Token:x", nil, "prefix cannot hold ':'"},
		{"header:Authorization,cookie:jwt=x", nil, `"cookie:jwt=x": a cookie name cannot hold '='`},
		{"", nil, "nowhere to find a token"},
		{DefaultTokenLookup, []echomw.ValuesExtractor{nil}, "TokenLookupFuncs[0] is nil"},
	}
	for _, tt := range tests {
		_, _, err := compileLookup(tt.spec, tt.funcs)
		if err == nil || !strings.Contains(err.Error(), "Config.TokenLookup") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compileLookup(%q) error = %v; want one naming Config.TokenLookup and %s", tt.spec, err, tt.want)
		}
	}
}

// TestHeaderLookupAllocations: the values of a header source go into the
// caller's buffer, so the default lookup allocates nothing. Not parallel:
// AllocsPerRun reads process-wide counters.
func TestHeaderLookupAllocations(t *testing.T) {
	_, l, err := compileLookup(DefaultTokenLookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer abc")
	src := &l.Sources()[0]
	var found int
	allocs := testing.AllocsPerRun(100, func() {
		var buf [2]string
		found = len(engine.RequestValues(req, src, buf[:0]))
	})
	if found != 1 || allocs != 0 {
		t.Errorf("header lookup: %d values, %v allocations; want 1 value, 0 allocations", found, allocs)
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
