package revocation

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// Defaults used for the zero fields of Options.
const (
	// DefaultMaxRevocations is the cap on the local copy: under 90 MB
	// when full (BenchmarkMemory measures the bytes per revocation).
	DefaultMaxRevocations = store.DefaultMaxRevocations
	// DefaultCatchUp is the period of the catch-up read.
	DefaultCatchUp = time.Second
	// staleFactor times CatchUp is the default of Options.StaleAfter.
	staleFactor = 3
)

const (
	// The copy is split in shardCount parts, each changed on its own: a
	// change copies one part's table.
	shardBits  = 10
	shardCount = 1 << shardBits
	// pageSize is how many revocations one catch-up read asks for, and
	// applyBatch how many it gathers before applying them to the copy.
	pageSize   = 10_000
	applyBatch = 100_000
	// writeBackBatch is how many revocations a write-back sends at once.
	writeBackBatch = 256
	// prunePeriod is how often, by the List's clock, expired revocations
	// are dropped from the copy; a List at its cap prunes at most once per
	// pruneGap when asked for a new revocation.
	prunePeriod = time.Minute
	pruneGap    = time.Second
)

// Verdict is the answer of Check.
type Verdict uint8

const (
	// NotReady: the List cannot tell whether the token is revoked (it has
	// not loaded the revocations yet, or its copy is stale and
	// Options.WhenStale is Refuse, or it is closed). The request should
	// get 503 Service Unavailable. It is the zero Verdict, so a Verdict
	// that was never set refuses.
	NotReady Verdict = iota
	// OK: no revocation matches; the token may be accepted.
	OK
	// Revoked: the token's session, or its subject's sessions begun before
	// a cut-off, were revoked. The request should get 401.
	Revoked
)

