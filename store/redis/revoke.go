package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slidingjwt/slidingjwt/store"
)

// DefaultRevocationKeyPrefix is the revocation key prefix used when
// Options.RevocationKeyPrefix is empty.
const DefaultRevocationKeyPrefix = "slidingjwt:revoke:"

// DefaultRevocationPage is how many revocations RevocationsSince returns
// at most when the caller passes no limit, and the most it returns at all.
const DefaultRevocationPage = 10_000

const (
	// pruneLimit is how many expired revocations one script deletes at most,
	// which bounds how long it runs.
	pruneLimit = 1000
	// batchSize is how many revocations RevokeBatch sends in one pipeline.
	batchSize = 256
	// watchPing is how long a watch waits for a message before it pings the
	// server; a ping unanswered for as long again ends the watch, so a
	// connection that died without a word does not stall it for ever.
	watchPing = 15 * time.Second
	// historyKeep is how many of the latest changes the history key names.
	// A reader whose cursor names a change older than that is told to
	// start again (a Reset), as after a rollback: it reads everything and
	// writes back what the server lacks, which is nothing.
	historyKeep = 20_000
	// formatVersion is the format of the revocation keys this release
	// writes and reads, kept in the format key. Releases before the
	// format key wrote the same data, log, seq and epoch keys, and no
	// history key.
	formatVersion = "2"
)

// Markers of the scripts' errors.
const (
	errFull          = "revocations full"
	errForeignRecord = "does not hold a revocation record"
	errFormat        = "revocation format"
)

var _ interface {
	store.RevocationFeed
	store.RevocationWatcher
	store.BatchRevoker
} = (*Store)(nil)

// revocations is the revocation side of a Store: its keys, channel and cap.
//
// Seven keys, all with the same Redis Cluster hash tag (the prefix in
// braces) so that one script may touch them all:
//
//	{prefix}data    hash: field -> record, one field per revoked session or subject
//	{prefix}exp     sorted set: field by the second its Until falls in
//	{prefix}log     sorted set: field by the sequence number of its last change
//	{prefix}seq     string: the last sequence number given (INCR)
//	{prefix}epoch   string: names the history the sequence numbers belong to
//	{prefix}hist    sorted set: a random id of each of the latest changes
//	                (historyKeep) by its sequence number
//	{prefix}format  string: formatVersion
//
// The history key is what tells a rollback from a history that went on: a
// reader's cursor names the newest change it saw (its id), and a server
// that no longer holds that id lost the changes after some earlier point,
// whatever its sequence number says since. A server restarted from an
// older snapshot, or a replica promoted while it lagged, is such a server:
// Redis persists and replicates a prefix of the writes, so one that holds
// a change holds every change before it.
//
// A field is 17 bytes: the kind (1 session, 2 subject), then the 16-byte key.
// A record is 40 decimal digits: Before, then Until, each a time in Unix
// nanoseconds with its sign bit flipped, as a 20-digit unsigned number, so
// that comparing two records' strings compares their times. Each change
// is published on the channel prefix+"events" as field followed by record.
type revocations struct {
	keys    []string // data, exp, log, seq, epoch, hist, format
	channel string
	max     int
	wait    int           // Options.WaitReplicas
	closing chan struct{} // closed by Close: ends the watches
}

func resolveRevocations(o Options) (Options, error) {
	if o.MaxRevocations < 0 {
		return o, fmt.Errorf("store/redis: Options.MaxRevocations is %d; want 0 (default %d) or a positive number of revocations",
			o.MaxRevocations, store.DefaultMaxRevocations)
	}
	if o.MaxRevocations == 0 {
		o.MaxRevocations = store.DefaultMaxRevocations
	}
	if o.WaitReplicas < 0 {
		return o, fmt.Errorf("store/redis: Options.WaitReplicas is %d; want 0 (do not wait) or a number of replicas", o.WaitReplicas)
	}
	if strings.ContainsAny(o.RevocationKeyPrefix, "{}") {
		return o, fmt.Errorf("store/redis: Options.RevocationKeyPrefix %q contains a brace; the store adds the Redis Cluster hash tag itself", o.RevocationKeyPrefix)
	}
	if o.RevocationKeyPrefix == "" {
		o.RevocationKeyPrefix = DefaultRevocationKeyPrefix
	}
	return o, nil
}

