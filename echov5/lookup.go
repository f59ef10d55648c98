package echov5

import (
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
	return engine.DoorReaders(l, funcs, func(s engine.Source) ([]echomw.ValuesExtractor, error) {
		return echomw.CreateExtractors(s.Spec, maxSourceValues)
	})
}
