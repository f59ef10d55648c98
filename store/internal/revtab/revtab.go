// Package revtab is the revocation table that the in-process backends share
// (store/memory, store/lru, store/bolt): a map of revocations with a cap on
// the live ones, a heap that finds the expired ones, and a log of changes
// that serves store.RevocationFeed.
package revtab

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// DefaultPage is the page size of Since when the caller passes no limit.
const DefaultPage = 10_000

// pruneBatch is how many expired revocations one Revoke removes at most,
// unless the table is at its cap: then it removes every expired one, so
// that the cap counts live revocations only.
const pruneBatch = 1024

// Field is what a revocation applies to; a table holds one record per
// Field.
type Field struct {
	Kind store.RevocationKind
	Key  store.RevocationKey
}

// Record is one stored revocation, with its times in Unix nanoseconds.
type Record struct {
	Field
	Before, Until int64
}

// Revocation returns r in the store's form.
func (r Record) Revocation() store.Revocation {
	return store.Revocation{
		Kind:   r.Kind,
		Key:    r.Key,
		Before: time.Unix(0, r.Before).UTC(),
		Until:  time.Unix(0, r.Until).UTC(),
	}
}

// FromRevocation returns r as a Record. r must have passed Validate.
func FromRevocation(r store.Revocation) Record {
	return Record{Field: Field{r.Kind, r.Key}, Before: r.Before.UnixNano(), Until: r.Until.UnixNano()}
}

// Persist writes a change to durable storage before the table applies it:
// drop is the expired records the table forgets, to be deleted first, and
// put the record to store then (nil when none changed; its Field may be
// in drop too, when it replaces an expired revocation). The table is
// locked meanwhile. When Persist
// fails, put is not applied and Revoke returns the error; the dropped
// records stay forgotten in memory (they are expired, so a file that still
// holds them is merely larger).
type Persist func(put *Record, drop []Field) error

type value struct {
	before, until int64
	seq           int64 // the change that last set this value
}

// Table is a set of revocations, safe for concurrent use. Create it with
// New.
type Table struct {
	name    string // for errors: "memory", "lru", "bolt"
	max     int
	persist Persist
	epoch   string

	mu      sync.Mutex
	seq     int64
	entries map[Field]value // nil once closed
	expiry  expiryHeap      // may hold stale items; see prune
	log     []logItem       // ascending seq; may hold superseded items
}

type logItem struct {
	seq int64
	f   Field
}

// New returns an empty table whose errors start with name, that refuses a
// new revocation when maxLive live ones are held, and that calls persist (when
// not nil) before each change.
func New(name string, maxLive int, persist Persist) *Table {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return &Table{
		name:    name,
		max:     maxLive,
		persist: persist,
		epoch:   hex.EncodeToString(b[:]),
		entries: make(map[Field]value),
	}
}

// Max returns the cap on live revocations.
func (t *Table) Max() int { return t.max }

// Restore adds r as read back from durable storage: no cap, no Persist,
// merged with what the table holds. Expired records are kept until a
// Revoke prunes them: the table does not know the caller's clock yet.
func (t *Table) Restore(r Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		return
	}
	if cur, ok := t.entries[r.Field]; ok {
		r.Before, r.Until = max(r.Before, cur.before), max(r.Until, cur.until)
	}
	t.set(r)
}

// set stores r as the next change. Called with t.mu held.
func (t *Table) set(r Record) {
	t.seq++
	old, had := t.entries[r.Field]
	t.entries[r.Field] = value{before: r.Before, until: r.Until, seq: t.seq}
	if !had || old.until != r.Until {
		heap.Push(&t.expiry, expiryItem{until: r.Until, f: r.Field})
	}
	t.log = append(t.log, logItem{seq: t.seq, f: r.Field})
	t.compact()
}

// Revoke implements store.Revoker.Revoke.
func (t *Table) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := store.CheckTime(now); err != nil {
		return err
	}
	if !r.Live(now) {
		return nil // nothing left to remember
	}
	n := now.UnixNano()
	rec := FromRevocation(r)

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		return store.ErrClosed
	}
	cur, had := t.entries[rec.Field]
	live := had && cur.until > n
	dropped := t.prune(n, !live && len(t.entries) >= t.max)
	var put *Record
	switch {
	case live:
		merged := Record{Field: rec.Field, Before: max(rec.Before, cur.before), Until: max(rec.Until, cur.until)}
		if merged.Before != cur.before || merged.Until != cur.until {
			put = &merged
		}
	case len(t.entries) >= t.max:
		return fmt.Errorf("%w: %s holds %d live revocations, its cap (Options.MaxRevocations is %d); "+
			"wait for some to expire or raise the cap", store.ErrRevocationsFull, t.name, len(t.entries), t.max)
	default:
		put = &rec
	}
	if t.persist != nil && (put != nil || len(dropped) > 0) {
		if err := t.persist(put, dropped); err != nil && put != nil {
			return err
		}
	}
	if put != nil {
		t.set(*put)
	}
	return nil
}

