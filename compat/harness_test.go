package compat_test

// The side-by-side harness: a scenario's configuration, in echo-jwt's
// terms, becomes an echo-jwt middleware and ours; each is put in front of a
// real Echo behind a real HTTP server, the same requests go to both, and
// what each answered is recorded as an outcome.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// kit is what every scenario shares: the clock reading tokens are minted
// at, and the keys.
type kit struct {
	// now is when the suite started, to the second. Our middleware reads
	// it as its clock; echo-jwt, which takes no clock, reads the real one,
	// which stays within minutes of it while tokens live for an hour.
	now    time.Time
	secret []byte // the 32-byte key of most scenarios
	other  []byte // another 32-byte key, which verifies none of them
	// kidKeys are echo-jwt's TestJWTwithKID keys, re-made at 32 bytes.
	kidKeys map[string][]byte
	rsa     *rsa.PrivateKey
}

var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newKit(t *testing.T) *kit {
	t.Helper()
	key, err := rsaKey()
	if err != nil {
		t.Fatalf("generating an RSA key: %v", err)
	}
	return &kit{
		now:    time.Now().Truncate(time.Second),
		secret: []byte("side-by-side-secret-of-32-bytes!"),
		other:  []byte("another-secret-of-exactly-32-byt"),
		kidKeys: map[string][]byte{
			"firstOne":  []byte("first-secret-0123456789abcdefghi"),
			"secondOne": []byte("second-secret-0123456789abcdefgh"),
			"thirdOne":  []byte("third-secret-0123456789abcdefghi"),
		},
		rsa: key,
	}
}

// johnDoe returns the claims of echo-jwt's fixture token, with an exp an
// hour after k.now.
func (k *kit) johnDoe() jwt.MapClaims {
	return jwt.MapClaims{"sub": "1234567890", "name": "John Doe", "admin": true, "exp": k.now.Add(time.Hour).Unix()}
}

// with returns a copy of claims with the given members set (a nil value
// deletes one).
func with(claims jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := maps.Clone(claims)
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, name)
			continue
		}
		out[name] = kv[i+1]
	}
	return out
}

// token is echo-jwt's fixture token, re-minted with k.secret and an exp.
func (k *kit) token() string { return k.sign(k.johnDoe()) }

// sign mints an HS256 token of claims with k.secret.
func (k *kit) sign(claims jwt.MapClaims) string { return signWith(k.secret, "", claims) }

// signWith mints an HS256 token of claims with key, and kid in its header
// when not empty. Minting with an HMAC key cannot fail for the claims the
// scenarios use; if it did, the token would be the error text, which no
// scenario accepts.
func signWith(key []byte, kid string, claims jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		return "minting failed: " + err.Error()
	}
	return s
}

// signJSON mints an HS256 token from a header and a claims set written as
// JSON text, byte for byte: for what golang-jwt's encoder would never write
// (a name twice).
func signJSON(key []byte, header, claims string) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// field is one request header, form field or cookie.
type field struct{ name, value string }

func bearer(token string) field { return field{echo.HeaderAuthorization, "Bearer " + token} }
func cookie(name, value string) field {
	return field{echo.HeaderCookie, name + "=" + value}
}

// request is what a scenario sends; every side gets a fresh copy.
type request struct {
	method string  // GET unless a form makes it POST
	path   string  // with the query; "/" when empty
	header []field // added in order, so a name may repeat
	// form, when set, is sent as an application/x-www-form-urlencoded
	// body, multipart as a multipart/form-data one (with a file part).
	form      url.Values
	multipart []field
}

func get(path string, header ...field) request { return request{path: path, header: header} }

// build makes an *http.Request for the server at base.
func (r request) build(base, id string) (*http.Request, error) {
	method, path := r.method, r.path
	if path == "" {
		path = "/"
	}
	var body io.Reader
	contentType := ""
	switch {
	case r.form != nil:
		body, contentType = strings.NewReader(r.form.Encode()), echo.MIMEApplicationForm
	case r.multipart != nil:
		var b strings.Builder
		w := multipart.NewWriter(&b)
		for _, f := range r.multipart {
			if err := w.WriteField(f.name, f.value); err != nil {
				return nil, err
			}
		}
		fw, err := w.CreateFormFile("upload", "my.file")
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(fw, "<div>hi</div>"); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		body, contentType = strings.NewReader(b.String()), w.FormDataContentType()
	}
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	for _, f := range r.header {
		req.Header.Add(f.name, f.value)
	}
	req.Header.Set(headerRequestID, id)
	return req, nil
}

