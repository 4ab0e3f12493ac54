package buffer

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (buffer_test.go), which the grader always compiles with these.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A crowd is a group of calls on queues, each running on a goroutine of its
// own, that are expected to wait. The test watches them as a group: that
// none returns for a while (quiet), then which one returns next (next).
type crowd struct {
	returned chan call
	waiting  map[string]bool // labels of the calls that have not returned
}

// A call is one call of a crowd, and what it returned.
type call struct {
	label string // the call as the test started it: "q.Get()", "full.Put(2)"
	v     int    // what a Get returned
	err   error
}

func (c call) String() string {
	if strings.Contains(c.label, "Get") {
		return fmt.Sprintf("%s = %d, %s", c.label, c.v, errName(c.err))
	}
	return fmt.Sprintf("%s = %s", c.label, errName(c.err))
}

func newCrowd() *crowd {
	// Large enough that no call ever blocks on reporting.
	return &crowd{returned: make(chan call, 100), waiting: map[string]bool{}}
}

// start runs fn on a new goroutine as the call named label.
func (c *crowd) start(label string, fn func() (int, error)) {
	if c.waiting[label] {
		panic("crowd: two calls named " + label)
	}
	c.waiting[label] = true
	go func() {
		v, err := fn()
		c.returned <- call{label: label, v: v, err: err}
	}()
}

// get starts q.Get() under the given label.
func (c *crowd) get(label string, q *Queue[int]) {
	c.start(label, q.Get)
}

// getContext starts q.GetContext(ctx).
func (c *crowd) getContext(label string, ctx context.Context, q *Queue[int]) {
	c.start(label, func() (int, error) { return q.GetContext(ctx) })
}

// put starts q.Put(v).
func (c *crowd) put(label string, q *Queue[int], v int) {
	c.start(label, func() (int, error) { return 0, q.Put(v) })
}

// putContext starts q.PutContext(ctx, v).
func (c *crowd) putContext(label string, ctx context.Context, q *Queue[int], v int) {
	c.start(label, func() (int, error) { return 0, q.PutContext(ctx, v) })
}

// stillWaiting lists the calls that have not returned, sorted.
func (c *crowd) stillWaiting() string {
	var ls []string
	for l := range c.waiting {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return strings.Join(ls, ", ")
}

// quiet watches the calls for d and fails the test if any of them returns.
// why says why they must all still be waiting.
func (c *crowd) quiet(t *testing.T, d time.Duration, why string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-c.returned:
		delete(c.waiting, r.label)
		t.Fatalf("%v, but it should still be waiting (%s)", r, why)
	case <-timer.C:
	}
}

// next waits up to testkit.Patience for one of the calls to return, and
// returns it. after says what happened that should make one return.
func (c *crowd) next(t *testing.T, after string) call {
	t.Helper()
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	select {
	case r := <-c.returned:
		delete(c.waiting, r.label)
		return r
	case <-timer.C:
		t.Fatalf("after %s, none of these calls returned within %v: %s (a lost wake-up?)", after, testkit.Patience, c.stillWaiting())
		return call{}
	}
}

// all waits for every call that has not returned yet and returns them by
// label. after says what should have made them return.
func (c *crowd) all(t *testing.T, after string) map[string]call {
	t.Helper()
	got := map[string]call{}
	for len(c.waiting) > 0 {
		r := c.next(t, after)
		got[r.label] = r
	}
	return got
}
