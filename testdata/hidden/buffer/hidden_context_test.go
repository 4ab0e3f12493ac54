package buffer

// Hidden tests: contexts. A call that waits must give up as soon as its
// context is cancelled, leave the queue as if it had never been called,
// and leave no goroutine behind.

import (
	"context"
	"fmt"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContextCancelWhileWaiting cancels the context of a call of each kind
// while it waits, and then checks that the call took or added nothing.
func TestContextCancelWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	emptyBounded := NewBounded[int](1)
	emptyUnbounded := NewUnbounded[int]()
	asks := NewRendezvous[int]()
	full := NewBounded[int](1)
	put(t, full, 0, "the queue was empty")
	offers := NewRendezvous[int]()

	c := newCrowd()
	c.getContext("bounded.GetContext(ctx) on an empty queue", ctx, emptyBounded)
	c.getContext("unbounded.GetContext(ctx) on an empty queue", ctx, emptyUnbounded)
	c.getContext("rendezvous.GetContext(ctx) with no Put", ctx, asks)
	c.putContext("bounded.PutContext(ctx, 9) on a full queue", ctx, full, 9)
	c.putContext("rendezvous.PutContext(ctx, 9) with no Get", ctx, offers, 9)
	if !c.CancelWhileWaiting(t, cancel) {
		return
	}

	// The queues must work as if the cancelled calls had never been made.
	tryGet(t, full, 0, nil, "0 was the item in the full queue")
	tryGet(t, full, 0, ErrEmpty, "PutContext(ctx, 9) gave up, so 9 must not have been added")
	tryGet(t, offers, 0, ErrEmpty, "PutContext(ctx, 9) on the rendezvous queue gave up, so its offer must have been withdrawn")
	tryPut(t, asks, 1, ErrFull, "the only Get on the rendezvous queue gave up, so no Get was waiting any more")
	for _, q := range []*Queue[int]{emptyBounded, emptyUnbounded, offers} {
		op, o := goGet(q)
		op.StaysBlocked(t, testkit.Grace, "q.Get() on an empty queue, after a cancelled call on the same queue,")
		put(t, q, 7, "a Get was waiting")
		op.Finishes(t, testkit.Patience, "q.Get(), after q.Put(7),")
		gotItem(t, o.v, o.err, 7, "q.Get() = %d, %s, want 7, nil (the only item put after the cancelled calls)", o.v, errName(o.err))
	}
}

// TestContextLeavesNoGoroutines runs calls with a context that stays alive
// until the test has ended, and checks that nothing the calls started is
// still running when the test ends. Whatever watches a context for a call
// must stop when the call returns, not when the context ends.
func TestContextLeavesNoGoroutines(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // after the leak check, which is registered later and runs first
	testkit.NoGoroutineLeaks(t)

	empty := NewBounded[int](1)
	full := NewBounded[int](1)
	put(t, full, 0, "the queue was empty")
	offers := NewRendezvous[int]()
	asks := NewRendezvous[int]()
	short, stop := context.WithCancel(context.Background())

	c := newCrowd()
	c.getContext("empty.GetContext(ctx)", ctx, empty)
	c.putContext("full.PutContext(ctx, 1)", ctx, full, 1)
	c.putContext("rendezvous.PutContext(ctx, 2)", ctx, offers, 2)
	c.getContext("rendezvous.GetContext(ctx)", ctx, asks)
	c.getContext("empty.GetContext(short)", short, NewUnbounded[int]())
	c.Quiet(t, testkit.Grace, "the queues were empty or full")

	stop()
	put(t, empty, 3, "empty.GetContext(ctx) was waiting")
	get(t, full, 0, "0 was the item in the full queue")
	get(t, offers, 2, "rendezvous.PutContext(ctx, 2) was waiting")
	put(t, asks, 4, "rendezvous.GetContext(ctx) was waiting")
	want := map[string]struct {
		v   int
		err error
	}{
		"empty.GetContext(ctx)":         {v: 3},
		"full.PutContext(ctx, 1)":       {},
		"rendezvous.PutContext(ctx, 2)": {},
		"rendezvous.GetContext(ctx)":    {v: 4},
		"empty.GetContext(short)":       {err: context.Canceled},
	}
	for label, r := range c.All(t, "each call was served, or its context cancelled") {
		w := r.With(want[label].v, want[label].err)
		if testkit.ErrorIs(t, r.Err, w.Err, "%v, want %v", r, w) {
			assert.Equal(t, w.V, r.V, "%v, want %v", r, w)
		}
	}
	get(t, full, 1, "full.PutContext(ctx, 1) had added 1")

	// Calls that never wait, many times over.
	var problem string
	testkit.Within(t, testkit.Patience, "100 rounds of q.PutContext(ctx, i) and q.GetContext(ctx) on a queue with room and then an item", func() {
		for i := 0; i < 100; i++ {
			if err := full.PutContext(ctx, i); err != nil {
				problem = fmt.Sprintf("q.PutContext(ctx, %d) = %s, want nil (the queue was empty)", i, errName(err))
				return
			}
			if v, err := full.GetContext(ctx); v != i || err != nil {
				problem = fmt.Sprintf("q.GetContext(ctx) = %d, %s, want %d, nil (the queue held %d)", v, errName(err), i, i)
				return
			}
		}
	})
	if problem != "" {
		require.FailNow(t, "a call that never waits went wrong", problem)
	}
}

