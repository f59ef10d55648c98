module github.com/slidingjwt/slidingjwt/echov5

go 1.26.8

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/labstack/echo/v5 v5.4.6
	github.com/slidingjwt/slidingjwt v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-json-experiment/json v1.27.2 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

// The root module as it is in this repository. A replace directive applies
// only where this module is the main module (its own builds and tests), so
// a tagged release of echov5 must require a tagged root version above.
replace github.com/slidingjwt/slidingjwt => ../