// headerRequestID carries the number by which a server finds the
// observation of a request.
const headerRequestID = "X-Compat-Request"

// setup is a scenario's middleware configuration in echo-jwt's terms; both
// sides are built from it (see theirs and ours), the keys mapped onto our
// Settings and KeySet as docs/echo-jwt.md says.
type setup struct {
	signingKey    []byte            // default k.secret, unless signingKeys or noKey
	signingKeys   map[string][]byte // by kid
	signingMethod string            // default HS256
	noKey         bool              // neither: both must refuse to build

	tokenLookup            string
	tokenLookupFuncs       []echomw.ValuesExtractor
	contextKey             string
	skipper                echomw.Skipper
	beforeFunc             echomw.BeforeFunc
	successHandler         func(echo.Context)
	errorHandler           func(echo.Context, error) error
	continueOnIgnoredError bool
	withConfig             bool // build with WithConfig, which panics, not ToMiddleware

	// Side-specific changes, for what one side has and the other has not
	// (a difference's own configuration).
	theirs func(*echojwt.Config)
	ours   func(*middleware.Config)
}

func (s setup) key(k *kit) []byte {
	if s.signingKey != nil {
		return s.signingKey
	}
	return k.secret
}

func (s setup) method() string {
	if s.signingMethod != "" {
		return s.signingMethod
	}
	return "HS256"
}

// theirsConfig is echo-jwt's configuration.
func (s setup) theirsConfig(k *kit) echojwt.Config {
	cfg := echojwt.Config{
		SigningMethod:          s.signingMethod,
		TokenLookup:            s.tokenLookup,
		TokenLookupFuncs:       s.tokenLookupFuncs,
		ContextKey:             s.contextKey,
		Skipper:                s.skipper,
		BeforeFunc:             s.beforeFunc,
		SuccessHandler:         s.successHandler,
		ErrorHandler:           s.errorHandler,
		ContinueOnIgnoredError: s.continueOnIgnoredError,
	}
	switch {
	case s.noKey:
	case len(s.signingKeys) > 0:
		cfg.SigningKeys = map[string]any{}
		for kid, key := range s.signingKeys {
			cfg.SigningKeys[kid] = key
		}
	default:
		cfg.SigningKey = s.key(k)
	}
	if s.theirs != nil {
		s.theirs(&cfg)
	}
	return cfg
}

// oursConfig is ours: SigningKey and SigningMethod become Settings.Secret
// and Settings.Algorithm; SigningKeys a KeySet of HMAC keys by kid (the
// first kid in sort order signs renewals); an RS* SigningMethod with a
// []byte key, which we cannot express, a set whose one key is an RS* key
// (an HMAC token then finds no key, as with echo-jwt). The rest goes over
// by name.
func (s setup) oursConfig(t *testing.T, k *kit) middleware.Config {
	t.Helper()
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	settings := config.Default()
	settings.Secret = string(k.secret)
	cfg := middleware.Config{
		Store:                  st,
		Now:                    func() time.Time { return k.now },
		TokenLookup:            s.tokenLookup,
		TokenLookupFuncs:       s.tokenLookupFuncs,
		ContextKey:             s.contextKey,
		Skipper:                s.skipper,
		BeforeFunc:             s.beforeFunc,
		SuccessHandler:         s.successHandler,
		ErrorHandler:           s.errorHandler,
		ContinueOnIgnoredError: s.continueOnIgnoredError,
	}
	switch method := s.method(); {
	case s.noKey:
		settings.Secret = ""
	case len(s.signingKeys) > 0:
		kids := slices.Sorted(maps.Keys(s.signingKeys))
		keys := make([]middleware.Key, len(kids))
		for i, kid := range kids {
			keys[i] = middleware.Key{ID: kid, Algorithm: method, Material: s.signingKeys[kid]}
		}
		ks, err := middleware.NewKeySet(keys[0], keys[1:]...)
		if err != nil {
			t.Fatalf("NewKeySet: %v", err)
		}
		cfg.Keys = ks
	case config.IsHMAC(method):
		settings.Secret, settings.Algorithm = string(s.key(k)), method
	default:
		ks, err := middleware.NewKeySet(middleware.Key{Algorithm: method, Material: k.rsa})
		if err != nil {
			t.Fatalf("NewKeySet(%s): %v", method, err)
		}
		cfg.Keys = ks
	}
	cfg.Settings = settings
	if s.ours != nil {
		s.ours(&cfg)
	}
	return cfg
}

