package compat_test

import (
	"fmt"
	"net/url"
	"strings"
)

// positions returns n values, the one at position at (from 1) valid and
// the others invalid; with prefix before each.
func positions(n, at int, prefix, valid string) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = prefix + fmt.Sprintf("invalid%d", i+1)
	}
	vs[at-1] = prefix + valid
	return vs
}

// extractorScenarios port extractors_test.go: each of its value extractor
// cases becomes a request whose token is found, or not, where the case
// puts its value; a case with several values has the valid token among
// invalid ones, and the extractorLimit cases have it just within the
// limit (position 20) and just past it (position 21).
func extractorScenarios() []scenario {
	const (
		create  = "extractors_test.go TestCreateExtractors/"
		header  = "extractors_test.go TestValuesFromHeader/"
		query   = "extractors_test.go TestValuesFromQuery/"
		param   = "extractors_test.go TestValuesFromParam/"
		cookies = "extractors_test.go TestValuesFromCookie/"
		form    = "extractors_test.go TestValuesFromForm/"
	)
	lookup := func(spec string) func(*kit) setup {
		return func(*kit) setup { return setup{tokenLookup: spec} }
	}
	headers := func(name string, values []string) []field {
		fs := make([]field, len(values))
		for i, v := range values {
			fs[i] = field{name, v}
		}
		return fs
	}
	limitWant := func(at int) []int {
		if at <= 20 {
			return ok
		}
		return unauthorized
	}
	var out []scenario
	out = append(out,
		scenario{
			name: "extractor: header", from: create + "ok, header",
			setup: lookup("header:Authorization:Bearer "), handler: textHandler,
			send: one(withBearer), want: ok,
		},
		scenario{
			name: "extractor: form", from: create + "ok, form",
			setup: lookup("form:name"), handler: textHandler,
			send: one(func(k *kit) request { return request{form: url.Values{"name": {k.token()}}} }),
			want: ok,
		},
		scenario{
			name: "extractor: cookie", from: create + "ok, cookie",
			setup: lookup("cookie:_csrf"), handler: textHandler,
			send: one(func(k *kit) request { return get("/", cookie("_csrf", k.token())) }),
			want: ok,
		},
		scenario{
			name: "extractor: param", from: create + "ok, param",
			setup: lookup("param:id"), route: "/:id", handler: textHandler,
			send: one(func(k *kit) request { return get("/" + k.token()) }),
			want: ok,
		},
		scenario{
			name: "extractor: query", from: create + "ok, query",
			setup: lookup("query:id"), handler: textHandler,
			send: one(func(k *kit) request { return get("/?id=" + k.token()) }),
			want: ok,
		},
		scenario{
			name: "extractor: invalid lookup", from: create + "nok, invalid lookup",
			setup: lookup("query"), send: one(withBearer),
		},

		scenario{
			name: "header: single value, lower-case prefix", from: header + "ok, single value",
			setup: lookup("header:Authorization:basic "), handler: textHandler,
			send: one(func(k *kit) request { return get("/", field{"Authorization", "basic " + k.token()}) }),
			want: ok,
		},
		scenario{
			name: "header: prefix in any case", from: header + "ok, single value, case insensitive",
			setup: lookup("header:Authorization:Basic "), handler: textHandler,
			send: one(func(k *kit) request { return get("/", field{"Authorization", "basic " + k.token()}) }),
			want: ok,
		},
		scenario{
			name: "header: two values, the second valid", from: header + "ok, multiple value",
			setup: lookup("header:Authorization:basic "), handler: textHandler,
			send: one(func(k *kit) request {
				return get("/", field{"Authorization", "basic dXNlcjpwYXNzd29yZA=="}, field{"Authorization", "basic " + k.token()})
			}),
			want: ok,
		},
		scenario{
			name: "header: no prefix, the whole value", from: header + "ok, empty prefix",
			setup: lookup("header:Authorization"), handler: textHandler,
			send: one(func(k *kit) request { return get("/", field{"Authorization", "basic " + k.token()}) }),
			want: unauthorized,
		},
		scenario{
			name: "header: no prefix, a bare token", from: header + "ok, empty prefix",
			setup: lookup("header:Authorization"), handler: textHandler,
			send: one(func(k *kit) request { return get("/", field{"Authorization", k.token()}) }),
			want: ok,
		},
		scenario{
			name: "header: no value with the prefix", from: header + "nok, no matching due different prefix",
			setup: lookup("header:Authorization:Bearer "), handler: textHandler,
			send: one(func(k *kit) request {
				return get("/", field{"Authorization", "basic " + k.token()}, field{"Authorization", "basic dGVzdDp0ZXN0"})
			}),
			want: unauthorized,
		},
		scenario{
			name: "header: another header", from: header + "nok, no matching due different prefix (WWW-Authenticate)",
			setup: lookup("header:WWW-Authenticate"), handler: textHandler,
			send: one(withBearer), want: unauthorized,
		},
		scenario{
			name: "header: none", from: header + "nok, no headers",
			setup: lookup("header:Authorization:basic "), handler: textHandler,
			send: one(func(*kit) request { return get("/") }), want: unauthorized,
		},
	)
	for _, at := range []int{20, 21} {
		out = append(out,
			scenario{
				name: fmt.Sprintf("header: 25 values with prefix, valid at %d", at), from: header + "ok, prefix, cut values over extractorLimit",
				setup: lookup("header:Authorization:basic "), handler: textHandler,
				send: one(func(k *kit) request {
					return get("/", headers("Authorization", positions(25, at, "basic ", k.token()))...)
				}),
				want: limitWant(at),
			},
			scenario{
				name: fmt.Sprintf("header: 25 values without prefix, valid at %d", at), from: header + "ok, cut values over extractorLimit",
				setup: lookup("header:Authorization"), handler: textHandler,
				send: one(func(k *kit) request { return get("/", headers("Authorization", positions(25, at, "", k.token()))...) }),
				want: limitWant(at),
			},
			scenario{
				name: fmt.Sprintf("query: 25 values, valid at %d", at), from: query + "ok, cut values over extractorLimit",
				setup: lookup("query:id"), handler: textHandler,
				send: one(func(k *kit) request {
					return get("/?name=test&id=" + strings.Join(positions(25, at, "", k.token()), "&id="))
				}),
				want: limitWant(at),
			},
			scenario{
				name: fmt.Sprintf("param: 24 values, valid at %d", at), from: param + "ok, cut values over extractorLimit",
				setup: lookup("param:id"), route: "/" + strings.Repeat(":id/", 23) + ":id", handler: textHandler,
				send: one(func(k *kit) request { return get("/" + strings.Join(positions(24, at, "", k.token()), "/")) }),
				want: limitWant(at),
			},
			scenario{
				name: fmt.Sprintf("cookie: 24 values, valid at %d", at), from: cookies + "ok, cut values over extractorLimit",
				setup: lookup("cookie:_csrf"), handler: textHandler,
				send: one(func(k *kit) request {
					var fs []field
					for _, v := range positions(24, at, "", k.token()) {
						fs = append(fs, cookie("_csrf", v))
					}
					return get("/", fs...)
				}),
				want: limitWant(at),
			},
			scenario{
				name: fmt.Sprintf("form: 24 values, valid at %d", at), from: form + "ok, cut values over extractorLimit",
				setup: lookup("form:id[]"), handler: textHandler,
				send: one(func(k *kit) request {
					return request{form: url.Values{"name": {"Jon Snow"}, "id[]": positions(24, at, "", k.token())}}
				}),
				want: limitWant(at),
			},
		)
	}
	// echo-jwt counts the limit in positions among all the header's
	// values, those without the prefix included, and stops after the first
	// value it takes at position 20 or later: here after 15 values.
	skipFive := func(valid string, at int) []field {
		vs := positions(25, at, "Bearer ", valid)
		for i := range 5 {
			vs[i] = "Basic dXNlcjpwYXNzd29yZA=="
		}
		return headers("Authorization", vs)
	}
	out = append(out,
		scenario{
			name: "header: 5 values without the prefix, then 20 with it, valid at 20", from: header + "ok, prefix, cut values over extractorLimit",
			handler: textHandler,
			send:    one(func(k *kit) request { return get("/", skipFive(k.token(), 20)...) }),
			want:    ok,
		},
		scenario{
			name: "header: 5 values without the prefix, then 20 with it, valid at 21", from: header + "ok, prefix, cut values over extractorLimit",
			handler: textHandler,
			send:    one(func(k *kit) request { return get("/", skipFive(k.token(), 21)...) }),
			want:    unauthorized,
		},
		scenario{
			name: "header: 21 values without the prefix, then a valid one", from: header + "ok, prefix, cut values over extractorLimit",
			handler: textHandler,
			send: one(func(k *kit) request {
				fs := headers("Authorization", positions(21, 1, "Basic ", "x"))
				return get("/", append(fs, bearer(k.token()), bearer("x.y.z"))...)
			}),
			want: ok,
		},
		scenario{
			name: "query: single value", from: query + "ok, single value",
			setup: lookup("query:id"), handler: textHandler,
			send: one(func(k *kit) request { return get("/?id=" + k.token() + "&name=test") }), want: ok,
		},
		scenario{
			name: "query: two values, the second valid", from: query + "ok, multiple value",
			setup: lookup("query:id"), handler: textHandler,
			send: one(func(k *kit) request { return get("/?id=123&id=" + k.token() + "&name=test") }), want: ok,
		},
		scenario{
			name: "query: empty value", from: query + " (a value that is empty is still tried)",
			setup: lookup("query:id"), handler: textHandler,
			send: one(func(*kit) request { return get("/?id=&name=test") }), want: unauthorized,
		},
		scenario{
			name: "query: missing value", from: query + "nok, missing value",
			setup: lookup("query:nope"), handler: textHandler,
			send: one(func(k *kit) request { return get("/?id=" + k.token() + "&name=test") }), want: unauthorized,
		},
		scenario{
			name: "param: single value", from: param + "ok, single value",
			setup: lookup("param:id"), route: "/:id/:gid/:gid", handler: textHandler,
			send: one(func(k *kit) request { return get("/" + k.token() + "/456/789") }), want: ok,
		},
		scenario{
			name: "param: two values, the second valid", from: param + "ok, multiple value",
			setup: lookup("param:gid"), route: "/:id/:gid/:gid", handler: textHandler,
			send: one(func(k *kit) request { return get("/123/456/" + k.token()) }), want: ok,
		},
		scenario{
			name: "param: no params", from: param + "nok, no values",
			setup: lookup("param:nope"), handler: textHandler,
			send: one(withBearer), want: unauthorized,
		},
		scenario{
			name: "param: no matching param", from: param + "nok, no matching value",
			setup: lookup("param:nope"), route: "/:id/:gid/:gid", handler: textHandler,
			send: one(func(k *kit) request { return get("/" + k.token() + "/456/789") }), want: unauthorized,
		},
		scenario{
			name: "cookie: single value", from: cookies + "ok, single value",
			setup: lookup("cookie:_csrf"), handler: textHandler,
			send: one(func(k *kit) request { return get("/", cookie("_csrf", k.token())) }), want: ok,
		},
		scenario{
			name: "cookie: two values, the second valid", from: cookies + "ok, multiple value",
			setup: lookup("cookie:_csrf"), handler: textHandler,
			send: one(func(k *kit) request {
				return get("/", cookie("_csrf", "token"), cookie("_csrf", k.token()))
			}),
			want: ok,
		},
		scenario{
			name: "cookie: no matching cookie", from: cookies + "nok, no matching cookie",
			setup: lookup("cookie:xxx"), handler: textHandler,
			send: one(func(k *kit) request { return get("/", cookie("_csrf", k.token())) }), want: unauthorized,
		},
		scenario{
			name: "cookie: no cookies", from: cookies + "nok, no cookies at all",
			setup: lookup("cookie:xxx"), handler: textHandler,
			send: one(func(*kit) request { return get("/") }), want: unauthorized,
		},
		scenario{
			name: "form: POST, single value", from: form + "ok, POST form, single value",
			setup: lookup("form:emails[]"), handler: textHandler,
			send: one(func(k *kit) request {
				return request{form: url.Values{"name": {"Jon Snow"}, "emails[]": {k.token()}}}
			}),
			want: ok,
		},
		scenario{
			name: "form: POST, two values, the second valid", from: form + "ok, POST form, multiple value",
			setup: lookup("form:emails[]"), handler: textHandler,
			send: one(func(k *kit) request {
				return request{form: url.Values{"name": {"Jon Snow"}, "emails[]": {"jon@labstack.com", k.token()}}}
			}),
			want: ok,
		},
		scenario{
			name: "form: multipart, two values, the second valid", from: form + "ok, POST multipart/form, multiple value",
			setup: lookup("form:emails[]"), handler: textHandler,
			send: one(func(k *kit) request {
				return request{multipart: []field{{"name", "Jon Snow"}, {"emails[]", "jon@labstack.com"}, {"emails[]", k.token()}}}
			}),
			want: ok,
		},
		scenario{
			name: "form: GET, in the query", from: form + "ok, GET form, single value",
			setup: lookup("form:emails[]"), handler: textHandler,
			send: one(func(k *kit) request {
				return get("/?" + url.Values{"name": {"Jon Snow"}, "emails[]": {k.token()}}.Encode())
			}),
			want: ok,
		},
		scenario{
			name: "form: value missing", from: form + "nok, POST form, value missing",
			setup: lookup("form:nope"), handler: textHandler,
			send: one(func(k *kit) request {
				return request{form: url.Values{"name": {"Jon Snow"}, "emails[]": {k.token()}}}
			}),
			want: unauthorized,
		},
	)
	return out
}