// String returns "not ready", "ok" or "revoked".
func (v Verdict) String() string {
	switch v {
	case NotReady:
		return "not ready"
	case OK:
		return "ok"
	case Revoked:
		return "revoked"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// StalePolicy says what Check answers while the copy is stale: the last
// successful catch-up with the backend is more than Options.StaleAfter old,
// typically because the backend is unreachable.
type StalePolicy uint8

const (
	// ServeLastKnown answers from the copy as it is. Revocations made on
	// other instances meanwhile are not seen until the backend is back;
	// those made through this List are. The default.
	ServeLastKnown StalePolicy = iota
	// Refuse answers NotReady, so requests that need the check get 503
	// until the copy is fresh again.
	Refuse
)

// Options configures a List. Backend is required; the zero value of every
// other field gives its default.
type Options struct {
	// Backend stores the revocations and shares them between instances.
	// Required. A store.RevocationFeed is read incrementally (every backend
	// of this module is one); a store.RevocationWatcher (store/redis) also
	// pushes revocations made on other instances as they happen; a
	// store.BatchRevoker makes write-backs cheaper. The List never closes
	// it: close it after the List.
	Backend store.Revoker

	// MaxRevocations caps the revocations this List accepts through
	// RevokeSession and RevokeSubject: beyond it they fail with
	// store.ErrRevocationsFull and change nothing. Give it at least the
	// backend's cap. Revocations learned from the backend are never
	// dropped; should the copy reach twice MaxRevocations (the backend
	// holds far more than this List's cap), Check answers NotReady until
	// it fits again. Optional. Default DefaultMaxRevocations (1 000 000).
	MaxRevocations int

	// CatchUp is the period of the catch-up read, which brings in
	// revocations made on other instances that a watch did not deliver,
	// and retries the first load while the backend is unreachable.
	// Optional. Default DefaultCatchUp (1s).
	CatchUp time.Duration

	// WhenStale is what Check answers while the copy is stale. Optional.
	// Default ServeLastKnown.
	WhenStale StalePolicy

	// StaleAfter is how old the last successful catch-up may be before the
	// copy counts as stale (see WhenStale); at least CatchUp. Optional.
	// Default three times CatchUp.
	StaleAfter time.Duration

	// Now is the List's clock: the time of a revocation, the time catch-up
	// reads judge expiry by, and the time of the last sync. Optional.
	// Default time.Now.
	Now func() time.Time

	// OnError, when set, receives the errors of the background work (a
	// failed catch-up, watch or write-back), which otherwise retries
	// silently; Staleness shows the effect. It is called from the List's
	// goroutines and must not block for long or call Close. Optional.
	OnError func(error)
}

// List is the in-process copy of the revocations that requests are checked
// against (see Check). Create it with New and stop it with Close. A List is
// safe for concurrent use.
type List struct {
	backend store.Revoker
	feed    store.RevocationFeed    // nil when the backend is not one
	watcher store.RevocationWatcher // nil when the backend is not one
	batcher store.BatchRevoker      // nil when the backend is not one

	max, hardLimit int64
	catchUp        time.Duration
	staleAfter     time.Duration
	refuseStale    bool
	now            func() time.Time
	onError        func(error)

	shards     [shardCount]shard
	shardSeed  uint64       // picks a key's shard (see shardOf)
	filterSeed uint64       // picks a key's filter bit (see table)
	count      atomic.Int64 // revocations in the copy, expired ones not pruned included

	ready      atomic.Bool   // loaded and not closed; set and cleared under syncMu
	loaded     chan struct{} // closed when first loaded
	loadOnce   sync.Once
	closed     atomic.Bool
	enforced   atomic.Bool  // a middleware checks requests against the List (Enforce)
	overflow   atomic.Bool  // a revocation was dropped at hardLimit: answer NotReady
	drops      atomic.Int64 // revocations dropped at hardLimit
	resets     atomic.Int64 // histories found lost (Resets)
	written    atomic.Int64 // revocations written back (WrittenBack)
	synced     atomic.Bool  // lastSync is set
	lastSync   atomic.Int64 // the clock at the last successful sync, Unix ns
	freshUntil atomic.Int64 // lastSync + staleAfter, saturated
	created    int64        // the clock at New, Unix ns
	lastPrune  atomic.Int64

	syncMu sync.Mutex // one sync at a time; guards cursor
	cursor store.RevocationCursor
	syncs  atomic.Int64 // catch-ups started (feed backends)
	unread unread

	resMu    sync.Mutex
	reserved int64 // new revocations on their way to the backend

	stop   context.CancelFunc
	stopCh <-chan struct{}
	kick   chan struct{} // capacity 1: "catch up now"
	wg     sync.WaitGroup
}

// shard is one part of the copy: one table per kind, each immutable,
// behind an atomic pointer. Check loads the pointer and reads the table,
// writing nothing, so checks on many cores never contend; a change copies
// the table under mu (writers only), applies itself to the copy and
// publishes it.
type shard struct {
	mu       sync.Mutex
	sessions atomic.Pointer[table]
	subjects atomic.Pointer[table]
}

// entry is one revocation in the copy, times in Unix nanoseconds.
type entry struct {
	before, until int64
}

// New returns a List over opts.Backend after loading the revocations live
// now, within ctx. If that load fails (the backend is unreachable), New
// still returns the List, not Ready: Check answers NotReady and a
// background catch-up retries every Options.CatchUp until it loads, so
// start serving and let the requests that need the check get 503 until
// then (WaitReady waits for it). The error goes to Options.OnError.
//
// ctx bounds the first load only; the List works in the background until
// Close. New fails only for invalid Options, with an error naming the
// field and its value.
func New(ctx context.Context, opts Options) (*List, error) {
	if opts.Backend == nil {
		return nil, errors.New("revocation: Options.Backend is nil; want a store.Revoker such as a store/redis Store")
	}
	if opts.MaxRevocations < 0 {
		return nil, fmt.Errorf("revocation: Options.MaxRevocations is %d; want 0 (default %d) or a positive number", opts.MaxRevocations, DefaultMaxRevocations)
	}
	if opts.CatchUp < 0 {
		return nil, fmt.Errorf("revocation: Options.CatchUp is %v; want 0 (default %v) or a positive period", opts.CatchUp, DefaultCatchUp)
	}
	if opts.StaleAfter < 0 {
		return nil, fmt.Errorf("revocation: Options.StaleAfter is %v; want 0 (default %d x CatchUp) or a positive duration", opts.StaleAfter, staleFactor)
	}
	if opts.WhenStale != ServeLastKnown && opts.WhenStale != Refuse {
		return nil, fmt.Errorf("revocation: Options.WhenStale is %d; want ServeLastKnown (0) or Refuse (1)", opts.WhenStale)
	}
	maxRev := opts.MaxRevocations
	if maxRev == 0 {
		maxRev = DefaultMaxRevocations
	}
	catchUp := opts.CatchUp
	if catchUp == 0 {
		catchUp = DefaultCatchUp
	}
	staleAfter := opts.StaleAfter
	if staleAfter == 0 {
		staleAfter = staleFactor * catchUp
	}
	if staleAfter < catchUp {
		return nil, fmt.Errorf("revocation: Options.StaleAfter is %v, shorter than Options.CatchUp %v; the copy would be stale between two catch-ups", staleAfter, catchUp)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	bg, stop := context.WithCancel(context.Background())
	l := &List{
		backend:     opts.Backend,
		max:         int64(maxRev),
		hardLimit:   2 * int64(maxRev),
		catchUp:     catchUp,
		staleAfter:  staleAfter,
		refuseStale: opts.WhenStale == Refuse,
		now:         now,
		onError:     opts.OnError,
		loaded:      make(chan struct{}),
		stop:        stop,
		stopCh:      bg.Done(),
		kick:        make(chan struct{}, 1),
	}
	l.feed, _ = opts.Backend.(store.RevocationFeed)
	l.watcher, _ = opts.Backend.(store.RevocationWatcher)
	l.batcher, _ = opts.Backend.(store.BatchRevoker)
	l.created = nanos(now())
	l.lastPrune.Store(l.created)
	l.shardSeed, l.filterSeed = rand.Uint64(), rand.Uint64()
	empty := newTable(map[store.RevocationKey]entry{}, l.filterSeed)
	for i := range l.shards {
		l.shards[i].sessions.Store(empty)
		l.shards[i].subjects.Store(empty)
	}
	if l.watcher != nil {
		// Subscribe first, so that nothing published during the load is
		// missed; a subscription that lands after it asks for a catch-up.
		l.wg.Add(1)
		go l.watchLoop(bg)
	}
	if err := l.Sync(ctx); err != nil {
		l.report(err)
	}
	l.wg.Add(1)
	go l.syncLoop(bg)
	return l, nil
}

// nanos returns t in Unix nanoseconds, saturated at the ends of int64
// instead of undefined: a time before 1678 (such as a zero time.Time) is
// before every revocation's cut-off.
func nanos(t time.Time) int64 {
	const minSec, maxSec = math.MinInt64/int64(time.Second) + 1, math.MaxInt64/int64(time.Second) - 1
	switch s := t.Unix(); {
	case s < minSec:
		return math.MinInt64
	case s > maxSec:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Check reports whether a token may be accepted: Revoked if its session
// (session, from store.SessionRevocationKey) is revoked, or its subject
// (subject, from store.SubjectRevocationKey) was revoked with a cut-off
// after authTime, the token's auth_time (else its iat); OK if neither;
// NotReady if the List cannot tell (see Verdict). A revocation applies
// while now is before its Until.
//
// Check reads the local copy only: no I/O, no allocation, no lock. It
// reads two immutable tables through atomic pointers, so checks never
// wait for each other or for a change; a key that no revocation matches is
// usually answered from the tables' filters, without a map look-up.
func (l *List) Check(session, subject store.RevocationKey, authTime, now time.Time) Verdict {
	if !l.ready.Load() || l.overflow.Load() {
		return NotReady
	}
	n := nanos(now)
	if l.refuseStale && n > l.freshUntil.Load() {
		return NotReady
	}
	if l.count.Load() == 0 {
		return OK
	}
	if e, ok := l.shardOf(session).sessions.Load().get(session, l.filterSeed); ok && e.until > n {
		return Revoked
	}
	if e, ok := l.shardOf(subject).subjects.Load().get(subject, l.filterSeed); ok && e.until > n && nanos(authTime) < e.before {
		return Revoked
	}
	return OK
}

// RevokeSession revokes one session until until: from when it returns, Check
// on this List answers Revoked for every token of the session, and other
// Lists on the same backend learn it through the backend. until must cover
// every token of the session that could still be accepted: the token's own
// exp, and now plus the longest lifetime a renewal could give, plus the
// leeway. An until not after now revokes nothing and returns nil.
//
// It fails, changing nothing, with an error wrapping store.ErrRevocationsFull
// when this List or the backend holds its cap (an application maps it to
// 503), with store.ErrClosed after Close, or with the backend's error.
func (l *List) RevokeSession(ctx context.Context, key store.RevocationKey, until time.Time) error {
	now := l.now()
	return l.revoke(ctx, store.Revocation{Kind: store.RevokeSession, Key: key, Before: now, Until: until}, now)
}

// RevokeSubject revokes every session of a subject that began before before
// ("log out everywhere", a password change): tokens of the subject whose
// auth_time (else iat) is before before, and tokens with neither, whose
// start is unknown, until until. Tokens whose session began at or after
// before stay valid, so the user can sign in again at once: the Issuer
// writes auth_time with microsecond precision, so a sign-in right after
// the cut-off, in the same second, begins after it.
//
// until must outlast every token the revocation matches that could still
// be accepted. A session begun before before may have been renewed up to
// the moment this List learned the revocation (when RevokeSubject
// returns), and on other instances until they learn it (Margin later): its
// newest token can live until the later of before and that moment, plus
// the longest lifetime, plus the leeway, plus Margin. SignOut.Subject
// computes exactly that; a caller of RevokeSubject must too. Errors are
// those of RevokeSession.
func (l *List) RevokeSubject(ctx context.Context, key store.RevocationKey, before, until time.Time) error {
	return l.revoke(ctx, store.Revocation{Kind: store.RevokeSubject, Key: key, Before: before, Until: until}, l.now())
}

func (l *List) revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	if l.closed.Load() {
		return store.ErrClosed
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	if err := store.CheckTime(now); err != nil {
		return fmt.Errorf("revocation: the clock: %w", err)
	}
	if !r.Live(now) {
		return nil
	}
	if !l.holds(r, nanos(now)) {
		// A new revocation needs room: reserve it, so that concurrent
		// revocations cannot all take the last place.
		if err := l.reserve(now); err != nil {
			return err
		}
		defer func() {
			l.resMu.Lock()
			l.reserved--
			l.resMu.Unlock()
		}()
	}
	if err := l.backend.Revoke(ctx, r, now); err != nil {
		return fmt.Errorf("revocation: revoke %s %s: %w", r.Kind, r.Key, err)
	}
	l.learnUnread(r)
	return nil
}

// holds reports whether the copy holds a revocation for r's kind and key
// that is live at now, so that r merges into it and needs no room.
func (l *List) holds(r store.Revocation, now int64) bool {
	e, ok := l.shardOf(r.Key).table(r.Kind).Load().m[r.Key]
	return ok && e.until > now
}

// reserve takes one place for a new revocation, or fails with
// store.ErrRevocationsFull.
func (l *List) reserve(now time.Time) error {
	full := func() bool { return l.count.Load()+l.reserved >= l.max }
	l.resMu.Lock()
	defer l.resMu.Unlock()
	if full() {
		// Expired revocations may be what fills the copy. Pruning walks
		// the whole copy, so a List kept full is pruned once per pruneGap.
		if n := nanos(now); due(l.lastPrune.Load(), n, pruneGap) {
			l.prune(n)
		}
	}
	if full() {
		return fmt.Errorf("%w: this instance holds %d revocations, its cap (revocation.Options.MaxRevocations is %d); "+
			"wait for some to expire or raise the cap", store.ErrRevocationsFull, l.count.Load(), l.max)
	}
	l.reserved++
	return nil
}

// shardOf returns the shard of k.
func (l *List) shardOf(k store.RevocationKey) *shard {
	return &l.shards[mix(k[:8], l.shardSeed)>>(64-shardBits)]
}

func (sh *shard) table(kind store.RevocationKind) *atomic.Pointer[table] {
	if kind == store.RevokeSubject {
		return &sh.subjects
	}
	return &sh.sessions
}

// learnUnread merges r, which did not come from a catch-up read (this
// List recorded it, or a watch delivered it), into the copy; if that
// changed the copy, it notes r as unread (see unread). It holds unread.mu
// throughout, so that a catch-up applying what it read either applies r
// first (then r changes nothing here) or sees it noted (and drops it).
func (l *List) learnUnread(r store.Revocation) {
	if l.feed == nil {
		l.learn(r)
		return
	}
	l.unread.mu.Lock()
	defer l.unread.mu.Unlock()
	if l.learnShard(l.shardOf(r.Key), []store.Revocation{r}) > 0 {
		l.noteUnread(r, l.syncs.Load())
	}
}

// noteUnread notes r as unread since catch-up gen. Called with unread.mu
// held.
func (l *List) noteUnread(r store.Revocation, gen int64) {
	e := entry{before: r.Before.UnixNano(), until: r.Until.UnixNano()}
	u := &l.unread
	if u.all {
		return
	}
	if len(u.m) >= maxUnread {
		u.all, u.m = true, nil
		return
	}
	if u.m == nil {
		u.m = make(map[field]unreadEntry)
	}
	f := field{r.Kind, r.Key}
	if cur, ok := u.m[f]; ok {
		e = entry{before: max(cur.e.before, e.before), until: max(cur.e.until, e.until)}
		gen = min(gen, cur.gen)
	}
	u.m[f] = unreadEntry{e: e, gen: gen}
}

// applyRead merges revocations a catch-up read into the copy, and drops
// the unread revocations they cover, under unread.mu (see learnUnread).
func (l *List) applyRead(rs []store.Revocation) {
	if l.feed == nil {
		l.learnAll(rs)
		return
	}
	l.unread.mu.Lock()
	defer l.unread.mu.Unlock()
	if len(l.unread.m) > 0 {
		for _, r := range rs {
			f := field{r.Kind, r.Key}
			if ue, ok := l.unread.m[f]; ok && r.Before.UnixNano() >= ue.e.before && r.Until.UnixNano() >= ue.e.until {
				delete(l.unread.m, f)
			}
		}
	}
	l.learnAll(rs)
}

// maxUnread bounds the revocations noted as unread between two catch-ups
// (a few MB at most); beyond it the next catch-up reads everything
// instead, and writes back what the backend lacks.
const maxUnread = 100_000

// unread holds the revocations that changed the copy without coming from a
// catch-up read: this List recorded them, or a watch delivered them. The
// backend had each when the List learned it, so a catch-up that starts
// afterwards must read it (or a later form of it) among what changed after
// the cursor. One that does not shows that the backend lost it, even when
// the cursor cannot show it (the cursor stands on changes before it): the
// List then writes it back. Without this, a sign-out that reached other
// instances only by pub/sub, written to a primary lost before any catch-up
// read it, would be known to the running instances and never to those
// started later.
type unread struct {
	mu  sync.Mutex
	m   map[field]unreadEntry
	all bool // more than maxUnread: the next catch-up reads everything
}

// unreadEntry is a revocation noted as unread, with the number of catch-ups
// that had started when it was noted (List.syncs).
type unreadEntry struct {
	e   entry
	gen int64
}

// learn merges r into the copy: the later Before and the later Until win,
// so revocations may arrive in any order, any number of times. A new
// revocation beyond hardLimit is dropped, and the List answers NotReady
// until a full read brings it back (see Sync).
func (l *List) learn(r store.Revocation) { l.learnAll([]store.Revocation{r}) }

// learnAll merges rs into the copy, copying each table they change once.
func (l *List) learnAll(rs []store.Revocation) {
	if len(rs) == 0 {
		return
	}
	if len(rs) == 1 {
		l.learnShard(l.shardOf(rs[0].Key), rs)
		return
	}
	byShard := make(map[*shard][]store.Revocation)
	for _, r := range rs {
		sh := l.shardOf(r.Key)
		byShard[sh] = append(byShard[sh], r)
	}
	for sh, rs := range byShard {
		l.learnShard(sh, rs)
	}
}

// learnShard merges rs, all of sh, into its tables, and returns how many
// of them changed the copy.
func (l *List) learnShard(sh *shard, rs []store.Revocation) (changed int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, kind := range []store.RevocationKind{store.RevokeSession, store.RevokeSubject} {
		ptr := sh.table(kind)
		old := ptr.Load().m
		var next map[store.RevocationKey]entry // the copy, made at the first change
		for _, r := range rs {
			if r.Kind != kind || r.Validate() != nil {
				continue // backends validate what they store; nothing to learn
			}
			e := entry{before: r.Before.UnixNano(), until: r.Until.UnixNano()}
			cur, ok := old[r.Key]
			if next != nil {
				cur, ok = next[r.Key]
			}
			if ok {
				e = entry{before: max(cur.before, e.before), until: max(cur.until, e.until)}
				if e == cur {
					continue
				}
			} else if l.count.Load() >= l.hardLimit {
				l.drops.Add(1)
				l.overflow.Store(true)
				continue
			}
			if next == nil {
				next = make(map[store.RevocationKey]entry, len(old)+len(rs))
				for k, v := range old {
					next[k] = v
				}
			}
			next[r.Key] = e
			changed++
			if !ok {
				l.count.Add(1)
			}
		}
		if next != nil {
			ptr.Store(newTable(next, l.filterSeed))
		}
	}
	return changed
}

// due reports whether period has passed from last to now (Unix ns), or the
// clock went back, without overflow.
func due(last, now int64, period time.Duration) bool {
	return now < last || uint64(now)-uint64(last) >= uint64(period)
}

// prune drops the revocations that expired by now from the copy.
func (l *List) prune(now int64) {
	l.lastPrune.Store(now)
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, ptr := range []*atomic.Pointer[table]{&sh.sessions, &sh.subjects} {
			old := ptr.Load().m
			expired := 0
			for _, e := range old {
				if e.until <= now {
					expired++
				}
			}
			if expired == 0 {
				continue
			}
			next := make(map[store.RevocationKey]entry, len(old)-expired)
			for k, e := range old {
				if e.until > now {
					next[k] = e
				}
			}
			ptr.Store(newTable(next, l.filterSeed))
			l.count.Add(int64(len(next) - len(old)))
		}
		sh.mu.Unlock()
	}
}

// Sync catches up with the backend now: it reads what changed since the
// last sync (everything, the first time or for a backend that is not a
// store.RevocationFeed) into the copy, and when the backend has lost state
// (a Reset, or revocations of the copy missing from a full read), writes
// back the live revocations of the copy that it lacks, so that Lists
// created later learn them too (Resets and WrittenBack count these). On success the List is Ready and its Staleness
// starts again from zero. The background catch-up calls it every
// Options.CatchUp; call it to catch up at once.
func (l *List) Sync(ctx context.Context) error {
	if l.closed.Load() {
		return store.ErrClosed
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.closed.Load() { // Close ran while we waited
		return store.ErrClosed
	}
	now := l.now()
	if err := store.CheckTime(now); err != nil {
		return fmt.Errorf("revocation: sync: the clock: %w", err)
	}
	n := nanos(now)
	refill := l.overflow.Load()
	drops := l.drops.Load()
	if refill {
		l.prune(n)
	}
	var err error
	if l.feed != nil {
		err = l.syncFeed(ctx, now, refill)
	} else {
		err = l.syncFull(ctx, now)
	}
	if err != nil {
		return fmt.Errorf("revocation: sync: %w", err)
	}
	if refill && l.drops.Load() == drops {
		l.overflow.Store(false) // everything fits again
	}
	if due(l.lastPrune.Load(), n, prunePeriod) {
		l.prune(n)
	}
	l.lastSync.Store(n)
	fresh := int64(math.MaxInt64)
	if n <= math.MaxInt64-int64(l.staleAfter) {
		fresh = n + int64(l.staleAfter)
	}
	l.freshUntil.Store(fresh)
	l.synced.Store(true)
	if !l.ready.Swap(true) {
		l.loadOnce.Do(func() { close(l.loaded) })
	}
	return nil
}

// syncFeed reads the pages that changed after the cursor, or all of them
// when refill is set. When the backend reports a Reset (it lost part of
// its history: emptied, or rolled back to an older state), the pages from
// there list everything it holds, and the revocations of the copy it
// lacks, or holds shorter, are written back before the cursor moves: if
// that fails, the next sync sees the Reset again. Called with syncMu held.
func (l *List) syncFeed(ctx context.Context, now time.Time, refill bool) error {
	gen := l.syncs.Add(1)
	l.unread.mu.Lock()
	all := l.unread.all
	l.unread.all = false
	l.unread.mu.Unlock()
	cursor := l.cursor
	if refill || all {
		cursor.Seq = 0 // everything, yet a Reset still shows
	}
	// Pages are applied a few at a time: each application copies the
	// tables it changes, so a large first load applied page by page would
	// copy them a hundred times.
	var pending []store.Revocation
	var held map[field]entry // after a Reset, or with all: what the backend holds
	for {
		page, err := l.feed.RevocationsSince(ctx, cursor, now, pageSize)
		if err != nil {
			l.markAllUnread(all)
			return err
		}
		if page.Reset || all && held == nil {
			held = make(map[field]entry)
		}
		if held != nil {
			for _, r := range page.Revocations {
				held[field{r.Kind, r.Key}] = entry{before: r.Before.UnixNano(), until: r.Until.UnixNano()}
			}
		}
		pending = append(pending, page.Revocations...)
		if len(pending) >= applyBatch {
			l.applyRead(pending)
			pending = pending[:0]
		}
		cursor = page.Next
		if !page.More {
			break
		}
	}
	l.applyRead(pending)
	if held != nil {
		if !all || l.lostAny(held) {
			l.resets.Add(1)
		}
		if err := l.writeBack(ctx, now, lacks(held)); err != nil {
			l.markAllUnread(all)
			return err
		}
		l.dropUnread(gen)
	} else if err := l.writeBackUnread(ctx, gen, now); err != nil {
		return err
	}
	l.cursor = cursor
	return nil
}

// markAllUnread sets unread.all again when it was set for a catch-up that
// failed.
func (l *List) markAllUnread(all bool) {
	if all {
		l.unread.mu.Lock()
		l.unread.all = true
		l.unread.mu.Unlock()
	}
}

// lostAny reports whether the copy holds a live revocation that held lacks.
func (l *List) lostAny(held map[field]entry) bool {
	want := lacks(held)
	for i := range l.shards {
		for _, kind := range []store.RevocationKind{store.RevokeSession, store.RevokeSubject} {
			for k, e := range l.shards[i].table(kind).Load().m {
				if want(field{kind, k}, e) {
					return true
				}
			}
		}
	}
	return false
}

// dropUnread drops the unread revocations noted before catch-up gen
// started, which it settled: it read everything and wrote back what the
// backend lacked.
func (l *List) dropUnread(gen int64) {
	l.unread.mu.Lock()
	defer l.unread.mu.Unlock()
	for f, ue := range l.unread.m {
		if ue.gen < gen {
			delete(l.unread.m, f)
		}
	}
}

// writeBackUnread writes back the unread revocations noted before
// catch-up gen started that it did not read (applyRead drops those it
// read), live at now: the backend had each when the List learned it, and
// has lost it since (see unread). It counts them in Resets and
// WrittenBack.
func (l *List) writeBackUnread(ctx context.Context, gen int64, now time.Time) error {
	n := nanos(now)
	var lost []store.Revocation
	l.unread.mu.Lock()
	for f, ue := range l.unread.m {
		if ue.gen >= gen {
			continue // noted during this catch-up: the next one settles it
		}
		delete(l.unread.m, f)
		if ue.e.until > n {
			lost = append(lost, store.Revocation{Kind: f.kind, Key: f.key,
				Before: time.Unix(0, ue.e.before).UTC(), Until: time.Unix(0, ue.e.until).UTC()})
		}
	}
	l.unread.mu.Unlock()
	if len(lost) == 0 {
		return nil
	}
	l.resets.Add(1)
	if err := l.revokeAll(ctx, lost, now); err != nil {
		// Note them again, so that the next catch-up tries again.
		l.unread.mu.Lock()
		for _, r := range lost {
			l.noteUnread(r, 0)
		}
		l.unread.mu.Unlock()
		return fmt.Errorf("write back to a backend that lost revocations: %w", err)
	}
	l.written.Add(int64(len(lost)))
	return nil
}

// lacks returns a writeBack filter that accepts the revocations held does
// not have, or has with an earlier Before or Until.
func lacks(held map[field]entry) func(field, entry) bool {
	return func(f field, e entry) bool {
		k, ok := held[f]
		return !ok || k.before < e.before || k.until < e.until
	}
}

// syncFull reads every revocation, and writes back those of the copy the
// backend lacks. Called with syncMu held.
func (l *List) syncFull(ctx context.Context, now time.Time) error {
	rs, err := l.backend.Revocations(ctx, now)
	if err != nil {
		return err
	}
	held := make(map[field]entry, len(rs))
	for _, r := range rs {
		held[field{r.Kind, r.Key}] = entry{before: r.Before.UnixNano(), until: r.Until.UnixNano()}
	}
	l.learnAll(rs)
	return l.writeBack(ctx, now, lacks(held))
}

type field struct {
	kind store.RevocationKind
	key  store.RevocationKey
}

// writeBack records the revocations of the copy that are live at now (and
// that want accepts, when not nil) in the backend, a batch at a time, and
// counts those it sent in WrittenBack.
func (l *List) writeBack(ctx context.Context, now time.Time, want func(field, entry) bool) error {
	n := nanos(now)
	batch := make([]store.Revocation, 0, writeBackBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := l.revokeAll(ctx, batch, now)
		if err == nil {
			l.written.Add(int64(len(batch)))
		}
		batch = batch[:0]
		if err != nil {
			return fmt.Errorf("write back to a backend that lost its revocations: %w", err)
		}
		return nil
	}
	for i := range l.shards {
		sh := &l.shards[i]
		for _, kind := range []store.RevocationKind{store.RevokeSession, store.RevokeSubject} {
			for k, e := range sh.table(kind).Load().m {
				if e.until > n && (want == nil || want(field{kind, k}, e)) {
					batch = append(batch, store.Revocation{Kind: kind, Key: k, Before: time.Unix(0, e.before).UTC(), Until: time.Unix(0, e.until).UTC()})
				}
			}
		}
		if len(batch) >= writeBackBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// revokeAll records rs in the backend: in one batch if it is a
// store.BatchRevoker, else one by one.
func (l *List) revokeAll(ctx context.Context, rs []store.Revocation, now time.Time) error {
	if l.batcher != nil {
		return l.batcher.RevokeBatch(ctx, rs, now)
	}
	for _, r := range rs {
		if err := l.backend.Revoke(ctx, r, now); err != nil {
			return err
		}
	}
	return nil
}

// Enforce records that a middleware of this process checks requests
// against the List: engine.New calls it for its Config.Revocations, so
// every door built with the List does. A SignOut refuses to record in a
// List that nothing enforces (ErrNotEnforced), so that a /logout cannot
// answer "signed out" while the check is off; see
// SignOutOptions.ForOtherProcesses for a program that signs out on behalf
// of others. Safe for concurrent use.
func (l *List) Enforce() { l.enforced.Store(true) }

// Ready reports whether the List has loaded the revocations and is not
// closed: until then Check answers NotReady.
func (l *List) Ready() bool { return l.ready.Load() }

// WaitReady waits until the List is Ready, ctx ends (its error) or the List
// is closed (store.ErrClosed).
func (l *List) WaitReady(ctx context.Context) error {
	select {
	case <-l.loaded:
		if l.closed.Load() {
			return store.ErrClosed
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.stopCh:
		return store.ErrClosed
	}
}

// Len reports how many revocations the copy holds, including expired ones
// not pruned yet (pruning runs about once a minute). It is meant for
// metrics: compare it with Options.MaxRevocations.
func (l *List) Len() int { return int(l.count.Load()) }

// Resets reports how many times a catch-up found that the backend had lost
// part of the history this List had read: a Redis server emptied or
// restarted without its data, restarted from an older snapshot, or a
// replica promoted while it lagged. Each time, the List read everything
// again and wrote back what the backend lacked (WrittenBack). It is meant
// for metrics: outside such events it stays where it is.
func (l *List) Resets() int64 { return l.resets.Load() }

// WrittenBack reports how many revocations this List has written back to
// a backend that lacked them (see Resets and Sync). A revocation made
// through this List while such a read runs may be counted, and written
// again, which changes nothing. It is meant for metrics.
func (l *List) WrittenBack() int64 { return l.written.Load() }

// Staleness reports how long before now the last successful sync with the
// backend was, by the List's clock: about Options.CatchUp at most while the
// backend answers, growing while it does not. Before the first sync it is
// the time since New. Alert when it grows past a few catch-up periods.
func (l *List) Staleness(now time.Time) time.Duration {
	since := l.created
	if l.synced.Load() {
		since = l.lastSync.Load()
	}
	n := nanos(now)
	if n <= since {
		return 0
	}
	if uint64(n)-uint64(since) > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(n - since)
}

// Stale reports whether the copy is stale: the last successful sync is
// older than Options.StaleAfter, by the List's own clock (Options.Now). A
// front door does not renew tokens while its copy is stale: it cannot know
// of revocations made meanwhile on other instances, and a renewal would
// outlive them (see Margin).
func (l *List) Stale() bool {
	return l.Staleness(l.now()) > l.staleAfter
}

// Margin is how long after a revocation an instance that has not learned
// it yet may still renew a token of the revoked session: until its copy is
// stale (Options.StaleAfter), plus one catch-up period. A revocation must
// outlast every token such a renewal gives, so SignOut adds Margin to the
// Until it computes.
func (l *List) Margin() time.Duration { return l.staleAfter + l.catchUp }

// Close stops the background work and waits for it: Check then answers
// NotReady, and RevokeSession, RevokeSubject and Sync return
// store.ErrClosed. The copy's memory goes with the List. It leaves
// Options.Backend open. It is idempotent.
func (l *List) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	l.stop()
	l.wg.Wait()
	l.syncMu.Lock() // a Sync in progress ends first; later ones see closed
	l.ready.Store(false)
	l.syncMu.Unlock()
	return nil
}

func (l *List) report(err error) {
	if l.onError != nil && err != nil {
		l.onError(err)
	}
}

// syncLoop catches up every CatchUp, and at once when asked (kick), until
// Close.
func (l *List) syncLoop(ctx context.Context) {
	defer l.wg.Done()
	t := time.NewTicker(l.catchUp)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
		}
		if err := l.Sync(ctx); err != nil && ctx.Err() == nil {
			l.report(err)
		}
	}
}

// watchLoop keeps a watch on the backend until Close, subscribing again one
// CatchUp after it ends. Each subscription asks for a catch-up, which reads
// what was published while none was in place.
func (l *List) watchLoop(ctx context.Context) {
	defer l.wg.Done()
	for {
		err := l.watcher.WatchRevocations(ctx, l.learnUnread, l.catchUpNow)
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		l.report(fmt.Errorf("revocation: watch: %w", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(l.catchUp):
		}
	}
}

// catchUpNow asks the sync loop for a catch-up without waiting for it.
func (l *List) catchUpNow() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}
