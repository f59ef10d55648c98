package echov5

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"
)

// maxSourceValues is how many values one lookup source yields at most, as
// Echo's extractors (their extractorLimit) and echo-jwt try at most: a
// request with fifty Authorization headers costs at most twenty
// verifications.
const maxSourceValues = 20

// tokenSource is one place a token may be found: a header, read here
// without allocating, or an extractor (Echo v5's for query, param, cookie
// and form; or one of Config.TokenLookupFuncs).
type tokenSource struct {
	header  string // canonical name; "" when extract is set
	prefix  string // cut from the header value; matched in any case
	extract echomw.ValuesExtractor
}

// tokenLookup is a compiled lookup: its sources in the order echo-jwt
// tries them, Config.TokenLookupFuncs first, then TokenLookup's sources
// from left to right. The middleware asks one source at a time and tries
// each of its values before it asks the next, so a later source (a form,
// whose body would then be parsed) is not consulted once a token has
// verified. It is immutable and safe for concurrent use.
type tokenLookup []tokenSource

// values appends to dst the values of s in the request that may be the
// token, in the order to try them, at most maxSourceValues, and returns
// the extended slice. A header source takes, as Echo v5's header extractor
// does, every value when it has no prefix, else the values that start
// with it (in any case) and have something after it, cut. An extractor
// that fails yields nothing; an empty value it returns is a value (which
// will not verify). For a header source, values allocates nothing when
// dst has room.
func (s *tokenSource) values(c *echo.Context, dst []string) []string {
	if s.extract != nil {
		values, _, err := s.extract(c)
		if err != nil {
			return dst
		}
		return append(dst, values[:min(len(values), maxSourceValues)]...)
	}
	n := 0
	for _, v := range c.Request().Header[s.header] {
		switch {
		case s.prefix == "":
		case len(v) > len(s.prefix) && strings.EqualFold(v[:len(s.prefix)], s.prefix):
			v = v[len(s.prefix):]
		default:
			continue
		}
		dst = append(dst, v)
		if n++; n == maxSourceValues {
			break
		}
	}
	return dst
}

// singleHeader reports whether l reads one header and nothing else, so
// that each value it yields is the whole header value past the prefix (see
// token.VerifierOptions.TokensAreWhole). A TokenLookupFuncs function may
// return any string, so a lookup with one is not a single header.
func (l tokenLookup) singleHeader() bool {
	return len(l) == 1 && l[0].extract == nil
}

// newLookup compiles Config.TokenLookup and Config.TokenLookupFuncs. spec
// may be empty only when funcs is not. Unlike echo-jwt and Echo's
// CreateExtractors, which ignore a source they do not know, a source that
// is not one of header, query, param, cookie and form, a source without a
// name, and a header prefix with a ':' (which Echo would cut short) are
// errors that name the source.
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
			extractors, err := echomw.CreateExtractors(src, maxSourceValues)
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
