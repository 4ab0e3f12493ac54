package buffer

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (buffer_test.go), which the grader always compiles with these.

import (
	"context"
	"strconv"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A crowd is a group of calls on queues, each running on a goroutine of its
// own, that are expected to wait. The test watches them as a group: that
// none returns for a while (Quiet), which one returns next (Next), all
// of them (All): testkit.Calls does the watching.
type crowd struct{ *testkit.Calls[int] }

// A call is one call of a crowd, and what it returned: Label is the call
// as the test started it ("q.Get()", "full.Put(2)"), V what a Get
// returned, Err the error.
type call = testkit.Call[int]

func newCrowd() *crowd {
	return &crowd{testkit.NewCalls(strconv.Itoa, errName)}
}

// get starts q.Get() under the given label.
func (c *crowd) get(label string, q *Queue[int]) {
	c.StartValue(label, q.Get)
}

// getContext starts q.GetContext(ctx).
func (c *crowd) getContext(label string, ctx context.Context, q *Queue[int]) {
	c.StartValue(label, func() (int, error) { return q.GetContext(ctx) })
}

// put starts q.Put(v).
func (c *crowd) put(label string, q *Queue[int], v int) {
	c.StartErr(label, func() error { return q.Put(v) })
}

// putContext starts q.PutContext(ctx, v).
func (c *crowd) putContext(label string, ctx context.Context, q *Queue[int], v int) {
	c.StartErr(label, func() error { return q.PutContext(ctx, v) })
}

// waitingQueues holds a queue of each kind, each in a state in which every
// call on it waits: an empty bounded queue, a full one (capacity 1,
// holding 0), an empty unbounded queue, and two empty rendezvous queues,
// one for Puts (offers) and one for Gets (asks).
type waitingQueues struct {
	empty, full, unbounded, offers, asks *Queue[int]
}

// waitOnEmptyAndFull makes the queues, the empty bounded one of capacity
// emptyCap, and a crowd in which two Gets and empty.GetContext(ctx) wait
// on the empty queue, and Put(1), Put(2) and full.PutContext(ctx, 3) on
// the full one. The test adds the calls on the other queues.
func waitOnEmptyAndFull(t *testing.T, ctx context.Context, emptyCap int) (*waitingQueues, *crowd) {
	t.Helper()
	qs := &waitingQueues{
		empty:     NewBounded[int](emptyCap),
		full:      NewBounded[int](1),
		unbounded: NewUnbounded[int](),
		offers:    NewRendezvous[int](),
		asks:      NewRendezvous[int](),
	}
	put(t, qs.full, 0, "the queue was empty")
	c := newCrowd()
	c.get("empty.Get() (getter 1)", qs.empty)
	c.get("empty.Get() (getter 2)", qs.empty)
	c.getContext("empty.GetContext(ctx)", ctx, qs.empty)
	c.put("full.Put(1)", qs.full, 1)
	c.put("full.Put(2)", qs.full, 2)
	c.putContext("full.PutContext(ctx, 3)", ctx, qs.full, 3)
	return qs, c
}
