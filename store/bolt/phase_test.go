package bolt_test

import (
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store/bolt"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

func TestPhases(t *testing.T) {
	db := openDB(t, dbPath(t), nil)
	s, _ := bolt.New(db, &bolt.Options{PrunePeriod: -1})
	keys := storetest.Keys(100000)
	t0 := time.Now()
	allowAll(t, s, keys, storetest.Base)
	t.Logf("allow %v", time.Since(t0))
	t0 = time.Now()
	n, err := s.Prune(storetest.Base.Add(storetest.Interval))
	t.Logf("prune %v %d %v", time.Since(t0), n, err)
	s.Close()
}
