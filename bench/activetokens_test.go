package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/slidingjwt/slidingjwt/middleware"
	"github.com/slidingjwt/slidingjwt/store/memory"
)

// The token cache of BenchmarkActiveSessions: the pre-minted tokens of its
// sessions kept in one file, so that a run need not mint them again. It is
// never committed: it lives in the user's cache directory
// (slidingjwt-bench/active-sessions.tokens), or in the directory
// BENCH_TOKEN_CACHE names; BENCH_TOKEN_CACHE=off turns it off. The file
// holds the most tokens any run asked for; a run that wants fewer reads the
// first ones, a run that wants more mints the rest and writes the file
// again (atomically: a temporary file renamed over it).
//
// The file starts with a key: a digest of the bench settings (the HMAC
// secret among them) and of the test binary itself, so that tokens minted
// under other settings, with another key, or by other code (an issuer that
// writes other claims, or a verifier that would refuse some of them) are
// never used: any change to the code the binary is built from mints them
// again. It then holds the time the oldest token was minted. Tokens are
// minted with iat = now, so they fall due for renewal once older than
// (1 - threshold) x lifetime (24h with the defaults); the file is used only
// while its tokens are younger than half that, which leaves any run that
// starts then half the window before a token could fall due. The rows
// check that no request was renewed.

const (
	tokenCacheEnv    = "BENCH_TOKEN_CACHE"
	tokenCacheName   = "active-sessions.tokens"
	tokenCacheFormat = "slidingjwt-bench active-sessions tokens v1"
)

// tokenCache is the cache file for the tokens of one minter.
type tokenCache struct {
	path   string        // "" when the cache is off
	key    string        // the digest the file must carry
	maxAge time.Duration // how old its tokens may be
}

// newTokenCache returns the cache for the tokens a mints.
func newTokenCache(tb testing.TB, a *app) *tokenCache {
	tb.Helper()
	c := &tokenCache{}
	dir := os.Getenv(tokenCacheEnv)
	switch dir {
	case "off":
		return c
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			tb.Logf("token cache off: %v", err)
			return c
		}
		dir = filepath.Join(base, "slidingjwt-bench")
	}
	s := a.issuer.Settings()
	c.maxAge = time.Duration((1 - s.RenewThreshold) * float64(s.Lifetime("user")) / 2)
	if c.maxAge < time.Hour {
		return c // settings this short are better minted afresh
	}
	bin, err := binaryDigest()
	if err != nil {
		tb.Logf("token cache off: %v", err)
		return c
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%#v\n%s\n", tokenCacheFormat, s, bin))
	c.key = hex.EncodeToString(sum[:])
	c.path = filepath.Join(dir, tokenCacheName)
	return c
}

// binaryDigest returns a digest of the running test binary. Go builds are
// reproducible: the same code, toolchain and flags give the same binary, and
// any change to the code it is built from gives another.
var binaryDigest = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})

// errStale means the file is missing, of another key, too old or short.
var errStale = errors.New("no usable tokens")

// read returns the first n Authorization values ("Bearer " and a token)
// of the file, or all it holds when it holds fewer, the time its oldest
// token was minted and how many tokens it holds.
func (c *tokenCache) read(n int) (vals []string, minted time.Time, held int, err error) {
	if c.path == "" {
		return nil, time.Time{}, 0, errStale
	}
	f, err := os.Open(c.path)
	if err != nil {
		return nil, time.Time{}, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	field := func(name string) string {
		if !sc.Scan() {
			return ""
		}
		v, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			return ""
		}
		return v
	}
	if !sc.Scan() || sc.Text() != tokenCacheFormat || field("key") != c.key {
		return nil, time.Time{}, 0, errStale
	}
	unix, err1 := strconv.ParseInt(field("minted"), 10, 64)
	held, err2 := strconv.Atoi(field("count"))
	if err1 != nil || err2 != nil || held < 0 {
		return nil, time.Time{}, 0, errStale
	}
	minted = time.Unix(unix, 0)
	if age := time.Since(minted); age < 0 || age > c.maxAge {
		return nil, time.Time{}, 0, errStale
	}
	vals = make([]string, 0, min(n, held))
	for len(vals) < n && len(vals) < held && sc.Scan() {
		vals = append(vals, "Bearer "+sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, time.Time{}, 0, err
	}
	if len(vals) < min(n, held) {
		return nil, time.Time{}, 0, fmt.Errorf("%s: %d tokens, its header says %d", c.path, len(vals), held)
	}
	return vals, minted, held, nil
}

// write replaces the file with vals (Authorization values), minted no
// earlier than minted.
func (c *tokenCache) write(vals []string, minted time.Time) (err error) {
	if c.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(c.path), tokenCacheName+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "%s\nkey %s\nminted %d\ncount %d\n", tokenCacheFormat, c.key, minted.Unix(), len(vals))
	for _, v := range vals {
		w.WriteString(strings.TrimPrefix(v, "Bearer "))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), c.path)
}

// activeBearers returns the Authorization values of n valid tokens of n
// distinct sessions, none due for renewal, from the token cache when it
// holds them, else minted (and the cache updated).
func activeBearers(b *testing.B, n int) []string {
	b.Helper()
	st := memory.New(nil)
	defer st.Close()
	a := newApp(b, st, middleware.Config{})
	c := newTokenCache(b, a)
	start := time.Now()
	vals, minted, held, err := c.read(n)
	if err == nil && len(vals) > 0 && !(acceptedNotDue(a.e, vals[0]) && acceptedNotDue(a.e, vals[len(vals)-1])) {
		err = errors.New("a cached token is rejected or due")
	}
	if err != nil {
		if !errors.Is(err, errStale) && !errors.Is(err, os.ErrNotExist) {
			b.Logf("token cache: %v; minting", err)
		}
		vals, minted, held = nil, time.Now(), 0
	}
	if have := len(vals); have < n {
		vals = append(vals, a.bearers(b, n-have, 0)...)
		b.Logf("minted %d tokens in %v (%d from the token cache)", n-have, time.Since(start).Round(time.Millisecond), have)
		if n > held {
			if err := c.write(vals, minted); err != nil {
				b.Logf("token cache not written: %v", err)
			}
		}
	}
	return vals
}

// acceptedNotDue reports whether e answers a request with the
// Authorization value auth with 200 and no new token.
func acceptedNotDue(e *echo.Echo, auth string) bool {
	s := newSink()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set(echo.HeaderAuthorization, auth)
	e.ServeHTTP(s, req)
	_, renewed := s.h[middleware.HeaderNewToken]
	return s.code == http.StatusOK && !renewed
}
