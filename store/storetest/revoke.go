package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// RevokerFactory returns a new, empty store.Revoker for one test, holding
// at most maxRevocations live revocations (0 means the backend's default).
// RunRevoker closes it when the test ends; the factory may register its own
// cleanup for anything else it started.
type RevokerFactory func(tb testing.TB, maxRevocations int) store.Revoker

// Lifetime is how long the suite's revocations stay live unless a test says
// otherwise.
const Lifetime = time.Hour

// SessionRevocation returns a session revocation of the i-th session, made
// at Base and live for Lifetime.
func SessionRevocation(i int) store.Revocation {
	return store.Revocation{
		Kind:   store.RevokeSession,
		Key:    store.SessionRevocationKey(fmt.Sprintf("session-%d", i)),
		Before: Base,
		Until:  Base.Add(Lifetime),
	}
}

// SubjectRevocation returns a revocation of the sessions of the i-th
// subject that began before Base, live for Lifetime.
func SubjectRevocation(i int) store.Revocation {
	return store.Revocation{
		Kind:   store.RevokeSubject,
		Key:    store.SubjectRevocationKey(fmt.Sprintf("subject-%d", i)),
		Before: Base,
		Until:  Base.Add(Lifetime),
	}
}

// RunRevoker runs the revocation contract (see store.Revoker) against
// backends made by newRevoker. A backend that implements
// store.RevocationFeed also runs the feed's contract. The suite never
// sleeps: it moves time by passing later values of now.
func RunRevoker(t *testing.T, newRevoker RevokerFactory) {
	t.Helper()
	open := func(t *testing.T, maxRevocations int) store.Revoker {
		t.Helper()
		r := newRevoker(t, maxRevocations)
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	ctx := context.Background()

	t.Run("RevokeThenListed", func(t *testing.T) {
		t.Parallel()
		r := open(t, 0)
		want := []store.Revocation{SessionRevocation(1), SubjectRevocation(1), SessionRevocation(2)}
		for _, rv := range want {
			MustRevoke(t, r, rv, Base)
		}
		WantRevocations(t, r, Base, want...)
		WantRevocations(t, r, Base.Add(Lifetime/2), want...)
	})

	t.Run("KindsDistinct", func(t *testing.T) {
		// A session and a subject revocation with the same Key are two
		// revocations: the Kind is part of what is revoked.
		t.Parallel()
		r := open(t, 0)
		sess := SessionRevocation(1)
		subj := sess
		subj.Kind = store.RevokeSubject
		subj.Until = sess.Until.Add(time.Hour)
		MustRevoke(t, r, sess, Base)
		MustRevoke(t, r, subj, Base)
		WantRevocations(t, r, Base, sess, subj)
	})

	t.Run("ExpiryForgets", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			at   time.Duration // after Base
			live bool
		}{
			{"well before Until", Lifetime / 2, true},
			{"one nanosecond before Until", Lifetime - time.Nanosecond, true},
			{"at Until", Lifetime, false},
			{"long after Until", 100 * Lifetime, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := open(t, 0)
				rv := SessionRevocation(1)
				MustRevoke(t, r, rv, Base)
				if tt.live {
					WantRevocations(t, r, Base.Add(tt.at), rv)
				} else {
					WantRevocations(t, r, Base.Add(tt.at))
				}
			})
		}
	})

	t.Run("NotLiveRecordsNothing", func(t *testing.T) {
		// A revocation whose Until is not after now can match no token
		// that is still accepted: nothing to record, not an error.
		t.Parallel()
		r := open(t, 0)
		rv := SessionRevocation(1)
		for _, now := range []time.Time{rv.Until, rv.Until.Add(time.Hour)} {
			MustRevoke(t, r, rv, now)
		}
		WantRevocations(t, r, Base)
	})

	t.Run("SameKeyMerges", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name                  string
			before, until         time.Duration // of the second revocation, after the first's
			wantBefore, wantUntil time.Duration
		}{
			{"later Until kept", 0, time.Hour, 0, time.Hour},
			{"earlier Until ignored", 0, -time.Minute, 0, 0},
			{"later Before kept", time.Minute, 0, time.Minute, 0},
			{"earlier Before ignored", -time.Minute, 0, 0, 0},
			{"both later", time.Minute, time.Hour, time.Minute, time.Hour},
			{"later Before, earlier Until", time.Minute, -time.Minute, time.Minute, 0},
			{"same again", 0, 0, 0, 0},
		}
		for _, kind := range []store.RevocationKind{store.RevokeSession, store.RevokeSubject} {
			for _, tt := range tests {
				t.Run(kind.String()+"/"+tt.name, func(t *testing.T) {
					t.Parallel()
					r := open(t, 0)
					first := SubjectRevocation(1)
					first.Kind = kind
					second := first
					second.Before = first.Before.Add(tt.before)
					second.Until = first.Until.Add(tt.until)
					MustRevoke(t, r, first, Base)
					MustRevoke(t, r, second, Base.Add(time.Second))
					want := first
					want.Before = first.Before.Add(tt.wantBefore)
					want.Until = first.Until.Add(tt.wantUntil)
					WantRevocations(t, r, Base.Add(time.Second), want)
				})
			}
		}
	})

	t.Run("CapRefusesAndForgetsNothing", func(t *testing.T) {
		t.Parallel()
		const limit = 3
		r := open(t, limit)
		held := []store.Revocation{SessionRevocation(1), SubjectRevocation(1), SessionRevocation(2)}
		for _, rv := range held {
			MustRevoke(t, r, rv, Base)
		}
		for _, extra := range []store.Revocation{SessionRevocation(3), SubjectRevocation(2)} {
			err := r.Revoke(ctx, extra, Base.Add(time.Second))
			if !errors.Is(err, store.ErrRevocationsFull) {
				t.Fatalf("Revoke beyond a cap of %d = %v; want an error wrapping store.ErrRevocationsFull", limit, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(limit)) {
				t.Errorf("error %q does not name the cap %d", err, limit)
			}
		}
		WantRevocations(t, r, Base.Add(time.Second), held...)

		// Merging into a live revocation needs no room.
		longer := held[0]
		longer.Until = longer.Until.Add(time.Hour)
		MustRevoke(t, r, longer, Base.Add(2*time.Second))
		WantRevocations(t, r, Base.Add(2*time.Second), longer, held[1], held[2])
	})

	t.Run("ExpiredDoNotCount", func(t *testing.T) {
		t.Parallel()
		const limit = 2
		r := open(t, limit)
		short := func(rv store.Revocation) store.Revocation {
			rv.Until = Base.Add(time.Minute)
			return rv
		}
		old := []store.Revocation{short(SessionRevocation(1)), short(SessionRevocation(2))}
		for _, rv := range old {
			MustRevoke(t, r, rv, Base)
		}
		if err := r.Revoke(ctx, SessionRevocation(3), Base.Add(time.Second)); !errors.Is(err, store.ErrRevocationsFull) {
			t.Fatalf("Revoke while %d are live = %v; want store.ErrRevocationsFull", limit, err)
		}
		// At the instant the old ones expire, the room is back: Until is
		// the first instant a revocation is not live.
		later := Base.Add(time.Minute)
		fresh := []store.Revocation{SessionRevocation(3), SubjectRevocation(3)}
		for _, rv := range fresh {
			rv.Until = later.Add(Lifetime)
			MustRevoke(t, r, rv, later)
		}
		for i := range fresh {
			fresh[i].Until = later.Add(Lifetime)
		}
		WantRevocations(t, r, later, fresh...)
		// One of the old ones again: a new revocation, so no room.
		if err := r.Revoke(ctx, SessionRevocation(1), later); !errors.Is(err, store.ErrRevocationsFull) {
			t.Fatalf("Revoke of an expired key at the cap = %v; want store.ErrRevocationsFull", err)
		}
	})

	t.Run("ConcurrentRevokes", func(t *testing.T) {
		t.Parallel()
		const goroutines = 64
		r := open(t, 0)
		var wg sync.WaitGroup
		want := make([]store.Revocation, goroutines)
		hot := SubjectRevocation(0)
		for i := range goroutines {
			want[i] = SessionRevocation(i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Revoke(ctx, want[i], Base); err != nil {
					t.Errorf("Revoke(session %d): %v", i, err)
				}
				// Everyone extends one subject revocation too: the
				// latest Until and Before must win, whatever the order.
				rv := hot
				rv.Before = hot.Before.Add(time.Duration(i) * time.Second)
				rv.Until = hot.Until.Add(time.Duration(i) * time.Minute)
				if err := r.Revoke(ctx, rv, Base); err != nil {
					t.Errorf("Revoke(subject, +%d): %v", i, err)
				}
			}()
		}
		wg.Wait()
		hot.Before = hot.Before.Add((goroutines - 1) * time.Second)
		hot.Until = hot.Until.Add((goroutines - 1) * time.Minute)
		WantRevocations(t, r, Base, append(want, hot)...)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		r := open(t, 0)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := r.Revoke(cctx, SessionRevocation(1), Base); !errors.Is(err, context.Canceled) {
			t.Errorf("Revoke(cancelled) = %v; want an error wrapping context.Canceled", err)
		}
		if _, err := r.Revocations(cctx, Base); !errors.Is(err, context.Canceled) {
			t.Errorf("Revocations(cancelled) = %v; want an error wrapping context.Canceled", err)
		}
		if f, ok := r.(store.RevocationFeed); ok {
			if _, err := f.RevocationsSince(cctx, store.RevocationCursor{}, Base, 0); !errors.Is(err, context.Canceled) {
				t.Errorf("RevocationsSince(cancelled) = %v; want an error wrapping context.Canceled", err)
			}
		}
		WantRevocations(t, r, Base) // the cancelled Revoke recorded nothing
	})

	t.Run("InvalidRevocations", func(t *testing.T) {
		t.Parallel()
		far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
		tests := []struct {
			name   string
			change func(*store.Revocation)
			now    time.Time
			want   error  // wrapped, when not nil
			names  string // what the message must name
		}{
			{"kind zero", func(r *store.Revocation) { r.Kind = 0 }, Base, nil, "kind 0"},
			{"unknown kind", func(r *store.Revocation) { r.Kind = 7 }, Base, nil, "kind 7"},
			{"zero Before", func(r *store.Revocation) { r.Before = time.Time{} }, Base, store.ErrTimeRange, "0001-01-01"},
			{"Until past 2262", func(r *store.Revocation) { r.Until = far }, Base, store.ErrTimeRange, "3000-01-01"},
			{"zero now", func(*store.Revocation) {}, time.Time{}, store.ErrTimeRange, "0001-01-01"},
			{"now past 2262", func(*store.Revocation) {}, far, store.ErrTimeRange, "3000-01-01"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := open(t, 0)
				rv := SessionRevocation(1)
				tt.change(&rv)
				err := r.Revoke(ctx, rv, tt.now)
				if err == nil {
					t.Fatalf("Revoke(%+v, now %v) = nil; want an error", rv, tt.now)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("Revoke error %q does not wrap %q", err, tt.want)
				}
				if !strings.Contains(err.Error(), tt.names) {
					t.Errorf("Revoke error %q does not name %q", err, tt.names)
				}
				WantRevocations(t, r, Base)
			})
		}
		t.Run("Revocations with a zero now", func(t *testing.T) {
			t.Parallel()
			r := open(t, 0)
			if _, err := r.Revocations(ctx, time.Time{}); !errors.Is(err, store.ErrTimeRange) {
				t.Errorf("Revocations(zero now) = %v; want an error wrapping store.ErrTimeRange", err)
			}
		})
	})

	t.Run("CloseIdempotent", func(t *testing.T) {
		t.Parallel()
		r := newRevoker(t, 0)
		MustRevoke(t, r, SessionRevocation(1), Base)
		if err := r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := r.Revoke(ctx, SessionRevocation(2), Base); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Revoke after Close = %v; want ErrClosed", err)
		}
		if _, err := r.Revocations(ctx, Base); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Revocations after Close = %v; want ErrClosed", err)
		}
		if f, ok := r.(store.RevocationFeed); ok {
			if _, err := f.RevocationsSince(ctx, store.RevocationCursor{}, Base, 0); !errors.Is(err, store.ErrClosed) {
				t.Errorf("RevocationsSince after Close = %v; want ErrClosed", err)
			}
		}
	})

	if _, ok := newRevokerProbe(t, newRevoker).(store.RevocationFeed); ok {
		t.Run("Feed", func(t *testing.T) {
			t.Parallel()
			runFeed(t, func(t *testing.T, maxRevocations int) store.RevocationFeed {
				return open(t, maxRevocations).(store.RevocationFeed)
			})
		})
	}
}