func newRevocations(o Options) revocations {
	tag := "{" + o.RevocationKeyPrefix + "}"
	return revocations{
		keys:    []string{tag + "data", tag + "exp", tag + "log", tag + "seq", tag + "epoch", tag + "hist", tag + "format"},
		channel: o.RevocationKeyPrefix + "events",
		max:     o.MaxRevocations,
		wait:    o.WaitReplicas,
		closing: make(chan struct{}),
	}
}

// pruneLua deletes expired revocations, at most ARGV[limit] of each kind
// below: those whose Until fell in a second before now's, and those in
// now's second whose Until is not after now. It expects data, exp, log,
// nowhex (now as a record half) and nows (now's second) in scope.
const pruneLua = `
local function drop(fields)
  if #fields > 0 then
    redis.call('HDEL', data, unpack(fields))
    redis.call('ZREM', exp, unpack(fields))
    redis.call('ZREM', log, unpack(fields))
  end
end
drop(redis.call('ZRANGEBYSCORE', exp, '-inf', '(' .. nows, 'LIMIT', 0, limit))
local edge = redis.call('ZRANGEBYSCORE', exp, nows, nows, 'LIMIT', 0, limit)
if #edge > 0 then
  local vals = redis.call('HMGET', data, unpack(edge))
  local gone = {}
  for i = 1, #edge do
    if not vals[i] or string.sub(vals[i], 21) <= nowhex then
      gone[#gone + 1] = edge[i]
    end
  end
  drop(gone)
end
`

// formatLua checks the format key, and writes it when missing. It expects
// fmtk and ver in scope.
const formatLua = `
local have = redis.call('GET', fmtk)
if not have then
  redis.call('SET', fmtk, ver)
elseif have ~= ver then
  return redis.error_reply('ERR slidingjwt: ` + errFormat + ` ' .. string.sub(have, 1, 20))
end
`

// revokeScript records one revocation, merged with the one recorded for the
// same field, under the cap, and publishes it.
//
//	KEYS     data, exp, log, seq, hist, format
//	ARGV[1]  the field
//	ARGV[2]  the record
//	ARGV[3]  now, as a record half (20 digits)
//	ARGV[4]  now's second: floor(now / 1s)
//	ARGV[5]  the record's Until's second
//	ARGV[6]  the cap on live revocations
//	ARGV[7]  the most expired revocations to delete, of each kind
//	ARGV[8]  the channel
//	ARGV[9]  a random id for the change
//	ARGV[10] how many change ids the history key keeps
//	ARGV[11] the format version
//
// It returns 1 when it recorded a change, 0 when the field already held
// the same or later times, and an error when the cap is reached or the
// field holds something that is not a record. The live revocations are
// counted as those whose Until falls in a second after now's, plus those in
// now's second that pruning left because they are after now; should more
// than ARGV[7] revocations expire within now's second, the rest count as
// live until the next call, which errs towards refusing.
var revokeScript = goredis.NewScript(`
local data, exp, log, seqk, hist, fmtk = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local field, val, nowhex, nows, untils = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cap, limit, channel = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local ver = ARGV[11]
` + formatLua + pruneLua + `
local cur = redis.call('HGET', data, field)
if cur and (#cur ~= 40 or not string.match(cur, '^%d+$')) then
  return redis.error_reply('ERR slidingjwt: ` + errForeignRecord + `')
end
local new = val
if cur and string.sub(cur, 21) > nowhex then
  local b, u = string.sub(cur, 1, 20), string.sub(cur, 21)
  local nb, nu = string.sub(val, 1, 20), string.sub(val, 21)
  if b > nb then nb = b end
  if u > nu then nu = u; untils = nil end
  new = nb .. nu
  if new == cur then
    return 0
  end
else
  local live = redis.call('ZCARD', exp) - redis.call('ZCOUNT', exp, '-inf', '(' .. nows)
  if live >= cap then
    return redis.error_reply('ERR slidingjwt: ` + errFull + `: ' .. live)
  end
end
local seq = redis.call('INCR', seqk)
redis.call('HSET', data, field, new)
if untils then
  redis.call('ZADD', exp, untils, field)
end
redis.call('ZADD', log, seq, field)
redis.call('ZADD', hist, seq, ARGV[9])
redis.call('ZREMRANGEBYRANK', hist, 0, -tonumber(ARGV[10]) - 1)
redis.call('PUBLISH', channel, field .. new)
return 1
`)

