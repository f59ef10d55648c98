package slidingotel_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
	slidingotel "github.com/slidingjwt/slidingjwt/tracing/otel"
)

// An Echo app whose requests run in a span (started here by hand, as a
// tracing middleware such as otelecho would) gets the renewal's events on
// that span.
func Example() {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	defer tp.Shutdown(context.Background())

	st := memory.New(nil)
	defer st.Close()
	settings := config.Default() // tokens live 48 hours, renewal is due after 24
	settings.Secret = "an example secret of 32 bytes..."
	issuer, err := middleware.NewIssuer(settings, nil)
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.Config{Settings: settings, Store: st, Keys: issuer.Keys(), Observer: slidingotel.New(nil)}.ToMiddleware()
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, span := tp.Tracer("example").Start(c.Request().Context(), c.Request().Method+" "+c.Path())
			defer span.End()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	e.GET("/api/me", func(c echo.Context) error { return c.String(http.StatusOK, "hello") }, mw)

	// A token issued 30 hours ago is due for renewal.
	tok, _, err := issuer.IssueAt(time.Now().Add(-30*time.Hour), "alice", "user", nil)
	if err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	e.ServeHTTP(httptest.NewRecorder(), req)

	for _, span := range recorder.Ended() {
		for _, kv := range span.Attributes() {
			fmt.Printf("%s: %s=%s\n", span.Name(), kv.Key, kv.Value.String())
		}
		for _, ev := range span.Events() {
			fmt.Printf("  event %s:", ev.Name)
			for _, kv := range ev.Attributes {
				switch kv.Key {
				case slidingotel.KeyStoreBackend, slidingotel.KeyStoreOp, slidingotel.KeyRenewalResult:
					fmt.Printf(" %s=%s", kv.Key, kv.Value.String())
				}
			}
			fmt.Println()
		}
	}
	// Output:
	// GET /api/me: slidingjwt.outcome=verified
	//   event slidingjwt.store_call: slidingjwt.store.backend=memory slidingjwt.store.op=allow
	//   event slidingjwt.renewal: slidingjwt.renewal.result=renewed
}
