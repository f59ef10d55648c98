package middleware_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// appKind selects the key set an attack is made against.
type appKind int

const (
	hsApp     appKind = iota // HS256, hostileSecret
	rsApp                    // RS256, kid "rs-1"
	esApp                    // ES256, kid "es-1"
	edApp                    // EdDSA, kid "ed-1"
	issAudApp                // HS256, issuer and audience required
	bigApp                   // HS256, a 1 MiB size cap
	mixedApp                 // RS256 "rs-1" signs; HS256 "hs-1" (hostileSecret) verifies, as in a migration
)

func (k appKind) build(t *testing.T, fk *fixtureKeys) *hostileApp {
	t.Helper()
	switch k {
	case rsApp:
		return newHostileApp(t, keySet(t, middleware.Key{ID: "rs-1", Algorithm: "RS256", Material: fk.rsa}))
	case esApp:
		return newHostileApp(t, keySet(t, middleware.Key{ID: "es-1", Algorithm: "ES256", Material: fk.ec}))
	case edApp:
		return newHostileApp(t, keySet(t, middleware.Key{ID: "ed-1", Algorithm: "EdDSA", Material: fk.ed}))
	case issAudApp:
		return newHostileApp(t, nil, func(s *config.Settings, _ *middleware.Config) {
			s.Issuer, s.Audience = "https://auth.example", "api"
		})
	case mixedApp:
		return newHostileApp(t, keySet(t, middleware.Key{ID: "rs-1", Algorithm: "RS256", Material: fk.rsa},
			middleware.Key{ID: "hs-1", Algorithm: "HS256", Material: []byte(hostileSecret)}))
	case bigApp:
		return newHostileApp(t, nil, func(_ *config.Settings, c *middleware.Config) { c.MaxTokenSize = 1 << 20 })
	}
	return newHostileApp(t, nil)
}

// hs signs claims with the apps' own HMAC secret: a token only a careless
// issuer holding the key could have made.
func hs(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "", claims)
}

// tamper replaces the segment i (0 header, 1 payload, 2 signature) of token.
func tamper(token string, i int, seg string) string {
	parts := strings.Split(token, ".")
	parts[i] = seg
	return strings.Join(parts, ".")
}