// prune forgets revocations expired at now: up to pruneBatch of them, or
// all when all is set. It returns their fields. Called with t.mu held.
func (t *Table) prune(now int64, all bool) []Field {
	var dropped []Field
	for len(t.expiry) > 0 && t.expiry[0].until <= now && (all || len(dropped) < pruneBatch) {
		it := heap.Pop(&t.expiry).(expiryItem)
		// The item is stale when the revocation was extended since it was
		// pushed (a later item stands for it) or is gone already.
		if v, ok := t.entries[it.f]; ok && v.until == it.until {
			delete(t.entries, it.f)
			dropped = append(dropped, it.f)
		}
	}
	return dropped
}

// compact rebuilds the heap and the log once stale items make them more
// than twice as long as they need to be, so both stay proportional to the
// number of revocations held. Called with t.mu held.
func (t *Table) compact() {
	limit := 2*len(t.entries) + 64
	if len(t.expiry) > limit {
		t.expiry = t.expiry[:0]
		for f, v := range t.entries {
			t.expiry = append(t.expiry, expiryItem{until: v.until, f: f})
		}
		heap.Init(&t.expiry)
	}
	if len(t.log) > limit {
		log := make([]logItem, 0, len(t.entries))
		for f, v := range t.entries {
			log = append(log, logItem{seq: v.seq, f: f})
		}
		sort.Slice(log, func(i, j int) bool { return log[i].seq < log[j].seq })
		t.log = log
	}
}

// Revocations implements store.Revoker.Revocations.
func (t *Table) Revocations(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := store.CheckTime(now); err != nil {
		return nil, err
	}
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		return nil, store.ErrClosed
	}
	out := make([]store.Revocation, 0, len(t.entries))
	for f, v := range t.entries {
		if v.until > n {
			out = append(out, Record{Field: f, Before: v.before, Until: v.until}.Revocation())
		}
	}
	return out, nil
}

// Since implements store.RevocationFeed.RevocationsSince. The table's
// history lasts as long as the table: its Epoch is chosen at random by New.
func (t *Table) Since(ctx context.Context, cursor store.RevocationCursor, now time.Time, limit int) (store.RevocationPage, error) {
	if err := ctx.Err(); err != nil {
		return store.RevocationPage{}, err
	}
	if err := store.CheckTime(now); err != nil {
		return store.RevocationPage{}, err
	}
	if limit <= 0 {
		limit = DefaultPage
	}
	n := now.UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		return store.RevocationPage{}, store.ErrClosed
	}
	page := store.RevocationPage{Next: store.RevocationCursor{Epoch: t.epoch, Seq: t.seq}}
	from := cursor.Seq
	switch {
	case cursor.Epoch == "":
		from = 0
	case cursor.Epoch != t.epoch || cursor.Seq > t.seq:
		page.Reset, from = true, 0
	}
	i := sort.Search(len(t.log), func(i int) bool { return t.log[i].seq > from })
	for ; i < len(t.log); i++ {
		if len(page.Revocations) == limit {
			page.More = true
			page.Next.Seq = t.log[i-1].seq
			break
		}
		it := t.log[i]
		v, ok := t.entries[it.f]
		if !ok || v.seq != it.seq || v.until <= n {
			continue // superseded by a later change, pruned, or expired
		}
		page.Revocations = append(page.Revocations, Record{Field: it.f, Before: v.before, Until: v.until}.Revocation())
	}
	return page, nil
}

// Len returns how many revocations the table holds, expired ones not yet
// pruned included.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// Close drops every revocation; later calls return store.ErrClosed.
func (t *Table) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries, t.expiry, t.log = nil, nil, nil
}

type expiryItem struct {
	until int64
	f     Field
}

// expiryHeap is a min-heap of revocations by Until (container/heap).
type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