// observation is what a server saw of one request, besides the response.
type observation struct {
	ran        bool   // the handler ran
	value      string // describe(the context value) when the handler began
	handled    bool   // the ErrorHandler ran
	handledErr error  // the error it was given
	returned   error  // what reached Echo's HTTPErrorHandler
}

// server is one side: a real Echo behind a real HTTP server.
type server struct {
	url    string
	client *http.Client
	next   atomic.Int64
	mu     sync.Mutex
	seen   map[string]*observation
}

// record changes the observation of c's request, under the server's lock:
// the client reads it from another goroutine.
func (s *server) record(c echo.Context, change func(o *observation)) {
	id := c.Request().Header.Get(headerRequestID)
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.seen[id]
	if o == nil {
		o = &observation{}
		s.seen[id] = o
	}
	change(o)
}

// outcome is one side's answer to one request.
type outcome struct {
	buildErr error // the middleware refused its configuration
	panicked bool  // WithConfig panicked
	status   int
	body     string
	header   http.Header
	observation
	// errKind is what the ErrorHandler was told of, in the side's own
	// terms mapped to "missing" or "invalid" ("other" for anything else),
	// or "" when it did not run.
	errKind string
}

// built reports whether the side had a middleware to send requests to.
func (o outcome) built() bool { return o.buildErr == nil && !o.panicked }

func (o outcome) String() string {
	switch {
	case o.panicked:
		return "WithConfig panicked"
	case o.buildErr != nil:
		return "no middleware: " + o.buildErr.Error()
	}
	s := fmt.Sprintf("%d %q handler ran: %v", o.status, o.body, o.ran)
	if o.errKind != "" {
		s += ", ErrorHandler told of a " + o.errKind + " token"
	}
	return s
}

// theirsKind and oursKind map what each ErrorHandler is given to "missing"
// or "invalid": the error table of docs/echo-jwt.md.
func theirsKind(err error) string {
	var extraction *echojwt.TokenExtractionError
	var parsing *echojwt.TokenParsingError
	switch {
	case err == nil, errors.As(err, &extraction):
		return "missing" // nil: no extractor had a value
	case errors.As(err, &parsing):
		return "invalid"
	}
	return "other"
}

func oursKind(err error) string {
	switch {
	case errors.Is(err, middleware.ErrTokenMissing):
		return "missing"
	case errors.Is(err, middleware.ErrTokenInvalid), errors.Is(err, middleware.ErrTokenTooLarge):
		return "invalid"
	}
	return "other"
}

// scenario is one ported test case.
type scenario struct {
	name string
	from string // what it ports: "jwt_test.go TestJWT", or "issue 12"
	// setup gives the configuration; nil means echo-jwt's defaults with
	// k.secret.
	setup func(k *kit) setup
	// route is the handler's path in Echo's syntax; "/" when empty.
	route string
	// handler runs on both sides; claimsHandler when nil.
	handler echo.HandlerFunc
	// send gives the requests, sent in order (concurrently when
	// parallel), each to both sides.
	send     func(k *kit) []request
	parallel bool
	// want is echo-jwt's status for each request, as the ported test
	// expects it: a check that the port still tests what the original
	// did. nil when echo-jwt is expected to refuse the configuration.
	want []int
	// diff, when set, makes this one of the listed differences: its check
	// asserts our answer. Without it, both sides must answer alike.
	diff *difference
	// ours, when set, checks more of our answers of a scenario that is the
	// same on both sides (what echo-jwt has no notion of, such as renewal).
	ours func(t *testing.T, ours []outcome)
}

