package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/store"
)

// DefaultKeyPrefix is the key prefix used when Options.KeyPrefix is empty.
const DefaultKeyPrefix = "slidingjwt:renew:"

// DefaultTimeout is the per-call time limit used when Options.Timeout is
// zero.
const DefaultTimeout = 250 * time.Millisecond

// minTTL is the shortest expiry given to a key, so that a tiny or zero
// interval still leaves Last something to report for a moment.
const minTTL = time.Second

// Options configures a Store. The zero value, and a nil *Options, give the
// defaults.
type Options struct {
	// KeyPrefix is put before every key the Store writes, so the store can
	// share a Redis database with other data, and several applications can
	// share a server without sharing rate limits. Optional. Default
	// DefaultKeyPrefix.
	KeyPrefix string

	// Timeout bounds each call to Redis (one Allow, one Last), on top of
	// the caller's context: whichever ends first stops the call. It is the
	// longest a request waits for the store before it is served without
	// renewal. It must not be negative. Optional. Default DefaultTimeout.
	Timeout time.Duration

	// RevocationKeyPrefix names the keys and the pub/sub channel that hold
	// the revocations (see Revoke): instances that share it share their
	// sign-outs. It may not contain "{" or "}" (the keys carry it as their
	// Redis Cluster hash tag). Optional. Default DefaultRevocationKeyPrefix.
	RevocationKeyPrefix string

	// MaxRevocations is the most revocations live at once, across every
	// instance that shares RevocationKeyPrefix; a new one beyond it fails
	// with store.ErrRevocationsFull. Give every instance the same value.
	// Optional. Default store.DefaultMaxRevocations (1 000 000). Negative
	// is an error.
	MaxRevocations int

	// WaitReplicas, when positive, makes every revocation (Revoke,
	// RevokeBatch, so every sign-out and write-back) wait until that many
	// replicas of the primary holding the revocations have it (Redis
	// WAIT), for at most three quarters of Timeout: then a sign-out that
	// returned survives a failover to any of them. One that is recorded
	// but not acknowledged in time fails with an error wrapping
	// ErrNotReplicated (the sign-out reports an error; retrying it is
	// harmless). It needs a *redis.Client or a *redis.ClusterClient (Open
	// makes one); New refuses another client. Optional. Default 0: a
	// revocation returns once the primary has it, and a failover to a
	// replica that had not received it yet can lose it unless an instance
	// that learned it is running (see docs/redis-topologies.md). Negative
	// is an error.
	WaitReplicas int
}

// ErrNotReplicated is wrapped by the error of a revocation that the primary
// recorded but fewer than Options.WaitReplicas replicas acknowledged in
// time. The revocation is in force where the primary's data is; it may not
// survive a failover.
var ErrNotReplicated = errors.New("store/redis: revocation not acknowledged by enough replicas")

// Store is the Redis store.Store. Create it with Open or New. It is safe for
// concurrent use.
type Store struct {
	client  goredis.UniversalClient
	owned   bool // Close closes client
	prefix  string
	timeout time.Duration
	closed  atomic.Bool
	rev     revocations // see revoke.go
}

var _ store.Store = (*Store)(nil)

// allowScript decides and records one renewal atomically.
//
//	KEYS[1]  the prefixed session key
//	ARGV[1]  now, in Unix nanoseconds: the value recorded on success
//	ARGV[2]  now - interval: the window's lower edge, excluded
//	ARGV[3]  now + interval: the window's upper edge, excluded
//	ARGV[4]  the key's expiry, in milliseconds
//
// It returns 1 when it recorded now and 0 when the recorded renewal lies
// strictly inside the window. Times are decimal strings of up to 19 digits;
// a Lua number is a double, exact only up to 2^53, so split turns each time t
// into two exact halves, floor(t/1e9) and t mod 1e9, and less compares the
// pairs.
// errForeign ends the error of a key whose value is not a renewal time
// (another program wrote it): the script's and Last's.
const errForeign = "does not hold a renewal time"

