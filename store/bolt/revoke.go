package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"time"

	"go.etcd.io/bbolt"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/internal/revtab"
)

// The revocation side of the Store. Revocations live in a bucket of their
// own (Options.RevocationBucket), one record per revoked session or
// subject:
//
//	key    17 bytes: the kind (1 session, 2 subject), then the 16-byte key
//	value  16 bytes: Before, then Until, in Unix nanoseconds, big-endian
//
// Every revocation in the file is loaded into memory when the store opens,
// and answers come from that copy. Revoke commits and syncs its record
// before it returns, in a transaction of its own (revocations are rare, so
// they do not share the renewals' batched commits): a revoked session stays
// revoked after kill -9 and a reopen. Each Revoke also deletes from the file
// expired revocations it drops from memory, so the file holds about the
// live ones.

// DefaultRevocationBucket is the name of the bbolt bucket that holds the
// revocations.
const DefaultRevocationBucket = "slidingjwt.revocations"

const (
	revKeySize    = 17
	revRecordSize = 16
)

var _ store.RevocationFeed = (*Store)(nil)

// loadRevocations checks the revocation options and reads the revocations
// in the file into memory. None is judged expired here, for the reason
// load gives: the store does not know the caller's clock yet.
func (s *Store) loadRevocations(o Options) (err error) {
	if o.MaxRevocations < 0 {
		return fmt.Errorf("bolt: Options.MaxRevocations is %d; want 0 (default %d) or a positive number of revocations",
			o.MaxRevocations, store.DefaultMaxRevocations)
	}
	maxLive := o.MaxRevocations
	if maxLive == 0 {
		maxLive = store.DefaultMaxRevocations
	}
	bucket := o.RevocationBucket
	if bucket == "" {
		bucket = DefaultRevocationBucket
	}
	if bucket == o.Bucket {
		return fmt.Errorf("bolt: Options.RevocationBucket %q is also Options.Bucket; revocations need a bucket of their own", bucket)
	}
	s.revBucket = []byte(bucket)
	s.rev = revtab.New("bolt "+s.path, maxLive, s.persistRevocation)

	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, r)
		}
	}()
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.revBucket)
		if b == nil {
			return nil // no revocation yet
		}
		return b.ForEach(func(k, v []byte) error {
			rec, ok := decodeRevocation(k, v)
			if !ok {
				return fmt.Errorf("%w: %s: bucket %q holds a record of %d+%d bytes that is not a revocation (want %d+%d)",
					ErrCorrupt, s.path, s.revBucket, len(k), len(v), revKeySize, revRecordSize)
			}
			s.rev.Restore(rec)
			return nil
		})
	})
}

func revocationKey(f revtab.Field) []byte {
	k := make([]byte, revKeySize)
	k[0] = byte(f.Kind)
	copy(k[1:], f.Key[:])
	return k
}

func encodeRevocation(r revtab.Record) []byte {
	v := make([]byte, revRecordSize)
	binary.BigEndian.PutUint64(v[:8], uint64(r.Before))
	binary.BigEndian.PutUint64(v[8:], uint64(r.Until))
	return v
}

func decodeRevocation(k, v []byte) (revtab.Record, bool) {
	if len(k) != revKeySize || len(v) != revRecordSize {
		return revtab.Record{}, false
	}
	kind := store.RevocationKind(k[0])
	if kind != store.RevokeSession && kind != store.RevokeSubject {
		return revtab.Record{}, false
	}
	var r revtab.Record
	r.Kind = kind
	copy(r.Key[:], k[1:])
	r.Before = int64(binary.BigEndian.Uint64(v[:8]))
	r.Until = int64(binary.BigEndian.Uint64(v[8:]))
	return r, true
}

// persistRevocation writes one change of the revocation table in a
// transaction of its own and syncs it. It runs with the table locked, so
// revocations reach the file in the order the table applies them.
func (s *Store) persistRevocation(put *revtab.Record, drop []revtab.Field) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: revoke: %v", ErrCorrupt, s.path, r)
		}
	}()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(s.revBucket)
		if err != nil {
			return err
		}
		for _, f := range drop {
			if err := b.Delete(revocationKey(f)); err != nil {
				return err
			}
		}
		if put != nil {
			return b.Put(revocationKey(put.Field), encodeRevocation(*put))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bolt: revoke: write %s: %w", s.path, err)
	}
	if err := s.syncIfNoSync(); err != nil {
		return fmt.Errorf("bolt: revoke: sync %s: %w", s.path, err)
	}
	return nil
}

// Revoke implements store.Revoker. When it returns nil, the revocation is
// committed and synced to the file. If the write fails, nothing is
// recorded and the error names the file.
func (s *Store) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock() // Close waits for the write
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	return s.rev.Revoke(ctx, r, now)
}

// Revocations implements store.Revoker, from memory.
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	return s.rev.Revocations(ctx, now)
}

// RevocationsSince implements store.RevocationFeed, from memory. Its
// history begins when the store opens: a reader that outlives the Store
// (which a process cannot share) sees a new epoch after a reopen, and
// revocations in the file are listed again.
func (s *Store) RevocationsSince(ctx context.Context, cursor store.RevocationCursor, now time.Time, limit int) (store.RevocationPage, error) {
	if err := ctx.Err(); err != nil {
		return store.RevocationPage{}, err
	}
	if s.closed.Load() {
		return store.RevocationPage{}, store.ErrClosed
	}
	return s.rev.Since(ctx, cursor, now, limit)
}

// RevocationsLen reports how many revocations the store holds in memory,
// including expired ones not dropped yet. It is meant for tests and
// metrics.
func (s *Store) RevocationsLen() int { return s.rev.Len() }
