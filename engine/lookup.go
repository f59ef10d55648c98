package engine

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// maxLookupValues is how many values a source yields at most, as echo-jwt
// (Echo's extractors) tries at most 20.
const maxLookupValues = 20

// Lookup finds the values of a request that may be its token, from
// sources in echo-jwt's TokenLookup grammar that need nothing but the
// *http.Request: header, query, cookie and form (a router's path
// parameters, "param", are a front door's business). Build it with
// ParseLookup. A Lookup is immutable and safe for concurrent use.
type Lookup struct {
	sources []source
	spec    string
}

type source struct {
	kind   string // header, query, cookie, form
	name   string // canonical for headers
	prefix string // headers only, matched in any case
}

// ParseLookup compiles spec: comma-separated "<source>:<name>[:<prefix>]"
// with source header, query, cookie or form. allowParam lets "param"
// sources through (they yield nothing here: the front door reads them).
func ParseLookup(spec string, allowParam bool) (*Lookup, error) {
	l := &Lookup{spec: spec}
	for _, src := range strings.Split(spec, ",") {
		parts := strings.SplitN(src, ":", 3)
		if len(parts) < 2 || parts[1] == "" {
			return nil, fmt.Errorf("slidingjwt: TokenLookup source %q: want <source>:<name>[:<prefix>]", src)
		}
		switch parts[0] {
		case "header", "query", "cookie", "form":
		case "param":
			if allowParam {
				break
			}
			fallthrough
		default:
			allowed := "header, query, cookie, form"
			if allowParam {
				allowed = "header, query, param, cookie, form"
			}
			return nil, fmt.Errorf("slidingjwt: TokenLookup source %q: %q is not one of %s", src, parts[0], allowed)
		}
		s := source{kind: parts[0], name: parts[1]}
		if s.kind == "header" {
			s.name = textproto.CanonicalMIMEHeaderKey(s.name)
			if len(parts) == 3 {
				s.prefix = parts[2]
			}
		}
		l.sources = append(l.sources, s)
	}
	return l, nil
}

// SingleHeader reports whether the lookup reads one header only, whose
// values past the prefix are whole strings of their own (see
// token.VerifierOptions.TokensAreWhole).
func (l *Lookup) SingleHeader() bool {
	return len(l.sources) == 1 && l.sources[0].kind == "header"
}

// Sources returns how many sources the lookup has.
func (l *Lookup) Sources() int { return len(l.sources) }

// Values appends to buf the values source i of r yields, in the request's
// order, at most 20, and returns buf. A header's values are those that
// start with the prefix (in any case), with it cut off; empty values are
// skipped.
func (l *Lookup) Values(r *http.Request, i int, buf []string) []string {
	s := &l.sources[i]
	n := 0
	add := func(v string) bool {
		if v != "" {
			buf = append(buf, v)
			n++
		}
		return n < maxLookupValues
	}
	switch s.kind {
	case "header":
		for _, v := range r.Header[s.name] {
			p := len(s.prefix)
			if len(v) > p && strings.EqualFold(v[:p], s.prefix) && !add(v[p:]) {
				break
			}
		}
	case "query":
		for _, v := range r.URL.Query()[s.name] {
			if !add(v) {
				break
			}
		}
	case "cookie":
		for _, c := range r.CookiesNamed(s.name) {
			if !add(c.Value) {
				break
			}
		}
	case "form":
		if r.Form == nil {
			_ = r.ParseMultipartForm(32 << 20)
		}
		for _, v := range r.Form[s.name] {
			if !add(v) {
				break
			}
		}
	}
	return buf
}