var allowScript = goredis.NewScript(`
local function split(s)
  local neg = string.sub(s, 1, 1) == '-'
  local digits = neg and string.sub(s, 2) or s
  if #digits == 0 or #digits > 19 or not string.match(digits, '^%d+$') then
    return nil
  end
  local high = tonumber(string.sub(digits, 1, -10)) or 0
  local low = tonumber(string.sub(digits, -9))
  if not neg then
    return high, low
  end
  if low == 0 then
    return -high, 0
  end
  return -high - 1, 1e9 - low
end

local function less(ah, al, bh, bl)
  return ah < bh or (ah == bh and al < bl)
end

local last = redis.call('GET', KEYS[1])
if last then
  local h, l = split(last)
  if not h then
    return redis.error_reply('ERR slidingjwt: ` + errForeign + `')
  end
  local loh, lol = split(ARGV[2])
  local hih, hil = split(ARGV[3])
  if less(loh, lol, h, l) and less(h, l, hih, hil) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
`)

// New returns a Store that uses client, which the application owns: Close
// leaves it open, and the application closes it after the Store. Any
// go-redis client works (*redis.Client, a failover client,
// *redis.ClusterClient, *redis.Ring). So that Options.Timeout bounds every
// call, the client should have ContextTimeoutEnabled set; see the package
// documentation. New does not contact the server.
func New(client goredis.UniversalClient, opts *Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("store/redis: New: nil client")
	}
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if o.WaitReplicas > 0 {
		switch client.(type) {
		case *goredis.Client, *goredis.ClusterClient:
		default:
			return nil, fmt.Errorf("store/redis: New: Options.WaitReplicas is %d, which needs a *redis.Client or *redis.ClusterClient, not a %T", o.WaitReplicas, client)
		}
	}
	return &Store{client: client, prefix: o.KeyPrefix, timeout: o.Timeout, rev: newRevocations(o)}, nil
}

// Open returns a Store with its own client, configured from a URL:
//
//	redis://[[user]:password@]host[:port][/db]
//	rediss://...            the same over TLS
//	unix://[[user]:password@]/path/to/redis.sock[?db=N]
//	redis-cluster://[[user]:password@]host:port[,host:port...]
//	rediss-cluster://...    a Redis Cluster over TLS
//	redis-sentinel://[[user]:password@]host:port[,host:port...]/name[/db]
//	rediss-sentinel://...   a primary found through Redis Sentinel, over TLS
//
// A redis-cluster:// URL opens a go-redis ClusterClient: it names some of
// the cluster's nodes (one is enough, more let the client start while
// some are down), separated by commas, and the client learns the rest and
// the slots from them. It has no database (a cluster has only 0), and
// takes the go-redis cluster options as query parameters (addr=host:port
// names one more node). Query parameters such as dial_timeout or
// pool_size set the go-redis options of the same name. A redis-sentinel://
// URL opens a go-redis failover client: its hosts are Sentinels, name is
// the primary's name in their configuration, the user info is the
// primary's credentials, and sentinel_username and sentinel_password give
// the Sentinels' own when they have any; the client follows a failover
// to whichever server the Sentinels promote. wait_replicas=N
// sets Options.WaitReplicas, so that a program configured by
// TOKEN_RENEW_REDIS_URL alone can turn it on. The client
// honours context deadlines, dials
// once per attempt and, unless the URL sets max_retries, makes no retries,
// so Options.Timeout bounds every call and a server that refuses
// connections fails a call at once. Close closes the client.
//
// Open does not contact the server, so an application can start while Redis
// is down; call Ping to check the connection. A URL that cannot be used is
// an error that names the problem and shows the URL with its password
// masked.
func Open(rawURL string, opts *Options) (*Store, error) {
	rawURL, wait, err := takeWaitReplicas(rawURL)
	if err != nil {
		return nil, err
	}
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		if o.WaitReplicas != 0 && o.WaitReplicas != wait {
			return nil, fmt.Errorf("store/redis: the URL's %s=%d and Options.WaitReplicas %d differ; set one", waitParam, wait, o.WaitReplicas)
		}
		o.WaitReplicas = wait
	}
	client, err := newClient(rawURL)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, owned: true, prefix: o.KeyPrefix, timeout: o.Timeout, rev: newRevocations(o)}, nil
}

// waitParam is the URL query parameter that sets Options.WaitReplicas.
const waitParam = "wait_replicas"

