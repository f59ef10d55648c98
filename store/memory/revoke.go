package memory

import (
	"context"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/internal/revtab"
)

// The revocation side of the Store: a table of its own, apart from the
// renewal shards, bounded by Options.MaxRevocations and by expiry. It
// serves one process and is lost on restart, like the renewals; package
// revocation keeps the copy that requests are checked against.

var _ store.RevocationFeed = (*Store)(nil)

func newRevocations(opts *Options) *revtab.Table {
	n := store.DefaultMaxRevocations
	if opts != nil && opts.MaxRevocations > 0 {
		n = opts.MaxRevocations
	}
	return revtab.New("memory", n, nil)
}

// Revoke implements store.Revoker. Expired revocations are dropped as new
// ones arrive, so the store holds about the live ones.
func (s *Store) Revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	return s.rev.Revoke(ctx, r, now)
}

// Revocations implements store.Revoker.
func (s *Store) Revocations(ctx context.Context, now time.Time) ([]store.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	return s.rev.Revocations(ctx, now)
}

// RevocationsSince implements store.RevocationFeed. Its history lasts as long
// as the Store.
func (s *Store) RevocationsSince(ctx context.Context, cursor store.RevocationCursor, now time.Time, limit int) (store.RevocationPage, error) {
	if err := ctx.Err(); err != nil {
		return store.RevocationPage{}, err
	}
	if s.closed.Load() {
		return store.RevocationPage{}, store.ErrClosed
	}
	return s.rev.Since(ctx, cursor, now, limit)
}

// RevocationsLen reports how many revocations the store holds, including
// expired ones not dropped yet. It is meant for tests and metrics.
func (s *Store) RevocationsLen() int { return s.rev.Len() }
