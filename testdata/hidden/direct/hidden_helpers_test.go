package direct

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (direct_test.go), which the grader always compiles with these.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// aliceAndBob makes a network of the given capacity and joins alice and
// bob to it. on says how the network was made, for failure messages: "on
// a network made by New(1)".
func aliceAndBob(t *testing.T, capacity int) (alice, bob *Process, on string) {
	t.Helper()
	ps := joinAll(t, New(capacity), "alice", "bob")
	return ps[0], ps[1], "on a network made by " + capName(capacity)
}

// requireMessageFrom is gotMessageFrom for a test that cannot go on: it
// stops the test, as require does, unless ReceiveAny returned the message
// want from wantFrom, and no error.
func requireMessageFrom(t testing.TB, from string, msg []byte, err error, wantFrom, want string, msgAndArgs ...any) {
	t.Helper()
	if !gotMessageFrom(t, from, msg, err, wantFrom, want, msgAndArgs...) {
		t.FailNow()
	}
}

// A crowd is a group of calls, each running on a goroutine of its own,
// that are expected to wait. The test watches them as a group: that none
// returns for a while (Quiet), which one returns next (Next), all of them
// (All): testkit.Crowd does the watching.
type crowd struct{ *testkit.Crowd[call] }

// A call is one call of a crowd, and what it returned.
type call struct {
	label string // the call as the test started it: `alice.Send("bob", "a")`
	kind  string // "send", "receive" or "any", to print the result
	from  string
	msg   []byte
	err   error
}

func (c call) String() string {
	switch c.kind {
	case "send":
		return fmt.Sprintf("%s = %s", c.label, errName(c.err))
	case "any":
		return fmt.Sprintf("%s = %q, %s, %s", c.label, c.from, quote(c.msg), errName(c.err))
	}
	return fmt.Sprintf("%s = %s, %s", c.label, quote(c.msg), errName(c.err))
}

func newCrowd() *crowd {
	return &crowd{testkit.NewCrowd(func(r call) string { return r.label })}
}

// start runs fn on a new goroutine as the call named label.
func (c *crowd) start(label, kind string, fn func(r *call)) {
	c.Start(label, func() call {
		r := call{label: label, kind: kind}
		fn(&r)
		return r
	})
}

// send starts p.Send(to, msg), labelled in call form.
func (c *crowd) send(p *Process, to, msg string) string {
	label := fmt.Sprintf("%s.Send(%q, %q)", p.Name(), to, msg)
	c.start(label, "send", func(r *call) { r.err = p.Send(to, []byte(msg)) })
	return label
}

// sendContext starts p.SendContext(ctx, to, msg); ctxName names ctx.
func (c *crowd) sendContext(ctx context.Context, ctxName string, p *Process, to, msg string) string {
	label := fmt.Sprintf("%s.SendContext(%s, %q, %q)", p.Name(), ctxName, to, msg)
	c.start(label, "send", func(r *call) { r.err = p.SendContext(ctx, to, []byte(msg)) })
	return label
}

// receive starts p.Receive(from).
func (c *crowd) receive(p *Process, from string) string {
	label := fmt.Sprintf("%s.Receive(%q)", p.Name(), from)
	c.start(label, "receive", func(r *call) { r.msg, r.err = p.Receive(from) })
	return label
}

// receiveContext starts p.ReceiveContext(ctx, from).
func (c *crowd) receiveContext(ctx context.Context, ctxName string, p *Process, from string) string {
	label := fmt.Sprintf("%s.ReceiveContext(%s, %q)", p.Name(), ctxName, from)
	c.start(label, "receive", func(r *call) { r.msg, r.err = p.ReceiveContext(ctx, from) })
	return label
}

// receiveAny starts p.ReceiveAny().
func (c *crowd) receiveAny(p *Process) string {
	label := fmt.Sprintf("%s.ReceiveAny()", p.Name())
	c.start(label, "any", func(r *call) { r.from, r.msg, r.err = p.ReceiveAny() })
	return label
}

// receiveAnyContext starts p.ReceiveAnyContext(ctx).
func (c *crowd) receiveAnyContext(ctx context.Context, ctxName string, p *Process) string {
	label := fmt.Sprintf("%s.ReceiveAnyContext(%s)", p.Name(), ctxName)
	c.start(label, "any", func(r *call) { r.from, r.msg, r.err = p.ReceiveAnyContext(ctx) })
	return label
}

// numbered is the k-th message a process sends in a test: "alice 3".
func numbered(sender string, k int) string {
	return fmt.Sprintf("%s %d", sender, k)
}

// parseNumbered splits a numbered message into its sender and number. ok
// is false if msg is not one.
func parseNumbered(msg []byte) (sender string, k int, ok bool) {
	name, num, found := strings.Cut(string(msg), " ")
	if !found {
		return "", 0, false
	}
	k, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, false
	}
	return name, k, true
}

// sendAll starts a goroutine that sends count numbered messages from p to
// to, and stops at the first error, which it stores in *err. Read *err only
// once the returned Op has finished.
func sendAll(p *Process, to string, count int) (*testkit.Op, *error) {
	err := new(error)
	op := testkit.Go(func() {
		for k := 0; k < count; k++ {
			if e := p.Send(to, []byte(numbered(p.Name(), k))); e != nil {
				*err = fmt.Errorf("%s.Send(%q, %q) = %s", p.Name(), to, numbered(p.Name(), k), errName(e))
				return
			}
		}
	})
	return op, err
}
