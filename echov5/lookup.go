package echov5

import (
	"fmt"

	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/slidingjwt/slidingjwt/engine"
)

// maxSourceValues is how many values one source yields at most, as with
// echo-jwt and Echo's extractors.
const maxSourceValues = 20

// echoExtractors returns, by source index, the extractor the door reads
// each source of l with: Config.TokenLookupFuncs for the lookup
// functions, and Echo's own extractors for query, param, cookie and form;
// nil for a header, which the engine reads without allocating.
func echoExtractors(l *engine.Lookup, funcs []echomw.ValuesExtractor) ([]echomw.ValuesExtractor, error) {
	sources := l.Sources()
	out := make([]echomw.ValuesExtractor, len(sources))
	for i, s := range sources {
		switch s.Kind {
		case "header":
		case "func":
			out[i] = funcs[s.Func]
		default:
			extractors, err := echomw.CreateExtractors(s.Spec, maxSourceValues)
			if err != nil {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: %w", s.Spec, err)
			}
			if len(extractors) != 1 {
				return nil, fmt.Errorf("slidingjwt: Config.TokenLookup source %q: Echo made %d extractors of it, want 1", s.Spec, len(extractors))
			}
			out[i] = extractors[0]
		}
	}
	return out, nil
}