// newRevokerProbe makes and closes one backend, to learn which optional
// interfaces the factory's backends implement.
func newRevokerProbe(t *testing.T, newRevoker RevokerFactory) store.Revoker {
	t.Helper()
	r := newRevoker(t, 0)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return r
}

// runFeed is the contract of store.RevocationFeed.
func runFeed(t *testing.T, open func(t *testing.T, maxRevocations int) store.RevocationFeed) {
	ctx := context.Background()

	t.Run("FromZeroListsEverything", func(t *testing.T) {
		t.Parallel()
		f := open(t, 0)
		want := []store.Revocation{SessionRevocation(1), SubjectRevocation(1)}
		for _, rv := range want {
			MustRevoke(t, f, rv, Base)
		}
		got, next := readAll(t, f, store.RevocationCursor{}, Base, 0)
		SameRevocations(t, "from the zero cursor", got, want)
		if next.Epoch == "" || next.Seq == 0 {
			t.Errorf("next cursor = %+v; want an epoch and a sequence number", next)
		}
	})

	t.Run("OnlyWhatChanged", func(t *testing.T) {
		t.Parallel()
		f := open(t, 0)
		first := SessionRevocation(1)
		MustRevoke(t, f, first, Base)
		_, cursor := readAll(t, f, store.RevocationCursor{}, Base, 0)

		got, again := readAll(t, f, cursor, Base, 0)
		SameRevocations(t, "with nothing new", got, nil)
		if again != cursor {
			t.Errorf("cursor moved from %+v to %+v with nothing new", cursor, again)
		}

		second := SubjectRevocation(1)
		MustRevoke(t, f, second, Base)
		got, cursor = readAll(t, f, cursor, Base, 0)
		SameRevocations(t, "after one more revocation", got, []store.Revocation{second})

		// Extending the first one brings it back, in its new form; the
		// same revocation again changes nothing.
		extended := first
		extended.Until = first.Until.Add(time.Hour)
		MustRevoke(t, f, extended, Base)
		MustRevoke(t, f, second, Base)
		got, _ = readAll(t, f, cursor, Base, 0)
		SameRevocations(t, "after an extension and a repeat", got, []store.Revocation{extended})
	})

	t.Run("Pages", func(t *testing.T) {
		t.Parallel()
		const n, limit = 25, 4
		f := open(t, 0)
		var want []store.Revocation
		for i := range n {
			want = append(want, SessionRevocation(i))
			MustRevoke(t, f, want[i], Base)
		}
		cursor := store.RevocationCursor{}
		var got []store.Revocation
		for calls := 0; ; calls++ {
			if calls > n {
				t.Fatalf("still More after %d calls with a limit of %d for %d revocations", calls, limit, n)
			}
			page, err := f.RevocationsSince(ctx, cursor, Base, limit)
			if err != nil {
				t.Fatalf("RevocationsSince: %v", err)
			}
			if len(page.Revocations) > limit {
				t.Fatalf("page of %d revocations; want at most the limit %d", len(page.Revocations), limit)
			}
			got = append(got, page.Revocations...)
			cursor = page.Next
			if !page.More {
				break
			}
		}
		if len(got) != n {
			t.Fatalf("read %d revocations in pages; want %d, each once", len(got), n)
		}
		SameRevocations(t, "in pages", got, want)
	})

	t.Run("ExpiredLeftOut", func(t *testing.T) {
		t.Parallel()
		f := open(t, 0)
		short := SessionRevocation(1)
		short.Until = Base.Add(time.Minute)
		long := SessionRevocation(2)
		MustRevoke(t, f, short, Base)
		MustRevoke(t, f, long, Base)
		got, _ := readAll(t, f, store.RevocationCursor{}, Base.Add(time.Minute), 0)
		SameRevocations(t, "after one expired", got, []store.Revocation{long})
	})

	t.Run("ResetForAnotherHistory", func(t *testing.T) {
		t.Parallel()
		f := open(t, 0)
		rv := SessionRevocation(1)
		MustRevoke(t, f, rv, Base)
		_, cursor := readAll(t, f, store.RevocationCursor{}, Base, 0)
		tests := []struct {
			name   string
			cursor store.RevocationCursor
			reset  bool
		}{
			{"its own cursor", cursor, false},
			{"the zero cursor", store.RevocationCursor{}, false},
			{"another epoch", store.RevocationCursor{Epoch: cursor.Epoch + "x", Seq: cursor.Seq}, true},
			{"a sequence ahead of it", store.RevocationCursor{Epoch: cursor.Epoch, Seq: cursor.Seq + 1}, true},
		}
		for _, tt := range tests {
			page, err := f.RevocationsSince(ctx, tt.cursor, Base, 0)
			if err != nil {
				t.Fatalf("%s: RevocationsSince: %v", tt.name, err)
			}
			if page.Reset != tt.reset {
				t.Errorf("%s: Reset = %v, want %v", tt.name, page.Reset, tt.reset)
			}
			if tt.reset {
				// A reset page starts from the beginning.
				SameRevocations(t, tt.name, page.Revocations, []store.Revocation{rv})
			}
			if page.Next != cursor {
				t.Errorf("%s: Next = %+v, want %+v", tt.name, page.Next, cursor)
			}
		}
	})
}

