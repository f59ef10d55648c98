package slidingprom_test

import (
	"bufio"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slidingjwt/slidingjwt/config"
	slidingprom "github.com/slidingjwt/slidingjwt/metrics/prometheus"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// An Echo app that counts its renewals and serves them on /metrics,
// outside the middleware.
func Example() {
	st := memory.New(nil)
	defer st.Close()
	m, err := slidingprom.New(&slidingprom.Options{Backends: []string{st.Name()}})
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)

	settings := config.Default() // tokens live 48 hours, renewal is due after 24
	settings.Secret = "an example secret of 32 bytes..."
	issuer, err := middleware.NewIssuer(settings, nil)
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.Config{Settings: settings, Store: st, Keys: issuer.Keys(), Observer: m}.ToMiddleware()
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	e.GET("/api/me", func(c echo.Context) error { return c.String(http.StatusOK, "hello") }, mw)
	srv := httptest.NewServer(e)
	defer srv.Close()

	// A token issued 30 hours ago is due: the first request renews it, the
	// second is rate limited; a request without a token is refused.
	old, _, err := issuer.IssueAt(time.Now().Add(-30*time.Hour), "alice", "user", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, tok := range []string{old, old, ""} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/me", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
	}

	// Scrape, and print the series of the slidingjwt counters that are
	// not zero.
	res, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "slidingjwt_") && strings.Contains(line, "_total") && !strings.HasSuffix(line, " 0") {
			fmt.Println(line)
		}
	}
	// Output:
	// slidingjwt_renewals_total{result="rate_limited"} 1
	// slidingjwt_renewals_total{result="renewed"} 1
	// slidingjwt_requests_total{outcome="cache_hit"} 1
	// slidingjwt_requests_total{outcome="missing"} 1
	// slidingjwt_requests_total{outcome="verified"} 1
	// slidingjwt_verified_cache_hits_total 1
	// slidingjwt_verified_cache_lookups_total 2
}
