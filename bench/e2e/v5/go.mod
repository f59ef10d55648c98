module github.com/slidingjwt/slidingjwt/bench/e2e/v5

go 1.26.8

require (
	github.com/labstack/echo/v5 v5.4.6
	github.com/slidingjwt/slidingjwt v0.0.0-00010101000000-000000000000
	github.com/slidingjwt/slidingjwt/echov5 v0.0.0-00010101000000-000000000000
)

require (
	github.com/go-json-experiment/json v1.27.2 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	golang.org/x/time v0.15.0 // indirect
)

// The benchmark measures the doors as they are in this checkout.
replace (
	github.com/slidingjwt/slidingjwt => ../../..
	github.com/slidingjwt/slidingjwt/echov5 => ../../../echov5
)
