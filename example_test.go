package slidingjwt_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// Example mirrors the README's quick start: settings, a store, the
// middleware on a group, and an Issuer for the login route.
func Example() {
	settings := config.Default() // or config.FromEnv()
	settings.Secret = "an-example-secret-of-at-least-32-bytes!"
	settings.UserLifetime = time.Hour

	st := memory.New(nil) // lru.New, bolt.Open and redis.Open return (store, error)
	defer st.Close()

	issuer, err := middleware.NewIssuer(settings, nil)
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.Config{Settings: settings, Store: st, Keys: issuer.Keys()}.ToMiddleware()
	if err != nil {
		log.Fatal(err)
	}

	e := echo.New()
	api := e.Group("/api", mw)
	api.GET("/me", func(c echo.Context) error {
		return c.String(http.StatusOK, "hello "+middleware.ClaimsFrom(c).Subject)
	})

	// A token issued 40 minutes ago has 20 of its 60 minutes left: less
	// than half, so the response carries a renewed token.
	token, _, err := issuer.IssueAt(time.Now().Add(-40*time.Minute), "alice", "user", nil)
	if err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)

	fmt.Println(rec.Code, rec.Body.String())
	fmt.Println("renewed:", rec.Header().Get("X-New-Token") != "")
	fmt.Println("cache:", rec.Header().Get("Cache-Control"))
	// Output:
	// 200 hello alice
	// renewed: true
	// cache: no-store
}
