package compat_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/slidingjwt/slidingjwt/middleware"
)

// scenarioTables are the suite's scenarios; the tokencore build tag adds
// those that need the token core of issue 11.
var scenarioTables = []func() []scenario{
	jwtScenarios, handlerScenarios, issueScenarios, extractorScenarios, differenceScenarios,
}

// TestEchoJWTSideBySide serves every scenario behind echo-jwt and behind
// our middleware and compares the answers; see the package documentation.
func TestEchoJWTSideBySide(t *testing.T) {
	t.Parallel()
	k := newKit(t)
	var all []scenario
	names := map[string]bool{}
	for _, table := range scenarioTables {
		for _, sc := range table() {
			if names[sc.name] {
				t.Fatalf("two scenarios are named %q", sc.name)
			}
			names[sc.name] = true
			all = append(all, sc)
		}
	}
	var (
		mu      sync.Mutex
		counts  = map[string]int{}
		failing []string
	)
	t.Run("scenario", func(t *testing.T) {
		for _, sc := range all {
			class, name := "same", "same: "+sc.name
			if sc.diff != nil {
				class, name = sc.diff.kind, "differs, "+sc.diff.kind+": "+sc.name
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				t.Cleanup(func() {
					mu.Lock()
					defer mu.Unlock()
					counts[class]++
					if t.Failed() {
						failing = append(failing, name)
						t.Logf("ports %s", sc.from)
					}
				})
				theirs, ours := sc.run(t, k)
				sc.checkWant(t, theirs)
				if sc.diff == nil {
					s := setup{}
					if sc.setup != nil {
						s = sc.setup(k)
					}
					same(t, s, theirs, ours)
					if sc.ours != nil {
						sc.ours(t, ours)
					}
					return
				}
				t.Logf("why: %s", sc.diff.why)
				sc.diff.check(t, theirs, ours)
			})
		}
	})
	differ := 0
	var parts []string
	for _, kind := range listedDifferences {
		differ += counts[kind]
		parts = append(parts, fmt.Sprintf("%s %d", kind, counts[kind]))
		if counts[kind] == 0 {
			t.Errorf("no scenario shows the listed difference %q", kind)
		}
	}
	for class := range counts {
		if class != "same" && !isListed(class) {
			t.Errorf("scenarios of difference %q, which is not a listed one", class)
		}
	}
	sort.Strings(failing)
	t.Logf("echo-jwt side by side: %d scenarios, %d the same, %d differ as listed (%s); %d failing %q",
		len(all), counts["same"], differ, strings.Join(parts, ", "), len(failing), failing)
}

func isListed(kind string) bool {
	for _, l := range listedDifferences {
		if l == kind {
			return true
		}
	}
	return false
}

// Helpers for the tables.

// one returns a send function for a single request.
func one(r func(k *kit) request) func(k *kit) []request {
	return func(k *kit) []request { return []request{r(k)} }
}

// withBearer is a GET / with the fixture token in "Authorization: Bearer".
func withBearer(k *kit) request { return get("/", bearer(k.token())) }

// statuses is want for one request.
func statuses(codes ...int) []int { return codes }

// ok and unauthorized are the two answers most scenarios expect.
var (
	ok           = statuses(http.StatusOK)
	unauthorized = statuses(http.StatusUnauthorized)
	teapot       = statuses(http.StatusTeapot)
)

// textHandler answers "test", as most of echo-jwt's tests do.
func textHandler(c echo.Context) error { return c.String(http.StatusOK, "test") }

// notHereHandler is the handler of requests that should end in the
// middleware.
func notHereHandler(c echo.Context) error {
	return c.String(http.StatusNotImplemented, "should not end up here")
}

// userHandler answers 418 with what is under "user": a string set by an
// ErrorHandler, or the name of the token's subject.
func userHandler(c echo.Context) error {
	switch u := c.Get("user").(type) {
	case string:
		return c.String(http.StatusTeapot, u)
	case *jwt.Token:
		sub, _ := u.Claims.GetSubject()
		return c.String(http.StatusTeapot, "token of "+sub)
	}
	return c.String(http.StatusTeapot, fmt.Sprintf("%T", c.Get("user")))
}

// combination is a request of TestJWT_combinations, which always sets the
// Authorization and Cookie headers, empty when the case gives none.
func combination(path, auth, cookieHeader string) request {
	return get(path, field{echo.HeaderAuthorization, auth}, field{echo.HeaderCookie, cookieHeader})
}

