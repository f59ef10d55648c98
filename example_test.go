package slidingjwt_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt"
	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// Example mirrors the README's quick start: settings, an Auth opened from
// them (the store TOKEN_RENEW_STORE names, sign-out, keys, the Issuer),
// the middleware built from it on a group, and the ready-made sign-out
// handler.
func Example() {
	settings := config.Default() // or config.FromEnv()
	settings.Secret = "an-example-secret-of-at-least-32-bytes!"
	settings.UserLifetime = time.Hour

	auth, err := slidingjwt.Open(context.Background(), settings, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	e := echo.New()
	api := e.Group("/api", middleware.From(auth))
	api.GET("/me", func(c echo.Context) error {
		return c.String(http.StatusOK, "hello "+middleware.ClaimsFrom(c).Subject)
	})
	api.POST("/logout", middleware.SignOutHandler(auth))
	issuer := auth.Issuer() // in /login, after the password check

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

	// Signed out, the token is refused at once.
	send := func(method, path string) int {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println("POST /api/logout", send(http.MethodPost, "/api/logout"))
	fmt.Println("GET /api/me", send(http.MethodGet, "/api/me"))
	// Output:
	// 200 hello alice
	// renewed: true
	// cache: no-store
	// POST /api/logout 204
	// GET /api/me 401
}
