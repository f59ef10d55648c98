package middleware

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// maxSourceValues is how many values one TokenLookup source yields at most,
// as with echo-jwt and Echo's extractors (their extractorLimit): a request
// with fifty Authorization headers costs at most twenty verifications.
const maxSourceValues = 20

// tokenSource is one place a token may be found: a header, read here
// without allocating, or an extractor (Echo's for query, param, cookie and
// form, which are echo-jwt's own; or one of Config.TokenLookupFuncs).
type tokenSource struct {
	header  string // canonical name; "" when extract is set
	prefix  string // cut from the header value; matched in any case
	extract echomw.ValuesExtractor
}

// tokenLookup is a compiled lookup: its sources in the order echo-jwt
// tries them, Config.TokenLookupFuncs first, then TokenLookup's sources
// from left to right. The middleware asks one source at a time and tries
// each of its values before it asks the next, so, as with echo-jwt, a
// later source (a form, whose body would then be parsed) is not consulted
// once a token has verified.
type tokenLookup []tokenSource

// values appends to dst the values of s in the request that may be the
// token, in the order to try them, and returns the extended slice. A header
// source appends nothing for a value without its prefix (or with nothing
// after it), and stops, as echo-jwt does, after the first value it takes
// at position maxSourceValues or later. An extractor that fails yields
// nothing; an empty value it returns is a value (and will not verify). For
// a header source, values allocates nothing when dst has room.
func (s *tokenSource) values(c echo.Context, dst []string) []string {
	if s.extract != nil {
		values, err := s.extract(c)
		if err != nil {
			return dst
		}
		return append(dst, values...)
	}
	for i, v := range c.Request().Header[s.header] {
		switch {
		case s.prefix == "":
			dst = append(dst, v)
		case len(v) > len(s.prefix) && strings.EqualFold(v[:len(s.prefix)], s.prefix):
			dst = append(dst, v[len(s.prefix):])
		default:
			continue
		}
		if i >= maxSourceValues-1 {
			break
		}
	}
	return dst
}

// newLookup compiles Config.TokenLookup and Config.TokenLookupFuncs. spec
// may be empty only when funcs is not. Unlike echo-jwt, which ignores a
// source it does not know, a source that is not one of header, query,
// param, cookie and form, a source without a name, and a header prefix with
// a ':' (which echo-jwt would cut short) are errors that name the source.
func newLookup(spec string, funcs []echomw.ValuesExtractor) (tokenLookup, error) {
	var l tokenLookup
	for i, f := range funcs {
		if f == nil {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookupFuncs[%d] is nil", i)
		}
		l = append(l, tokenSource{extract: f})
	}
	if spec == "" {
		if len(l) == 0 {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup is empty and there are no TokenLookupFuncs: nowhere to find a token")
		}
		return l, nil
	}
	for _, src := range strings.Split(spec, ",") {
		parts := strings.Split(src, ":")
		if len(parts) < 2 || parts[1] == "" {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: want <source>:<name>[:<prefix>]", src)
		}
		switch parts[0] {
		case "header":
			if len(parts) > 3 {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: a prefix cannot hold ':'", src)
			}
			s := tokenSource{header: textproto.CanonicalMIMEHeaderKey(parts[1])}
			if len(parts) == 3 {
				s.prefix = parts[2]
			}
			l = append(l, s)
		case "query", "param", "cookie", "form":
			extractors, err := echomw.CreateExtractors(src)
			if err != nil {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: %w", src, err)
			}
			if len(extractors) != 1 {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: Echo made %d extractors of it, want 1", src, len(extractors))
			}
			l = append(l, tokenSource{extract: extractors[0]})
		default:
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: %q is not one of header, query, param, cookie, form", src, parts[0])
		}
	}
	return l, nil
}

// cacheLookup is the lookup the verified-token cache is told of, so that it
// knows whether a token may be cut from a larger string it must not keep
// (see singleHeader): a TokenLookupFuncs function may return any string, so
// with one the cache is told of no single header.
func cacheLookup(cfg Config) string {
	if len(cfg.TokenLookupFuncs) > 0 {
		return ""
	}
	return cfg.TokenLookup
}