// takeWaitReplicas removes the wait_replicas query parameter from a URL
// (go-redis does not know it) and returns its value, 0 when absent. The
// query is what follows the first "?" after the user info.
func takeWaitReplicas(raw string) (string, int, error) {
	at := strings.LastIndex(raw, "@")
	q := strings.IndexByte(raw[at+1:], '?')
	if q < 0 {
		return raw, 0, nil
	}
	q += at + 1
	var kept []string
	wait := 0
	for _, p := range strings.Split(raw[q+1:], "&") {
		name, value, _ := strings.Cut(p, "=")
		if name != waitParam {
			kept = append(kept, p)
			continue
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			shown := raw
			if at >= 0 {
				shown = maskRaw(raw)
			}
			return "", 0, fmt.Errorf("store/redis: invalid URL %q: %s=%q; want a number of replicas", shown, waitParam, value)
		}
		wait = n
	}
	if len(kept) == 0 {
		return raw[:q], wait, nil
	}
	return raw[:q+1] + strings.Join(kept, "&"), wait, nil
}

// newClient makes the client a URL describes. Timeout is the whole budget
// of a call, so the client must stop at the context's deadline and not
// spend the budget on repeats: a refused connection fails at once instead
// of after five dials. (A cluster client still follows MOVED and ASK
// redirects, up to three, within that budget: that is how it follows a
// failover.)
func newClient(rawURL string) (goredis.UniversalClient, error) {
	if isSentinelURL(rawURL) {
		fo, err := parseSentinelURL(rawURL)
		if err != nil {
			return nil, err
		}
		fo.ContextTimeoutEnabled = true
		if fo.MaxRetries == 0 {
			fo.MaxRetries = -1
		}
		fo.DialerRetries = 1
		return goredis.NewFailoverClient(fo), nil
	}
	if isClusterURL(rawURL) {
		co, err := parseClusterURL(rawURL)
		if err != nil {
			return nil, err
		}
		co.ContextTimeoutEnabled = true
		if co.MaxRetries == 0 {
			co.MaxRetries = -1
		}
		co.DialerRetries = 1
		return goredis.NewClusterClient(co), nil
	}
	co, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	co.ContextTimeoutEnabled = true
	if co.MaxRetries == 0 {
		co.MaxRetries = -1 // go-redis: -1 disables retries, 0 means the default 3
	}
	co.DialerRetries = 1
	return goredis.NewClient(co), nil
}

// Schemes of the cluster URL form.
const (
	clusterScheme    = "redis-cluster"
	clusterTLSScheme = "rediss-cluster"
)

// isSentinelURL reports whether raw has a Sentinel scheme.
func isSentinelURL(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	return ok && (scheme == "redis-sentinel" || scheme == "rediss-sentinel")
}

// isClusterURL reports whether raw has a cluster scheme.
func isClusterURL(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	return ok && (scheme == clusterScheme || scheme == clusterTLSScheme)
}

// parseClusterURL turns a redis-cluster:// or rediss-cluster:// URL into
// cluster client options: it rewrites the URL in the form go-redis reads
// (redis://first?addr=second&addr=...) and checks it as parseURL does.
// Errors show the URL as given, with anything before an "@" masked.
func parseClusterURL(raw string) (*goredis.ClusterOptions, error) {
	h, err := splitHostsURL(raw, "-cluster")
	if err != nil {
		return nil, err
	}
	if h.path != "" && h.path != "/" && h.path != "/0" {
		return nil, h.bad("a cluster has only database 0; remove the path %q", h.path)
	}
	rewritten, err := h.rewrite(h.userinfo, "", nil)
	if err != nil {
		return nil, err
	}
	co, err := goredis.ParseClusterURL(rewritten)
	if err != nil {
		return nil, h.bad("%s", strings.TrimPrefix(err.Error(), "redis: "))
	}
	return co, nil
}

