package middleware_test

// The harness shared by the hostile-input, fuzz, rotation and session-cap
// tests: a real Echo app behind the middleware, an injected clock, a store
// that counts its writes, and keys generated once per test binary.

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/internal/testkit"
	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// hostileSecret is the HMAC key of the apps under attack.
const hostileSecret = "hostile-input-secret-0123456789abcdef"

// epoch is the injected clock's first reading.
var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// hostileApp is a real Echo application protected by the middleware.
type hostileApp struct {
	e        *echo.Echo
	clock    *testkit.Clock
	store    *testkit.CountingStore
	keys     *middleware.KeySet
	issuer   *middleware.Issuer
	settings config.Settings

	mu     sync.Mutex
	events []middleware.RenewalEvent
}

// hostileSettings are the settings every hostile app starts from: users
// live 24 h, guests 2 h, renewal in the second half, 30 s of leeway.
func hostileSettings() config.Settings {
	s := config.Default()
	s.Secret = hostileSecret
	s.UserLifetime = 24 * time.Hour
	s.GuestLifetime = 2 * time.Hour
	s.Leeway = 30 * time.Second
	return s
}

// newHostileApp builds an app whose middleware verifies with keys (nil:
// the settings' HMAC secret), after mutate has adjusted the settings and
// the middleware config.
func newHostileApp(t testing.TB, keys *middleware.KeySet, mutate ...func(*config.Settings, *middleware.Config)) *hostileApp {
	t.Helper()
	st := memory.New(nil)
	t.Cleanup(func() { _ = st.Close() })
	a := &hostileApp{e: echo.New(), clock: testkit.NewClock(epoch), store: &testkit.CountingStore{Store: st}}
	s := hostileSettings()
	cfg := middleware.Config{
		Store: a.store,
		Keys:  keys,
		Now:   a.clock.Now,
		OnRenewal: func(_ echo.Context, ev middleware.RenewalEvent) {
			a.mu.Lock()
			a.events = append(a.events, ev)
			a.mu.Unlock()
		},
	}
	for _, m := range mutate {
		m(&s, &cfg)
	}
	cfg.Settings = s
	issuer, err := middleware.NewIssuer(s, cfg.Keys)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	if cfg.Keys == nil {
		// Share the issuer's set, so rotations reach the middleware.
		cfg.Keys = issuer.Keys()
	}
	mw, err := cfg.ToMiddleware()
	if err != nil {
		t.Fatalf("ToMiddleware: %v", err)
	}
	a.settings, a.issuer, a.keys = s, issuer, cfg.Keys
	a.e.Group("/api", mw).GET("/me", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"sub": middleware.ClaimsFrom(c).Subject})
	})
	return a
}

// serve sends req through the app at the clock's current time.
func (a *hostileApp) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// get requests /api/me with "Authorization: Bearer token" at epoch + at.
func (a *hostileApp) get(at time.Duration, token string) *httptest.ResponseRecorder {
	a.clock.Set(epoch.Add(at))
	return a.serve(bearer(token))
}

func (a *hostileApp) lastEvent() (middleware.RenewalEvent, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == 0 {
		return middleware.RenewalEvent{}, false
	}
	return a.events[len(a.events)-1], true
}

func bearer(token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	return req
}

// fixtureKeys are generated once per test binary: RSA key generation is
// slow, more so under the race detector.
type fixtureKeys struct {
	rsa, rsaOther *rsa.PrivateKey
	ec, ecOther   *ecdsa.PrivateKey
	ed            ed25519.PrivateKey
}

var loadFixtureKeys = sync.OnceValues(func() (*fixtureKeys, error) {
	var k fixtureKeys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if k.ecOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	return &k, nil
})

func keys(t testing.TB) *fixtureKeys {
	t.Helper()
	k, err := loadFixtureKeys()
	if err != nil {
		t.Fatalf("generating keys: %v", err)
	}
	return k
}

// keySet builds a KeySet or fails the test.
func keySet(t testing.TB, current middleware.Key, others ...middleware.Key) *middleware.KeySet {
	t.Helper()
	ks, err := middleware.NewKeySet(current, others...)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	return ks
}

// publicPEM returns the PKIX PEM encoding of a public key.
func publicPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// dueClaims are the claims of a user token issued at epoch for 24 h: at
// epoch + 20 h, the time every attack is made, it is due for renewal.
func dueClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "alice", "role": "user", "sid": "session-1", "jti": "token-1",
		"iat": epoch.Unix(), "auth_time": epoch.Unix(), "exp": epoch.Add(24 * time.Hour).Unix(),
	}
}

// dueAt is when the attacks are made.
const dueAt = 20 * time.Hour

// with returns a copy of claims with name set to v, or removed when v is
// the remove marker.
func with(claims jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range claims {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		if kv[i+1] == remove {
			delete(out, name)
			continue
		}
		out[name] = kv[i+1]
	}
	return out
}

type removeMarker struct{}

var remove = removeMarker{}

// sign signs claims with method and key, with kid in the header when set.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("SignedString: %v", err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hs256Raw signs a header and a payload given as raw JSON text (so they
// can hold what encoding/json would never write) with HMAC-SHA256.
func hs256Raw(secret, header, payload string) string {
	input := b64(header) + "." + b64(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verifyToken checks token independently of the middleware: with one key
// and one algorithm, at now, with leeway; as a second service sharing the
// keys would.
func verifyToken(token, alg string, key any, now time.Time, leeway time.Duration) (jwt.MapClaims, *jwt.Token, error) {
	mc := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(leeway), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	tok, err := p.ParseWithClaims(token, mc, func(*jwt.Token) (any, error) { return key, nil })
	return mc, tok, err
}

func unixClaim(mc jwt.MapClaims, name string) int64 {
	f, _ := mc[name].(float64)
	return int64(f)
}
