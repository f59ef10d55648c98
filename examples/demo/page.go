package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
)

// The page and its assets are compiled into the binary: no build step and
// nothing to install next to it.
//
//go:embed static
var staticFiles embed.FS

var indexTemplate = template.Must(template.ParseFS(staticFiles, "static/index.html"))

// registerPage serves the web page and its assets from the API's own origin.
func registerPage(e *echo.Echo, delivery string) {
	h := echo.WrapHandler(pageHandler("", delivery))
	e.GET("/", h)
	e.GET("/static/*", h)
}

// asset is one embedded file served under /static/.
type asset struct {
	body []byte
	etag string
}

// pageHandler serves the demo page at / and its scripts and styles under
// /static/. apiBase is the origin the page sends its API calls to: "" for
// its own origin, or e.g. "http://localhost:8080" when the page is served
// from another origin (PAGE_ADDR, or a test's static server); that origin
// must then allow the page's origin through CORS_ORIGINS.
func pageHandler(apiBase, delivery string) http.Handler {
	var index bytes.Buffer
	if delivery == "" {
		delivery = config.DeliveryHeader
	}
	if err := indexTemplate.Execute(&index, struct{ APIBase, Delivery string }{apiBase, delivery}); err != nil {
		panic(err) // the template is embedded: this fails in every test or never
	}
	assets := map[string]asset{}
	err := fs.WalkDir(staticFiles, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := path.Ext(name); ext != ".js" && ext != ".css" {
			return nil // only scripts and styles; index.html is a template
		}
		b, err := staticFiles.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		assets[strings.TrimPrefix(name, "static/")] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}

	connect := "'self'"
	if apiBase != "" {
		connect += " " + apiBase
	}
	// The page keeps a token in localStorage, so it runs only its own
	// scripts: no inline script, nothing from elsewhere, no framing.
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + connect + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index.Bytes()))
	})
	mux.HandleFunc("GET /static/{name...}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache") // revalidate: the ETag makes that cheap
		http.ServeContent(w, r, r.PathValue("name"), time.Time{}, bytes.NewReader(a.body))
	})
	return securityHeaders(mux)
}

// securityHeaders adds the headers every page response should carry.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