// parseSentinelURL turns a redis-sentinel:// or rediss-sentinel:// URL
// into failover client options: the hosts are the Sentinels, the path the
// primary's name and database, the user info the primary's credentials,
// and sentinel_username and sentinel_password the Sentinels' own. It
// rewrites the URL in the form go-redis reads
// (redis://[sentinel credentials@]first/db?master_name=...&addr=...).
func parseSentinelURL(raw string) (*goredis.FailoverOptions, error) {
	h, err := splitHostsURL(raw, "-sentinel")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimPrefix(h.path, "/"), "/")
	if parts[0] == "" || len(parts) > 2 {
		return nil, h.bad("the path %q is not /primary-name or /primary-name/db", h.path)
	}
	params := []string{"master_name=" + url.QueryEscape(parts[0])}
	if u, err := url.Parse("redis://" + h.userinfo + "host"); err == nil && u.User != nil {
		if name := u.User.Username(); name != "" {
			params = append(params, "username="+url.QueryEscape(name))
		}
		if p, ok := u.User.Password(); ok {
			params = append(params, "password="+url.QueryEscape(p))
		}
	}
	// The Sentinels' credentials leave the query for the user info.
	var kept []string
	sentinel := url.UserPassword("", "")
	sentinelSet := false
	for _, q := range strings.Split(h.query, "&") {
		name, value, _ := strings.Cut(q, "=")
		v, err := url.QueryUnescape(value)
		switch {
		case (name == "sentinel_username" || name == "sentinel_password") && err != nil:
			return nil, h.bad("%s is not percent-encoded", name)
		case name == "sentinel_username":
			p, _ := sentinel.Password()
			sentinel, sentinelSet = url.UserPassword(v, p), true
		case name == "sentinel_password":
			h.secrets = append(h.secrets, v)
			sentinel, sentinelSet = url.UserPassword(sentinel.Username(), v), true
		case q != "":
			kept = append(kept, q)
		}
	}
	h.query = strings.Join(kept, "&")
	userinfo := ""
	if sentinelSet {
		userinfo = sentinel.String() + "@"
	}
	db := ""
	if len(parts) == 2 {
		db = "/" + parts[1]
	}
	rewritten, err := h.rewrite(userinfo, db, params)
	if err != nil {
		return nil, err
	}
	fo, err := goredis.ParseFailoverURL(rewritten)
	if err != nil {
		return nil, h.bad("%s", strings.TrimPrefix(err.Error(), "redis: "))
	}
	return fo, nil
}

// hostsURL is a URL of the cluster or Sentinel form, split:
// scheme://[userinfo@]host:port[,host:port...][path][?query].
type hostsURL struct {
	base     string // the scheme without its suffix: redis or rediss
	scheme   string
	shown    string // the URL as given, user info masked
	secrets  []string
	userinfo string // with its "@", or empty
	hosts    []string
	path     string
	query    string
}

// splitHostsURL splits raw, whose scheme is redis or rediss followed by
// suffix, and checks its host list.
func splitHostsURL(raw, suffix string) (hostsURL, error) {
	scheme, rest, _ := strings.Cut(raw, "://")
	h := hostsURL{base: strings.TrimSuffix(scheme, suffix), scheme: scheme, shown: raw}
	if strings.Contains(raw, "@") {
		h.shown = maskRaw(raw)
	}
	// The host list ends at the first "/" or "?" after the user info.
	at := strings.LastIndex(rest, "@")
	auth, tail := rest, ""
	if i := strings.IndexAny(rest[at+1:], "/?#"); i >= 0 {
		auth, tail = rest[:at+1+i], rest[at+1+i:]
	}
	h.userinfo = auth[:at+1]
	if u, err := url.Parse("redis://" + h.userinfo + "host"); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			h.secrets = append(h.secrets, p)
		}
	}
	if strings.Contains(tail, "#") {
		return h, h.bad("a fragment (#) has no meaning here")
	}
	h.path, h.query, _ = strings.Cut(tail, "?")
	h.hosts = strings.Split(auth[at+1:], ",")
	for _, a := range h.hosts {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return h, h.bad("address %q is not host:port; want %s://host:port[,host:port...]", a, scheme)
		}
	}
	return h, nil
}

