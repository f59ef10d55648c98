package engine

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// maxSourceValues is how many values one source yields at most, as
// echo-jwt and Echo's extractors try at most twenty: a request with fifty
// Authorization headers costs at most twenty verifications.
const maxSourceValues = 20

// Source is one place of a request where a token may be found: one
// source of a TokenLookup, or one of a door's lookup functions.
type Source struct {
	// Kind is header, query, cookie, form or param, or func for a door's
	// lookup function.
	Kind string
	// Name is the header (canonical), query, cookie, form or path
	// parameter name; "" for a function.
	Name string
	// Prefix is cut from a header's values, matched in any case.
	Prefix string
	// Func is the index of the door's lookup function (Kind func).
	Func int
	// Spec is the source as written in TokenLookup ("query:token").
	Spec string
	// Index is the source's position in Lookup.Sources.
	Index int
}

// Lookup finds the values of a request that may be its token: a door's
// lookup functions first, then the sources of a TokenLookup in echo-jwt's
// grammar, from left to right. Build it with ParseLookup. A Lookup is
// immutable and safe for concurrent use.
type Lookup struct {
	sources []Source
}

// ParseLookup compiles spec, comma-separated "<source>:<name>[:<prefix>]"
// with source header, query, cookie or form (and param when allowParam is
// set: a router's path parameters, which the door reads), after funcs
// lookup functions of the door. spec may be empty only when funcs is not.
// Unlike echo-jwt, which ignores a source it does not know, an unknown
// source, a source without a name and a header prefix holding ':' (which
// echo-jwt would cut short) are errors that name the source.
func ParseLookup(spec string, funcs int, allowParam bool) (*Lookup, error) {
	l := &Lookup{}
	for i := range funcs {
		l.sources = append(l.sources, Source{Kind: "func", Func: i, Index: i})
	}
	if spec == "" {
		if funcs == 0 {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup is empty and there are no lookup functions: nowhere to find a token")
		}
		return l, nil
	}
	allowed := "header, query, cookie, form"
	if allowParam {
		allowed = "header, query, param, cookie, form"
	}
	for _, src := range strings.Split(spec, ",") {
		parts := strings.Split(src, ":")
		if len(parts) < 2 || parts[1] == "" {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: want <source>:<name>[:<prefix>]", src)
		}
		s := Source{Kind: parts[0], Name: parts[1], Spec: src, Index: len(l.sources)}
		switch {
		case s.Kind == "header":
			if len(parts) > 3 {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: a prefix cannot hold ':'", src)
			}
			s.Name = textproto.CanonicalMIMEHeaderKey(s.Name)
			if len(parts) == 3 {
				s.Prefix = parts[2]
			}
		case s.Kind == "query" || s.Kind == "cookie" || s.Kind == "form" || s.Kind == "param" && allowParam:
			if len(parts) > 2 {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: only a header has a prefix", src)
			}
			if s.Kind == "cookie" && strings.IndexByte(s.Name, '=') >= 0 {
				// A cookie's name ends at its first '=': no cookie has it.
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: a cookie name cannot hold '='", src)
			}
		default:
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: %q is not one of %s", src, s.Kind, allowed)
		}
		l.sources = append(l.sources, s)
	}
	return l, nil
}

// Sources returns the lookup's sources in the order they are tried.
func (l *Lookup) Sources() []Source { return l.sources }

// singleHeader reports whether the lookup reads one header only, whose
// values past the prefix are whole strings of their own (see
// token.VerifierOptions.TokensAreWhole).
func (l *Lookup) singleHeader() bool {
	return len(l.sources) == 1 && l.sources[0].Kind == "header"
}

// RequestValues appends to dst the values source s of r yields, for the
// sources that need nothing but the request (header, query, cookie, form;
// nothing for param and func), in the request's order, and returns dst. A
// header's values are those that start with the prefix (in any case) with
// something after it, the prefix cut off; it stops, as echo-jwt does,
// after the value at position 20. The other sources yield at most 20
// values. For a header, it allocates nothing when dst has room.
func RequestValues(r *http.Request, s *Source, dst []string) []string {
	switch s.Kind {
	case "header":
		for i, v := range r.Header[s.Name] {
			switch {
			case s.Prefix == "":
				dst = append(dst, v)
			case len(v) > len(s.Prefix) && strings.EqualFold(v[:len(s.Prefix)], s.Prefix):
				dst = append(dst, v[len(s.Prefix):])
			default:
				continue
			}
			if i >= maxSourceValues-1 {
				break
			}
		}
	case "query":
		dst = appendCapped(dst, r.URL.Query()[s.Name])
	case "cookie":
		dst = cookieValues(r, s.Name, dst)
	case "form":
		if r.Form == nil {
			_ = r.ParseMultipartForm(32 << 20)
		}
		dst = appendCapped(dst, r.Form[s.Name])
	}
	return dst
}

func appendCapped(dst, values []string) []string {
	if len(values) > maxSourceValues {
		values = values[:maxSourceValues]
	}
	return append(dst, values...)
}

// DoorReaders returns, by source index, what a door reads each source of
// l with (see Door.Values): funcs[s.Func] for its lookup functions,
// build(s) for every source but a header or a cookie, which the engine
// reads itself without allocating (the zero E). It is for a door that reads query,
// param, cookie and form sources its framework's way, as the Echo doors do
// with Echo's extractors for echo-jwt's exact semantics. An error of build
// is returned naming the source.
func DoorReaders[E any](l *Lookup, funcs []E, build func(s Source) ([]E, error)) ([]E, error) {
	out := make([]E, len(l.sources))
	for i, s := range l.sources {
		switch s.Kind {
		case "header", "cookie":
		case "func":
			out[i] = funcs[s.Func]
		default:
			built, err := build(s)
			if err != nil {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: %w", s.Spec, err)
			}
			if len(built) != 1 {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: made %d readers of it, want 1", s.Spec, len(built))
			}
			out[i] = built[0]
		}
	}
	return out, nil
}
