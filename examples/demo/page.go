package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerPage serves the demo's web page. (A placeholder until the page
// and its client script land.)
func registerPage(e *echo.Echo) {
	e.GET("/", func(c echo.Context) error {
		return c.HTML(http.StatusOK, "<!doctype html><title>slidingjwt demo</title><p>POST /login, GET /auth-status, GET /api/me</p>")
	})
}