// bad is an error about the URL, with every secret masked.
func (h hostsURL) bad(format string, args ...any) error {
	shown, msg := h.shown, fmt.Sprintf(format, args...)
	for _, p := range h.secrets {
		if p != "" {
			shown = strings.ReplaceAll(shown, p, "xxxxx")
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return fmt.Errorf("store/redis: invalid URL %q: %s", shown, msg)
}

// rewrite builds the go-redis form: base://userinfo+first host+path, then
// the query, params, and an addr parameter for each further host; and
// checks it as parseURL does (user info, escapes).
func (h hostsURL) rewrite(userinfo, path string, params []string) (string, error) {
	var q []string
	if h.query != "" {
		q = append(q, h.query)
	}
	q = append(q, params...)
	for _, a := range h.hosts[1:] {
		q = append(q, "addr="+url.QueryEscape(a))
	}
	rewritten := h.base + "://" + userinfo + h.hosts[0] + path
	if len(q) > 0 {
		rewritten += "?" + strings.Join(q, "&")
	}
	if _, err := parseURL(rewritten); err != nil && !strings.Contains(err.Error(), "unexpected option") {
		// Its message quotes the rewritten URL: keep what follows it.
		msg := err.Error()
		if i := strings.Index(msg, `": `); i >= 0 {
			msg = msg[i+3:]
		}
		return "", h.bad("%s", msg)
	}
	return rewritten, nil
}

// resolve fills in the defaults and checks opts.
func resolve(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout < 0 {
		return o, fmt.Errorf("store/redis: Options.Timeout is %v; want a positive duration, or 0 for the default %v", o.Timeout, DefaultTimeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	return resolveRevocations(o)
}

// Allow implements store.Store in one round trip to Redis.
func (s *Store) Allow(ctx context.Context, key string, now time.Time, interval time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store/redis: allow: %w", err)
	}
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	if err := store.CheckTime(now); err != nil {
		return false, err
	}
	// A zero or negative interval refuses nothing; with both edges at now
	// the window is empty.
	interval = max(interval, 0)
	n := now.UnixNano()
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := allowScript.Run(callCtx, s.client, []string{s.prefix + key},
		n, addSat(n, -interval), addSat(n, interval), ttlMillis(interval)).Int64()
	if err != nil {
		if strings.Contains(err.Error(), errForeign) {
			return false, fmt.Errorf("store/redis: allow: key %q %s", s.prefix+key, errForeign)
		}
		return false, s.failure("allow", ctx, callCtx, err)
	}
	return res == 1, nil
}

// Last implements store.Store with one GET.
func (s *Store) Last(ctx context.Context, key string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("store/redis: last: %w", err)
	}
	if s.closed.Load() {
		return time.Time{}, false, store.ErrClosed
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	v, err := s.client.Get(callCtx, s.prefix+key).Result()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, s.failure("last", ctx, callCtx, err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store/redis: last: key %q %s", s.prefix+key, errForeign)
	}
	return time.Unix(0, n).UTC(), true, nil
}

// Ping checks that the server answers within Options.Timeout (and ctx). It
// suits a start-up or readiness check; the store itself never needs it.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store/redis: ping: %w", err)
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(callCtx).Err(); err != nil {
		return s.failure("ping", ctx, callCtx, err)
	}
	return nil
}

// Close marks the Store closed, ends its revocation watches and, if Open
// created its client, closes the client. It is idempotent: later calls
// return nil. A client given to New stays open.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.rev.closing)
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("store/redis: close: %w", err)
	}
	return nil
}

// failure wraps err from a call made with callCtx, derived from the caller's
// ctx, so that errors.Is finds the reason the call stopped: store.ErrClosed
// when the Store was closed meanwhile, the caller's context error, or
// context.DeadlineExceeded when Options.Timeout ran out. (go-redis reports
// a deadline it put on the socket as a network timeout.)
func (s *Store) failure(op string, ctx, callCtx context.Context, err error) error {
	s.followTopology()
	var reason error
	switch {
	case s.closed.Load():
		reason = store.ErrClosed
	case ctxErr(ctx) != nil:
		reason = ctxErr(ctx)
	case ctxErr(callCtx) != nil:
		op = fmt.Sprintf("%s: no answer within %v", op, s.timeout)
		reason = ctxErr(callCtx)
	}
	if reason == nil || errors.Is(err, reason) {
		return fmt.Errorf("store/redis: %s: %w", op, err)
	}
	return fmt.Errorf("store/redis: %s: %w: %w", op, reason, err)
}