// feedScript lists what changed after a cursor, and prunes.
//
//	KEYS     data, exp, log, seq, epoch, hist, format
//	ARGV[1]  the cursor's epoch ("" for the zero cursor)
//	ARGV[2]  the cursor's sequence number
//	ARGV[3]  the most fields to return
//	ARGV[4]  an epoch to start the history with, if there is none
//	ARGV[5]  now, as a record half
//	ARGV[6]  now's second
//	ARGV[7]  the most expired revocations to delete, of each kind
//	ARGV[8]  the cursor's change id ("" for none)
//	ARGV[9]  the format version
//
// It returns the epoch, the last sequence number, 1 if the cursor does not
// belong to this history (else 0), the id of the newest change the history
// key holds ("" if none), then for each field changed after the cursor (or
// from the start, for a reset): the field, its record ("" if gone) and the
// sequence number of its last change. A cursor belongs to the history when
// its epoch is the history's, its sequence number is not ahead of it, and
// the history key holds its change id (an empty one is not checked: a
// cursor from a server that no release with the history key wrote to).
var feedScript = goredis.NewScript(`
local data, exp, log, seqk, epochk, hist, fmtk = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local nowhex, nows, limit = ARGV[5], ARGV[6], tonumber(ARGV[7])
local ver = ARGV[9]
` + formatLua + pruneLua + `
local epoch = redis.call('GET', epochk)
if not epoch then
  epoch = ARGV[4]
  redis.call('SET', epochk, epoch)
end
local seq = tonumber(redis.call('GET', seqk) or '0') or 0
local from, reset = ARGV[2], 0
if ARGV[1] == '' then
  from = '0'
elseif ARGV[1] ~= epoch or (tonumber(from) or 0) > seq then
  from, reset = '0', 1
elseif ARGV[8] ~= '' and not redis.call('ZSCORE', hist, ARGV[8]) then
  from, reset = '0', 1
end
local newest = redis.call('ZRANGE', hist, -1, -1)[1] or ''
local page = redis.call('ZRANGEBYSCORE', log, '(' .. from, '+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[3])
local out = {epoch, seq, reset, newest}
local n = #page / 2
for start = 1, n, 1000 do
  local fields = {}
  for i = start, math.min(n, start + 999) do
    fields[#fields + 1] = page[2 * i - 1]
  end
  local vals = redis.call('HMGET', data, unpack(fields))
  for j = 1, #fields do
    out[#out + 1] = fields[j]
    out[#out + 1] = vals[j] or ''
    out[#out + 1] = page[2 * (start + j - 1)]
  end
end
return out
`)

// encodeTime writes a time in Unix nanoseconds as a record half: 20 digits
// whose order as strings is the order of the times.
func encodeTime(n int64) string {
	return fmt.Sprintf("%020d", uint64(n)^(1<<63))
}

func decodeTime(s string) (int64, bool) {
	if len(s) != 20 {
		return 0, false
	}
	u, err := strconv.ParseUint(s, 10, 64)
	return int64(u ^ (1 << 63)), err == nil
}

// second returns floor(n / 1s) for a time in Unix nanoseconds.
func second(n int64) int64 {
	q := n / int64(time.Second)
	if n%int64(time.Second) < 0 {
		q--
	}
	return q
}

func encodeField(kind store.RevocationKind, key store.RevocationKey) string {
	var b [17]byte
	b[0] = byte(kind)
	copy(b[1:], key[:])
	return string(b[:])
}

// decodeRecord reads a field and a record back into a Revocation.
func decodeRecord(field, record string) (store.Revocation, bool) {
	if len(field) != 17 || len(record) != 40 {
		return store.Revocation{}, false
	}
	kind := store.RevocationKind(field[0])
	before, ok1 := decodeTime(record[:20])
	until, ok2 := decodeTime(record[20:])
	if kind != store.RevokeSession && kind != store.RevokeSubject || !ok1 || !ok2 {
		return store.Revocation{}, false
	}
	r := store.Revocation{Kind: kind, Before: time.Unix(0, before).UTC(), Until: time.Unix(0, until).UTC()}
	copy(r.Key[:], field[1:])
	return r, true
}