// The listed differences (issue 12); every other difference is a bug.
const (
	diffSecret    = "32-byte secret minimum"
	diffExp       = "exp required"
	diffSize      = "8 KiB size cap"
	diffCallbacks = "no KeyFunc or ParseTokenFunc"
	diffErrors    = "ErrorHandler errors"
	diffStricter  = "tokens echo-jwt accepts and we refuse"
)

var listedDifferences = []string{diffSecret, diffExp, diffSize, diffCallbacks, diffErrors, diffStricter}

// difference is a scenario's listed difference.
type difference struct {
	kind  string // one of listedDifferences
	why   string
	check func(t *testing.T, theirs, ours []outcome)
}

// claimsHandler answers with the claims of the token under "user", as
// echo-jwt's TestJWT handler does.
func claimsHandler(c echo.Context) error {
	token, ok := c.Get("user").(*jwt.Token)
	if !ok {
		return c.String(http.StatusOK, fmt.Sprintf("no token under user: %T", c.Get("user")))
	}
	return c.JSON(http.StatusOK, token.Claims)
}

// start builds one side and serves it; the outcome is set instead when the
// side could not be built.
func start(t *testing.T, sc scenario, s setup, build func(*server) (echo.MiddlewareFunc, error)) (*server, outcome) {
	t.Helper()
	srv := &server{seen: map[string]*observation{}}
	var mw echo.MiddlewareFunc
	var err error
	panicked := func() (p bool) {
		defer func() {
			if r := recover(); r != nil {
				p = true
			}
		}()
		mw, err = build(srv)
		return false
	}()
	if panicked || err != nil {
		return nil, outcome{buildErr: err, panicked: panicked}
	}
	key := s.contextKey
	if key == "" {
		key = "user"
	}
	handler := sc.handler
	if handler == nil {
		handler = claimsHandler
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		srv.record(c, func(o *observation) { o.returned = err })
		e.DefaultHTTPErrorHandler(err, c)
	}
	e.Use(mw)
	route := sc.route
	if route == "" {
		route = "/"
	}
	e.Any(route, func(c echo.Context) error {
		value := describe(c.Get(key))
		srv.record(c, func(o *observation) { o.ran, o.value = true, value })
		return handler(c)
	})
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	srv.url, srv.client = hs.URL, hs.Client()
	return srv, outcome{}
}

// send sends r to srv and returns the outcome.
func (s *server) send(r request, kind func(error) string) (outcome, error) {
	id := strconv.FormatInt(s.next.Add(1), 10)
	req, err := r.build(s.url, id)
	if err != nil {
		return outcome{}, err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return outcome{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return outcome{}, err
	}
	s.mu.Lock()
	var o observation
	if seen := s.seen[id]; seen != nil {
		o = *seen
	}
	s.mu.Unlock()
	out := outcome{status: res.StatusCode, body: string(body), header: res.Header, observation: o}
	if o.handled {
		out.errKind = kind(o.handledErr)
	}
	return out, nil
}

// sendAll sends every request of sc to srv, one after the other or all at
// once.
func sendAll(t *testing.T, sc scenario, srv *server, reqs []request, kind func(error) string) []outcome {
	t.Helper()
	out := make([]outcome, len(reqs))
	one := func(i int) {
		o, err := srv.send(reqs[i], kind)
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		out[i] = o
	}
	if !sc.parallel {
		for i := range reqs {
			one(i)
		}
		return out
	}
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() { one(i) })
	}
	wg.Wait()
	return out
}

