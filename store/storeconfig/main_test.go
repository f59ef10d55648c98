package storeconfig_test

import (
	"os"
	"testing"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
)

// TestMain stops the Redis Cluster the tests share, once they ran.
func TestMain(m *testing.M) {
	code := m.Run()
	redistest.CloseShared()
	os.Exit(code)
}
