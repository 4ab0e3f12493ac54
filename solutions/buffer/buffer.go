// Package buffer is the meeting point of producers and consumers: a FIFO
// queue that many goroutines put items into and take items out of at the
// same time.
//
// A queue has one of three capacities, chosen when it is made:
//
//   - bounded ([NewBounded]): holds up to n items; a producer waits while
//     the queue is full;
//   - unbounded ([NewUnbounded]): holds any number of items; a producer
//     never waits;
//   - zero, a rendezvous ([NewRendezvous]): holds nothing; a producer waits
//     until a consumer has taken its item from its hands.
//
// Every operation comes in three forms: one that waits as long as it must
// (Put, Get), one that never waits (TryPut, TryGet) and one that waits at
// most until a context is done (PutContext, GetContext). Close ends the
// queue and wakes everyone who waits on it.
//
// A Queue is a monitor: one mutex guards its state, and one condition
// variable is where goroutines wait for the state to change.
package buffer

import (
	"context"
	"errors"
	"sync"
)

// Errors returned by the operations of a Queue. Compare with errors.Is.
var (
	// ErrClosed means that the queue has been closed: nothing can be put
	// into it any more, and nothing is left to take out of it.
	ErrClosed = errors.New("buffer: queue is closed")
	// ErrFull is returned by TryPut when the item cannot be handed over
	// without waiting: a bounded queue is full, or no consumer is waiting
	// on a rendezvous queue.
	ErrFull = errors.New("buffer: queue is full")
	// ErrEmpty is returned by TryGet when no item can be taken without
	// waiting: the queue holds none, or no producer is waiting on a
	// rendezvous queue.
	ErrEmpty = errors.New("buffer: queue is empty")
)

// Capacities other than a positive bound.
const (
	unbounded  = -1
	rendezvous = 0
)

// A Queue is a first-in first-out queue of items of type T that many
// goroutines may use at the same time. Make one with [NewBounded],
// [NewUnbounded] or [NewRendezvous]; the zero value is not usable.
type Queue[T any] struct {
	mu sync.Mutex
	// changed is where goroutines wait for the state to change. Every
	// change is followed by a Broadcast: producers and consumers wait on
	// the same condition variable, so a Signal could wake the wrong kind.
	changed sync.Cond

	capacity int // a positive bound, unbounded or rendezvous
	// items holds the queued items, oldest first. A rendezvous queue holds
	// at most one: the item a waiting Put is offering.
	items  []T
	closed bool

	getters int    // Get calls waiting for an item; a rendezvous TryPut needs one
	taken   uint64 // items taken so far; a rendezvous Put watches it
}

// NewBounded returns an empty queue that holds at most capacity items. A
// Put waits while the queue is full. NewBounded panics if capacity is less
// than 1; use [NewRendezvous] for a queue that holds nothing.
func NewBounded[T any](capacity int) *Queue[T] {
	if capacity < 1 {
		panic("buffer: NewBounded needs a capacity of at least 1")
	}
	return newQueue[T](capacity)
}

// NewUnbounded returns an empty queue without a bound: a Put never waits.
func NewUnbounded[T any]() *Queue[T] {
	return newQueue[T](unbounded)
}

// NewRendezvous returns a queue of capacity zero. A Put waits until a Get
// has taken its item, and a Get waits until a Put offers one.
func NewRendezvous[T any]() *Queue[T] {
	return newQueue[T](rendezvous)
}

func newQueue[T any](capacity int) *Queue[T] {
	q := &Queue[T]{capacity: capacity}
	q.changed.L = &q.mu
	return q
}

// Put adds v at the back of the queue, waiting while the queue is full. On
// a rendezvous queue it returns only once a Get has taken v. It returns
// ErrClosed, without adding v, if the queue is closed before v could be
// added (or, on a rendezvous queue, before v was taken).
func (q *Queue[T]) Put(v T) error {
	return q.PutContext(context.Background(), v)
}

// PutContext is Put, but gives up when ctx is done first: it then returns
// ctx.Err() and v is not in the queue.
func (q *Queue[T]) PutContext(ctx context.Context, v T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	stop := q.wakeOnDone(ctx)
	defer stop()

	if err := q.waitUntil(ctx, func() bool { return q.closed || q.hasRoom() }); err != nil {
		return err
	}
	if q.closed {
		return ErrClosed
	}
	return q.add(ctx, v)
}

// TryPut adds v at the back of the queue if it can do so without waiting
// for room, and returns ErrFull if it cannot. On a rendezvous queue it
// succeeds only when a Get is already waiting, and hands v to it. It
// returns ErrClosed if the queue is closed.
func (q *Queue[T]) TryPut(v T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return ErrClosed
	case !q.hasRoom(), q.capacity == rendezvous && q.getters == 0:
		return ErrFull
	}
	// On a rendezvous queue the waiting getter takes v as soon as it gets
	// the lock back, even if its context is done by then, so this waits
	// only for that.
	return q.add(context.Background(), v)
}