// readAll reads every page after cursor and returns the revocations and the
// last cursor.
func readAll(t *testing.T, f store.RevocationFeed, cursor store.RevocationCursor, now time.Time, limit int) ([]store.Revocation, store.RevocationCursor) {
	t.Helper()
	var out []store.Revocation
	for range 1000 {
		page, err := f.RevocationsSince(context.Background(), cursor, now, limit)
		if err != nil {
			t.Fatalf("RevocationsSince(%+v): %v", cursor, err)
		}
		if page.Reset {
			t.Fatalf("RevocationsSince(%+v) reported a reset; want the history continued", cursor)
		}
		out = append(out, page.Revocations...)
		cursor = page.Next
		if !page.More {
			return out, cursor
		}
	}
	t.Fatalf("RevocationsSince still reports More after 1000 pages")
	return nil, cursor
}

// MustRevoke records rv at now and fails the test on an error.
func MustRevoke(t testing.TB, r store.Revoker, rv store.Revocation, now time.Time) {
	t.Helper()
	if err := r.Revoke(context.Background(), rv, now); err != nil {
		t.Fatalf("Revoke(%s %s, now +%v): %v", rv.Kind, rv.Key, now.Sub(Base), err)
	}
}

// WantRevocations fails the test unless r lists exactly want as live at now.
func WantRevocations(t testing.TB, r store.Revoker, now time.Time, want ...store.Revocation) {
	t.Helper()
	got, err := r.Revocations(context.Background(), now)
	if err != nil {
		t.Fatalf("Revocations(+%v): %v", now.Sub(Base), err)
	}
	SameRevocations(t, fmt.Sprintf("Revocations(+%v)", now.Sub(Base)), got, want)
}

// SameRevocations fails the test unless got and want hold the same
// revocations, in any order, times compared by their instant; what says
// where they come from.
func SameRevocations(t testing.TB, what string, got, want []store.Revocation) {
	t.Helper()
	order := func(a, b store.Revocation) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return bytes.Compare(a.Key[:], b.Key[:])
	}
	got, want = slices.SortedFunc(slices.Values(got), order), slices.SortedFunc(slices.Values(want), order)
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.Kind == w.Kind && g.Key == w.Key && g.Before.Equal(w.Before) && g.Until.Equal(w.Until)
	}
	if !same {
		t.Errorf("%s:\n got %s\nwant %s", what, FormatRevocations(got), FormatRevocations(want))
	}
}

// FormatRevocations lists revocations one a line, times relative to Base,
// for failure messages.
func FormatRevocations(rs []store.Revocation) string {
	if len(rs) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n\t%s %s before +%v until +%v", r.Kind, r.Key, r.Before.Sub(Base), r.Until.Sub(Base))
	}
	return b.String()
}
