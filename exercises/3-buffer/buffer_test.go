package buffer

// These tests are the contract of the exercise: what a Queue must do, one
// behaviour a test. Run them with the race detector, as the grader does:
//
//	go test -race ./3-buffer/
//
// The grader also runs hidden tests that look harder at the same
// behaviours: many goroutines at once, wake-ups, Close, contexts, and the
// CPU a waiting goroutine uses. README.md lists what they check.
//
// No test waits without a limit. A call that must wait is watched for a
// moment (testkit.Grace) to see that it does not return; a call that must
// return is given a few seconds (testkit.Patience) before the test fails
// and says which call hung.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome is what a Get returned.
type outcome[T any] struct {
	v   T
	err error
}

// goGet calls q.Get() on a new goroutine. Read the outcome only once the
// returned Op has finished.
func goGet[T any](q *Queue[T]) (*testkit.Op, *outcome[T]) {
	o := new(outcome[T])
	return testkit.Go(func() { o.v, o.err = q.Get() }), o
}

// goGetContext calls q.GetContext(ctx) on a new goroutine.
func goGetContext[T any](ctx context.Context, q *Queue[T]) (*testkit.Op, *outcome[T]) {
	o := new(outcome[T])
	return testkit.Go(func() { o.v, o.err = q.GetContext(ctx) }), o
}

// goPut calls q.Put(v) on a new goroutine. Read the error only once the
// returned Op has finished.
func goPut[T any](q *Queue[T], v T) (*testkit.Op, *error) {
	err := new(error)
	return testkit.Go(func() { *err = q.Put(v) }), err
}

// goPutContext calls q.PutContext(ctx, v) on a new goroutine.
func goPutContext[T any](ctx context.Context, q *Queue[T], v T) (*testkit.Op, *error) {
	err := new(error)
	return testkit.Go(func() { *err = q.PutContext(ctx, v) }), err
}

// errName names the errors a Queue returns the way a student writes them.
func errName(err error) string {
	switch {
	case err == nil:
		return "nil"
	case testkit.Is(err, ErrClosed):
		return "ErrClosed"
	case testkit.Is(err, ErrFull):
		return "ErrFull"
	case testkit.Is(err, ErrEmpty):
		return "ErrEmpty"
	case testkit.Is(err, context.Canceled):
		return "context.Canceled"
	case testkit.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	return fmt.Sprintf("error %q", err)
}

// gotItem asserts that a Get returned the item want and no error, and
// reports whether it did; msgAndArgs say which call, what it returned and
// why it should have returned want.
func gotItem(t testing.TB, v int, err error, want int, msgAndArgs ...any) bool {
	t.Helper()
	return assert.NoError(t, err, msgAndArgs...) && assert.Equal(t, want, v, msgAndArgs...)
}

// requireItem is gotItem for a test that cannot go on.
func requireItem(t testing.TB, v int, err error, want int, msgAndArgs ...any) {
	t.Helper()
	if !gotItem(t, v, err, want, msgAndArgs...) {
		t.FailNow()
	}
}

// put calls q.Put(v), which must return nil without waiting for long. why
// says what the queue held, for the failure message.
func put(t *testing.T, q *Queue[int], v int, why string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("q.Put(%d) (%s)", v, why), func() { err = q.Put(v) })
	require.NoError(t, err, "q.Put(%d) = %s, want nil (%s)", v, errName(err), why)
}

// get calls q.Get(), which must return want and nil without waiting for
// long.
func get(t *testing.T, q *Queue[int], want int, why string) {
	t.Helper()
	var v int
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("q.Get() (%s)", why), func() { v, err = q.Get() })
	requireItem(t, v, err, want, "q.Get() = %d, %s, want %d, nil (%s)", v, errName(err), want, why)
}

