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
// YOUR TASK: build Queue as a monitor, from one sync.Mutex and sync.Cond
// (one or more). Channels are not allowed in this exercise. README.md
// explains the idea, the rules and what every method must do; the tests in
// buffer_test.go are the contract. Keep every exported name and signature
// as it is: add fields to Queue, write the bodies, and add any unexported
// helpers you like.
package buffer

import (
	"context"
	"errors"
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

// A Queue is a first-in first-out queue of items of type T that many
// goroutines may use at the same time. Make one with [NewBounded],
// [NewUnbounded] or [NewRendezvous]; the zero value is not usable.
type Queue[T any] struct {
	// TODO: add the monitor's state: a mutex, a condition variable tied
	// to it, the items, the capacity, whether the queue is closed, ...
}

// NewBounded returns an empty queue that holds at most capacity items. A
// Put waits while the queue is full. NewBounded panics if capacity is less
// than 1; use [NewRendezvous] for a queue that holds nothing.
func NewBounded[T any](capacity int) *Queue[T] {
	panic("TODO: implement NewBounded")
}

// NewUnbounded returns an empty queue without a bound: a Put never waits.
func NewUnbounded[T any]() *Queue[T] {
	panic("TODO: implement NewUnbounded")
}

// NewRendezvous returns a queue of capacity zero. A Put waits until a Get
// has taken its item, and a Get waits until a Put offers one.
func NewRendezvous[T any]() *Queue[T] {
	panic("TODO: implement NewRendezvous")
}

// Put adds v at the back of the queue, waiting while the queue is full. On
// a rendezvous queue it returns only once a Get has taken v. It returns
// ErrClosed, without adding v, if the queue is closed before v could be
// added (or, on a rendezvous queue, before v was taken).
func (q *Queue[T]) Put(v T) error {
	panic("TODO: implement Put")
}

// PutContext is Put, but gives up when ctx is done first: it then returns
// ctx.Err() and v is not in the queue.
func (q *Queue[T]) PutContext(ctx context.Context, v T) error {
	panic("TODO: implement PutContext")
}

// TryPut adds v at the back of the queue if it can do so without waiting
// for room, and returns ErrFull if it cannot. On a rendezvous queue it
// succeeds only when a Get is already waiting, and hands v to it. It
// returns ErrClosed if the queue is closed.
func (q *Queue[T]) TryPut(v T) error {
	panic("TODO: implement TryPut")
}

// Get removes and returns the item at the front of the queue, waiting
// while the queue is empty. Once the queue is closed, Get still returns
// the items left in it, in order, and then ErrClosed.
func (q *Queue[T]) Get() (T, error) {
	panic("TODO: implement Get")
}

// GetContext is Get, but gives up when ctx is done before an item is
// there: it then returns ctx.Err() and takes nothing.
func (q *Queue[T]) GetContext(ctx context.Context) (T, error) {
	panic("TODO: implement GetContext")
}

// TryGet removes and returns the item at the front of the queue if there
// is one, and returns ErrEmpty if there is none. On a rendezvous queue it
// succeeds only when a Put is waiting, and takes that Put's item. Once the
// queue is closed and empty it returns ErrClosed.
func (q *Queue[T]) TryGet() (T, error) {
	panic("TODO: implement TryGet")
}

// Close closes the queue and wakes every goroutine waiting on it. From
// then on, Put and TryPut fail with ErrClosed, and so do the Puts that were
// waiting, without adding their items. The items already in the queue stay
// there: Get and TryGet return them, and fail with ErrClosed only once the
// queue is empty. A rendezvous queue holds no items, so its Gets fail at
// once. Closing a closed queue does nothing.
func (q *Queue[T]) Close() {
	panic("TODO: implement Close")
}