// jwtScenarios port jwt_test.go's TestJWT, TestJWT_combinations and
// TestJWTwithKID.
func jwtScenarios() []scenario {
	const comb = "jwt_test.go TestJWT_combinations/"
	const kid = "jwt_test.go TestJWTwithKID/"
	lookup := func(spec string) func(*kit) setup {
		return func(*kit) setup { return setup{tokenLookup: spec} }
	}
	validKeys := func(k *kit) setup {
		return setup{signingKeys: map[string][]byte{"firstOne": k.kidKeys["firstOne"], "secondOne": k.kidKeys["secondOne"]}}
	}
	invalidKeys := func(k *kit) setup {
		return setup{signingKeys: map[string][]byte{"thirdOne": k.kidKeys["thirdOne"]}}
	}
	kidToken := func(kid string) func(k *kit) request {
		return func(k *kit) request { return get("/", bearer(signWith(k.kidKeys[kid], kid, k.johnDoe()))) }
	}
	return []scenario{
		{
			name: "claims of a valid token, lower-case bearer", from: "jwt_test.go TestJWT",
			send: one(func(k *kit) request { return get("/", field{echo.HeaderAuthorization, "bearer " + k.token()}) }),
			want: ok,
		},
		{
			name: "no signing key", from: comb + "No signing key provided",
			setup: func(*kit) setup { return setup{noKey: true} },
			send:  one(withBearer),
		},
		{
			name: "invalid TokenLookup", from: comb + "invalid TokenLookup",
			setup: func(*kit) setup { return setup{signingMethod: "RS256", tokenLookup: "q"} },
			send:  one(withBearer),
		},
		{
			name: "unexpected signing method", from: comb + "Unexpected signing method",
			setup:   func(*kit) setup { return setup{signingMethod: "RS256"} },
			handler: textHandler,
			send:    one(func(k *kit) request { return combination("/", "Bearer "+k.token(), "") }),
			want:    unauthorized,
		},
		{
			name: "invalid key", from: comb + "Invalid key",
			setup:   func(k *kit) setup { return setup{signingKey: k.other} },
			handler: textHandler,
			send:    one(func(k *kit) request { return combination("/", "Bearer "+k.token(), "") }),
			want:    unauthorized,
		},
		{
			name: "valid JWT", from: comb + "Valid JWT", handler: textHandler,
			send: one(func(k *kit) request { return combination("/", "Bearer "+k.token(), "") }),
			want: ok,
		},
		{
			name: "valid JWT with custom AuthScheme", from: comb + "Valid JWT with custom AuthScheme",
			setup: lookup("header:Authorization:Token "), handler: textHandler,
			send: one(func(k *kit) request { return combination("/", "Token "+k.token(), "") }),
			want: ok,
		},
		{
			name: "invalid Authorization header", from: comb + "Invalid Authorization header", handler: textHandler,
			send: one(func(*kit) request { return combination("/", "invalid-auth", "") }),
			want: unauthorized,
		},
		{
			name: "empty Authorization header", from: comb + "Empty header auth field", handler: textHandler,
			send: one(func(*kit) request { return combination("/", "", "") }),
			want: unauthorized,
		},
		{
			name: "valid query method", from: comb + "Valid query method",
			setup: lookup("query:jwt"), handler: textHandler,
			send: one(func(k *kit) request { return combination("/?a=b&jwt="+k.token(), "", "") }),
			want: ok,
		},
		{
			name: "invalid query param name", from: comb + "Invalid query param name",
			setup: lookup("query:jwt"), handler: textHandler,
			send: one(func(k *kit) request { return combination("/?a=b&jwtxyz="+k.token(), "", "") }),
			want: unauthorized,
		},
		{
			name: "invalid query param value", from: comb + "Invalid query param value",
			setup: lookup("query:jwt"), handler: textHandler,
			send: one(func(*kit) request { return combination("/?a=b&jwt=invalid-token", "", "") }),
			want: unauthorized,
		},
		{
			name: "empty query", from: comb + "Empty query",
			setup: lookup("query:jwt"), handler: textHandler,
			send: one(func(*kit) request { return combination("/?a=b", "", "") }),
			want: unauthorized,
		},
		{
			name: "valid param method", from: comb + "Valid param method",
			setup: lookup("param:jwt"), route: "/:jwt", handler: textHandler,
			send: one(func(k *kit) request { return combination("/"+k.token(), "", "") }),
			want: ok,
		},
		{
			name: "valid cookie method", from: comb + "Valid cookie method",
			setup: lookup("cookie:jwt"), handler: textHandler,
			send: one(func(k *kit) request { return combination("/", "", "jwt="+k.token()) }),
			want: ok,
		},
		{
			name: "query then cookie, token in the cookie", from: comb + "Multiple jwt lookuop",
			setup: lookup("query:jwt,cookie:jwt"), handler: textHandler,
			send: one(func(k *kit) request { return combination("/", "", "jwt="+k.token()) }),
			want: ok,
		},
		{
			name: "invalid token with cookie method", from: comb + "Invalid token with cookie method",
			setup: lookup("cookie:jwt"), handler: textHandler,
			send: one(func(*kit) request { return combination("/", "", "jwt=invalid") }),
			want: unauthorized,
		},
		{
			name: "empty cookie", from: comb + "Empty cookie",
			setup: lookup("cookie:jwt"), handler: textHandler,
			send: one(func(*kit) request { return combination("/", "", "") }),
			want: unauthorized,
		},
		{
			name: "valid form method", from: comb + "Valid form method",
			setup: lookup("form:jwt"), handler: textHandler,
			send: one(func(k *kit) request {
				r := combination("/", "", "")
				r.form = url.Values{"jwt": {k.token()}}
				return r
			}),
			want: ok,
		},
		{
			name: "invalid token with form method", from: comb + "Invalid token with form method",
			setup: lookup("form:jwt"), handler: textHandler,
			send: one(func(*kit) request {
				r := combination("/", "", "")
				r.form = url.Values{"jwt": {"invalid"}}
				return r
			}),
			want: unauthorized,
		},
		{
			name: "empty form field", from: comb + "Empty form field",
			setup: lookup("form:jwt"), handler: textHandler,
			send: one(func(*kit) request { return combination("/", "", "") }),
			want: unauthorized,
		},
		{
			name: "first kid valid", from: kid + "First token valid",
			setup: validKeys, handler: textHandler, send: one(kidToken("firstOne")), want: ok,
		},
		{
			name: "second kid valid", from: kid + "Second token valid",
			setup: validKeys, handler: textHandler, send: one(kidToken("secondOne")), want: ok,
		},
		{
			name: "kid of another key", from: kid + "Wrong key id token",
			setup: validKeys, handler: textHandler,
			send: one(func(k *kit) request { return get("/", bearer(signWith(k.other, "secondOne", k.johnDoe()))) }),
			want: unauthorized,
		},
		{
			name: "RS256, echo-jwt given the public key", from: kid + " (SigningMethod RS256 and an RSA key)",
			setup: func(k *kit) setup {
				return setup{signingMethod: "RS256", theirs: func(cfg *echojwt.Config) { cfg.SigningKey = &k.rsa.PublicKey }}
			},
			handler: textHandler,
			send: one(func(k *kit) request {
				s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, k.johnDoe()).SignedString(k.rsa)
				if err != nil {
					s = "minting failed: " + err.Error()
				}
				return get("/", bearer(s))
			}),
			want: ok,
		},
		{
			name: "static secret, token without kid", from: kid + "Valid static secret token",
			handler: textHandler, send: one(withBearer), want: ok,
		},
		{
			name: "invalid static secret", from: kid + "Invalid static secret",
			setup:   func(k *kit) setup { return setup{signingKey: k.other} },
			handler: textHandler, send: one(withBearer), want: unauthorized,
		},
		{
			name: "first kid, keys without it", from: kid + "Invalid keys first token",
			setup: invalidKeys, handler: textHandler, send: one(kidToken("firstOne")), want: unauthorized,
		},
		{
			name: "second kid, keys without it", from: kid + "Invalid keys second token",
			setup: invalidKeys, handler: textHandler, send: one(kidToken("secondOne")), want: unauthorized,
		},
	}
}

