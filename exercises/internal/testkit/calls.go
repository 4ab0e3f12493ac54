package testkit

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A Call is one call of a [Calls] crowd, and what it returned: an error,
// and for a call that returns one, a value of type V. It prints itself in
// call form for failure messages: "q.Get() = 3, nil", "q.Put(1) = ErrClosed".
type Call[V any] struct {
	Label string // the call as the test started it: "q.Get()", "full.Put(2)"
	V     V      // what the call returned, for a call started with StartValue
	Err   error

	hasValue bool
	names    *callNames[V]
}

// callNames says how a crowd's calls print their values and errors.
type callNames[V any] struct {
	show    func(V) string
	errName func(error) string
}

func (c Call[V]) String() string {
	names := c.names
	if names == nil { // a Call the test made itself
		names = &callNames[V]{show: func(v V) string { return fmt.Sprint(v) }, errName: func(err error) string { return fmt.Sprint(err) }}
	}
	if c.hasValue {
		return fmt.Sprintf("%s = %s, %s", c.Label, names.show(c.V), names.errName(c.Err))
	}
	return fmt.Sprintf("%s = %s", c.Label, names.errName(c.Err))
}

// With returns the same call with v and err as what it returned: what the
// test wanted, for a failure message ("%v, want %v", r, r.With(3, nil)).
func (c Call[V]) With(v V, err error) Call[V] {
	c.V, c.Err = v, err
	return c
}

// Calls is a [Crowd] of calls on the code under test that return an
// error, and some of them a value of type V as well: the waiting Gets and
// Puts on queues, Receives and Sends on mailboxes, of the tests of the
// monitors (buffer, mailbox).
type Calls[V any] struct {
	*Crowd[Call[V]]
	names *callNames[V]
}

// NewCalls returns an empty crowd of calls. show prints a value in the
// failure messages, errName an error, the way the exercise's tests write
// them ("3", "ErrClosed").
func NewCalls[V any](show func(V) string, errName func(error) string) *Calls[V] {
	return &Calls[V]{
		Crowd: NewCrowd(func(c Call[V]) string { return c.Label }),
		names: &callNames[V]{show: show, errName: errName},
	}
}

// StartValue runs fn on a new goroutine as the call named label, for a
// call that returns a value and an error.
func (c *Calls[V]) StartValue(label string, fn func() (V, error)) {
	c.Start(label, func() Call[V] {
		v, err := fn()
		return Call[V]{Label: label, V: v, Err: err, hasValue: true, names: c.names}
	})
}

// StartErr runs fn on a new goroutine as the call named label, for a call
// that returns an error only.
func (c *Calls[V]) StartErr(label string, fn func() error) {
	c.Start(label, func() Call[V] {
		return Call[V]{Label: label, Err: fn(), names: c.names}
	})
}

// AllReturn waits, as [Crowd.All] does, for every call that has not
// returned yet, and asserts that each of them returned want: no error
// when want is nil, and otherwise an error that is want in the sense of
// [ErrorIs]. after says what should have made them return, why why each
// must return want. It reports whether they all did.
func (c *Calls[V]) AllReturn(t testing.TB, after string, want error, why string) bool {
	t.Helper()
	ok := true
	for _, r := range c.All(t, after) {
		msg := fmt.Sprintf("%v, want %s (%s)", r, c.names.errName(want), why)
		if want == nil {
			ok = assert.NoError(t, r.Err, msg) && ok
		} else {
			ok = ErrorIs(t, r.Err, want, msg) && ok
		}
	}
	return ok
}

// CancelWhileWaiting checks that every call waits while ctx is alive,
// then calls cancel, the CancelFunc of ctx, and asserts that every call
// then returns context.Canceled. It reports whether they all did.
func (c *Calls[V]) CancelWhileWaiting(t testing.TB, cancel context.CancelFunc) bool {
	t.Helper()
	c.Quiet(t, Grace, "nothing had changed, and ctx was not cancelled yet")
	cancel()
	return c.AllReturn(t, "ctx was cancelled (is a waiter woken when its context is cancelled, and does it check ctx.Err() when it wakes?)",
		context.Canceled, "ctx was cancelled while it waited")
}
