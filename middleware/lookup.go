package middleware

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// lookupFunc finds the raw token of a request, or returns ErrTokenMissing.
type lookupFunc func(c echo.Context) (string, error)

// newLookup compiles a TokenLookup string. A single header source, the
// common case, reads the header directly without allocating; anything else
// goes through Echo's extractors.
func newLookup(spec string) (lookupFunc, error) {
	sources := strings.Split(spec, ",")
	for _, src := range sources {
		parts := strings.SplitN(src, ":", 3)
		if len(parts) < 2 || parts[1] == "" {
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: want <source>:<name>[:<prefix>]", src)
		}
		switch parts[0] {
		case "header", "query", "param", "cookie", "form":
		default:
			return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: %q is not one of header, query, param, cookie, form", src, parts[0])
		}
	}
	if parts := strings.SplitN(spec, ":", 3); len(sources) == 1 && parts[0] == "header" {
		name := textproto.CanonicalMIMEHeaderKey(parts[1])
		prefix := ""
		if len(parts) == 3 {
			prefix = parts[2]
		}
		return func(c echo.Context) (string, error) {
			for _, v := range c.Request().Header[name] {
				if len(v) > len(prefix) && strings.EqualFold(v[:len(prefix)], prefix) {
					return v[len(prefix):], nil
				}
			}
			return "", ErrTokenMissing
		}, nil
	}
	extractors, err := echomw.CreateExtractors(spec)
	if err != nil {
		return nil, fmt.Errorf("slidingjwt: Config.TokenLookup: %w", err)
	}
	return func(c echo.Context) (string, error) {
		for _, extract := range extractors {
			values, err := extract(c)
			if err == nil && len(values) > 0 && values[0] != "" {
				return values[0], nil
			}
		}
		return "", ErrTokenMissing
	}, nil
}