// flipMiddle changes one character in the middle of a base64url segment,
// where every bit is significant (the last character carries padding bits
// that a decoder may ignore).
func flipMiddle(seg string) string {
	b := []byte(seg)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

const validHeader = `{"alg":"HS256","typ":"JWT"}`

// dueJSON is dueClaims as raw JSON text, with extra members spliced in
// before the closing brace.
func dueJSON(extra string) string {
	return fmt.Sprintf(`{"sub":"alice","role":"user","sid":"session-1","iat":%d,"exp":%d%s}`,
		epoch.Unix(), epoch.Add(24*time.Hour).Unix(), extra)
}

// TestHostileTokens sends each class of bad token, at a time when a valid
// token would be renewed, and checks that it is refused with 401, gets no
// X-New-Token and writes nothing to the store. The first rows are controls
// that must be accepted and renewed, proving the others would renew too.
func TestHostileTokens(t *testing.T) {
	t.Parallel()
	now := epoch.Add(dueAt)
	tests := []struct {
		name   string
		app    appKind
		token  func(t *testing.T, k *fixtureKeys) string
		query  bool // send the token as ?token= instead of a header
		accept bool
	}{
		// Controls.
		{name: "control: valid HS256", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, dueClaims()) }, accept: true},
		{name: "control: valid RS256", app: rsApp, accept: true, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodRS256, k.rsa, "rs-1", dueClaims())
		}},
		{name: "control: valid ES256", app: esApp, accept: true, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodES256, k.ec, "es-1", dueClaims())
		}},
		{name: "control: valid EdDSA", app: edApp, accept: true, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodEdDSA, k.ed, "ed-1", dueClaims())
		}},
		{name: "control: expired but within the leeway", accept: true, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "exp", now.Add(-20*time.Second).Unix()))
		}},

		// Unsigned tokens.
		{name: "alg none", token: func(*testing.T, *fixtureKeys) string {
			return b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(dueJSON("")) + "."
		}},
		{name: "alg None", token: func(*testing.T, *fixtureKeys) string {
			return b64(`{"alg":"None"}`) + "." + b64(dueJSON("")) + "."
		}},
		{name: "alg NONE", token: func(*testing.T, *fixtureKeys) string {
			return b64(`{"alg":"NONE"}`) + "." + b64(dueJSON("")) + "."
		}},
		{name: "alg none with an HMAC signature", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, `{"alg":"none"}`, dueJSON(""))
		}},
		{name: "alg none against an RS256 set", app: rsApp, token: func(*testing.T, *fixtureKeys) string {
			return b64(`{"alg":"none","kid":"rs-1"}`) + "." + b64(dueJSON("")) + "."
		}},
		{name: "no alg", token: func(*testing.T, *fixtureKeys) string { return hs256Raw(hostileSecret, `{"typ":"JWT"}`, dueJSON("")) }},
		{name: "alg not a string", token: func(*testing.T, *fixtureKeys) string { return hs256Raw(hostileSecret, `{"alg":256}`, dueJSON("")) }},

		// Key confusion: an HMAC token checked against public keys.
		{name: "HS256 signed with the RS256 public key PEM", app: rsApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, publicPEM(t, &k.rsa.PublicKey), "", dueClaims())
		}},
		{name: "HS256 signed with the RS256 public key PEM, naming its kid", app: rsApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, publicPEM(t, &k.rsa.PublicKey), "rs-1", dueClaims())
		}},
		{name: "HS256 signed with the ES256 public key PEM, naming its kid", app: esApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, publicPEM(t, &k.ec.PublicKey), "es-1", dueClaims())
		}},
		{name: "HS256 signed with the Ed25519 public key", app: edApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, []byte(k.ed.Public().(ed25519.PublicKey)), "ed-1", dueClaims())
		}},
		{name: "HS256 signed with the RS256 public key PEM, against a set that also holds an HMAC key", app: mixedApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, publicPEM(t, &k.rsa.PublicKey), "", dueClaims())
		}},
		{name: "HS256 signed with the RS256 public key PEM, naming the RSA kid in a mixed set", app: mixedApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, publicPEM(t, &k.rsa.PublicKey), "rs-1", dueClaims())
		}},
		{name: "HS256 with the right secret but the RSA kid", app: mixedApp, token: func(t *testing.T, _ *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "rs-1", dueClaims())
		}},
		{name: "control: HS256 verify-only key of a mixed set", app: mixedApp, accept: true, token: func(t *testing.T, _ *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, []byte(hostileSecret), "hs-1", dueClaims())
		}},
		{name: "PS256 with the RS256 key's kid", app: rsApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodPS256, k.rsa, "rs-1", dueClaims())
		}},
		{name: "RS256 signed by another key under our kid", app: rsApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodRS256, k.rsaOther, "rs-1", dueClaims())
		}},
		{name: "ES256 signed by another key", app: esApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodES256, k.ecOther, "", dueClaims())
		}},
		{name: "RS256 token from another issuer against HS256", token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodRS256, k.rsaOther, "", dueClaims())
		}},

		// Wrong keys and tampering.
		{name: "wrong secret", token: func(t *testing.T, _ *fixtureKeys) string {
			return sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-0123"), "", dueClaims())
		}},
		{name: "tampered header: alg HS512", token: func(t *testing.T, _ *fixtureKeys) string {
			return tamper(hs(t, dueClaims()), 0, b64(`{"alg":"HS512","typ":"JWT"}`))
		}},
		{name: "tampered header: kid added", token: func(t *testing.T, _ *fixtureKeys) string {
			return tamper(hs(t, dueClaims()), 0, b64(`{"alg":"HS256","kid":"x","typ":"JWT"}`))
		}},
		{name: "tampered payload: sub admin", token: func(t *testing.T, _ *fixtureKeys) string {
			return tamper(hs(t, dueClaims()), 1, b64(strings.Replace(dueJSON(""), "alice", "admin", 1)))
		}},
		{name: "tampered payload: exp extended", token: func(t *testing.T, _ *fixtureKeys) string {
			return tamper(hs(t, dueClaims()), 1, b64(dueJSON(`,"exp":9999999999`)))
		}},
		{name: "tampered signature", token: func(t *testing.T, _ *fixtureKeys) string {
			tok := hs(t, dueClaims())
			return tamper(tok, 2, flipMiddle(strings.Split(tok, ".")[2]))
		}},
		{name: "signature removed", token: func(t *testing.T, _ *fixtureKeys) string { return tamper(hs(t, dueClaims()), 2, "") }},
		{name: "signature truncated", token: func(t *testing.T, _ *fixtureKeys) string {
			tok := hs(t, dueClaims())
			return tok[:len(tok)-8]
		}},
		{name: "signature of another token", token: func(t *testing.T, _ *fixtureKeys) string {
			other := hs(t, with(dueClaims(), "sub", "bob"))
			return tamper(hs(t, dueClaims()), 2, strings.Split(other, ".")[2])
		}},
		{name: "four segments", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, dueClaims()) + ".x" }},
		{name: "not base64", token: func(*testing.T, *fixtureKeys) string { return "a*b.c*d.e*f" }},

		// Time claims.
		{name: "expired beyond the leeway", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "exp", now.Add(-31*time.Second).Unix()))
		}},
		{name: "nbf in the future", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "nbf", now.Add(time.Minute).Unix()))
		}},
		{name: "iat in the future beyond the leeway", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "iat", now.Add(time.Minute).Unix()))
		}},
		{name: "missing exp", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", remove)) }},
		{name: "exp 0", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", 0)) }},
		{name: "exp 1e20", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", 1e20)) }},
		{name: "exp -1", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", -1)) }},
		{name: "exp -1e20", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", -1e20)) }},
		{name: "exp 1e300", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", 1e300)) }},
		{name: "exp after year 9999", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "exp", 253402300800)) }},
		{name: "exp a string", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "exp", fmt.Sprint(epoch.Add(24*time.Hour).Unix())))
		}},
		{name: "iat 1e20", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "iat", 1e20)) }},
		{name: "iat -1e20", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "iat", -1e20)) }},
		{name: "iat after exp", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "iat", now.Unix(), "exp", now.Add(-10*time.Second).Unix()))
		}},
		{name: "nbf 1e20", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "nbf", 1e20)) }},
		{name: "nbf a string", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "nbf", "yesterday")) }},
		{name: "auth_time a string", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "auth_time", "today"))
		}},

		// Subject and typed claims.
		// Renewal never needs sub (echo-jwt accepts tokens without one).
		{name: "control: missing sub", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "sub", remove)) }, accept: true},
		{name: "empty sub", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "sub", "")) }},
		{name: "sub a number", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "sub", 42)) }},
		{name: "sub of 100 KB: over the size cap", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "sub", strings.Repeat("a", 100<<10)))
		}},
		{name: "sub of 100 KB under a 1 MiB cap: over the subject limit", app: bigApp, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "sub", strings.Repeat("a", 100<<10)))
		}},
		// A role only picks a lifetime: one that is not a string means
		// no role (the user lifetime), as for echo-jwt, which ignores it.
		{name: "control: role a number", token: func(t *testing.T, _ *fixtureKeys) string { return hs(t, with(dueClaims(), "role", 1)) }, accept: true},
		{name: "control: role a list", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "role", []string{"admin", "editor"}))
		}, accept: true},
		{name: "sid an object", token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "sid", map[string]any{"a": 1}))
		}},

		// Issuer and audience, when required.
		{name: "iss missing", app: issAudApp, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "aud", "api"))
		}},
		{name: "iss wrong", app: issAudApp, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "iss", "https://evil.example", "aud", "api"))
		}},
		{name: "aud missing", app: issAudApp, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "iss", "https://auth.example"))
		}},
		{name: "aud wrong", app: issAudApp, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "iss", "https://auth.example", "aud", []string{"billing", "admin"}))
		}},
		{name: "control: iss and aud right", app: issAudApp, accept: true, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, with(dueClaims(), "iss", "https://auth.example", "aud", []string{"billing", "api"}))
		}},

		// Key IDs.
		{name: "unknown kid", app: rsApp, token: func(t *testing.T, k *fixtureKeys) string {
			return sign(t, jwt.SigningMethodRS256, k.rsa, "rs-2", dueClaims())
		}},
		{name: "kid not a string", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, `{"alg":"HS256","kid":1}`, dueJSON(""))
		}},

		// Ambiguous or malformed JSON, signed with our own key.
		{name: "two exp, the last one in the future", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, validHeader, dueJSON(fmt.Sprintf(`,"exp":%d`, epoch.Add(48*time.Hour).Unix())))
		}},
		{name: "two sub", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, validHeader, dueJSON(`,"sub":"admin"`))
		}},
		{name: "two role, one written with an escape", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, validHeader, dueJSON(`,"r\u006fle":"admin"`))
		}},
		{name: "a nested object names a member twice", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, validHeader, dueJSON(`,"metadata":{"auth_mode":"enabled","auth_mode":"disabled"}`))
		}},
		{name: "two alg in the header", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, `{"alg":"none","alg":"HS256"}`, dueJSON(""))
		}},
		{name: "crit header", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, `{"alg":"HS256","crit":["exp"]}`, dueJSON(""))
		}},
		{name: "payload not JSON", token: func(*testing.T, *fixtureKeys) string { return hs256Raw(hostileSecret, validHeader, "sub=alice") }},
		{name: "payload a JSON array", token: func(*testing.T, *fixtureKeys) string { return hs256Raw(hostileSecret, validHeader, "[1,2]") }},
		{name: "payload null", token: func(*testing.T, *fixtureKeys) string { return hs256Raw(hostileSecret, validHeader, "null") }},
		{name: "payload with trailing data", token: func(*testing.T, *fixtureKeys) string {
			return hs256Raw(hostileSecret, validHeader, dueJSON("")+`{}`)
		}},
		{name: "header not JSON", token: func(*testing.T, *fixtureKeys) string { return hs256Raw(hostileSecret, "HS256", dueJSON("")) }},

		// Where the token is, and how big.
		{name: "valid token in the query, lookup is header-only", query: true, token: func(t *testing.T, _ *fixtureKeys) string {
			return hs(t, dueClaims())
		}},
		{name: "10 MB", token: func(*testing.T, *fixtureKeys) string { return strings.Repeat("a", 10<<20) }},
		{name: "10 000 dots", token: func(*testing.T, *fixtureKeys) string { return strings.Repeat(".", 10000) }},
		{name: "empty", token: func(*testing.T, *fixtureKeys) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := keys(t)
			a := tt.app.build(t, k)
			token := tt.token(t, k)
			req := bearer(token)
			if tt.query {
				req = httptest.NewRequest(http.MethodGet, "/api/me?token="+token, nil)
			}
			a.clock.Set(now)
			rec := a.serve(req)
			renewed := rec.Header().Get(middleware.HeaderNewToken)
			if tt.accept {
				if rec.Code != http.StatusOK || renewed == "" {
					t.Fatalf("control: status %d, renewed %v; want 200 and a new token (body %q)", rec.Code, renewed != "", rec.Body.String())
				}
				// Renewals are signed with the set's current key.
				parsed, _, err := jwt.NewParser().ParseUnverified(renewed, jwt.MapClaims{})
				if err != nil {
					t.Fatalf("renewed token: %v", err)
				}
				if kid, _ := parsed.Header["kid"].(string); kid != a.keys.CurrentID() {
					t.Errorf("renewed token kid = %q, want the current key %q", kid, a.keys.CurrentID())
				}
				return
			}
			if got, want := rec.Code, http.StatusUnauthorized; got != want {
				t.Errorf("status = %d, want %d (body %q)", got, want, rec.Body.String())
			}
			if renewed != "" {
				t.Errorf("a rejected token was renewed")
			}
			if got := a.store.Allows(); got != 0 {
				t.Errorf("store writes = %d, want 0", got)
			}
			if !strings.HasPrefix(rec.Header().Get(echo.HeaderWWWAuthenticate), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", rec.Header().Get(echo.HeaderWWWAuthenticate))
			}
		})
	}
}

