package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/slidingjwt/slidingjwt/store"
)

// Prune removes every entry whose interval had passed by now (recorded at
// or before now minus the interval it was recorded with), from memory and
// from the file, and reports how many it removed from the file. Such an
// entry cannot refuse a renewal at now or later. Entries recorded after now,
// and renewals being committed, are left alone.
//
// The file is scanned in read transactions and pruned in write transactions
// of at most Options.PruneChunk deletions each, so renewals are not held up
// for long however large the file. The background pruner calls Prune with
// the now of the latest granted renewal; tests and applications that
// disabled it call it with their own clock. Prune is safe to call
// concurrently with everything else; a Close that begins during Prune stops
// it after the current chunk, and Prune then returns store.ErrClosed.
func (s *Store) Prune(now time.Time) (removed int, err error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	if err := store.CheckTime(now); err != nil {
		return 0, fmt.Errorf("bolt: prune %s: %w", s.path, err)
	}
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	n := now.UnixNano()
	s.pruneMemory(n)
	return s.pruneFile(n)
}

func (s *Store) pruneMemory(now int64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.entries {
			if e.expired(now) && sh.inflight[k] == 0 {
				delete(sh.entries, k)
			}
		}
		sh.mu.Unlock()
	}
}

func (s *Store) pruneFile(now int64) (removed int, err error) {
	expired := func(v []byte) bool {
		e, ok := decode(v)
		return ok && e.expired(now) // leave what is not ours alone
	}
	var from []byte // nil: the first key
	for {
		if s.closed.Load() {
			return removed, store.ErrClosed
		}
		// Find up to one chunk of expired keys without blocking writers.
		var doomed [][]byte
		var next []byte
		err := s.db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket(s.bucket)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for scanned := 0; k != nil; k, v = c.Next() {
				if scanned == s.chunk {
					next = bytes.Clone(k) // keys are only valid inside the tx
					break
				}
				scanned++
				if expired(v) {
					doomed = append(doomed, bytes.Clone(k))
				}
			}
			return nil
		})
		if err != nil {
			return removed, s.pruneError(err)
		}
		if len(doomed) > 0 {
			// Check again under the write lock: a renewal may have been
			// committed since the scan.
			deleted := 0
			err := s.db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket(s.bucket)
				if b == nil {
					return nil
				}
				for _, k := range doomed {
					if v := b.Get(k); v != nil && expired(v) {
						if err := b.Delete(k); err != nil {
							return err
						}
						deleted++
					}
				}
				return nil
			})
			if err != nil {
				return removed, s.pruneError(err)
			}
			removed += deleted
		}
		if next == nil {
			return removed, nil
		}
		from = next
	}
}

func (s *Store) pruneError(err error) error {
	return fmt.Errorf("bolt: prune %s: %w", s.path, err)
}

// pruneLoop prunes every period, against the caller's clock at the latest
// renewal, until Close.
func (s *Store) pruneLoop(period time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			n := s.latest.Load()
			if n == 0 {
				continue // nothing recorded yet
			}
			_, err := s.Prune(time.Unix(0, n))
			if err != nil && !errors.Is(err, store.ErrClosed) && s.onPruneError != nil {
				s.onPruneError(err)
			}
		}
	}
}
