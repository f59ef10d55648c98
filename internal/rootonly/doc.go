// Package rootonly holds no code, only tests of a program that imports the
// root package slidingjwt and config, and no store backend: such a program
// links the memory and lru backends (the root package imports them) and
// not bolt or redis, so TOKEN_RENEW_STORE=bolt or redis must make
// slidingjwt.Open fail at start with the import line to add, never fall
// back to another store.
//
// The root package's own tests cannot show this: other test files of that
// package import every backend, which registers them all in its test
// binary.
package rootonly
