package lru

import (
	"context"
	"fmt"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
	"github.com/slidingjwt/slidingjwt/store/internal/revtab"
)

// The revocation side of the Store. Unlike renewals, revocations are never
// evicted: forgetting a live one would let a signed-out session back in.
// They live in a table of their own, bounded by Options.MaxRevocations (a
// new revocation beyond it is refused) and by expiry, never by Options.Size.

var _ store.RevocationFeed = (*Store)(nil)

func newRevocations(maxRevocations int) (*revtab.Table, error) {
	if maxRevocations < 0 {
		return nil, fmt.Errorf("lru: Options.MaxRevocations is %d; want 0 (default %d) or a positive number of revocations",
			maxRevocations, store.DefaultMaxRevocations)
	}
	if maxRevocations == 0 {
		maxRevocations = store.DefaultMaxRevocations
	}
	return revtab.New("lru", maxRevocations, nil), nil
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