// handlerScenarios port the hooks of jwt_test.go (Skipper, BeforeFunc,
// ErrorHandler, SuccessHandler, ContinueOnIgnoredError, TokenLookupFuncs,
// WithConfig), its concurrent requests, jwt_integration_test.go and
// jwt_external_test.go. Where echo-jwt's test uses a ParseTokenFunc only
// to stand in for a token, a real token stands in here; the
// ParseTokenFunc itself is a listed difference.
func handlerScenarios() []scenario {
	const cont = "jwt_test.go TestJWTWithConfig_ContinueOnIgnoredError/"
	publicToken := func(c echo.Context, _ error) error {
		c.Set("user", "public_token")
		return nil
	}
	continueWith := func(h func(echo.Context, error) error, carryOn bool) func(*kit) setup {
		return func(*kit) setup { return setup{errorHandler: h, continueOnIgnoredError: carryOn} }
	}
	noHeader := one(func(*kit) request { return get("/") })
	invalidHeader := one(func(*kit) request { return get("/", field{echo.HeaderAuthorization, "Bearer invalid_header"}) })
	return []scenario{
		{
			name: "skipper skips everything", from: "jwt_test.go TestConfig_skipper",
			setup: func(*kit) setup {
				return setup{skipper: func(echo.Context) bool { return true }}
			},
			handler: func(c echo.Context) error { return c.String(http.StatusTeapot, "test") },
			send:    one(func(*kit) request { return get("/") }),
			want:    teapot,
		},
		{
			name: "BeforeFunc runs", from: "jwt_test.go TestConfig_BeforeFunc",
			setup: func(*kit) setup {
				return setup{beforeFunc: func(c echo.Context) { c.Set("before", "called") }}
			},
			handler: func(c echo.Context) error { return c.String(http.StatusTeapot, fmt.Sprint(c.Get("before"))) },
			send:    one(withBearer),
			want:    teapot,
		},
		{
			name: "ErrorHandler's error is the answer", from: "jwt_test.go TestConfig_ErrorHandling/ok, ErrorHandler is executed",
			setup: func(*kit) setup {
				return setup{errorHandler: func(echo.Context, error) error {
					return echo.NewHTTPError(http.StatusTeapot, "custom_error")
				}}
			},
			handler: notHereHandler,
			send:    noHeader,
			want:    teapot,
		},
		{
			name: "SuccessHandler runs before the handler", from: "jwt_test.go TestMustJWTWithConfig_SuccessHandler",
			setup: func(*kit) setup {
				return setup{successHandler: func(c echo.Context) { c.Set("success", "yes") }}
			},
			handler: func(c echo.Context) error {
				sub, _ := c.Get("user").(*jwt.Token).Claims.GetSubject()
				return c.String(http.StatusTeapot, fmt.Sprintf("%v:%v", c.Get("success"), sub))
			},
			send: one(withBearer),
			want: teapot,
		},
		{
			name: "continue: valid token, ErrorHandler not called", from: cont + "ok, with valid JWT from auth header",
			setup:   continueWith(func(echo.Context, error) error { return nil }, true),
			handler: userHandler, send: one(withBearer), want: teapot,
		},
		{
			name: "continue: missing token, ErrorHandler sets a public token", from: cont + "ok, missing header, callNext and set public_token from error handler",
			setup:   continueWith(publicToken, true),
			handler: userHandler, send: noHeader, want: teapot,
		},
		{
			name: "continue: invalid token, ErrorHandler sets a public token", from: cont + "ok, invalid token, callNext and set public_token from error handler",
			setup:   continueWith(publicToken, true),
			handler: userHandler, send: invalidHeader, want: teapot,
		},
		{
			name: "continue: invalid token, ErrorHandler returns its error", from: cont + "nok, invalid token, return error from error handler",
			setup:   continueWith(func(_ echo.Context, err error) error { return err }, true),
			handler: userHandler, send: invalidHeader, want: statuses(http.StatusInternalServerError),
		},
		{
			name: "continue: ErrorHandler returns 401", from: cont + "nok, ContinueOnIgnoredError but return error from error handler",
			setup:   continueWith(func(echo.Context, error) error { return echo.ErrUnauthorized }, true),
			handler: userHandler, send: noHeader, want: unauthorized,
		},
		{
			name: "no continue: ErrorHandler returns 401", from: cont + "nok, ContinueOnIgnoredError=false",
			setup:   continueWith(func(echo.Context, error) error { return echo.ErrUnauthorized }, false),
			handler: userHandler, send: noHeader, want: unauthorized,
		},
		{
			name: "no continue: ErrorHandler returns nil, request ends", from: "jwt.go ToMiddleware (an ErrorHandler that swallows the error without ContinueOnIgnoredError)",
			setup:   continueWith(publicToken, false),
			handler: userHandler, send: noHeader, want: ok,
		},
		{
			name: "TokenLookupFuncs find the token", from: "jwt_test.go TestConfig_TokenLookupFuncs",
			setup: func(*kit) setup {
				return setup{tokenLookupFuncs: []echomw.ValuesExtractor{apiKey}}
			},
			send: one(func(k *kit) request { return get("/", field{"X-API-Key", k.token()}) }),
			want: ok,
		},
		{
			name: "WithConfig panics without a key", from: "jwt_test.go TestWithConfig_panic",
			setup: func(*kit) setup { return setup{noKey: true, withConfig: true} },
			send:  one(withBearer),
		},
		{
			name: "concurrent requests", from: "jwt_test.go TestDataRacesOnParallelExecution",
			handler: func(c echo.Context) error {
				return c.JSON(http.StatusTeapot, c.Get("user").(*jwt.Token).Claims)
			},
			parallel: true,
			send: func(k *kit) []request {
				var rs []request
				for range 4 {
					rs = append(rs, withBearer(k),
						get("/", field{echo.HeaderAuthorization, "Bearer x.x.x"}),
						get("/", field{echo.HeaderAuthorization, "Bearer x.x.x"}))
				}
				return rs
			},
			want: statuses(418, 401, 401, 418, 401, 401, 418, 401, 401, 418, 401, 401),
		},
		{
			name: "integration: handler reads MapClaims", from: "jwt_integration_test.go TestIntegrationMiddlewareWithHandler",
			route: "/example", handler: exampleHandler,
			send: one(func(k *kit) request { return get("/example", bearer(k.token())) }),
			want: ok,
		},
		{
			name: "example: usage over a real server", from: "jwt_external_test.go ExampleWithConfig_usage",
			handler: exampleHandler, send: one(withBearer), want: ok,
		},
	}
}

