package compat_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/config"
	"github.com/slidingjwt/slidingjwt/middleware"
)

// The default bodies of the two 401s, echo-jwt's and ours.
const (
	bodyMissing = `{"message":"missing or malformed jwt"}` + "\n"
	bodyInvalid = `{"message":"invalid or expired jwt"}` + "\n"
)

// answered fails t unless o is a response with status (and body, when not
// empty).
func answered(t *testing.T, side string, o outcome, status int, body string) {
	t.Helper()
	if !o.built() || o.status != status || (body != "" && o.body != body) {
		t.Errorf("%s answered %v, want %d %q", side, o, status, body)
	}
}

// refusedInvalid checks our answer to a token we refuse and echo-jwt
// accepts: our default 401 for an invalid token, the handler not run, and
// the error that reached Echo matching is (each errors.Is).
func refusedInvalid(is ...error) func(t *testing.T, theirs, ours []outcome) {
	return func(t *testing.T, theirs, ours []outcome) {
		t.Helper()
		answered(t, "echo-jwt", theirs[0], http.StatusOK, "")
		answered(t, "ours", ours[0], http.StatusUnauthorized, bodyInvalid)
		if ours[0].ran {
			t.Errorf("our handler ran")
		}
		for _, target := range append([]error{middleware.ErrTokenInvalid}, is...) {
			if !errors.Is(ours[0].returned, target) {
				t.Errorf("our error %v is not %v", ours[0].returned, target)
			}
		}
	}
}

// configField reports whether middleware.Config has a field of that name.
func configField(name string) bool {
	_, ok := reflect.TypeFor[middleware.Config]().FieldByName(name)
	return ok
}

// noCallbacks checks that Config offers neither callback, then our answer.
func noCallbacks(status int, body string) func(t *testing.T, theirs, ours []outcome) {
	return func(t *testing.T, theirs, ours []outcome) {
		t.Helper()
		for _, name := range []string{"KeyFunc", "ParseTokenFunc"} {
			if configField(name) {
				t.Errorf("middleware.Config has %s: docs/echo-jwt.md says it is not offered", name)
			}
		}
		answered(t, "ours", ours[0], status, body)
	}
}

// errorsSeen checks what each ErrorHandler was given: echo-jwt's as its
// test expects (theirs), ours with errors.Is against each of is.
func errorsSeen(theirs func(err error) error, is ...error) func(t *testing.T, theirsOut, ours []outcome) {
	return func(t *testing.T, theirsOut, ours []outcome) {
		t.Helper()
		if !theirsOut[0].handled || !ours[0].handled {
			t.Fatalf("ErrorHandler ran: echo-jwt %v, ours %v", theirsOut[0].handled, ours[0].handled)
		}
		if err := theirs(theirsOut[0].handledErr); err != nil {
			t.Errorf("echo-jwt's error %v (%T): %v", theirsOut[0].handledErr, theirsOut[0].handledErr, err)
		}
		for _, target := range is {
			if !errors.Is(ours[0].handledErr, target) {
				t.Errorf("our error %v is not %v", ours[0].handledErr, target)
			}
		}
		// The HTTP answers are alike all the same.
		if ours[0].status != theirsOut[0].status || ours[0].body != theirsOut[0].body {
			t.Errorf("answers: ours %v, echo-jwt %v", ours[0], theirsOut[0])
		}
	}
}

func asExtraction(err error) error {
	var e *echojwt.TokenExtractionError
	if !errors.As(err, &e) || !errors.Is(err, echojwt.ErrJWTMissing) {
		return errors.New("want a *TokenExtractionError that is ErrJWTMissing")
	}
	return nil
}

func asParsing(is ...error) func(err error) error {
	return func(err error) error {
		var p *echojwt.TokenParsingError
		var te *echojwt.TokenError
		if !errors.As(err, &p) || !errors.As(err, &te) || !errors.Is(err, echojwt.ErrJWTInvalid) {
			return errors.New("want a *TokenParsingError wrapping a *TokenError, that is ErrJWTInvalid")
		}
		for _, target := range is {
			if !errors.Is(err, target) {
				return fmt.Errorf("want it to be %v too", target)
			}
		}
		return nil
	}
}

