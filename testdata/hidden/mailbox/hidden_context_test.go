package mailbox

// Hidden tests: contexts. A call that gives up must leave the mailbox as if
// it had never been made, so that no message is lost or delivered twice
// (catalogue entry lost-or-duplicated), and must leave no goroutine
// behind.

import (
	"context"
	"fmt"
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
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
	c.receiveContext("asks.ReceiveContext(ctx)", ctx, asks)
	c.receiveContext("emptyBounded.ReceiveContext(ctx)", ctx, emptyBounded)
	c.receiveContext("emptyUnbounded.ReceiveContext(ctx)", ctx, emptyUnbounded)
	c.sendContext("offers.SendContext(ctx, msg)", ctx, offers, text("p", "withdrawn"))
	c.sendContext("full.SendContext(ctx, msg)", ctx, full, text("p", "withdrawn"))
	c.quiet(t, testkit.Grace, "nothing had changed, and ctx was not cancelled yet")
	cancel()
	for _, r := range c.all(t, "ctx was cancelled (is a waiter woken when its context is cancelled, and does it check ctx.Err() when it wakes?)") {
		if !testkit.Is(r.err, context.Canceled) {
			t.Errorf("%v, want context.Canceled (ctx was cancelled while it waited)", r)
		}
	}
	if t.Failed() {
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
	c.quiet(t, testkit.Grace, "no receiver had come to the rendezvous mailbox")
	taken := map[int]bool{}
	for k := 0; k < n; k++ {
		var msg Message
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("rv.Receive() with %d senders waiting", n-k), func() { msg, err = rv.Receive() })
		var s int
		if _, e := fmt.Sscan(msg.From, &s); err != nil || e != nil || s < 0 || s >= n || taken[s] {
			t.Fatalf("rv.Receive() = %s, %s, want the message of one of the %d waiting senders that has not been received yet", show(msg), errName(err), n-k)
		}
		taken[s] = true
		cancels[s]() // too late: the message has been taken
	}
	for _, r := range c.all(t, "a receiver took the message of each of them") {
		if r.err != nil {
			t.Errorf("%v, want nil (a receiver took its message before ctx was cancelled: the message was delivered, so the send succeeded)", r)
		}
	}
	tryReceive(t, rv, "rv", Message{}, ErrWouldBlock, "every sender had been served")
}
