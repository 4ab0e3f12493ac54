package buffer

// Hidden tests: waiting and waking up. Who is woken, whether a woken
// goroutine checks again, whether Close reaches every waiter, and whether a
// waiting goroutine sleeps or spins.

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetWaitersRecheck lets three Gets wait on an empty queue and then puts
// one item at a time. A Put may wake every waiting Get, but only one of them
// can have the item: the others must find the queue empty again and go on
// waiting. A Get that tests the queue with `if` instead of `for` around Wait
// returns without an item.
func TestGetWaitersRecheck(t *testing.T) {
	for _, k := range []struct {
		name string
		q    *Queue[int]
	}{
		{"NewBounded(2)", NewBounded[int](2)},
		{"NewRendezvous()", NewRendezvous[int]()},
	} {
		c := newCrowd()
		for i := 1; i <= 3; i++ {
			c.get(fmt.Sprintf("q.Get() (getter %d)", i), k.q)
		}
		c.Quiet(t, testkit.Grace, fmt.Sprintf("the queue, made by %s, was empty", k.name))
		for item := 1; item <= 3; item++ {
			waiting := 4 - item
			put(t, k.q, item, fmt.Sprintf("%d Gets were waiting on a queue made by %s", waiting, k.name))
			r := c.Next(t, fmt.Sprintf("q.Put(%d) with %d Gets waiting", item, waiting))
			requireItem(t, r.V, r.Err, item, "%v, want %d, nil (%d was put while it waited, on a queue made by %s)", r, item, item, k.name)
			if waiting > 1 {
				c.Quiet(t, testkit.Grace, fmt.Sprintf(
					"only one item, %d, was put, and another Get took it: a Get that wakes up must check again that an item is there, and wait again if not (for, not if, around Wait)", item))
			}
		}
	}
}

// TestPutWaitersRecheck is TestGetWaitersRecheck for producers: three Puts
// wait on a full queue of capacity 1, and each Get makes room for one of
// them only.
func TestPutWaitersRecheck(t *testing.T) {
	q := NewBounded[int](1)
	put(t, q, 0, "the queue was empty")
	c := newCrowd()
	item := map[string]int{}
	for _, v := range []int{10, 20, 30} {
		label := fmt.Sprintf("q.Put(%d)", v)
		item[label] = v
		c.put(label, q, v)
	}
	c.Quiet(t, testkit.Grace, "the queue held 1 of 1 items")

	get(t, q, 0, "0 was put before the three waiting Puts")
	for waiting := 3; waiting > 0; waiting-- {
		r := c.Next(t, fmt.Sprintf("a Get made room in the full queue, with %d Puts waiting", waiting))
		require.NoError(t, r.Err, "%v, want nil (a Get made room for one item)", r)
		if waiting > 1 {
			c.Quiet(t, testkit.Grace, fmt.Sprintf(
				"a Get made room for one item, and %s took it: a Put that wakes up must check again that there is room, and wait again if not (for, not if, around Wait)", r.Label))
		}
		tryPut(t, q, 99, ErrFull, fmt.Sprintf("%s had just filled the queue of capacity 1", r.Label))
		get(t, q, item[r.Label], fmt.Sprintf("%s had just returned, so its item was the one in the queue", r.Label))
	}
	tryGet(t, q, 0, ErrEmpty, "every item had been taken")
}

