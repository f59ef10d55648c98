package slidinggin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/slidinggin"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// ExampleNew protects a group of Gin routes. A token issued 30 hours ago,
// of a 48-hour lifetime, is past the renewal threshold: the response
// carries a new one in X-New-Token. The handler finds the claims with
// ClaimsFrom; with ContextKey set, it also finds its own *jwt.Token under
// that key. A request without a token gets echo-jwt's 401.
func ExampleNew() {
	gin.SetMode(gin.ReleaseMode) // no route listing on standard output
	settings := config.Default()
	settings.Secret = "example-secret-0123456789abcdef-0123"
	st := memory.New(nil)
	defer st.Close()
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		panic(err)
	}

	r := gin.New()
	api := r.Group("/api", slidinggin.New(slidinggin.Config{
		Settings: settings, Store: st, Keys: issuer.Keys(), ContextKey: "user",
	}))
	api.GET("/me", func(c *gin.Context) {
		_, hasToken := c.Get("user")
		c.String(http.StatusOK, "hello %s (token: %v)", slidinggin.ClaimsFrom(c).Subject, hasToken)
	})

	tok, _, err := issuer.IssueAt(time.Now().Add(-30*time.Hour), "alice", "user", nil)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String(), rec.Header().Get(slidinggin.HeaderNewToken) != "")

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/me", nil))
	fmt.Println(rec.Code, rec.Body.String(), rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 hello alice (token: true) true
	// 401 {"message":"missing or malformed jwt"} Bearer
}
