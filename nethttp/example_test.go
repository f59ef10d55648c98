package nethttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/nethttp"
	"github.com/slidingjwt/slidingjwt/store/memory"
	"github.com/slidingjwt/slidingjwt/token"
)

// Example protects a route of the standard mux. A token issued 30 hours
// ago, of a 48-hour lifetime, is past the renewal threshold: the response
// carries a new one.
func Example() {
	settings := config.Default()
	settings.Secret = "example-secret-0123456789abcdef-0123"
	st := memory.New(nil)
	defer st.Close()
	issuer, err := token.NewIssuer(settings, nil)
	if err != nil {
		panic(err)
	}
	mw, err := nethttp.Config{Settings: settings, Store: st, Keys: issuer.Keys()}.ToMiddleware()
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/me", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", nethttp.ClaimsFrom(r.Context()).Subject)
	})))

	tok, _, err := issuer.IssueAt(time.Now().Add(-30*time.Hour), "alice", "user", nil)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String(), rec.Header().Get(nethttp.HeaderNewToken) != "")
	// Output: 200 hello alice true
}