// TestCancelWakesItsWaiter cancels the context of a call that waits behind
// another call on the same queue. Only the cancelled call may give up, and
// it must: waking "a" waiter (Signal) wakes the one that waited longest,
// which is the wrong one, so the cancelled call sleeps on. The test waits
// until each call really waits before it starts the next, so that the
// call that is not cancelled is the one that waited longest.
func TestCancelWakesItsWaiter(t *testing.T) {
	empty := NewBounded[int](1)
	full := NewBounded[int](1)
	put(t, full, 0, "the queue was empty")
	rv := NewRendezvous[int]()
	tryGetOn := func(q *Queue[int]) func() error { return func() error { _, err := q.TryGet(); return err } }
	tryPutOn := func(q *Queue[int]) func() error { return func() error { return q.TryPut(8) } }

	// waitOn starts three calls, one on each queue, each with a context of
	// its own, and returns once each of them waits: empty.GetContext, which
	// stores what it got in *got, and full.PutContext and
	// rendezvous.PutContext of v. name names their contexts in the
	// messages, why says why each must wait.
	waitOn := func(name string, v int, got *int, why [3]string) []*testkit.Waiter {
		return []*testkit.Waiter{
			testkit.StartWaiting(t, fmt.Sprintf("empty.GetContext(%s)", name), why[0], testkit.NewCtx(),
				func(ctx context.Context) (err error) { *got, err = empty.GetContext(ctx); return err },
				"empty.TryGet()", tryGetOn(empty), ErrEmpty, errName),
			testkit.StartWaiting(t, fmt.Sprintf("full.PutContext(%s, %d)", name, v), why[1], testkit.NewCtx(),
				func(ctx context.Context) error { return full.PutContext(ctx, v) },
				"full.TryPut(8)", tryPutOn(full), ErrFull, errName),
			testkit.StartWaiting(t, fmt.Sprintf("rendezvous.PutContext(%s, %d)", name, v), why[2], testkit.NewCtx(),
				func(ctx context.Context) error { return rv.PutContext(ctx, v) },
				"rendezvous.TryPut(8)", tryPutOn(rv), ErrFull, errName),
		}
	}
	// The calls that are not cancelled wait first, each with a context of
	// its own that is never cancelled.
	var got, ignored int // what empty.GetContext(first) and empty.GetContext(second) returned
	first := waitOn("first", 1, &got, [3]string{
		"the queue was empty",
		"the queue held 1 of 1 items",
		"no Get was waiting on the rendezvous queue",
	})
	second := waitOn("second", 2, &ignored, [3]string{
		"the queue was empty, and empty.GetContext(first) was waiting already",
		"the queue held 1 of 1 items, and full.PutContext(first, 1) was waiting already",
		"rendezvous.PutContext(first, 1) was offering its item, and no Get was waiting",
	})

	for _, w := range second {
		w.Ctx.Cancel()
	}
	for i, w := range second {
		timer := time.NewTimer(testkit.Patience)
		select {
		case <-w.Op.Finished():
		case <-timer.C:
			require.FailNow(t, "the cancelled call did not return (a lost wake-up)", "%s did not return within %v after its context was cancelled, while %s, which started waiting earlier on the same queue, waited on (its context was not cancelled): waking one waiter (Signal) wakes the one that has waited longest, not the one whose context was cancelled; wake them all (Broadcast), and let each check its own context",
				w.What, testkit.Patience, first[i].What)
		}
		timer.Stop()
		testkit.RequireErrorIs(t, w.Err, context.Canceled, "%s = %s, want context.Canceled (its context was cancelled while it waited)", w.What, errName(w.Err))
	}
	for _, w := range first {
		w.Op.StaysBlocked(t, testkit.Grace, w.What+" (only the calls whose context was cancelled give up)")
	}

	put(t, empty, 5, "empty.GetContext(first) was waiting")
	get(t, full, 0, "0 was the item in the full queue")
	get(t, full, 1, "full.PutContext(first, 1) was waiting, and a Get made room")
	get(t, rv, 1, "rendezvous.PutContext(first, 1) was waiting")
	for _, w := range first {
		w.Op.Finishes(t, testkit.Patience, w.What+", served after the other calls were cancelled,")
		assert.NoError(t, w.Err, "%s = %s, want nil (it was served; its context was never cancelled)", w.What, errName(w.Err))
		w.Ctx.Cancel()
	}
	assert.Equal(t, 5, got, "empty.GetContext(first) = %d, want 5 (the only item put)", got)
	tryGet(t, full, 0, ErrEmpty, "full.PutContext(second, 2) gave up, so 2 must not have been added")
	tryGet(t, rv, 0, ErrEmpty, "rendezvous.PutContext(second, 2) gave up, so its offer must have been withdrawn")
}

// TestRendezvousQueuedPutters has three Puts wait on a rendezvous queue:
// one offers its item, two wait for their turn. Taking the offered item
// must wake the Puts waiting for their turn too, not only the one whose
// item was taken.
func TestRendezvousQueuedPutters(t *testing.T) {
	q := NewRendezvous[int]()
	c := newCrowd()
	for v := 1; v <= 3; v++ {
		c.put(fmt.Sprintf("q.Put(%d)", v), q, v)
	}
	c.Quiet(t, testkit.Grace, "no Get had come to the rendezvous queue")

	seen := map[int]bool{}
	for i := 1; i <= 3; i++ {
		var v int
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("Get number %d on a rendezvous queue with %d Puts waiting (was every waiting Put woken when the offered item was taken?)", i, 4-i), func() {
			v, err = q.Get()
		})
		require.NoError(t, err, "q.Get() = %d, %s, want one of 1, 2, 3 not taken before, and nil (Puts of 1, 2 and 3 were waiting; taken so far: %v)", v, errName(err), seen)
		require.True(t, v >= 1 && v <= 3 && !seen[v], "q.Get() = %d, nil, want one of 1, 2, 3 not taken before, and nil (Puts of 1, 2 and 3 were waiting; taken so far: %v)", v, seen)
		seen[v] = true
	}
	c.AllReturn(t, "three Gets took 1, 2 and 3", nil, "a Get took its item")
	tryGet(t, q, 0, ErrEmpty, "no Put was waiting any more")
}