// tryPut calls q.TryPut(v), which must return want at once.
func tryPut(t *testing.T, q *Queue[int], v int, want error, why string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("q.TryPut(%d) (TryPut must never wait)", v), func() { err = q.TryPut(v) })
	testkit.RequireErrorIs(t, err, want, "q.TryPut(%d) = %s, want %s (%s)", v, errName(err), errName(want), why)
}

// tryGet calls q.TryGet(), which must return wantV and wantErr at once.
// wantV is not checked when wantErr is not nil.
func tryGet(t *testing.T, q *Queue[int], wantV int, wantErr error, why string) {
	t.Helper()
	var v int
	var err error
	testkit.Within(t, testkit.Patience, "q.TryGet() (TryGet must never wait)", func() { v, err = q.TryGet() })
	if wantErr == nil {
		requireItem(t, v, err, wantV, "q.TryGet() = %d, %s, want %d, nil (%s)", v, errName(err), wantV, why)
		return
	}
	testkit.RequireErrorIs(t, err, wantErr, "q.TryGet() = %d, %s, want %s (%s)", v, errName(err), errName(wantErr), why)
}

func TestBoundedFIFO(t *testing.T) {
	q := NewBounded[int](3)
	put(t, q, 1, "the queue was empty")
	put(t, q, 2, "the queue held 1 of 3 items")
	put(t, q, 3, "the queue held 2 of 3 items")
	for want := 1; want <= 3; want++ {
		get(t, q, want, "1, 2, 3 were put in that order, and items come out in the order they went in")
	}

	// Keep two or three items in the queue while 200 flow through it, so
	// that the front of the queue travels far past where it started.
	put(t, q, 0, "the queue was empty")
	put(t, q, 1, "the queue held 1 of 3 items")
	for i := 2; i < 200; i++ {
		put(t, q, i, "the queue held 2 of 3 items")
		get(t, q, i-2, fmt.Sprintf("0, 1, …, %d were put in that order", i))
	}
	get(t, q, 198, "0, 1, …, 199 were put in that order")
	get(t, q, 199, "0, 1, …, 199 were put in that order")

	u := NewUnbounded[int]()
	for i := 0; i < 100; i++ {
		put(t, u, i, "an unbounded queue always has room")
	}
	for i := 0; i < 100; i++ {
		get(t, u, i, "0, 1, …, 99 were put in that order into an unbounded queue")
	}
}

func TestBoundedCapacity(t *testing.T) {
	for _, capacity := range []int{1, 2, 5} {
		q := NewBounded[int](capacity)
		for i := 0; i < capacity; i++ {
			tryPut(t, q, i, nil, fmt.Sprintf("the queue held %d of %d items", i, capacity))
		}
		tryPut(t, q, capacity, ErrFull, fmt.Sprintf("the queue held %d of %d items: it was full", capacity, capacity))
		tryGet(t, q, 0, nil, fmt.Sprintf("0 was the first of the %d items put", capacity))
		tryPut(t, q, 100, nil, fmt.Sprintf("a TryGet had just taken one item out of a full queue of capacity %d", capacity))
		tryPut(t, q, 101, ErrFull, fmt.Sprintf("the queue held %d of %d items again", capacity, capacity))
	}
}

func TestPutBlocksWhenFull(t *testing.T) {
	q := NewBounded[int](2)
	put(t, q, 1, "the queue was empty")
	put(t, q, 2, "the queue held 1 of 2 items")

	op, err := goPut(q, 3)
	op.StaysBlocked(t, testkit.Grace, "q.Put(3) on a full queue of capacity 2")
	get(t, q, 1, "1 was the first item put")
	op.Finishes(t, testkit.Patience, "q.Put(3), after a Get had made room in the full queue,")
	require.NoError(t, *err, "q.Put(3) = %s, want nil (a Get had made room for it)", errName(*err))
	get(t, q, 2, "the queue held 2, 3")
	get(t, q, 3, "the queue held 3")
}

