package token

import (
	"hash/maphash"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultCacheBudget is the memory the cache of verified tokens is sized
// for by default: 64 MiB.
const DefaultCacheBudget = 64 << 20

// CacheEntryBytes is what one slot of the cache of verified tokens is
// counted at when a cache size is computed from memory: 794 bytes, for
// tokens like the benchmarks' (about 340 bytes, 8 claims, one a nested
// object; TestVerifiedEntrySize): a remembered token weighs at most 700
// bytes, slot and its copy of the token included, and for at most one
// entry in eight (cacheMapShare) the cache also keeps the claims map (and
// the decoded signature) it copies for each request of a door without
// TypedClaimsOnly, at most 752 bytes more. A token twice as long, or with
// twice the claims, weighs about twice as much.
const CacheEntryBytes = entryBytes + claimsMapBytes/cacheMapShare

const (
	entryBytes     = 700 // a remembered token without a claims map
	claimsMapBytes = 752 // what a kept claims map adds, with the decoded signature
	// cacheMapShare: at most one entry in cacheMapShare keeps a claims
	// map, or cacheMapMin entries when that is more, first come; an
	// entry keeps its map until the cache drops it. The other entries of
	// a default-mode door decode a map for each request from the token's
	// payload: about 1.6 us more a hit than copying a kept map.
	cacheMapShare = 8
	cacheMapMin   = 1024
)

// DefaultCacheSize is the number of verified tokens a Verifier remembers
// when VerifierOptions.CacheSize is zero: DefaultCacheBudget /
// CacheEntryBytes, 84 519 (84 520 slots once rounded up to a multiple of
// 8). To size a cache for n active sessions, give it n (or n plus the
// sessions that renew within an interval, whose new tokens take slots
// too); its memory is then at most about n x CacheEntryBytes for tokens
// like the benchmark's.
const DefaultCacheSize = DefaultCacheBudget / CacheEntryBytes

// MaxCacheSize bounds VerifierOptions.CacheSize: the slot table takes 16
// bytes a slot (a cacheSlot: a tag and a pointer), allocated 8 KiB at a
// time as the cache fills, and the doorkeeper a byte a slot, allocated up
// front.
const MaxCacheSize = 1 << 24

// cacheWays is how many entries share a set: a token can live in any slot of
// the set its hash picks.
const cacheWays = 8

// verifiedCache remembers the tokens that verified, so that a client that
// sends the same token again (every request of an active client) costs a
// hash and a comparison instead of a parse, a signature check and the claim
// checks.
//
// What is remembered is the outcome of a successful verification only; a
// token that failed is parsed again every time it comes. The time-dependent
// checks (exp, nbf, iat, with the leeway) are made again on every hit, so a
// remembered token stops verifying when it expires. Everything else a
// verification depends on is fixed for the life of the middleware, except
// the key set: each generation of the cache belongs to one snapshot of the
// KeySet and is dropped, empty, when the set changes (Rotate, Retire), so a
// retired key stops verifying for the next request.
//
// Layout: a fixed table of slots, cacheWays slots per set, allocated in
// chunks of 64 sets as tokens are first put in them. A slot holds an
// atomic pointer to an immutable verification and, next to it, a tag: the
// token's hash with its lowest bit used as a "referenced" mark. A lookup
// hashes the end of the token (maphash, with a seed of the process's
// choosing; see hash), finds the set, compares tags, and for a matching tag
// compares the stored token in full, so a hash collision can only miss,
// never let another token through. Lookups take no lock and write nothing
// shared, except to set a slot's mark the first time it is hit after an
// eviction scan, so concurrent requests, even with the same token, do not
// contend, and a miss reads two cache lines of tags (none while the set's
// chunk is not allocated). An insert takes an empty slot of its set; into
// a full set, a token is let in on its second sight only (a doorkeeper, a
// small Bloom filter emptied periodically, remembers the first), and then
// takes an unmarked slot, clearing the marks it passes (CLOCK, second
// chance): a token in use survives a flood of tokens seen once, and the
// tail of the sessions in use, each seen now and then, no longer evicts
// the busy ones. Memory is bounded by the slot count times the size of one
// verified token, which Config.MaxTokenSize bounds, plus a byte a slot for
// the doorkeeper.
type verifiedCache struct {
	keys *KeySet
	seed maphash.Seed
	sets uint64 // 0: the cache is off
	ways int
	// clone is set when the token lookup may cut tokens from a larger
	// string (a Cookie header, a query), which the cache must not keep.
	clone bool
	gen   atomic.Pointer[cacheGen]
	// door lets a token into a full set on its second sight (see put);
	// nil when the cache is off.
	door *doorkeeper
}

// cacheGen is the cache for one snapshot of the key set. Its table of
// slots is allocated in chunks of chunkSets sets, each on the first insert
// into one of its sets, so that a cache sized for many tokens but holding
// few takes little memory, and gives the garbage collector little to scan.
type cacheGen struct {
	snap   *keySnapshot
	chunks []atomic.Pointer[cacheChunk] // nil: the cache is off
	// maps counts the claims maps its entries keep, at most mapLimit
	// (see Verified.reserveMap).
	maps     atomic.Int64
	mapLimit int64
}

// chunkSets is how many sets make a chunk of the slot table: 64 sets of 8
// slots, 8 KiB.
const chunkSets = 64

type cacheChunk struct {
	slots [chunkSets * cacheWays]cacheSlot
}

// cacheSlot is one place in the table. tag is 0 for an empty slot, else
// the hash of v's token with bit 0 replaced by the referenced mark. The two
// words are written one after the other, so a reader may see a tag that
// does not match v: the tag only filters, the token comparison decides.
type cacheSlot struct {
	tag atomic.Uint64
	v   atomic.Pointer[Verified]
}

// tagMark is the referenced mark in a slot's tag; tagOf sets bit 1 so that
// a tag is never 0.
const tagMark = 1

func tagOf(h uint64) uint64 { return h&^tagMark | 2 }

// newVerifiedCache returns a cache of size entries for tokens verified with
// keys; clone says whether it must copy the tokens it keeps: a size of at most cacheWays is one
// set of size slots, a larger one is rounded up to a multiple of cacheWays.
// size <= 0 turns it off, and the cache then only supplies the key
// function.
func newVerifiedCache(keys *KeySet, size int, clone bool) *verifiedCache {
	c := &verifiedCache{keys: keys, seed: maphash.MakeSeed(), clone: clone}
	if size > 0 {
		c.ways = min(cacheWays, size)
		c.sets = uint64((size + c.ways - 1) / c.ways)
		c.door = newDoorkeeper(c.slotCount())
	}
	c.generation()
	return c
}

// generation returns the generation of the key set's current snapshot,
// starting an empty one when the set has changed.
func (c *verifiedCache) generation() *cacheGen {
	for {
		snap := c.keys.snap.Load()
		g := c.gen.Load()
		if g != nil && g.snap == snap {
			return g
		}
		if g != nil && g.snap.version > snap.version {
			continue // the set changed again meanwhile: load it again
		}
		ng := &cacheGen{snap: snap, mapLimit: c.mapLimit()}
		if c.sets > 0 {
			ng.chunks = make([]atomic.Pointer[cacheChunk], (c.sets+chunkSets-1)/chunkSets)
		}
		if c.gen.CompareAndSwap(g, ng) {
			return ng
		}
	}
}

// hashedTail is how much of the end of a token is hashed.
const hashedTail = 64

// hash returns the hash of a token that picks its set and tag. Only the end
// of the token is hashed, most of its signature, which differs between any
// two tokens (an HMAC-SHA256 signature is 43 characters): the stored token
// is compared in full anyway, and hashing all of it would cost a hit more
// than the rest of the lookup.
func (c *verifiedCache) hash(raw string) uint64 {
	if len(raw) > hashedTail {
		raw = raw[len(raw)-hashedTail:]
	}
	return maphash.String(c.seed, raw)
}

// set returns the slots a token with hash h may occupy; nil when their
// chunk is not allocated yet, unless create, which allocates it.
func (c *verifiedCache) set(g *cacheGen, h uint64, create bool) []cacheSlot {
	// Lemire's multiply-shift maps the hash's top 32 bits onto [0, sets).
	i := int((h >> 32) * c.sets >> 32)
	p := &g.chunks[i/chunkSets]
	ch := p.Load()
	if ch == nil {
		if !create {
			return nil
		}
		p.CompareAndSwap(nil, new(cacheChunk)) // or another insert did meanwhile
		ch = p.Load()
	}
	j := i % chunkSets * c.ways
	return ch.slots[j : j+c.ways]
}

// slotCount returns how many slots the table has, allocated or not.
func (c *verifiedCache) slotCount() int { return int(c.sets) * c.ways }

// mapLimit returns how many of its entries may keep a claims map at once:
// one slot in cacheMapShare, or every slot of a cache of at most
// cacheMapMin slots (or cacheMapMin of a larger one).
func (c *verifiedCache) mapLimit() int64 {
	n := c.slotCount()
	return int64(max(n/cacheMapShare, min(n, cacheMapMin)))
}

// each calls fn with every allocated slot of g.
func (g *cacheGen) each(fn func(*cacheSlot)) {
	for i := range g.chunks {
		if ch := g.chunks[i].Load(); ch != nil {
			for j := range ch.slots {
				fn(&ch.slots[j])
			}
		}
	}
}

// get returns the verification of raw remembered by g when its time claims
// still pass at now, and nil otherwise. It does not allocate.
func (c *verifiedCache) get(g *cacheGen, raw string, now time.Time) *Verified {
	if g.chunks == nil {
		return nil
	}
	h := c.hash(raw)
	want := tagOf(h)
	set := c.set(g, h, false)
	for i := range set {
		sl := &set[i]
		tag := sl.tag.Load()
		if tag&^tagMark != want {
			continue
		}
		v := sl.v.Load()
		if v == nil || v.raw != raw {
			continue
		}
		if ns, ok := nowNanos(now); !ok || ns < v.validFrom || ns >= v.validUntil {
			// Let the parser say what is wrong, with golang-jwt's error;
			// an expired token will not be valid again.
			if sl.v.CompareAndSwap(v, nil) {
				sl.tag.CompareAndSwap(tag, 0)
				v.release()
			}
			return nil
		}
		if tag&tagMark == 0 {
			sl.tag.CompareAndSwap(tag, tag|tagMark)
		}
		return v
	}
	return nil
}

// put remembers v, which the parser has just verified with g's key set and
// no other request has seen yet. Unless the token is a whole header value,
// it takes a copy of the token, so that the cache keeps no larger string (a
// Cookie header, a query) the token was cut from.
func (c *verifiedCache) put(g *cacheGen, v *Verified, now time.Time) {
	if g.chunks == nil {
		return
	}
	if ns, ok := nowNanos(now); !ok || ns >= v.validUntil {
		return
	}
	h := c.hash(v.raw)
	want := tagOf(h)
	set := c.set(g, h, true)
	victim := -1
	for i := range set {
		// An empty slot, or one that holds this token already (a
		// concurrent request verified it too).
		if tag := set[i].tag.Load(); tag == 0 || tag&^tagMark == want {
			victim = i
			break
		}
	}
	if victim < 0 && !c.door.seen(h) {
		// The set is full, and the token is seen for the first time
		// lately: most such tokens are not seen again soon (a client's
		// one request, the tail of the sessions in use), and one that is
		// is let in next time; the entries in use stay.
		return
	}
	if c.clone {
		v.raw = strings.Clone(v.raw)
	}
	if victim < 0 {
		// The first slot not referenced since the last scan; the marks
		// passed on the way are cleared, so each entry gets a second
		// chance. Expired entries are not referenced: hits drop them.
		for i := range set {
			tag := set[i].tag.Load()
			if tag&tagMark == 0 {
				victim = i
				break
			}
			set[i].tag.CompareAndSwap(tag, tag&^tagMark)
		}
	}
	if victim < 0 {
		// Every entry was referenced; their marks are now cleared. Take
		// the slot the hash's low bits pick.
		victim = int(h>>2) % len(set)
	}
	v.gen = g // before any other request sees v
	if old := set[victim].v.Swap(v); old != nil {
		old.release()
	}
	set[victim].tag.Store(want)
}

// nowNanos returns now in Unix nanoseconds, and false when it is outside
// the range that holds (years 1678 to 2262, less a second at either end),
// where the cache does not answer.
func nowNanos(now time.Time) (int64, bool) {
	if sec := now.Unix(); sec <= math.MinInt64/int64(time.Second) || sec >= math.MaxInt64/int64(time.Second) {
		return 0, false
	}
	return now.UnixNano(), true
}