// TestLineBreakSubject: a subject with CR/LF in a token signed with our key
// (minted by a careless /login) is accepted and renewed, as any other
// string: the subject is the application's business. It never reaches a
// log raw: the event, and LogRenewals, carry it sanitised, and the store
// sees a digest.
func TestLineBreakSubject(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newHostileApp(t, nil, func(_ *config.Settings, c *middleware.Config) {
		record := c.OnRenewal
		logRenewal := middleware.LogRenewals(logger)
		c.OnRenewal = func(c echo.Context, ev middleware.RenewalEvent) {
			record(c, ev)
			logRenewal(c, ev)
		}
	})
	sub := "mallory\r\ntime=2026-03-01 level=INFO msg=\"admin logged in\"\x00\u2028"
	rec := a.get(dueAt, hs(t, with(dueClaims(), "sub", sub)))
	if rec.Code != http.StatusOK || rec.Header().Get(middleware.HeaderNewToken) == "" {
		t.Fatalf("status %d, renewed %v; want 200 and a renewal", rec.Code, rec.Header().Get(middleware.HeaderNewToken) != "")
	}
	ev, ok := a.lastEvent()
	if !ok || !ev.Renewed {
		t.Fatalf("event = %+v, want a renewal", ev)
	}
	if strings.ContainsAny(ev.Subject, "\r\n\x00\u2028") {
		t.Errorf("event subject %q holds a control or line separator", ev.Subject)
	}
	if got := strings.Count(logs.String(), "\n"); got != 1 {
		t.Errorf("log output has %d lines, want 1:\n%s", got, logs.String())
	}
	if strings.Contains(logs.String(), "mallory\r") || strings.Contains(logs.String(), "\u2028") {
		t.Errorf("log output holds the raw subject: %q", logs.String())
	}
}