// apiKey is TestConfig_TokenLookupFuncs's extractor: the X-API-Key header,
// "" when absent.
func apiKey(c echo.Context) ([]string, error) {
	return []string{c.Request().Header.Get("X-API-Key")}, nil
}

// exampleHandler is the handler of echo-jwt's integration test and
// example: the claims, as jwt.MapClaims.
func exampleHandler(c echo.Context) error {
	token, ok := c.Get("user").(*jwt.Token)
	if !ok {
		return errors.New("JWT token missing or invalid")
	}
	claims, ok := token.Claims.(jwt.MapClaims)
	if !ok {
		return errors.New("failed to cast claims as jwt.MapClaims")
	}
	return c.JSON(http.StatusOK, claims)
}

// issueScenarios are issue 12's: every value tried until one verifies,
// TokenLookupFuncs before TokenLookup, sources read only when needed, and
// the answers to tokens both sides refuse; plus a renewal, which echo-jwt
// has no notion of, to show it changes none of the compared answers.
func issueScenarios() []scenario {
	const from = "issue 12"
	expired := func(k *kit) string {
		return k.sign(with(k.johnDoe(), "exp", k.now.Add(-time.Hour).Unix()))
	}
	named := func(k *kit, name string) string { return k.sign(with(k.johnDoe(), "name", name)) }
	formParsed := func(c echo.Context) error {
		parsed := c.Request().Form != nil
		sub := "none"
		if tok, ok := c.Get("user").(*jwt.Token); ok {
			sub, _ = tok.Claims.(jwt.MapClaims)["name"].(string)
		}
		return c.String(http.StatusOK, fmt.Sprintf("form parsed: %v, token of %s", parsed, sub))
	}
	headerThenForm := func(*kit) setup { return setup{tokenLookup: "header:Authorization:Bearer ,form:jwt"} }
	return []scenario{
		{
			name: "expired header token, valid cookie", from: from,
			setup: func(*kit) setup { return setup{tokenLookup: "header:Authorization:Bearer ,cookie:jwt"} },
			send: one(func(k *kit) request {
				return get("/", bearer(expired(k)), cookie("jwt", k.token()))
			}),
			want: ok,
		},
		{
			name: "two Authorization headers, expired then valid", from: from,
			send: one(func(k *kit) request { return get("/", bearer(expired(k)), bearer(k.token())) }),
			want: ok,
		},
		{
			name: "two Authorization headers, both valid: the first wins", from: from,
			send: one(func(k *kit) request { return get("/", bearer(named(k, "First")), bearer(named(k, "Second"))) }),
			want: ok,
		},
		{
			name: "two Authorization headers, neither valid", from: from,
			send: one(func(k *kit) request { return get("/", bearer(expired(k)), bearer("x.y.z")) }),
			want: unauthorized,
		},
		{
			name: "an oversized value, then a valid one", from: from,
			send: one(func(k *kit) request {
				return get("/", bearer(strings.Repeat("a", middleware.DefaultMaxTokenSize+1)), bearer(k.token()))
			}),
			want: ok,
		},
		{
			name: "TokenLookupFuncs before TokenLookup", from: from + " (echo-jwt: TokenLookupFuncs take precedence)",
			setup: func(*kit) setup {
				return setup{tokenLookup: "header:Authorization:Bearer ", tokenLookupFuncs: []echomw.ValuesExtractor{apiKey}}
			},
			send: one(func(k *kit) request {
				return get("/", bearer(named(k, "From Header")), field{"X-API-Key", named(k, "From Func")})
			}),
			want: ok,
		},
		{
			name: "TokenLookupFuncs alone replace the default lookup", from: from,
			setup: func(*kit) setup { return setup{tokenLookupFuncs: []echomw.ValuesExtractor{apiKey}} },
			send:  one(withBearer),
			want:  unauthorized,
		},
		{
			name: "a failing TokenLookupFuncs function, then TokenLookup", from: from,
			setup: func(*kit) setup {
				return setup{tokenLookup: "header:Authorization:Bearer ", tokenLookupFuncs: []echomw.ValuesExtractor{
					func(echo.Context) ([]string, error) { return []string{"never tried"}, errors.New("no key") },
				}}
			},
			send: one(withBearer),
			want: ok,
		},
		{
			name: "a valid header token leaves the form unread", from: from,
			setup: headerThenForm, handler: formParsed,
			send: one(func(k *kit) request {
				return request{header: []field{bearer(k.token())}, form: url.Values{"jwt": {"garbage"}}}
			}),
			want: ok,
		},
		{
			name: "an invalid header token, then the form", from: from,
			setup: headerThenForm, handler: formParsed,
			send: one(func(k *kit) request {
				return request{header: []field{bearer("x.y.z")}, form: url.Values{"jwt": {named(k, "Form")}}}
			}),
			want: ok,
		},
		{
			name: "expired token", from: from,
			send: one(func(k *kit) request { return get("/", bearer(expired(k))) }),
			want: unauthorized,
		},
		{
			name: "token not valid yet", from: from,
			send: one(func(k *kit) request {
				return get("/", bearer(k.sign(with(k.johnDoe(), "nbf", k.now.Add(time.Hour).Unix()))))
			}),
			want: unauthorized,
		},
		{
			name: "unsigned token", from: from,
			send: one(func(k *kit) request {
				s, err := jwt.NewWithClaims(jwt.SigningMethodNone, k.johnDoe()).SignedString(jwt.UnsafeAllowNoneSignatureType)
				if err != nil {
					s = "minting failed: " + err.Error()
				}
				return get("/", bearer(s))
			}),
			want: unauthorized,
		},
		{
			name: "HS512 token for an HS256 key", from: from,
			send: one(func(k *kit) request {
				s, err := jwt.NewWithClaims(jwt.SigningMethodHS512, k.johnDoe()).SignedString(k.secret)
				if err != nil {
					s = "minting failed: " + err.Error()
				}
				return get("/", bearer(s))
			}),
			want: unauthorized,
		},
		{
			name: "ContextKey", from: from + " (echo-jwt's ContextKey)",
			setup: func(*kit) setup { return setup{contextKey: "token"} },
			handler: func(c echo.Context) error {
				return c.String(http.StatusOK, fmt.Sprintf("%T %T", c.Get("token"), c.Get("user")))
			},
			send: one(withBearer),
			want: ok,
		},
		{
			name: "a token due for renewal", from: from + " (renewal changes no compared answer)",
			send: one(func(k *kit) request {
				return get("/", bearer(k.sign(with(k.johnDoe(),
					"iat", k.now.Add(-50*time.Minute).Unix(), "exp", k.now.Add(10*time.Minute).Unix()))))
			}),
			want: ok,
			ours: func(t *testing.T, ours []outcome) {
				if got := ours[0].header.Get(middleware.HeaderNewToken); got == "" {
					t.Errorf("our answer has no %s: the scenario does not renew", middleware.HeaderNewToken)
				}
			},
		},
	}
}
