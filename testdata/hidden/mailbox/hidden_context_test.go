package mailbox

// Hidden tests: contexts. A call that gives up must leave the mailbox as if
// it had never been made, so that no message is lost or delivered twice
// (catalogue entry lost-or-duplicated), and must leave no goroutine
// behind.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/require"
)

// TestCancelledCallsLeaveNoTrace cancels calls of every kind while they
// wait, and checks that the mailboxes then work as if those calls had never
// been made. It also cancels the contexts of rendezvous senders right after
// a receiver took their messages: those sends succeeded, and must say so.
func TestCancelledCallsLeaveNoTrace(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	po := newOffice(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	asks := create(t, po, "rendezvous with a receiver", 0)
	emptyBounded := create(t, po, "empty bounded", 1)
	emptyUnbounded := create(t, po, "empty unbounded", Unbounded)
	offers := create(t, po, "rendezvous with a sender", 0)
	full := create(t, po, "full", 1)
	send(t, full, "full", text("p", "in"), "the mailbox was empty")

	c := newCrowd()
	c.receiveContexts(ctx, handle{"asks", asks}, handle{"emptyBounded", emptyBounded}, handle{"emptyUnbounded", emptyUnbounded})
	c.sendContexts(ctx, text("p", "withdrawn"), handle{"offers", offers}, handle{"full", full})
	if !c.CancelWhileWaiting(t, cancel) {
		return
	}

	// The receivers that gave up are gone: nothing may be handed to them.
	trySend(t, asks, "asks", text("p", "x"), ErrWouldBlock,
		"the only receiver had given up when its context was cancelled, so no receiver was waiting; a message handed to it would be lost")
	send(t, emptyBounded, "emptyBounded", text("p", "kept"), "the mailbox was empty")
	tryReceive(t, emptyBounded, "emptyBounded", text("p", "kept"), nil,
		"the only receiver had given up when its context was cancelled, so the message must still be in the mailbox")
	send(t, emptyUnbounded, "emptyUnbounded", text("p", "kept"), "an unbounded mailbox always has room")
	tryReceive(t, emptyUnbounded, "emptyUnbounded", text("p", "kept"), nil,
		"the only receiver had given up when its context was cancelled, so the message must still be in the mailbox")

	// The senders that gave up delivered nothing.
	tryReceive(t, offers, "offers", Message{}, ErrWouldBlock,
		"the only sender had given up when its context was cancelled, so its message must have been withdrawn")
	tryReceive(t, full, "full", text("p", "in"), nil, "that message was in the mailbox")
	tryReceive(t, full, "full", Message{}, ErrWouldBlock,
		"the SendContext that gave up must not have delivered its message")

	// Rendezvous senders whose context is cancelled just after a receiver
	// took their message: the message is delivered, so SendContext must
	// return nil.
	const n = 40
	rv := create(t, po, "rendezvous", 0)
	cancels := make([]context.CancelFunc, n)
	c = newCrowd()
	for s := 0; s < n; s++ {
		var sctx context.Context
		sctx, cancels[s] = context.WithCancel(context.Background())
		defer cancels[s]()
		c.sendContext(fmt.Sprintf("rv.SendContext(ctx%d, message of sender %d)", s, s), sctx, rv, text(fmt.Sprint(s), "hello"))
	}
	c.Quiet(t, testkit.Grace, "no receiver had come to the rendezvous mailbox")
	taken := map[int]bool{}
	for k := 0; k < n; k++ {
		var msg Message
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("rv.Receive() with %d senders waiting", n-k), func() { msg, err = rv.Receive() })
		var s int
		_, e := fmt.Sscan(msg.From, &s)
		require.NoError(t, err, "rv.Receive() = %s, %s, want the message of one of the %d waiting senders that has not been received yet", show(msg), errName(err), n-k)
		require.True(t, e == nil && s >= 0 && s < n && !taken[s], "rv.Receive() = %s, nil, want the message of one of the %d waiting senders that has not been received yet", show(msg), n-k)
		taken[s] = true
		cancels[s]() // too late: the message has been taken
	}
	c.AllReturn(t, "a receiver took the message of each of them", nil, "a receiver took its message before ctx was cancelled: the message was delivered, so the send succeeded")
	tryReceive(t, rv, "rv", Message{}, ErrWouldBlock, "every sender had been served")
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
	po := newOffice(t)
	receiveFrom := func(box *Mailbox) func(context.Context) error {
		return func(ctx context.Context) error { _, err := box.ReceiveContext(ctx); return err }
	}
	tryReceiveFrom := func(box *Mailbox) func() error {
		return func() error { _, err := box.TryReceive(); return err }
	}
	for _, k := range []struct {
		name     string
		capacity int
	}{
		{"rendezvous", 0},
		{"bounded", 1},
		{"unbounded", Unbounded},
	} {
		box := create(t, po, "receivers "+k.name, k.capacity)
		label := fmt.Sprintf("%s.ReceiveContext(ctx)", k.name)
		testkit.CancelJustBeforeWait(t, label, fmt.Sprintf("the mailbox, of capacity %s, was empty", capName(k.capacity)),
			receiveFrom(box), k.name+".TryReceive()", tryReceiveFrom(box), ErrWouldBlock, errName)
		if k.capacity == 0 {
			trySend(t, box, k.name, text("p", "x"), ErrWouldBlock,
				label+" had given up, so no receiver was waiting; a message handed to it would be lost")
		}
	}

	offers := create(t, po, "senders rendezvous", 0)
	testkit.CancelJustBeforeWait(t, "rendezvous.SendContext(ctx, msg)", "no receiver came to the rendezvous mailbox",
		func(ctx context.Context) error { return offers.SendContext(ctx, text("p", "withdrawn")) },
		"rendezvous.TrySend(msg)", func() error { return offers.TrySend(text("p", "probe")) }, ErrWouldBlock, errName)
	tryReceive(t, offers, "rendezvous", Message{}, ErrWouldBlock,
		"the only sender had given up when its context was cancelled, so its message must have been withdrawn")

	full := create(t, po, "senders full", 1)
	send(t, full, "full", text("p", "in"), "the mailbox was empty")
	testkit.CancelJustBeforeWait(t, "full.SendContext(ctx, msg)", "the mailbox held 1 of 1 messages",
		func(ctx context.Context) error { return full.SendContext(ctx, text("p", "withdrawn")) },
		"full.TrySend(msg)", func() error { return full.TrySend(text("p", "probe")) }, ErrWouldBlock, errName)
	tryReceive(t, full, "full", text("p", "in"), nil, "that message was in the mailbox")
	tryReceive(t, full, "full", Message{}, ErrWouldBlock, "the SendContext that gave up must not have delivered its message")
}

