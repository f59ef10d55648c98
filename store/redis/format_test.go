package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/internal/redistest"
	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/storetest"
)

// TestRevocationFormatKey: the store writes its format version next to
// the revocations, and refuses (fails closed) to read or write revocations
// kept in a format it does not know, naming the key and the format.
func TestRevocationFormatKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	prefix := uniquePrefix()
	s := open(t, srv.URL(), revOpts(prefix, 0))
	storetest.MustRevoke(t, s, storetest.SessionRevocation(1), storetest.Base)
	formatKey := "{" + prefix + "}format"
	if got, err := admin.Get(ctx, formatKey).Result(); err != nil || got != "2" {
		t.Fatalf("GET %s = %q, %v; want \"2\"", formatKey, got, err)
	}

	if err := admin.Set(ctx, formatKey, "3", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, feedErr := s.RevocationsSince(ctx, store.RevocationCursor{}, storetest.Base, 0)
	for name, err := range map[string]error{
		"Revoke":           s.Revoke(ctx, storetest.SessionRevocation(2), storetest.Base),
		"RevokeBatch":      s.RevokeBatch(ctx, []store.Revocation{storetest.SessionRevocation(3)}, storetest.Base),
		"RevocationsSince": feedErr,
	} {
		if err == nil || !strings.Contains(err.Error(), formatKey) || !strings.Contains(err.Error(), `format "3"`) {
			t.Errorf("%s with format 3 in Redis = %v; want an error naming %s and format \"3\"", name, err, formatKey)
		}
	}
	if n, err := admin.HLen(ctx, dataKey(prefix)).Result(); err != nil || n != 1 {
		t.Errorf("the data hash holds %d, %v; want 1: nothing written in an unknown format", n, err)
	}
}

// legacyRevoke writes a revocation as releases before the format key did:
// data, exp, log and seq, with no history or format key.
var legacyRevoke = goredis.NewScript(`
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
return seq
`)

// TestReadsEarlierFormat: in a fleet being upgraded, revocations written by
// an earlier release (no history or format key) are read by this one
// without a reset, before and after this release's own writes, and its
// cursor then names the newest change this release wrote.
func TestReadsEarlierFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := newClient(t, srv)
	prefix := uniquePrefix()
	s := open(t, srv.URL(), revOpts(prefix, 0))
	tag := "{" + prefix + "}"
	keys := []string{tag + "data", tag + "exp", tag + "log", tag + "seq"}
	old := func(i int) store.Revocation {
		r := storetest.SessionRevocation(100 + i)
		field := string([]byte{byte(r.Kind)}) + string(r.Key[:])
		record := fmt.Sprintf("%020d%020d", uint64(r.Before.UnixNano())^(1<<63), uint64(r.Until.UnixNano())^(1<<63))
		if err := legacyRevoke.Run(ctx, admin, keys, field, record, r.Until.Unix()).Err(); err != nil {
			t.Fatalf("legacy revoke: %v", err)
		}
		return r
	}
	read := func(cursor store.RevocationCursor, want ...store.Revocation) store.RevocationCursor {
		t.Helper()
		page, err := s.RevocationsSince(ctx, cursor, storetest.Base, 0)
		if err != nil {
			t.Fatalf("RevocationsSince(%+v): %v", cursor, err)
		}
		if page.Reset {
			t.Fatalf("RevocationsSince(%+v) reset over an earlier release's writes", cursor)
		}
		storetest.SameRevocations(t, "read", page.Revocations, want)
		return page.Next
	}
	first := old(1)
	cursor := read(store.RevocationCursor{}, first)
	if cursor.Change != "" {
		t.Errorf("cursor over an earlier release's writes names change %q; want none", cursor.Change)
	}
	mine := storetest.SessionRevocation(1)
	storetest.MustRevoke(t, s, mine, storetest.Base)
	cursor = read(cursor, mine)
	if cursor.Change == "" {
		t.Errorf("cursor after this release's write names no change")
	}
	second := old(2)
	cursor = read(cursor, second)
	read(cursor)
}