// decodeMessage reads a message of the revocation channel: a field (17
// bytes) followed by its record (40 digits).
func decodeMessage(payload string) (store.Revocation, bool) {
	if len(payload) != 17+40 {
		return store.Revocation{}, false
	}
	return decodeRecord(payload[:17], payload[17:])
}

// revokeArgs are revokeScript's ARGV for r at now.
func (s *Store) revokeArgs(r store.Revocation, now time.Time) []any {
	n := now.UnixNano()
	return []any{
		encodeField(r.Kind, r.Key),
		encodeTime(r.Before.UnixNano()) + encodeTime(r.Until.UnixNano()),
		encodeTime(n),
		second(n),
		second(r.Until.UnixNano()),
		s.rev.max,
		pruneLimit,
		s.rev.channel,
		changeID(),
		historyKeep,
		formatVersion,
	}
}

// changeID returns a random id for one change: 16 hex digits.
func changeID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// checkRevoke runs the checks Revoke and RevokeBatch share before they
// write, and reports whether r is live (worth writing).
func (s *Store) checkRevoke(ctx context.Context, r store.Revocation, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store/redis: revoke: %w", err)
	}
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	if err := r.Validate(); err != nil {
		return false, err
	}
	if err := store.CheckTime(now); err != nil {
		return false, err
	}
	return r.Live(now), nil
}

// Revoke implements store.Revoker in one round trip: a script that prunes
// expired revocations, checks the cap, merges r with what is recorded,
// and publishes the result to the instances watching
// (WatchRevocations), all atomically.
func (s *Store) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	live, err := s.checkRevoke(ctx, r, now)
	if !live || err != nil {
		return err
	}
	if s.rev.wait > 0 {
		return s.revokeChunk(ctx, []store.Revocation{r}, now)
	}
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err = revokeScript.Run(callCtx, s.client, s.revokeKeys(), s.revokeArgs(r, now)...).Err()
	return s.revokeError(ctx, callCtx, r, err)
}

// revokeKeys are revokeScript's KEYS: data, exp, log, seq, hist, format.
func (s *Store) revokeKeys() []string {
	k := s.rev.keys
	return []string{k[0], k[1], k[2], k[3], k[5], k[6]}
}

// formatError names the format a script found in the format key.
func (s *Store) formatError(op string, err error) error {
	msg := err.Error()
	found := msg[strings.LastIndex(msg, " ")+1:]
	return fmt.Errorf("store/redis: %s: %q holds the revocations in format %q, and this release reads format %s: "+
		"a later release wrote them (upgrade this instance) or the keys are not this library's", op, s.rev.keys[6], found, formatVersion)
}

// revokeError turns a script's error into the Revoker's.
func (s *Store) revokeError(ctx, callCtx context.Context, r store.Revocation, err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), errFull):
		live := err.Error()[strings.LastIndex(err.Error(), " ")+1:]
		return fmt.Errorf("%w: %s live revocations under %q, the cap (Options.MaxRevocations is %d); "+
			"wait for some to expire or raise the cap on every instance", store.ErrRevocationsFull, live, s.rev.keys[0], s.rev.max)
	case strings.Contains(err.Error(), errForeignRecord):
		return fmt.Errorf("store/redis: revoke: the %s field %s of %q %s", r.Kind, r.Key, s.rev.keys[0], errForeignRecord)
	case strings.Contains(err.Error(), errFormat):
		return s.formatError("revoke", err)
	}
	return s.failure("revoke", ctx, callCtx, err)
}

// RevokeBatch implements store.BatchRevoker: it checks every revocation,
// then sends them in pipelines of a few hundred, each bounded by
// Options.Timeout.
func (s *Store) RevokeBatch(ctx context.Context, rs []store.Revocation, now time.Time) error {
	var live []store.Revocation
	for _, r := range rs {
		ok, err := s.checkRevoke(ctx, r, now)
		if err != nil {
			return err
		}
		if ok {
			live = append(live, r)
		}
	}
	for chunk := range slices.Chunk(live, batchSize) {
		if err := s.revokeChunk(ctx, chunk, now); err != nil {
			return err
		}
	}
	return nil
}