// TestCancelWakesItsOwnWaiter lets two calls wait on the same mailbox, each
// with a context of its own, and cancels the context of the one that
// started waiting last. Waking one waiter (Signal) wakes the one that has
// waited longest, which is the other call: it goes back to waiting, and
// the cancelled call sleeps on. The test waits until the first call really
// waits before it starts the second.
func TestCancelWakesItsOwnWaiter(t *testing.T) {
	po := newOffice(t)
	for _, k := range []struct {
		name     string
		capacity int
		senders  bool // the calls are senders on a full mailbox, not receivers on an empty one
	}{
		{"rendezvous", 0, false},
		{"bounded", 1, false},
		{"unbounded", Unbounded, false},
		{"rendezvous", 0, true},
		{"bounded", 1, true},
	} {
		role := "receivers"
		if k.senders {
			role = "senders"
		}
		box := create(t, po, role+" "+k.name, k.capacity)
		why := fmt.Sprintf("the mailbox, of capacity %s, was empty", capName(k.capacity))
		var got Message // what the first call received
		call := func(label string) (string, func(context.Context) error) {
			if k.senders {
				return fmt.Sprintf("%s.SendContext(%s, msg)", k.name, label), func(ctx context.Context) error {
					return box.SendContext(ctx, text("p", label))
				}
			}
			return fmt.Sprintf("%s.ReceiveContext(%s)", k.name, label), func(ctx context.Context) error {
				msg, err := box.ReceiveContext(ctx)
				if label == "first" {
					got = msg
				}
				return err
			}
		}
		probeWhat, probe := k.name+".TryReceive()", func() error { _, err := box.TryReceive(); return err }
		if k.senders {
			probeWhat, probe = k.name+".TrySend(msg)", func() error { return box.TrySend(text("p", "probe")) }
			if k.capacity > 0 {
				send(t, box, k.name, text("p", "in"), "the mailbox was empty")
				why = fmt.Sprintf("the mailbox held %d of %d messages", k.capacity, k.capacity)
			} else {
				why = "no receiver came to the rendezvous mailbox"
			}
		}

		first, second := testkit.NewCtx(), testkit.NewCtx()
		firstWhat, firstCall := call("first")
		a := testkit.StartWaiting(t, firstWhat, why, first, firstCall, probeWhat, probe, ErrWouldBlock, errName)
		secondWhat, secondCall := call("second")
		b := testkit.StartWaiting(t, secondWhat, why+", and "+firstWhat+" was waiting already", second, secondCall, probeWhat, probe, ErrWouldBlock, errName)

		second.Cancel()
		timer := time.NewTimer(testkit.Patience)
		select {
		case <-b.Op.Finished():
		case <-timer.C:
			require.FailNow(t, "the cancelled call did not return (a lost wake-up)", "%s did not return within %v after second was cancelled, while %s, which started waiting earlier on the same mailbox, waited on (first was not cancelled): waking one waiter (Signal) wakes the one that has waited longest, not the one whose context was cancelled; wake them all (Broadcast), and let each check its own context",
				secondWhat, testkit.Patience, firstWhat)
		}
		timer.Stop()
		testkit.RequireErrorIs(t, b.Err, context.Canceled, "%s = %s, want context.Canceled (second was cancelled while it waited)", secondWhat, errName(b.Err))

		// The first call is still waiting, and is served as usual.
		if k.senders {
			if k.capacity > 0 {
				receive(t, box, k.name, text("p", "in"), "that message was in the mailbox")
			}
			receive(t, box, k.name, text("p", "first"), firstWhat+" was the only sender left waiting")
		} else {
			send(t, box, k.name, text("p", "for first"), firstWhat+" was the only receiver left waiting")
		}
		a.Op.Finishes(t, testkit.Patience, firstWhat+", served after second was cancelled,")
		if k.senders {
			require.NoError(t, a.Err, "%s = %s, want nil (a receiver took its message; its context was never cancelled)", firstWhat, errName(a.Err))
		} else {
			requireMessage(t, got, a.Err, text("p", "for first"), "%s = %s, %s, want %s, nil (that message was sent while it waited; its context was never cancelled)", firstWhat, show(got), errName(a.Err), show(text("p", "for first")))
		}
		first.Cancel()
	}
}
