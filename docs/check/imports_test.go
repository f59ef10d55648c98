package check_test

// Every package the documentation's programs import, so that go.mod and
// go.sum require their modules (go mod tidy keeps what some file of the
// module imports) and go vet and go test fill the module cache with them
// before TestPrograms builds the programs offline. A program that imports
// a package missing here fails TestPrograms with "no required module
// provides package": add it, then run go mod tidy.
import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/labstack/echo/v4"
	_ "github.com/labstack/echo/v5"

	_ "github.com/slidingjwt/slidingjwt"
	_ "github.com/slidingjwt/slidingjwt/config"
	_ "github.com/slidingjwt/slidingjwt/echov5"
	_ "github.com/slidingjwt/slidingjwt/middleware"
	_ "github.com/slidingjwt/slidingjwt/nethttp"
	_ "github.com/slidingjwt/slidingjwt/revocation"
	_ "github.com/slidingjwt/slidingjwt/slidinggin"
	_ "github.com/slidingjwt/slidingjwt/store"
	_ "github.com/slidingjwt/slidingjwt/store/bolt"
	_ "github.com/slidingjwt/slidingjwt/store/lru"
	_ "github.com/slidingjwt/slidingjwt/store/memory"
	_ "github.com/slidingjwt/slidingjwt/store/redis"
	_ "github.com/slidingjwt/slidingjwt/store/storeconfig"
	_ "github.com/slidingjwt/slidingjwt/token"
)