func TestGetBlocksWhenEmpty(t *testing.T) {
	for _, k := range []struct {
		name string
		q    *Queue[int]
	}{
		{"NewBounded(2)", NewBounded[int](2)},
		{"NewUnbounded()", NewUnbounded[int]()},
	} {
		op, o := goGet(k.q)
		op.StaysBlocked(t, testkit.Grace, fmt.Sprintf("q.Get() on an empty queue made by %s", k.name))
		put(t, k.q, 7, "a Get was waiting")
		op.Finishes(t, testkit.Patience, fmt.Sprintf("q.Get(), waiting on a queue made by %s, after q.Put(7)", k.name))
		gotItem(t, o.v, o.err, 7, "q.Get() = %d, %s, want 7, nil (it was waiting when 7 was put, on a queue made by %s)", o.v, errName(o.err), k.name)
	}
}

func TestUnboundedNeverWaits(t *testing.T) {
	const n = 10000
	q := NewUnbounded[int]()
	firstErr, failedAt := error(nil), -1
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%d calls of q.Put on an unbounded queue that nobody reads (Put must never wait there)", n), func() {
		for i := 0; i < n; i++ {
			if err := q.Put(i); err != nil {
				firstErr, failedAt = err, i
				return
			}
		}
	})
	require.NoError(t, firstErr, "q.Put(%d) = %s, want nil (an unbounded queue holding %d items still has room)", failedAt, errName(firstErr), failedAt)
	tryPut(t, q, n, nil, fmt.Sprintf("an unbounded queue holding %d items still has room", n))
	for i := 0; i <= n; i++ {
		tryGet(t, q, i, nil, fmt.Sprintf("0, 1, …, %d were put in that order", n))
	}
	tryGet(t, q, 0, ErrEmpty, "every item had been taken")
}

func TestTryForms(t *testing.T) {
	q := NewBounded[int](1)
	tryGet(t, q, 0, ErrEmpty, "the queue was empty")
	tryPut(t, q, 1, nil, "the queue held 0 of 1 items")
	tryPut(t, q, 2, ErrFull, "the queue held 1 of 1 items")
	tryGet(t, q, 1, nil, "the queue held 1")
	tryGet(t, q, 0, ErrEmpty, "the only item had been taken")

	u := NewUnbounded[int]()
	tryGet(t, u, 0, ErrEmpty, "the unbounded queue was empty")
	for i := 1; i <= 3; i++ {
		tryPut(t, u, i, nil, "an unbounded queue always has room")
	}
	tryGet(t, u, 1, nil, "1, 2, 3 were put in that order")
}

func TestContextDeadline(t *testing.T) {
	const wait = 100 * time.Millisecond
	q := NewBounded[int](1)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var o outcome[int]
	testkit.Within(t, testkit.Patience, fmt.Sprintf("q.GetContext(ctx) on an empty queue, with a deadline %v away (was the waiter woken when the deadline passed?)", wait), func() {
		o.v, o.err = q.GetContext(ctx)
	})
	testkit.RequireErrorIs(t, o.err, context.DeadlineExceeded, "q.GetContext(ctx) = %d, %s, want context.DeadlineExceeded (the queue stayed empty until the deadline)", o.v, errName(o.err))

	put(t, q, 1, "the queue was empty")
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("q.PutContext(ctx, 2) on a full queue, with a deadline %v away (was the waiter woken when the deadline passed?)", wait), func() {
		err = q.PutContext(ctx, 2)
	})
	testkit.RequireErrorIs(t, err, context.DeadlineExceeded, "q.PutContext(ctx, 2) = %s, want context.DeadlineExceeded (the queue stayed full until the deadline)", errName(err))
	tryGet(t, q, 1, nil, "1 was in the queue")
	tryGet(t, q, 0, ErrEmpty, "the PutContext that gave up must not have added 2")

	// A context that is not done changes nothing.
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	op, got := goGetContext(ctx, q)
	op.StaysBlocked(t, testkit.Grace, "q.GetContext(ctx) on an empty queue, with a deadline an hour away,")
	put(t, q, 5, "a GetContext was waiting")
	op.Finishes(t, testkit.Patience, "q.GetContext(ctx), after q.Put(5),")
	gotItem(t, got.v, got.err, 5, "q.GetContext(ctx) = %d, %s, want 5, nil (it was waiting when 5 was put)", got.v, errName(got.err))

	// A context that is done already: nothing to wait for.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	testkit.Within(t, testkit.Patience, "q.GetContext(ctx) on an empty queue, with ctx cancelled already,", func() {
		o.v, o.err = q.GetContext(ctx)
	})
	testkit.ErrorIs(t, o.err, context.Canceled, "q.GetContext(ctx) = %d, %s, want context.Canceled (the queue was empty, and ctx was cancelled before the call)", o.v, errName(o.err))
}