// Get removes and returns the item at the front of the queue, waiting
// while the queue is empty. Once the queue is closed, Get still returns
// the items left in it, in order, and then ErrClosed.
func (q *Queue[T]) Get() (T, error) {
	return q.GetContext(context.Background())
}

// GetContext is Get, but gives up when ctx is done before an item is
// there: it then returns ctx.Err() and takes nothing.
func (q *Queue[T]) GetContext(ctx context.Context) (T, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	stop := q.wakeOnDone(ctx)
	defer stop()

	q.getters++
	err := q.waitUntil(ctx, func() bool { return q.closed || len(q.items) > 0 })
	q.getters--
	if err != nil {
		var zero T
		return zero, err
	}
	return q.take()
}

// TryGet removes and returns the item at the front of the queue if there
// is one, and returns ErrEmpty if there is none. On a rendezvous queue it
// succeeds only when a Put is waiting, and takes that Put's item. Once the
// queue is closed and empty it returns ErrClosed.
func (q *Queue[T]) TryGet() (T, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.take()
}

// Close closes the queue and wakes every goroutine waiting on it. From
// then on, Put and TryPut fail with ErrClosed, and so do the Puts that were
// waiting, without adding their items. The items already in the queue stay
// there: Get and TryGet return them, and fail with ErrClosed only once the
// queue is empty. A rendezvous queue holds no items, so its Gets fail at
// once. Closing a closed queue does nothing.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	if q.capacity == rendezvous {
		// The item on offer was never taken: its Put fails with ErrClosed.
		q.withdraw()
	}
	q.changed.Broadcast()
}

// hasRoom reports whether an item can be added now.
func (q *Queue[T]) hasRoom() bool {
	switch q.capacity {
	case unbounded:
		return true
	case rendezvous:
		return len(q.items) == 0 // no other Put is offering an item
	default:
		return len(q.items) < q.capacity
	}
}

// add appends v to the queue. On a rendezvous queue it then waits until a
// Get has taken v, and withdraws v if ctx is done first. q.mu is held, and
// there is room for v.
func (q *Queue[T]) add(ctx context.Context, v T) error {
	q.items = append(q.items, v)
	q.changed.Broadcast()
	if q.capacity != rendezvous {
		return nil
	}

	// v is the only item on offer, so the next item taken is v.
	ticket := q.taken
	err := q.waitUntil(ctx, func() bool { return q.closed || q.taken != ticket })
	switch {
	case q.taken != ticket:
		return nil
	case err != nil:
		q.withdraw()
		q.changed.Broadcast() // room for the next Put
		return err
	default:
		return ErrClosed // Close withdrew v
	}
}

// take removes and returns the item at the front of the queue. q.mu is
// held.
func (q *Queue[T]) take() (T, error) {
	var zero T
	if len(q.items) == 0 {
		if q.closed {
			return zero, ErrClosed
		}
		return zero, ErrEmpty
	}
	v := q.items[0]
	q.items[0] = zero // let the garbage collector have it
	q.items = q.items[1:]
	q.taken++
	q.changed.Broadcast()
	return v, nil
}

// withdraw removes the item a rendezvous Put is offering. q.mu is held.
func (q *Queue[T]) withdraw() {
	clear(q.items)
	q.items = q.items[:0]
}

// waitUntil waits on q.changed until ready reports true, or until ctx is
// done; then it returns ctx.Err(). q.mu is held. ready is checked first, so
// an operation that can go ahead does, even if ctx is done.
//
// The loop is a for and not an if: being woken up only means that the
// state changed, not that it changed in our favour. Another goroutine may
// have got the lock first and taken the item we were woken for.
func (q *Queue[T]) waitUntil(ctx context.Context, ready func() bool) error {
	for !ready() {
		if err := ctx.Err(); err != nil {
			return err
		}
		q.changed.Wait()
	}
	return nil
}

// wakeOnDone arranges for every waiter to be woken when ctx is done, so
// that the ones waiting with ctx see ctx.Err() and give up. The caller must
// call stop when it no longer waits.
//
// The callback takes the lock before it broadcasts. Without the lock, the
// broadcast could fall between a waiter's check of ctx.Err() and its call
// to Wait, and that waiter would sleep on.
func (q *Queue[T]) wakeOnDone(ctx context.Context) (stop func() bool) {
	if ctx.Done() == nil {
		// ctx can never be done (Put and Get pass context.Background), so
		// there is nothing to arrange. Registering a callback anyway would
		// cost an allocation and a lock on every call: most of what a
		// hand-off through the queue costs.
		return neverDone
	}
	return context.AfterFunc(ctx, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.changed.Broadcast()
	})
}

// neverDone is the stop function for a context that can never be done.
func neverDone() bool { return false }
