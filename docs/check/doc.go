// Package check holds the documentation's tests, in a module of its own
// so that its go.mod can require every framework the documentation's
// programs use (Echo v4, Echo v5, Gin) without adding one to the modules
// an application imports:
//
//   - TestPrograms extracts every ```go block with "package main" from
//     README.md and docs/*.md and builds it with go build against this
//     checkout, offline, from the module cache;
//   - TestLinks checks that every relative link of those files points at a
//     file of the repository, and a #fragment at one of its headings.
//
// `make test` runs them with the other modules' tests; alone:
// `go test ./...` in docs/check.
package check
