// Package storetest is the conformance suite every store.Store backend runs.
//
// A backend's test file calls Run with a factory that returns a new, empty
// store, and its benchmark file calls Benchmark the same way:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(testing.TB) store.Store { return memory.New(nil) })
//	}
//
// The suite never sleeps: it moves time by passing later values of now, as
// the contract in package store requires. Run it under -race; the
// concurrency tests are only meaningful there.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slidingjwt/slidingjwt/store"
)

// Factory returns a new, empty store for one test. Run closes it when the test
// ends (closing twice is part of the contract); the factory may register its
// own cleanup for anything else it started.
// The same factory serves Run and Benchmark.
type Factory func(tb testing.TB) store.Store

// Base is the wall-clock time the suite starts its injected clocks from.
var Base = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// Interval is the renewal interval the suite uses unless a test says otherwise.
const Interval = time.Minute

// Run runs the whole conformance suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	ctx := context.Background()

	t.Run("FirstAllowed", func(t *testing.T) {
		s := open(t)
		mustAllow(t, s, "k", Base, Interval, true)
		at, ok, err := s.Last(ctx, "k")
		if err != nil || !ok || !at.Equal(Base) {
			t.Fatalf("Last = %v, %v, %v; want %v, true, nil", at, ok, err, Base)
		}
	})

	t.Run("UnknownKeyHasNoLast", func(t *testing.T) {
		s := open(t)
		at, ok, err := s.Last(ctx, "never")
		if err != nil || ok {
			t.Fatalf("Last(never) = %v, %v, %v; want zero, false, nil", at, ok, err)
		}
	})

	t.Run("WindowEdges", func(t *testing.T) {
		tests := []struct {
			name  string
			after time.Duration
			want  bool
		}{
			{"same instant", 0, false},
			{"one nanosecond later", time.Nanosecond, false},
			{"half the interval", Interval / 2, false},
			{"one nanosecond short", Interval - time.Nanosecond, false},
			{"exactly the interval", Interval, true},
			{"long after", 100 * Interval, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				mustAllow(t, s, "k", Base, Interval, true)
				mustAllow(t, s, "k", Base.Add(tt.after), Interval, tt.want)
				at, ok, err := s.Last(ctx, "k")
				want := Base
				if tt.want {
					want = Base.Add(tt.after)
				}
				if err != nil || !ok || !at.Equal(want) {
					t.Fatalf("Last = %v, %v, %v; want %v, true, nil", at, ok, err, want)
				}
			})
		}
	})

	t.Run("RefusalChangesNothing", func(t *testing.T) {
		s := open(t)
		mustAllow(t, s, "k", Base, Interval, true)
		for i := 1; i <= 5; i++ {
			mustAllow(t, s, "k", Base.Add(time.Duration(i)*Interval/10), Interval, false)
		}
		// The window still counts from the first renewal, not the refusals.
		mustAllow(t, s, "k", Base.Add(Interval), Interval, true)
	})

	t.Run("SlidingSequence", func(t *testing.T) {
		s := open(t)
		now := Base
		for i := 0; i < 5; i++ {
			mustAllow(t, s, "k", now, Interval, true)
			mustAllow(t, s, "k", now.Add(Interval-time.Second), Interval, false)
			now = now.Add(Interval)
		}
	})

	t.Run("KeysIndependent", func(t *testing.T) {
		s := open(t)
		mustAllow(t, s, "a", Base, Interval, true)
		mustAllow(t, s, "b", Base, Interval, true)
		mustAllow(t, s, "a", Base.Add(time.Second), Interval, false)
		mustAllow(t, s, "b", Base.Add(time.Second), Interval, false)
		mustAllow(t, s, "c", Base.Add(time.Second), Interval, true)
	})

	t.Run("IntervalPerCall", func(t *testing.T) {
		s := open(t)
		mustAllow(t, s, "short", Base, time.Second, true)
		mustAllow(t, s, "short", Base.Add(time.Second), time.Second, true)
		mustAllow(t, s, "long", Base, time.Hour, true)
		mustAllow(t, s, "long", Base.Add(59*time.Minute), time.Hour, false)
		mustAllow(t, s, "long", Base.Add(time.Hour), time.Hour, true)
		// The call's interval decides, not the one the entry was recorded
		// with: a renewal recorded with an hour is no bar to a caller whose
		// interval is a second, two seconds later.
		mustAllow(t, s, "mixed", Base, time.Hour, true)
		mustAllow(t, s, "mixed", Base.Add(2*time.Second), time.Second, true)
	})

	t.Run("BackwardClockStep", func(t *testing.T) {
		// The wall clock jumps back by an hour right after a renewal. The
		// session must not wait for the hour to be lived through again.
		s := open(t)
		mustAllow(t, s, "k", Base, Interval, true)
		stepped := Base.Add(-time.Hour)
		mustAllow(t, s, "k", stepped, Interval, true)
		mustAllow(t, s, "k", stepped.Add(time.Second), Interval, false)
		mustAllow(t, s, "k", stepped.Add(Interval), Interval, true)
	})

	t.Run("TimeOutOfRange", func(t *testing.T) {
		// A zero time.Time, or a date past 2262, cannot be recorded in
		// nanoseconds: an error naming it, and nothing recorded.
		s := open(t)
		for _, now := range []time.Time{{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)} {
			ok, err := s.Allow(ctx, "k", now, Interval)
			if ok || !errors.Is(err, store.ErrTimeRange) {
				t.Errorf("Allow(now %v) = %v, %v; want false and an error wrapping store.ErrTimeRange", now, ok, err)
			}
		}
		if at, ok, err := s.Last(ctx, "k"); ok || err != nil {
			t.Fatalf("Last after refused times = %v, %v, %v; want nothing recorded", at, ok, err)
		}
		mustAllow(t, s, "k", Base, Interval, true)
	})

	t.Run("FarApartTimes", func(t *testing.T) {
		// Times 500 years apart, further than int64 nanoseconds can
		// subtract, with the longest interval: still compared as
		// store.Refused compares them.
		s := open(t)
		early := time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
		late := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		const longest = time.Duration(1<<63 - 1)
		mustAllow(t, s, "k", early, longest, true)
		mustAllow(t, s, "k", late, longest, !store.Refused(early, late, longest))
		mustAllow(t, s, "k", late.Add(time.Second), Interval, false)
	})

	t.Run("ClockJitterRefused", func(t *testing.T) {
		// A caller that read the clock a little before the winner, but
		// reached the store after it, is refused too.
		s := open(t)
		mustAllow(t, s, "k", Base, Interval, true)
		mustAllow(t, s, "k", Base.Add(-time.Millisecond), Interval, false)
		mustAllow(t, s, "k", Base.Add(-Interval+time.Nanosecond), Interval, false)
	})

	t.Run("LongKeys", func(t *testing.T) {
		s := open(t)
		long := string(make([]byte, 512))
		mustAllow(t, s, long, Base, Interval, true)
		mustAllow(t, s, long, Base.Add(time.Second), Interval, false)
		mustAllow(t, s, "odd key:\r\n\x00/é", Base, Interval, true)
		mustAllow(t, s, "odd key:\r\n\x00/é", Base.Add(time.Second), Interval, false)
	})

	t.Run("ExactlyOneWinner", func(t *testing.T) {
		const goroutines = 100
		s := open(t)
		var wins atomic.Int32
		var start sync.WaitGroup
		var done sync.WaitGroup
		start.Add(1)
		for i := 0; i < goroutines; i++ {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				ok, err := s.Allow(ctx, "hot", Base, Interval)
				if err != nil {
					t.Errorf("Allow: %v", err)
					return
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		start.Done()
		done.Wait()
		if got, want := wins.Load(), int32(1); got != want {
			t.Fatalf("winners = %d, want %d", got, want)
		}
	})

	t.Run("ExactlyOneWinnerPerKeyUnderLoad", func(t *testing.T) {
		const keys, perKey = 50, 8
		s := open(t)
		var wins [keys]atomic.Int32
		var wg sync.WaitGroup
		for r := 0; r < perKey; r++ {
			for k := 0; k < keys; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.Allow(ctx, fmt.Sprintf("key-%d", k), Base.Add(time.Duration(r)*time.Millisecond), Interval)
					if err != nil {
						t.Errorf("Allow: %v", err)
						return
					}
					if ok {
						wins[k].Add(1)
					}
				}()
			}
		}
		wg.Wait()
		for k := range wins {
			if got := wins[k].Load(); got != 1 {
				t.Errorf("key-%d: winners = %d, want 1", k, got)
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ok, err := s.Allow(cctx, "k", Base, Interval)
		if err == nil || ok {
			t.Fatalf("Allow(cancelled) = %v, %v; want false and an error", ok, err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Allow(cancelled) error = %v; want one that wraps context.Canceled", err)
		}
		if _, _, err := s.Last(cctx, "k"); !errors.Is(err, context.Canceled) {
			t.Errorf("Last(cancelled) error = %v; want one that wraps context.Canceled", err)
		}
		// Nothing was recorded by the cancelled call.
		mustAllow(t, s, "k", Base, Interval, true)
	})

	t.Run("CloseIdempotent", func(t *testing.T) {
		s := newStore(t)
		mustAllow(t, s, "k", Base, Interval, true)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if ok, err := s.Allow(ctx, "k", Base.Add(time.Hour), Interval); !errors.Is(err, store.ErrClosed) || ok {
			t.Errorf("Allow after Close = %v, %v; want false, ErrClosed", ok, err)
		}
		if _, _, err := s.Last(ctx, "k"); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Last after Close error = %v; want ErrClosed", err)
		}
	})

	t.Run("CloseWhileBusy", func(t *testing.T) {
		CloseWhileBusy(t, newStore(t), nil)
	})
}

// closeLimit bounds how long calls in flight may take to end once Close
// has returned: not a speed target, a guard that turns a hang into a
// failure that says so.
const closeLimit = 30 * time.Second

// CloseWhileBusy closes s while goroutines keep calling Allow and Last:
// Close runs only once every goroutine has completed a call (busy, when
// not nil, runs then, just before Close), and they go on calling until
// Close has returned. Every call completes or reports store.ErrClosed,
// none hangs, none succeeds after Close has returned or after the same
// goroutine saw ErrClosed, and Allow after Close reports ErrClosed. Run
// calls it; a backend's tests call it too when they check more around the
// Close (a client's connections, memory held). Under -race it also
// catches a Close that drops state without the locks that guard it.
func CloseWhileBusy(t *testing.T, s store.Store, busy func()) {
	t.Helper()
	const workers = 8
	ctx := context.Background()
	var (
		ready    sync.WaitGroup // every worker has completed a call
		done     sync.WaitGroup
		closing  atomic.Bool  // set just before Close is called
		returned atomic.Bool  // set once Close has returned
		before   atomic.Int64 // calls that succeeded before Close was called
	)
	ready.Add(workers)
	for g := range workers {
		done.Add(1)
		go func() {
			defer done.Done()
			sawClosed := false
			// check judges one call's error; after tells whether Close had
			// returned before the call began.
			check := func(op string, err error, after bool) {
				switch {
				case err == nil && (after || sawClosed):
					t.Errorf("%s succeeded after Close returned or after an ErrClosed; want ErrClosed", op)
				case err == nil:
					if !closing.Load() {
						before.Add(1)
					}
				case errors.Is(err, store.ErrClosed):
					sawClosed = true
				default:
					t.Errorf("%s: %v; want nil or ErrClosed", op, err)
				}
			}
			for i := 0; ; i++ {
				after := returned.Load()
				k := fmt.Sprintf("busy-%d-%d", g, i%64)
				_, err := s.Allow(ctx, k, Base.Add(time.Duration(i)*Interval), Interval)
				check("Allow", err, after)
				_, _, err = s.Last(ctx, k)
				check("Last", err, after)
				if i == 0 {
					ready.Done()
				}
				if after {
					return // this round began after Close had returned
				}
			}
		}()
	}
	// Should the test stop early, let the workers end with it.
	defer func() {
		if !returned.Load() {
			_ = s.Close()
			returned.Store(true)
		}
		done.Wait()
	}()
	ready.Wait()
	if busy != nil {
		busy()
	}
	closing.Store(true)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	returned.Store(true)
	ended := make(chan struct{})
	go func() { done.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(closeLimit):
		t.Fatalf("calls in flight when Close returned had not ended %v later", closeLimit)
	}
	// Each worker's first round completed before Close was called.
	if got, want := before.Load(), int64(2*workers); got < want {
		t.Errorf("%d calls succeeded before Close; want at least %d", got, want)
	}
	if _, err := s.Allow(ctx, "k", Base, Interval); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Allow after Close error = %v, want ErrClosed", err)
	}
}

func mustAllow(t *testing.T, s store.Store, key string, now time.Time, interval time.Duration, want bool) {
	t.Helper()
	got, err := s.Allow(context.Background(), key, now, interval)
	if err != nil {
		t.Fatalf("Allow(%q, +%v) error: %v", key, now.Sub(Base), err)
	}
	if got != want {
		t.Fatalf("Allow(%q, +%v) = %v, want %v", key, now.Sub(Base), got, want)
	}
}
