package middleware

import (
	"fmt"

	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/engine"
)

// echoExtractors returns, by source index, the extractor the door reads
// each source of l with: Config.TokenLookupFuncs for the lookup
// functions, and Echo's own extractors (echo-jwt's) for query, param,
// cookie and form, so that they yield exactly what echo-jwt tries; nil
// for a header, which the engine reads without allocating.
func echoExtractors(l *engine.Lookup, funcs []echomw.ValuesExtractor) ([]echomw.ValuesExtractor, error) {
	return engine.DoorReaders(l, funcs, func(s engine.Source) ([]echomw.ValuesExtractor, error) {
		return echomw.CreateExtractors(s.Spec)
	})
}

// checkFuncs refuses a nil function in Config.TokenLookupFuncs.
func checkFuncs(funcs []echomw.ValuesExtractor) error {
	for i, f := range funcs {
		if f == nil {
			return fmt.Errorf("slidingjwt: Config.TokenLookupFuncs[%d] is nil", i)
		}
	}
	return nil
}
