// Package compat holds no code of its own: its tests are the side-by-side
// suite that proves the middleware a drop-in for labstack/echo-jwt v4.4.0
// where it says it is one.
//
// Every scenario of echo-jwt's own tests (jwt_test.go, extractors_test.go,
// jwt_external_test.go, jwt_integration_test.go), ported in our own code,
// and the scenarios of issue 12, is served twice over real HTTP by a real
// Echo: once behind echo-jwt and once behind slidingjwt's middleware, with
// the same request and the same handler. The two answers are compared: the
// status, whether the handler ran, the value under the context key (its
// type, claims, Raw and Valid), the body, and, when an ErrorHandler ran,
// whether it was told of a missing or of an invalid token. Tokens are
// minted afresh for both sides with a 32-byte secret and an exp claim.
//
// A scenario must give the same answer on both sides, except for the
// differences the project chose, each a named subtest that asserts our
// answer and says why: the 32-byte secret minimum, exp required, the 8 KiB
// size cap, no KeyFunc or ParseTokenFunc, the errors an ErrorHandler
// receives, and the refusal of tokens echo-jwt accepts (duplicate names,
// crit, dates out of range, iat in the future, iat not before exp). The
// suite logs how many scenarios gave the same answer and how many fell
// under each difference.
//
// The scenarios that need the token core of issue 11 (tokens without sub,
// a role that is not a string, claims private to each request, and
// NewClaimsFunc) are built with -tags tokencore.
//
// Run it with:
//
//	go test -race -v -run EchoJWT ./compat/
package compat
