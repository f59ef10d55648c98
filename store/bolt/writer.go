package bolt

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// A batch is the set of renewals that one commit writes. Every Allow that
// queued a renewal in it waits for done, then reads err.
type batch struct {
	keys []string
	vals [][recordSize]byte
	done chan struct{}
	err  error // set before done is closed
}

// enqueue adds a renewal to the batch that the writer will commit next and
// returns that batch, or nil once Close has begun.
func (s *Store) enqueue(key string, e entry) *batch {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.stopping {
		return nil
	}
	b := s.queued
	if b == nil {
		b = &batch{done: make(chan struct{})}
		s.queued = b
	}
	b.keys = append(b.keys, key)
	b.vals = append(b.vals, e.encode())
	select {
	case s.wake <- struct{}{}:
	default: // the writer has been woken already
	}
	return b
}

// writeLoop is the only goroutine that writes renewals. It commits whatever
// is queued as soon as the previous commit is done, without waiting for more:
// the renewals that arrive while one commit syncs share the next.
func (s *Store) writeLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.wake:
			s.flush()
		case <-s.stop:
			// Close set stopping before closing stop, so this takes the
			// last renewals that will ever be queued.
			s.flush()
			return
		}
	}
}

// flush commits the queued batch, if any, and wakes its waiters.
func (s *Store) flush() {
	s.qmu.Lock()
	b := s.queued
	s.queued = nil
	s.qmu.Unlock()
	if b == nil {
		return
	}
	b.err = s.write(b)
	close(b.done)
}

// write puts a batch in one transaction. A panic inside bbolt (a damaged
// file) becomes an error, so that the waiters are answered.
func (s *Store) write(b *batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: write: %v", ErrCorrupt, s.path, r)
		}
	}()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(s.bucket)
		if err != nil {
			return err
		}
		for i, k := range b.keys {
			if err := bk.Put([]byte(k), b.vals[i][:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bolt: write %s: %w", s.path, err)
	}
	if err := s.syncIfNoSync(); err != nil {
		return fmt.Errorf("bolt: sync %s: %w", s.path, err)
	}
	return nil
}

// syncIfNoSync syncs the file after a commit when the application's
// database (New) was opened with NoSync, which skips bbolt's own fsync:
// a granted renewal or a revocation is on disk all the same when the call
// that made it returns.
func (s *Store) syncIfNoSync() error {
	if !s.db.NoSync {
		return nil
	}
	return s.syncDB()
}