// TestOversizedTokenRejectedUnread: a token over the size cap is refused
// without being copied, decoded or parsed, so the work done does not grow
// with its size. It is not parallel: it reads the process-wide allocation
// counters, which parallel tests would disturb.
func TestOversizedTokenRejectedUnread(t *testing.T) {
	a := newHostileApp(t, nil)
	a.clock.Set(epoch.Add(dueAt))
	tokens := []struct {
		name  string
		token string
	}{
		{"just over the cap", strings.Repeat("a", middleware.DefaultMaxTokenSize+1)},
		{"10 000 dots", strings.Repeat(".", 10000)},
		{"10 MB", strings.Repeat("a", 10<<20)},
		{"10 MB of dots", strings.Repeat(".", 10<<20)},
		{"10 MB of random bytes", func() string {
			b := make([]byte, 10<<20)
			_, _ = rand.Read(b)
			return string(b)
		}()},
	}
	const runs = 50
	var baseline float64
	for i, tc := range tokens {
		req := bearer(tc.token)
		serve := func() {
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("%s: status = %d, want 401", tc.name, rec.Code)
			}
		}
		runtime.GC() // what the garbage collector allocates is not ours
		allocs := testing.AllocsPerRun(runs, serve)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			serve()
		}
		runtime.ReadMemStats(&after)
		perRequest := (after.TotalAlloc - before.TotalAlloc) / runs
		t.Logf("%s: %v allocations, %d bytes per rejection", tc.name, allocs, perRequest)
		if perRequest > 16<<10 {
			t.Errorf("%s: %d bytes allocated per rejection, want at most 16 KiB", tc.name, perRequest)
		}
		if i == 0 {
			baseline = allocs
		} else if allocs > baseline+2 {
			t.Errorf("%s: %v allocations per rejection, want about as many as for a token just over the cap (%v)", tc.name, allocs, baseline)
		}
	}
	if got := a.store.Allows(); got != 0 {
		t.Errorf("store writes = %d, want 0", got)
	}
}