// TestCancelJustBeforeWait cancels the context of a call at the worst
// moment: after the call has checked ctx.Err() and found it nil, and
// before it calls Wait. The context is one of the test's own: the call's
// check of ctx.Err() cancels it, lets the callback registered with
// context.AfterFunc run as far as it can, and only then answers nil. A
// callback that takes the lock before it broadcasts has to wait until the
// call is in Wait, and then wakes it; one that broadcasts without the lock
// broadcasts to nobody, and the call sleeps on.
func TestCancelJustBeforeWait(t *testing.T) {
	empty := func(q *Queue[int]) func() error {
		return func() error { _, err := q.TryGet(); return err }
	}
	bounded := NewBounded[int](1)
	testkit.CancelJustBeforeWait(t, "bounded.GetContext(ctx)", "the queue was empty",
		func(ctx context.Context) error { _, err := bounded.GetContext(ctx); return err },
		"bounded.TryGet()", empty(bounded), ErrEmpty, errName)
	unbounded := NewUnbounded[int]()
	testkit.CancelJustBeforeWait(t, "unbounded.GetContext(ctx)", "the queue was empty",
		func(ctx context.Context) error { _, err := unbounded.GetContext(ctx); return err },
		"unbounded.TryGet()", empty(unbounded), ErrEmpty, errName)
	asks := NewRendezvous[int]()
	testkit.CancelJustBeforeWait(t, "rendezvous.GetContext(ctx)", "no Put came to the rendezvous queue",
		func(ctx context.Context) error { _, err := asks.GetContext(ctx); return err },
		"rendezvous.TryGet()", empty(asks), ErrEmpty, errName)

	full := NewBounded[int](1)
	put(t, full, 0, "the queue was empty")
	testkit.CancelJustBeforeWait(t, "full.PutContext(ctx, 9)", "the queue held 1 of 1 items",
		func(ctx context.Context) error { return full.PutContext(ctx, 9) },
		"full.TryPut(8)", func() error { return full.TryPut(8) }, ErrFull, errName)
	tryGet(t, full, 0, nil, "0 was the item in the full queue")
	tryGet(t, full, 0, ErrEmpty, "PutContext(ctx, 9) gave up, so 9 must not have been added")

	offers := NewRendezvous[int]()
	testkit.CancelJustBeforeWait(t, "rendezvous.PutContext(ctx, 9)", "no Get came to the rendezvous queue",
		func(ctx context.Context) error { return offers.PutContext(ctx, 9) },
		"rendezvous.TryPut(8)", func() error { return offers.TryPut(8) }, ErrFull, errName)
	tryGet(t, offers, 0, ErrEmpty, "PutContext(ctx, 9) on the rendezvous queue gave up, so its offer must have been withdrawn")
}