// revokeChunk sends rs in one pipeline; with Options.WaitReplicas, to the
// primary that holds the revocations, on one connection, followed by a
// WAIT for its replicas.
func (s *Store) revokeChunk(ctx context.Context, rs []store.Revocation, now time.Time) error {
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var on goredis.Scripter = s.client
	var pipe goredis.Pipeliner
	if s.rev.wait > 0 {
		primary, err := s.primary(callCtx)
		if err != nil {
			return s.failure("revoke", ctx, callCtx, err)
		}
		on, pipe = primary, primary.Pipeline()
	} else {
		pipe = s.client.Pipeline()
	}
	// Load the script, then send only its digest: a server that lost its
	// scripts since then fails the batch, and the caller tries again.
	if err := revokeScript.Load(callCtx, on).Err(); err != nil {
		return s.failure("revoke", ctx, callCtx, err)
	}
	cmds := make([]*goredis.Cmd, len(rs))
	for i, r := range rs {
		cmds[i] = revokeScript.EvalSha(callCtx, pipe, s.revokeKeys(), s.revokeArgs(r, now)...)
	}
	var wait *goredis.IntCmd
	waitFor := max(s.timeout*3/4, time.Millisecond)
	if s.rev.wait > 0 {
		// WAIT is not among go-redis's pipeline methods; it takes
		// its timeout in milliseconds.
		wait = goredis.NewIntCmd(callCtx, "wait", s.rev.wait, waitFor.Milliseconds())
		_ = pipe.Process(callCtx, wait)
	}
	_, err := pipe.Exec(callCtx)
	for i, c := range cmds {
		if err := c.Err(); err != nil {
			return s.revokeError(ctx, callCtx, rs[i], err)
		}
	}
	if err != nil {
		return s.failure("revoke", ctx, callCtx, err)
	}
	if wait != nil && wait.Val() < int64(s.rev.wait) {
		return fmt.Errorf("%w: %d revocations recorded, acknowledged by %d replicas within %v; Options.WaitReplicas is %d",
			ErrNotReplicated, len(rs), wait.Val(), waitFor, s.rev.wait)
	}
	return nil
}

// primary returns a client of the server that holds the revocation keys:
// the client itself, or the cluster's primary for their slot.
func (s *Store) primary(ctx context.Context) (*goredis.Client, error) {
	switch c := s.client.(type) {
	case *goredis.Client:
		return c, nil
	case *goredis.ClusterClient:
		return c.MasterForKey(ctx, s.rev.keys[0])
	}
	return nil, fmt.Errorf("Options.WaitReplicas needs a *redis.Client or *redis.ClusterClient, not a %T", s.client)
}

// RevocationsSince implements store.RevocationFeed in one round trip: a
// script that also prunes expired revocations. The history is the one in
// Redis: it goes on across restarts of the server as far as the server's
// persistence keeps it (run Redis with appendonly yes), and a server that
// comes back empty, or is emptied (FLUSHALL), starts a new one, which
// readers see as a Reset. A limit above DefaultRevocationPage is lowered
// to it.
func (s *Store) RevocationsSince(ctx context.Context, cursor store.RevocationCursor, now time.Time, limit int) (store.RevocationPage, error) {
	if err := ctx.Err(); err != nil {
		return store.RevocationPage{}, fmt.Errorf("store/redis: revocations: %w", err)
	}
	if s.closed.Load() {
		return store.RevocationPage{}, store.ErrClosed
	}
	if err := store.CheckTime(now); err != nil {
		return store.RevocationPage{}, err
	}
	if limit <= 0 || limit > DefaultRevocationPage {
		limit = DefaultRevocationPage
	}
	n := now.UnixNano()
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := feedScript.Run(callCtx, s.client, s.rev.keys,
		cursor.Epoch, cursor.Seq, limit, changeID(), encodeTime(n), second(n), pruneLimit, cursor.Change, formatVersion).Slice()
	if err != nil {
		if strings.Contains(err.Error(), errFormat) {
			return store.RevocationPage{}, s.formatError("revocations", err)
		}
		return store.RevocationPage{}, s.failure("revocations", ctx, callCtx, err)
	}
	return s.parsePage(res, n, limit)
}

