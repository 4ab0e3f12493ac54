package buffer

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (buffer_test.go), which the grader always compiles with these.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A crowd is a group of calls on queues, each running on a goroutine of its
// own, that are expected to wait. The test watches them as a group: that
// none returns for a while (Quiet), which one returns next (Next), all
// of them (All): testkit.Crowd does the watching.
type crowd struct{ *testkit.Crowd[call] }

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
	return &crowd{testkit.NewCrowd(func(r call) string { return r.label })}
}

// start runs fn on a new goroutine as the call named label.
func (c *crowd) start(label string, fn func() (int, error)) {
	c.Start(label, func() call {
		v, err := fn()
		return call{label: label, v: v, err: err}
	})
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

// The trap context and the waiting calls are testkit's (testkit.Ctx,
// testkit.StartWaiting); these name the errors as this exercise's tests do.

func newTestCtx() *testkit.Ctx { return testkit.NewCtx() }

func newTrapCtx() *testkit.Ctx { return testkit.NewTrap() }

func startWaiting(t *testing.T, what, why string, ctx *testkit.Ctx, call func(context.Context) error, probeWhat string, probe func() error, probeWant error) *testkit.Waiter {
	t.Helper()
	return testkit.StartWaiting(t, what, why, ctx, call, probeWhat, probe, probeWant, errName)
}

func cancelJustBeforeWait(t *testing.T, what, why string, call func(context.Context) error, probeWhat string, probe func() error, probeWant error) {
	t.Helper()
	testkit.CancelJustBeforeWait(t, what, why, call, probeWhat, probe, probeWant, errName)
}