func TestCloseBasics(t *testing.T) {
	q := NewBounded[int](3)
	put(t, q, 1, "the queue was empty")
	put(t, q, 2, "the queue held 1 of 3 items")
	testkit.Within(t, testkit.Patience, "q.Close()", q.Close)

	var err error
	testkit.Within(t, testkit.Patience, "q.Put(3) on a closed queue", func() { err = q.Put(3) })
	testkit.ErrorIs(t, err, ErrClosed, "q.Put(3) = %s, want ErrClosed (the queue was closed)", errName(err))
	tryPut(t, q, 4, ErrClosed, "the queue was closed")
	get(t, q, 1, "items put before Close are still delivered, in order")
	get(t, q, 2, "items put before Close are still delivered, in order")

	var v int
	testkit.Within(t, testkit.Patience, "q.Get() on a queue that is closed and empty", func() { v, err = q.Get() })
	testkit.ErrorIs(t, err, ErrClosed, "q.Get() = %d, %s, want ErrClosed (the queue was closed and every item had been taken)", v, errName(err))
	tryGet(t, q, 0, ErrClosed, "the queue was closed and every item had been taken")
	testkit.Within(t, testkit.Patience, "a second q.Close() (closing a closed queue does nothing)", q.Close)

	// A Get that is waiting when the queue is closed gives up.
	u := NewUnbounded[int]()
	op, o := goGet(u)
	op.StaysBlocked(t, testkit.Grace, "q.Get() on an empty queue")
	testkit.Within(t, testkit.Patience, "q.Close()", u.Close)
	op.Finishes(t, testkit.Patience, "q.Get(), waiting on an empty queue when it was closed,")
	testkit.ErrorIs(t, o.err, ErrClosed, "q.Get() = %d, %s, want ErrClosed (the queue was closed while Get waited on it, empty)", o.v, errName(o.err))
}

func TestRendezvousBasic(t *testing.T) {
	q := NewRendezvous[int]()
	tryPut(t, q, 1, ErrFull, "no Get was waiting, and a rendezvous queue holds nothing")
	tryGet(t, q, 0, ErrEmpty, "no Put was waiting on the rendezvous queue")

	op, err := goPut(q, 1)
	op.StaysBlocked(t, testkit.Grace, "q.Put(1) on a rendezvous queue, with no Get to take the item,")
	get(t, q, 1, "a Put(1) was waiting on the rendezvous queue")
	op.Finishes(t, testkit.Patience, "q.Put(1), after a Get took its item,")
	require.NoError(t, *err, "q.Put(1) = %s, want nil (a Get took the item)", errName(*err))

	opGet, o := goGet(q)
	opGet.StaysBlocked(t, testkit.Grace, "q.Get() on a rendezvous queue, with no Put to offer an item,")
	put(t, q, 2, "a Get was waiting on the rendezvous queue")
	opGet.Finishes(t, testkit.Patience, "q.Get(), after q.Put(2) returned,")
	gotItem(t, o.v, o.err, 2, "q.Get() = %d, %s, want 2, nil (it was waiting when 2 was put)", o.v, errName(o.err))
}