// differenceScenarios are the listed differences, each asserting our
// answer and saying why.
func differenceScenarios() []scenario {
	returnErr := func(*kit) setup {
		return setup{errorHandler: func(_ echo.Context, err error) error { return err }}
	}
	expired := func(k *kit) request {
		return get("/", bearer(k.sign(with(k.johnDoe(), "exp", k.now.Add(-time.Hour).Unix()))))
	}
	return []scenario{
		// The 32-byte secret minimum.
		{
			name: "echo-jwt's 6-byte secret", from: "jwt_test.go (SigningKey []byte(\"secret\") throughout)",
			setup: func(*kit) setup { return setup{signingKey: []byte("secret")} },
			send:  one(func(k *kit) request { return get("/", bearer(signWith([]byte("secret"), "", k.johnDoe()))) }),
			want:  ok,
			diff: &difference{
				kind: diffSecret,
				why: "an HMAC secret shorter than the 32 bytes of an HS256 output can be guessed offline from any one token; " +
					"the middleware refuses to be built with one, naming TOKEN_SECRET. Change: a random secret of at least 32 bytes.",
				check: func(t *testing.T, _, ours []outcome) {
					var bad *config.Error
					if !errors.As(ours[0].buildErr, &bad) || bad.Var != config.EnvSecret || !strings.Contains(bad.Allowed, "32 bytes") {
						t.Errorf("building ours: %v; want a config.Error for %s asking for 32 bytes", ours[0].buildErr, config.EnvSecret)
					}
				},
			},
		},
		{
			name: "a 31-byte secret", from: "issue 12",
			setup: func(*kit) setup { return setup{signingKey: []byte(strings.Repeat("s", 31))} },
			send: one(func(k *kit) request {
				return get("/", bearer(signWith([]byte(strings.Repeat("s", 31)), "", k.johnDoe())))
			}),
			want: ok,
			diff: &difference{
				kind: diffSecret,
				why:  "the minimum is 32 bytes exactly: 31 is refused like 6.",
				check: func(t *testing.T, _, ours []outcome) {
					var bad *config.Error
					if !errors.As(ours[0].buildErr, &bad) || bad.Var != config.EnvSecret || bad.Value != "<31 bytes>" {
						t.Errorf("building ours: %v; want a config.Error for %s naming 31 bytes", ours[0].buildErr, config.EnvSecret)
					}
				},
			},
		},

		// exp required.
		{
			name: "echo-jwt's fixture token, without exp", from: "jwt_test.go TestJWT (its token has no exp)",
			send: one(func(k *kit) request {
				return get("/", bearer(k.sign(with(k.johnDoe(), "exp", nil))))
			}),
			want: ok,
			diff: &difference{
				kind: diffExp,
				why: "a token without exp never expires, so it could never slide: the middleware requires exp. " +
					"Change: mint tokens with an exp (the Issuer does).",
				check: refusedInvalid(jwt.ErrTokenRequiredClaimMissing),
			},
		},

		// The 8 KiB size cap.
		{
			name: "a token over 8 KiB", from: "issue 12",
			send: one(func(k *kit) request {
				return get("/", bearer(k.sign(with(k.johnDoe(), "padding", strings.Repeat("p", middleware.DefaultMaxTokenSize)))))
			}),
			want: ok,
			diff: &difference{
				kind: diffSize,
				why: "a token larger than Config.MaxTokenSize (8 KiB by default) is refused before it is parsed, " +
					"so an attacker's megabyte costs nothing. Change: raise MaxTokenSize if your tokens are that large.",
				check: func(t *testing.T, theirs, ours []outcome) {
					answered(t, "echo-jwt", theirs[0], http.StatusOK, "")
					answered(t, "ours", ours[0], http.StatusUnauthorized, bodyInvalid)
					if !errors.Is(ours[0].returned, middleware.ErrTokenTooLarge) {
						t.Errorf("our error %v is not ErrTokenTooLarge", ours[0].returned)
					}
				},
			},
		},

		// No KeyFunc or ParseTokenFunc.
		{
			name: "ParseTokenFunc that fails", from: "jwt_test.go TestConfig_parseTokenErrorHandling",
			setup: func(*kit) setup {
				return setup{
					errorHandler: func(_ echo.Context, err error) error {
						return echo.NewHTTPError(http.StatusTeapot, "ErrorHandler: "+err.Error())
					},
					theirs: func(cfg *echojwt.Config) {
						cfg.ParseTokenFunc = func(echo.Context, string) (any, error) { return nil, errors.New("parsing failed") }
					},
				}
			},
			handler: notHereHandler,
			send:    one(withBearer),
			want:    teapot,
			diff: &difference{
				kind: diffCallbacks,
				why: "the middleware signs each renewal with the keys it verifies with, so verification cannot be " +
					"handed to a callback: there is no ParseTokenFunc, and this valid token verifies and reaches the handler.",
				check: noCallbacks(http.StatusNotImplemented, "should not end up here"),
			},
		},
		{
			name: "custom ParseTokenFunc with its own key", from: "jwt_test.go TestConfig_custom_ParseTokenFunc_Keyfunc",
			setup: func(k *kit) setup {
				return setup{theirs: func(cfg *echojwt.Config) {
					cfg.SigningKey = nil
					cfg.ParseTokenFunc = func(_ echo.Context, auth string) (any, error) {
						t, err := jwt.Parse(auth, func(t *jwt.Token) (any, error) {
							if t.Method.Alg() != "HS256" {
								return nil, fmt.Errorf("unexpected jwt signing method=%v", t.Header["alg"])
							}
							return k.secret, nil
						})
						if err != nil {
							return nil, err
						}
						return t, nil
					}
				}}
			},
			handler: func(c echo.Context) error { return c.String(http.StatusTeapot, "test") },
			send:    one(withBearer),
			want:    teapot,
			diff: &difference{
				kind: diffCallbacks,
				why: "there is no ParseTokenFunc; what this one does (HS256 with one key) is Settings.Algorithm and " +
					"Settings.Secret, which give the same answer.",
				check: noCallbacks(http.StatusTeapot, "test"),
			},
		},
		{
			name: "KeyFunc picks the key", from: "jwt.go Config.KeyFunc",
			setup: func(k *kit) setup {
				return setup{theirs: func(cfg *echojwt.Config) {
					cfg.SigningKey = nil
					cfg.KeyFunc = func(*jwt.Token) (any, error) { return k.secret, nil }
				}}
			},
			handler: textHandler,
			send:    one(withBearer),
			want:    ok,
			diff: &difference{
				kind: diffCallbacks,
				why: "there is no KeyFunc: the keys are a KeySet (Config.Keys) that both verifies and signs renewals, " +
					"and picks a key by kid as a KeyFunc would.",
				check: noCallbacks(http.StatusOK, "test"),
			},
		},
		{
			name: "ParseTokenFunc that accepts any string", from: "jwt_test.go TestMustJWTWithConfig_SuccessHandler",
			setup: func(*kit) setup {
				return setup{
					successHandler: func(c echo.Context) { c.Set("success", "yes") },
					theirs: func(cfg *echojwt.Config) {
						cfg.ParseTokenFunc = func(_ echo.Context, auth string) (any, error) { return auth, nil }
					},
				}
			},
			handler: func(c echo.Context) error {
				return c.String(http.StatusTeapot, fmt.Sprintf("%v:%v", c.Get("success"), c.Get("user")))
			},
			send: one(func(*kit) request { return get("/", bearer("valid_token_base64")) }),
			want: teapot,
			diff: &difference{
				kind:  diffCallbacks,
				why:   "there is no ParseTokenFunc: only a token our keys verify gets through.",
				check: noCallbacks(http.StatusUnauthorized, bodyInvalid),
			},
		},

		// The errors an ErrorHandler receives.
		{
			name: "missing token, to an ErrorHandler", from: "jwt_test.go TestConfig_ErrorHandling/ok, extractor errors are distinguishable as TokenExtractionError",
			setup: returnErr, handler: notHereHandler,
			send: one(func(*kit) request { return get("/") }),
			want: statuses(http.StatusInternalServerError),
			diff: &difference{
				kind: diffErrors,
				why: "echo-jwt's *TokenExtractionError is echo-jwt's type; matching it would make the middleware import " +
					"echo-jwt. Ours is ErrTokenMissing. Change: errors.As(err, &*TokenExtractionError) becomes errors.Is(err, middleware.ErrTokenMissing).",
				check: errorsSeen(asExtraction, middleware.ErrTokenMissing),
			},
		},
		{
			name: "malformed token, to an ErrorHandler", from: "jwt_test.go TestConfig_ErrorHandling/ok, token parsing errors are distinguishable as TokenParsingError",
			setup: returnErr, handler: notHereHandler,
			send: one(func(*kit) request { return get("/", bearer("x.x.x")) }),
			want: statuses(http.StatusInternalServerError),
			diff: &difference{
				kind: diffErrors,
				why: "echo-jwt's *TokenParsingError and *TokenError are its own; ours is ErrTokenInvalid wrapping " +
					"golang-jwt's reason, so errors.Is(err, jwt.ErrTokenMalformed) holds for both.",
				check: errorsSeen(asParsing(jwt.ErrTokenMalformed), middleware.ErrTokenInvalid, jwt.ErrTokenMalformed),
			},
		},
		{
			name: "expired token, to an ErrorHandler", from: "issue 12 (errors.Is with golang-jwt's sentinels keeps working)",
			setup: returnErr, handler: notHereHandler,
			send: one(expired),
			want: statuses(http.StatusInternalServerError),
			diff: &difference{
				kind:  diffErrors,
				why:   "the types differ, golang-jwt's sentinels do not: errors.Is(err, jwt.ErrTokenExpired) holds on both sides.",
				check: errorsSeen(asParsing(jwt.ErrTokenExpired), middleware.ErrTokenInvalid, jwt.ErrTokenExpired),
			},
		},
		{
			name: "token signed with another key, to an ErrorHandler", from: "jwt_test.go TestJWT_combinations/Invalid key (with an ErrorHandler)",
			setup: func(k *kit) setup {
				s := returnErr(k)
				s.signingKey = k.other
				return s
			},
			handler: notHereHandler,
			send:    one(withBearer),
			want:    statuses(http.StatusInternalServerError),
			diff: &difference{
				kind:  diffErrors,
				why:   "as for every invalid token: ErrTokenInvalid, and golang-jwt's jwt.ErrTokenSignatureInvalid on both sides.",
				check: errorsSeen(asParsing(jwt.ErrTokenSignatureInvalid), middleware.ErrTokenInvalid, jwt.ErrTokenSignatureInvalid),
			},
		},
		{
			name: "the default 401's error", from: "jwt_test.go TestJWT_combinations (expectError \"code=401, message=invalid or expired jwt, internal=...\")",
			send: one(expired),
			want: unauthorized,
			diff: &difference{
				kind: diffErrors,
				why: "the *echo.HTTPError that reaches Echo has echo-jwt's code and message but our error inside, so it " +
					"is not echo-jwt's ErrJWTInvalid and its text differs after internal=; golang-jwt's sentinels still match.",
				check: func(t *testing.T, theirs, ours []outcome) {
					answered(t, "ours", ours[0], http.StatusUnauthorized, bodyInvalid)
					var theirsHE, oursHE *echo.HTTPError
					if !errors.As(theirs[0].returned, &theirsHE) || !errors.As(ours[0].returned, &oursHE) {
						t.Fatalf("errors: echo-jwt %T, ours %T; want *echo.HTTPError both", theirs[0].returned, ours[0].returned)
					}
					if oursHE.Code != theirsHE.Code || oursHE.Message != theirsHE.Message {
						t.Errorf("ours %d %v, echo-jwt %d %v", oursHE.Code, oursHE.Message, theirsHE.Code, theirsHE.Message)
					}
					if !errors.Is(ours[0].returned, jwt.ErrTokenExpired) || !errors.Is(ours[0].returned, middleware.ErrTokenInvalid) {
						t.Errorf("our error %v is not jwt.ErrTokenExpired and ErrTokenInvalid", ours[0].returned)
					}
					if !errors.Is(theirs[0].returned, echojwt.ErrJWTInvalid) || errors.Is(ours[0].returned, echojwt.ErrJWTInvalid) {
						t.Errorf("errors.Is(err, echojwt.ErrJWTInvalid): echo-jwt %v, ours %v; want true, false",
							errors.Is(theirs[0].returned, echojwt.ErrJWTInvalid), errors.Is(ours[0].returned, echojwt.ErrJWTInvalid))
					}
				},
			},
		},

		// Tokens echo-jwt accepts and we refuse.
		{
			name: "a claim named twice", from: "issue 12",
			send: one(func(k *kit) request {
				return get("/", bearer(signJSON(k.secret, `{"alg":"HS256","typ":"JWT"}`,
					fmt.Sprintf(`{"sub":"1234567890","name":"John Doe","name":"Admin","exp":%d}`, k.now.Add(time.Hour).Unix()))))
			}),
			want: ok,
			diff: &difference{
				kind:  diffStricter,
				why:   "a parser that keeps the first of two names reads another token than one that keeps the last (golang-jwt's); signed JSON must say one thing.",
				check: refusedInvalid(),
			},
		},
		{
			name: "a header member named twice", from: "issue 12",
			send: one(func(k *kit) request {
				return get("/", bearer(signJSON(k.secret, `{"alg":"HS256","typ":"JWT","typ":"at+jwt"}`,
					fmt.Sprintf(`{"sub":"1234567890","exp":%d}`, k.now.Add(time.Hour).Unix()))))
			}),
			want: ok,
			diff: &difference{
				kind:  diffStricter,
				why:   "as for the claims: a header that names a member twice is ambiguous.",
				check: refusedInvalid(),
			},
		},
		{
			name: "a crit header", from: "issue 12",
			send: one(func(k *kit) request {
				return get("/", bearer(signJSON(k.secret, `{"alg":"HS256","typ":"JWT","crit":["exp"]}`,
					fmt.Sprintf(`{"sub":"1234567890","exp":%d}`, k.now.Add(time.Hour).Unix()))))
			}),
			want: ok,
			diff: &difference{
				kind:  diffStricter,
				why:   "RFC 7515 4.1.11: a recipient that does not understand a critical extension must refuse the token; golang-jwt ignores crit.",
				check: refusedInvalid(),
			},
		},
		{
			name: "a negative iat", from: "issue 12",
			send: one(func(k *kit) request { return get("/", bearer(k.sign(with(k.johnDoe(), "iat", -1)))) }),
			want: ok,
			diff: &difference{
				kind:  diffStricter,
				why:   "a date before 1970 or after year 9999 is refused rather than converted with overflow: renewal computes lifetimes from it.",
				check: refusedInvalid(),
			},
		},
		{
			name: "an auth_time past year 9999", from: "issue 12",
			send: one(func(k *kit) request {
				return get("/", bearer(k.sign(with(k.johnDoe(), "auth_time", int64(1e13)))))
			}),
			want: ok,
			diff: &difference{
				kind:  diffStricter,
				why:   "auth_time bounds the session (MaxSessionAge); a date out of range is refused.",
				check: refusedInvalid(),
			},
		},
		{
			name: "iat an hour ahead", from: "issue 12",
			send: one(func(k *kit) request {
				return get("/", bearer(k.sign(with(k.johnDoe(), "iat", k.now.Add(time.Hour).Unix(), "exp", k.now.Add(2*time.Hour).Unix()))))
			}),
			want: ok,
			diff: &difference{
				kind:  diffStricter,
				why:   "iat is checked (with Settings.Leeway): a token issued in the future comes from a wrong clock or a forger, and its lifetime (exp - iat) would be wrong.",
				check: refusedInvalid(jwt.ErrTokenUsedBeforeIssued),
			},
		},
		{
			name: "iat equal to exp", from: "issue 12",
			setup: func(*kit) setup {
				return setup{ours: func(cfg *middleware.Config) { cfg.Settings.Leeway = 5 * time.Minute }}
			},
			send: one(func(k *kit) request {
				at := k.now.Add(2 * time.Minute).Unix()
				return get("/", bearer(k.sign(with(k.johnDoe(), "iat", at, "exp", at))))
			}),
			want: ok,
			diff: &difference{
				kind: diffStricter,
				why: "a token's lifetime is exp - iat, which renewal reuses: one that is not positive is refused " +
					"(here iat is within our 5-minute leeway, so this is the only reason).",
				check: func(t *testing.T, theirs, ours []outcome) {
					refusedInvalid()(t, theirs, ours)
					if errors.Is(ours[0].returned, jwt.ErrTokenUsedBeforeIssued) {
						t.Errorf("our error %v is about iat in the future, not about the lifetime", ours[0].returned)
					}
				},
			},
		},
	}
}