// TestCloseWakesEveryWaiter closes queues while Gets and Puts of every kind
// wait on them. Every one of them must return ErrClosed.
func TestCloseWakesEveryWaiter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	qs, c := waitOnEmptyAndFull(t, ctx, 2)
	empty, unbounded, full, offers, asks := qs.empty, qs.unbounded, qs.full, qs.offers, qs.asks
	c.get("unbounded.Get() (getter 1)", unbounded)
	c.get("unbounded.Get() (getter 2)", unbounded)
	c.put("rendezvous.Put(1)", offers, 1)
	c.put("rendezvous.Put(2)", offers, 2)
	c.putContext("rendezvous.PutContext(ctx, 3)", ctx, offers, 3)
	c.get("rendezvous.Get() (getter 1)", asks)
	c.get("rendezvous.Get() (getter 2)", asks)
	c.getContext("rendezvous.GetContext(ctx)", ctx, asks)
	c.Quiet(t, testkit.Grace, "the queues were empty or full, and none was closed yet")

	for _, q := range []*Queue[int]{empty, unbounded, full, offers, asks} {
		testkit.Within(t, testkit.Patience, "q.Close()", q.Close)
	}
	c.AllReturn(t, "every queue was closed (does Close wake every waiter, and does every waiter check whether the queue is closed?)", ErrClosed, "the queue was closed while it waited")

	get(t, full, 0, "0 was in the queue before it was closed")
	tryGet(t, full, 0, ErrClosed, "the queue was closed, and the Puts that were waiting must not have added their items")
	tryGet(t, offers, 0, ErrClosed, "the rendezvous queue was closed, and the Puts that were waiting must have withdrawn their items")
	tryGet(t, empty, 0, ErrClosed, "the queue was closed and empty")
}

// TestCloseKeepsQueuedItems checks what Close leaves behind: the items
// already queued are still delivered, in order, and only then do Get and
// its forms fail with ErrClosed. Nothing can be put any more.
func TestCloseKeepsQueuedItems(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	q := NewBounded[int](3)
	for v := 1; v <= 3; v++ {
		put(t, q, v, fmt.Sprintf("the queue held %d of 3 items", v-1))
	}
	op, err := goPut(q, 4)
	op.StaysBlocked(t, testkit.Grace, "q.Put(4) on a full queue")
	testkit.Within(t, testkit.Patience, "q.Close()", q.Close)
	op.Finishes(t, testkit.Patience, "q.Put(4), waiting on a full queue when it was closed,")
	testkit.ErrorIs(t, *err, ErrClosed, "q.Put(4) = %s, want ErrClosed (the queue was closed while Put waited)", errName(*err))

	get(t, q, 1, "1, 2, 3 were queued before Close")
	var v int
	var gotErr error
	testkit.Within(t, testkit.Patience, "q.GetContext(ctx) on a closed queue that still held 2, 3", func() { v, gotErr = q.GetContext(ctx) })
	gotItem(t, v, gotErr, 2, "q.GetContext(ctx) = %d, %s, want 2, nil (the closed queue still held 2, 3)", v, errName(gotErr))
	tryGet(t, q, 3, nil, "the closed queue still held 3")

	testkit.Within(t, testkit.Patience, "q.Get() on a closed, empty queue", func() { v, gotErr = q.Get() })
	testkit.ErrorIs(t, gotErr, ErrClosed, "q.Get() = %d, %s, want ErrClosed (the queue was closed and empty)", v, errName(gotErr))
	testkit.Within(t, testkit.Patience, "q.GetContext(ctx) on a closed, empty queue", func() { v, gotErr = q.GetContext(ctx) })
	testkit.ErrorIs(t, gotErr, ErrClosed, "q.GetContext(ctx) = %d, %s, want ErrClosed (the queue was closed and empty)", v, errName(gotErr))
	tryGet(t, q, 0, ErrClosed, "the queue was closed and empty")
	testkit.Within(t, testkit.Patience, "q.PutContext(ctx, 5) on a closed queue", func() { gotErr = q.PutContext(ctx, 5) })
	testkit.ErrorIs(t, gotErr, ErrClosed, "q.PutContext(ctx, 5) = %s, want ErrClosed (the queue was closed, even though it had room)", errName(gotErr))
	tryPut(t, q, 6, ErrClosed, "the queue was closed, even though it had room")

	u := NewUnbounded[int]()
	put(t, u, 1, "an unbounded queue always has room")
	put(t, u, 2, "an unbounded queue always has room")
	testkit.Within(t, testkit.Patience, "q.Close()", u.Close)
	get(t, u, 1, "1, 2 were queued before Close")
	get(t, u, 2, "2 was queued before Close")
	tryGet(t, u, 0, ErrClosed, "the unbounded queue was closed and empty")

	rv := NewRendezvous[int]()
	testkit.Within(t, testkit.Patience, "q.Close()", rv.Close)
	testkit.Within(t, testkit.Patience, "q.Put(1) on a closed rendezvous queue", func() { gotErr = rv.Put(1) })
	testkit.ErrorIs(t, gotErr, ErrClosed, "q.Put(1) = %s, want ErrClosed (the rendezvous queue was closed)", errName(gotErr))
	testkit.Within(t, testkit.Patience, "q.Get() on a closed rendezvous queue", func() { v, gotErr = rv.Get() })
	testkit.ErrorIs(t, gotErr, ErrClosed, "q.Get() = %d, %s, want ErrClosed (the rendezvous queue was closed)", v, errName(gotErr))
}