// parsePage reads feedScript's answer.
func (s *Store) parsePage(res []any, now int64, limit int) (store.RevocationPage, error) {
	bad := func(what string) (store.RevocationPage, error) {
		return store.RevocationPage{}, fmt.Errorf("store/redis: revocations: unexpected answer from the feed script: %s", what)
	}
	const head = 4
	if len(res) < head || (len(res)-head)%3 != 0 {
		return bad(fmt.Sprintf("%d values", len(res)))
	}
	epoch, ok1 := res[0].(string)
	seq, ok2 := res[1].(int64)
	reset, ok3 := res[2].(int64)
	change, ok4 := res[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return bad(fmt.Sprintf("a head of %T, %T, %T, %T", res[0], res[1], res[2], res[3]))
	}
	page := store.RevocationPage{Next: store.RevocationCursor{Epoch: epoch, Seq: seq, Change: change}, Reset: reset == 1}
	fields := (len(res) - head) / 3
	for i := head; i < len(res); i += 3 {
		field, ok1 := res[i].(string)
		record, ok2 := res[i+1].(string)
		score, ok3 := res[i+2].(string)
		if !ok1 || !ok2 || !ok3 {
			return bad(fmt.Sprintf("an entry of %T, %T, %T", res[i], res[i+1], res[i+2]))
		}
		if fields == limit {
			// The page is full: continue after its last change. Scores
			// are integers, which Redis may print as floats.
			f, err := strconv.ParseFloat(score, 64)
			if err != nil {
				return bad(fmt.Sprintf("sequence number %q", score))
			}
			page.Next.Seq, page.More = int64(f), true
		}
		if record == "" {
			continue // the field was deleted between the two reads of the script
		}
		r, ok := decodeRecord(field, record)
		if !ok {
			return store.RevocationPage{}, fmt.Errorf("store/redis: revocations: a field of %q %s", s.rev.keys[0], errForeignRecord)
		}
		if r.Until.UnixNano() > now {
			page.Revocations = append(page.Revocations, r)
		}
	}
	return page, nil
}

// Revocations implements store.Revoker: RevocationsSince from the zero
// cursor, page after page.
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	var out []store.Revocation
	cursor := store.RevocationCursor{}
	for {
		page, err := s.RevocationsSince(ctx, cursor, now, DefaultRevocationPage)
		if err != nil {
			return nil, err
		}
		if page.Reset { // the server lost its state while we read: read again
			out, cursor = out[:0], store.RevocationCursor{}
			continue
		}
		out = append(out, page.Revocations...)
		if !page.More {
			return out, nil
		}
		cursor = page.Next
	}
}

// WatchRevocations implements store.RevocationWatcher with a Redis
// SUBSCRIBE on its own connection. It calls subscribed once the server has
// confirmed the subscription. While no message arrives it pings the server
// every 15 seconds, and it returns an error when a ping goes unanswered for
// as long again. Messages on the channel that are not revocations are
// ignored.
func (s *Store) WatchRevocations(ctx context.Context, revoked func(store.Revocation), subscribed func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ps := s.client.Subscribe(ctx, s.rev.channel)
	// A blocked read ends only when its connection closes: close it when
	// ctx ends or the Store closes.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.rev.closing:
		case <-done:
		}
		_ = ps.Close()
	}()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, watchPing)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil && !s.closed.Load() {
				if err := ps.Ping(ctx); err != nil {
					return s.watchError(ctx, err)
				}
				pinged = true
				continue
			}
			return s.watchError(ctx, err)
		}
		pinged = false
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" && subscribed != nil {
				subscribed()
			}
		case *goredis.Message:
			if r, ok := decodeMessage(m.Payload); ok {
				revoked(r)
			}
		}
	}
}

// watchError says why a watch ended: store.ErrClosed, ctx's error, or the
// connection's.
func (s *Store) watchError(ctx context.Context, err error) error {
	s.followTopology()
	switch {
	case s.closed.Load():
		return store.ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("store/redis: watch revocations on %q: %w", s.rev.channel, err)
}
