package echov5_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/echov5"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// Example protects a group of Echo v5 routes. A token issued 30 hours ago,
// of a 48-hour lifetime, is past the renewal threshold: the response
// carries a new one in X-New-Token. A request without a token gets
// echo-jwt's 401.
func Example() {
	settings := config.Default()
	settings.Secret = "example-secret-0123456789abcdef-0123"
	st := memory.New(nil)
	defer st.Close()
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		panic(err)
	}
	mw, err := echov5.Config{Settings: settings, Store: st, Keys: issuer.Keys()}.ToMiddleware()
	if err != nil {
		panic(err)
	}

	e := echo.New()
	api := e.Group("/api", mw)
	api.GET("/me", func(c *echo.Context) error {
		return c.String(http.StatusOK, "hello "+echov5.ClaimsFrom(c).Subject)
	})

	tok, _, err := issuer.IssueAt(time.Now().Add(-30*time.Hour), "alice", "user", nil)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String(), rec.Header().Get(echov5.HeaderNewToken) != "")

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/me", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 hello alice true
	// 401 {"message":"missing or malformed jwt"}
}