// TestWaitingUsesNoCPU measures the CPU time the process uses while a dozen
// goroutines wait on queues and nothing else happens. A goroutine that
// waits in cond.Wait sleeps and costs nothing; one that keeps checking the
// queue in a loop (busy waiting) burns a processor for as long as it waits.
//
// How much CPU time a spinning goroutine gets depends on how busy the
// machine is, so the test first measures what a goroutine that never stops
// gets right now, and allows the waiting goroutines a small part of that.
// It measures before any waiter starts: a waiter that spins would
// otherwise add its own CPU time to the yardstick it is measured by.
func TestWaitingUsesNoCPU(t *testing.T) {
	testkit.AtLeastProcs(t, 2)
	const window = time.Second
	// Never ask for less than this share of a processor: timers and the
	// runtime's housekeeping cost a little, and on Windows CPU time is
	// counted in clock ticks of 15.6ms.
	floor := 0.01
	if runtime.GOOS == "windows" {
		floor = 2 * 0.015625 / window.Seconds()
	}

	busy := busyShare(200 * time.Millisecond)
	limit := max(busy/8, floor)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	qs, c := waitOnEmptyAndFull(t, ctx, 1)
	empty, full, unbounded, offers, asks := qs.empty, qs.full, qs.unbounded, qs.offers, qs.asks
	c.get("unbounded.Get()", unbounded)
	c.getContext("unbounded.GetContext(ctx)", ctx, unbounded)
	c.put("rendezvous.Put(1)", offers, 1)
	c.put("rendezvous.Put(2)", offers, 2)
	c.get("rendezvous.Get()", asks)
	c.getContext("rendezvous.GetContext(ctx)", ctx, asks)
	c.Quiet(t, testkit.Grace, "the queues were empty or full")

	cpu0, wall0 := testkit.CPUTime(), time.Now()
	c.Quiet(t, window, "the queues were empty or full")
	cpu, wall := testkit.CPUTime()-cpu0, time.Since(wall0)
	share := cpu.Seconds() / wall.Seconds()
	t.Logf("12 goroutines waited for %v and used %v of CPU time (%.1f%% of a processor); a goroutine that never stops got %.1f%% just before they started; the limit was %.1f%%",
		wall.Round(time.Millisecond), cpu, 100*share, 100*busy, 100*limit)
	assert.LessOrEqual(t, share, limit, "while 12 goroutines waited on queues for %v and nothing else happened, the process used %v of CPU time, %.1f%% of a processor (a goroutine that never stops got %.1f%% on this machine just before they started; the limit is %.1f%%): waiting goroutines must sleep in cond.Wait, not loop until the queue changes (busy waiting)",
		wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*share, 100*busy, 100*limit)

	for _, q := range []*Queue[int]{empty, full, unbounded, offers, asks} {
		testkit.Within(t, testkit.Patience, "q.Close()", q.Close)
	}
	c.All(t, "every queue was closed")
}

// busyShare keeps the calling goroutine busy for d and returns the share
// of a processor the process got meanwhile.
func busyShare(d time.Duration) float64 {
	cpu0, wall0 := testkit.CPUTime(), time.Now()
	for time.Since(wall0) < d {
	}
	return (testkit.CPUTime() - cpu0).Seconds() / time.Since(wall0).Seconds()
}