// followTopology asks a cluster client to read the cluster's slots again
// after a call failed: the primary it called may be gone and a replica
// promoted in its place, which the client learns otherwise only from a
// MOVED answer or once a minute. go-redis reloads in the background, one
// reload at a time.
func (s *Store) followTopology() {
	if c, ok := s.client.(*goredis.ClusterClient); ok {
		c.ReloadState(context.Background())
	}
}

// ctxErr is ctx.Err(), except that a deadline in the past counts even if
// ctx has not noticed yet: go-redis sets the context's deadline on the
// socket, and the read can fail a moment before the context's own timer.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// addSat returns n+d, saturated at the ends of int64 instead of wrapping.
func addSat(n int64, d time.Duration) int64 {
	switch {
	case d > 0 && n > math.MaxInt64-int64(d):
		return math.MaxInt64
	case d < 0 && n < math.MinInt64-int64(d):
		return math.MinInt64
	}
	return n + int64(d)
}

// ttlMillis is the expiry of a key recorded with interval: twice the
// interval, at least minTTL, rounded up to whole milliseconds and capped
// where doubling would overflow. A refusal can come up to one interval after
// the recorded time in the callers' clocks; the second interval absorbs
// clock differences between instances.
func ttlMillis(interval time.Duration) int64 {
	ttl := minTTL
	switch {
	case interval > math.MaxInt64/2:
		ttl = math.MaxInt64
	case 2*interval > ttl:
		ttl = 2 * interval
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// parseURL turns a redis://, rediss:// or unix:// URL into client options.
// Its errors show the URL with the password masked and never quote text
// that could be part of one.
func parseURL(raw string) (*goredis.Options, error) {
	if raw == "" {
		return nil, errors.New("store/redis: empty URL; want redis://host:port/db, rediss://host:port/db, unix:///path/to/socket or redis-cluster://host:port,host:port")
	}
	const encodeHint = "percent-encode reserved characters in the user name and password"
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			// The parser's message may quote any part of the URL, and
			// with credentials present that part may be the password.
			return nil, fmt.Errorf("store/redis: invalid URL %q: it does not parse; check the host and port, and %s (the parser's message is withheld: it may quote the password)", maskRaw(raw), encodeHint)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("store/redis: invalid URL %q: %v", raw, err)
	}
	// An "@" past the user info means the URL was not split where its
	// author meant, typically at an unescaped "/" or "?" in the password,
	// whose pieces then sit in the path or query that go-redis quotes.
	// Such a URL is shown masked, and its problem named by kind only.
	stray := strings.Contains(u.Opaque+u.Path+u.RawQuery+u.Fragment, "@")
	shown, password := raw, ""
	if stray {
		shown = maskRaw(raw)
	} else if p, ok := u.User.Password(); ok {
		shown, password = u.Redacted(), p
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, fmt.Errorf("store/redis: invalid URL %q: scheme %q is not redis, rediss, unix, redis-cluster, rediss-cluster, redis-sentinel or rediss-sentinel", shown, u.Scheme)
	}
	o, err := goredis.ParseURL(raw)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "redis: ")
		switch {
		case stray:
			// go-redis writes "kind: detail"; the detail may be a piece
			// of the password.
			kind, _, _ := strings.Cut(msg, ":")
			msg = fmt.Sprintf("%s; an \"@\" follows the user info: %s", kind, encodeHint)
		case password != "":
			// go-redis quotes bad query values, and nothing stops a
			// password from appearing there too.
			shown = strings.ReplaceAll(shown, password, "xxxxx")
			msg = strings.ReplaceAll(msg, password, "xxxxx")
		}
		return nil, fmt.Errorf("store/redis: invalid URL %q: %s", shown, msg)
	}
	return o, nil
}

// maskRaw hides everything between the scheme and the last "@" of a URL
// that does not parse, where the user name and password would be.
func maskRaw(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	prefix := ""
	if scheme, _, ok := strings.Cut(raw, "://"); ok && !strings.Contains(scheme, "@") {
		prefix = scheme + "://"
	}
	return prefix + "xxxxx@" + raw[at+1:]
}