// run serves sc on both sides and returns the outcomes, request by request.
func (sc scenario) run(t *testing.T, k *kit) (theirs, ours []outcome) {
	t.Helper()
	s := setup{}
	if sc.setup != nil {
		s = sc.setup(k)
	}
	// Each side's ErrorHandler is wrapped to record what it was given.
	recordErrors := func(srv *server, h func(echo.Context, error) error) func(echo.Context, error) error {
		if h == nil {
			return nil
		}
		return func(c echo.Context, err error) error {
			srv.record(c, func(o *observation) { o.handled, o.handledErr = true, err })
			return h(c, err)
		}
	}
	theirSrv, theirFail := start(t, sc, s, func(srv *server) (echo.MiddlewareFunc, error) {
		cfg := s.theirsConfig(k)
		cfg.ErrorHandler = recordErrors(srv, cfg.ErrorHandler)
		if s.withConfig {
			return echojwt.WithConfig(cfg), nil
		}
		return cfg.ToMiddleware()
	})
	ourSrv, ourFail := start(t, sc, s, func(srv *server) (echo.MiddlewareFunc, error) {
		cfg := s.oursConfig(t, k)
		cfg.ErrorHandler = recordErrors(srv, cfg.ErrorHandler)
		if s.withConfig {
			return middleware.WithConfig(cfg), nil
		}
		return cfg.ToMiddleware()
	})
	reqs := sc.send(k)
	theirs, ours = make([]outcome, len(reqs)), make([]outcome, len(reqs))
	if theirSrv == nil {
		for i := range theirs {
			theirs[i] = theirFail
		}
	} else {
		theirs = sendAll(t, sc, theirSrv, reqs, theirsKind)
	}
	if ourSrv == nil {
		for i := range ours {
			ours[i] = ourFail
		}
	} else {
		ours = sendAll(t, sc, ourSrv, reqs, oursKind)
	}
	return theirs, ours
}

// checkWant fails t unless echo-jwt answered as the ported test expects.
func (sc scenario) checkWant(t *testing.T, theirs []outcome) {
	t.Helper()
	if sc.want == nil {
		if len(theirs) > 0 && theirs[0].built() {
			t.Errorf("echo-jwt built a middleware; the ported test expects it to refuse the configuration")
		}
		return
	}
	if len(sc.want) != len(theirs) {
		t.Fatalf("scenario gives %d statuses for %d requests", len(sc.want), len(theirs))
	}
	for i, o := range theirs {
		if !o.built() || o.status != sc.want[i] {
			t.Errorf("request %d: echo-jwt answered %v, the ported test expects %d: the port does not test what the original did", i, o, sc.want[i])
		}
	}
}

// same fails t unless both sides answered alike.
func same(t *testing.T, s setup, theirs, ours []outcome) {
	t.Helper()
	for i := range theirs {
		g, w := ours[i], theirs[i]
		if g.built() != w.built() || g.panicked != w.panicked {
			t.Errorf("request %d: ours %v, echo-jwt %v", i, g, w)
			continue
		}
		if !g.built() {
			continue
		}
		if g.status != w.status {
			t.Errorf("request %d: status: ours %d, echo-jwt %d (ours %v; echo-jwt %v)", i, g.status, w.status, g, w)
		}
		if g.body != w.body {
			t.Errorf("request %d: body:\nours     %q\necho-jwt %q", i, g.body, w.body)
		}
		if g.ran != w.ran {
			t.Errorf("request %d: handler ran: ours %v, echo-jwt %v", i, g.ran, w.ran)
		}
		if g.value != w.value {
			t.Errorf("request %d: context value:\nours     %s\necho-jwt %s", i, g.value, w.value)
		}
		if g.errKind != w.errKind {
			t.Errorf("request %d: ErrorHandler told of: ours %q, echo-jwt %q", i, g.errKind, w.errKind)
		}
		// Our own 401 keeps its WWW-Authenticate header.
		if s.errorHandler == nil && g.status == http.StatusUnauthorized && !strings.HasPrefix(g.header.Get(echo.HeaderWWWAuthenticate), "Bearer") {
			t.Errorf("request %d: our 401 has WWW-Authenticate %q, want Bearer...", i, g.header.Get(echo.HeaderWWWAuthenticate))
		}
	}
}

// describe renders a context value with the types of everything in it,
// so that a float64 and an int, or jwt.MapClaims and a map, differ.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case *jwt.Token:
		alg := "nil"
		if v.Method != nil {
			alg = v.Method.Alg()
		}
		return fmt.Sprintf("*jwt.Token{Raw: %q, Valid: %v, Method: %s, Header: %s, Claims: %s, Signature: %x}",
			v.Raw, v.Valid, alg, render(v.Header), render(v.Claims), v.Signature)
	}
	return render(v)
}

func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(v)
	case bool, float64, json.Number:
		return fmt.Sprintf("%T(%v)", v, v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ": " + render(rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface())
		}
		return fmt.Sprintf("%T{%s}", v, strings.Join(parts, ", "))
	}
	// A claims struct (NewClaimsFunc): its type and its JSON.
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T(unencodable: %v)", v, err)
	}
	return fmt.Sprintf("%T%s", v, b)
}
