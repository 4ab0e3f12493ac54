package mailbox

// These tests are the contract of the exercise: what a PostOffice and its
// mailboxes must do, one behaviour a test. Run them with the race
// detector, as the grader does:
//
//	go test -race ./5-mailbox/
//
// The grader also runs hidden tests that look harder at the same
// behaviours: many senders and receivers at once, every form of every
// operation, Delete while goroutines wait, and cancelled contexts.
// README.md lists what they check.
//
// No test waits without a limit. A call that must wait is watched for a
// moment (testkit.Grace) to see that it does not return; a call that must
// return is given a few seconds (testkit.Patience) before the test fails
// and says which call hung.

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// text makes a message from two strings.
func text(from, body string) Message {
	return Message{From: from, Body: []byte(body)}
}

// show prints a message the way the failure messages do.
func show(msg Message) string {
	return fmt.Sprintf("{From: %q, Body: %q}", msg.From, msg.Body)
}

// sameMessage reports whether two messages have the same sender and body.
func sameMessage(a, b Message) bool {
	return a.From == b.From && bytes.Equal(a.Body, b.Body)
}

// errName names the errors of the package the way a student writes them.
func errName(err error) string {
	switch {
	case err == nil:
		return "nil"
	case testkit.Is(err, ErrExists):
		return "ErrExists"
	case testkit.Is(err, ErrNoMailbox):
		return "ErrNoMailbox"
	case testkit.Is(err, ErrBadCapacity):
		return "ErrBadCapacity"
	case testkit.Is(err, ErrDeleted):
		return "ErrDeleted"
	case testkit.Is(err, ErrWouldBlock):
		return "ErrWouldBlock"
	case testkit.Is(err, context.Canceled):
		return "context.Canceled"
	case testkit.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	return fmt.Sprintf("error %q", err)
}

// gotMessage asserts that a receiving call returned the message want and
// no error, and reports whether it did; msgAndArgs say which call, what
// it returned and why it should have returned want.
func gotMessage(t testing.TB, msg Message, err error, want Message, msgAndArgs ...any) bool {
	t.Helper()
	return assert.NoError(t, err, msgAndArgs...) && assert.True(t, sameMessage(msg, want), msgAndArgs...)
}

// requireMessage is gotMessage for a test that cannot go on.
func requireMessage(t testing.TB, msg Message, err error, want Message, msgAndArgs ...any) {
	t.Helper()
	if !gotMessage(t, msg, err, want, msgAndArgs...) {
		t.FailNow()
	}
}

// capName describes a capacity for failure messages.
func capName(capacity int) string {
	switch {
	case capacity == Unbounded:
		return "Unbounded"
	case capacity == 0:
		return "0 (rendezvous)"
	}
	return fmt.Sprint(capacity)
}

// newOffice calls New().
func newOffice(t *testing.T) *PostOffice {
	t.Helper()
	var po *PostOffice
	testkit.Within(t, testkit.Patience, "New()", func() { po = New() })
	require.NotNil(t, po, "New() = nil, want a post office")
	return po
}

// create calls po.Create(name, capacity), which must succeed.
func create(t *testing.T, po *PostOffice, name string, capacity int) *Mailbox {
	t.Helper()
	var m *Mailbox
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("po.Create(%q, %s)", name, capName(capacity)), func() { m, err = po.Create(name, capacity) })
	require.NoError(t, err, "po.Create(%q, %s) = %v, %s, want a mailbox and nil", name, capName(capacity), m, errName(err))
	require.NotNil(t, m, "po.Create(%q, %s) = nil, nil, want a mailbox and nil", name, capName(capacity))
	return m
}

// open calls po.Open(name), which must succeed.
func open(t *testing.T, po *PostOffice, name string) *Mailbox {
	t.Helper()
	var m *Mailbox
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("po.Open(%q)", name), func() { m, err = po.Open(name) })
	require.NoError(t, err, "po.Open(%q) = %v, %s, want a mailbox and nil (the mailbox exists)", name, m, errName(err))
	require.NotNil(t, m, "po.Open(%q) = nil, nil, want a mailbox and nil (the mailbox exists)", name)
	return m
}

// deleteBox calls po.Delete(name), which must return want.
func deleteBox(t *testing.T, po *PostOffice, name string, want error, why string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("po.Delete(%q)", name), func() { err = po.Delete(name) })
	testkit.RequireErrorIs(t, err, want, "po.Delete(%q) = %s, want %s (%s)", name, errName(err), errName(want), why)
}

// send calls box.Send(msg), which must return nil without waiting for
// long. label is the name of the handle in the messages ("box").
func send(t *testing.T, box *Mailbox, label string, msg Message, why string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%s.Send(%s) (%s)", label, show(msg), why), func() { err = box.Send(msg) })
	require.NoError(t, err, "%s.Send(%s) = %s, want nil (%s)", label, show(msg), errName(err), why)
}

// trySend calls box.TrySend(msg), which must return want at once.
func trySend(t *testing.T, box *Mailbox, label string, msg Message, want error, why string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%s.TrySend(%s) (TrySend must never wait)", label, show(msg)), func() { err = box.TrySend(msg) })
	testkit.RequireErrorIs(t, err, want, "%s.TrySend(%s) = %s, want %s (%s)", label, show(msg), errName(err), errName(want), why)
}

// receive calls box.Receive(), which must return want and nil without
// waiting for long.
func receive(t *testing.T, box *Mailbox, label string, want Message, why string) {
	t.Helper()
	var got Message
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%s.Receive() (%s)", label, why), func() { got, err = box.Receive() })
	requireMessage(t, got, err, want, "%s.Receive() = %s, %s, want %s, nil (%s)", label, show(got), errName(err), show(want), why)
}

// tryReceive calls box.TryReceive(), which must return want and wantErr at
// once. want is not checked when wantErr is not nil.
func tryReceive(t *testing.T, box *Mailbox, label string, want Message, wantErr error, why string) {
	t.Helper()
	var got Message
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%s.TryReceive() (TryReceive must never wait)", label), func() { got, err = box.TryReceive() })
	if wantErr == nil {
		requireMessage(t, got, err, want, "%s.TryReceive() = %s, %s, want %s, nil (%s)", label, show(got), errName(err), show(want), why)
		return
	}
	testkit.RequireErrorIs(t, err, wantErr, "%s.TryReceive() = %s, %s, want %s (%s)", label, show(got), errName(err), errName(wantErr), why)
}

// received is what a Receive returned.
type received struct {
	msg Message
	err error
}

// goReceive calls box.Receive() on a new goroutine. Read the result only
// once the returned Op has finished.
func goReceive(box *Mailbox) (*testkit.Op, *received) {
	r := new(received)
	return testkit.Go(func() { r.msg, r.err = box.Receive() }), r
}

// goReceiveContext calls box.ReceiveContext(ctx) on a new goroutine.
func goReceiveContext(ctx context.Context, box *Mailbox) (*testkit.Op, *received) {
	r := new(received)
	return testkit.Go(func() { r.msg, r.err = box.ReceiveContext(ctx) }), r
}

// goSend calls box.Send(msg) on a new goroutine. Read the error only once
// the returned Op has finished.
func goSend(box *Mailbox, msg Message) (*testkit.Op, *error) {
	err := new(error)
	return testkit.Go(func() { *err = box.Send(msg) }), err
}

func TestCreateOpenDelete(t *testing.T) {
	po := newOffice(t)
	a := create(t, po, "a", 2)

	var err error
	testkit.Within(t, testkit.Patience, `po.Create("a", 5)`, func() { _, err = po.Create("a", 5) })
	testkit.RequireErrorIs(t, err, ErrExists, `po.Create("a", 5) = %s, want ErrExists (a mailbox called "a" exists already)`, errName(err))
	testkit.Within(t, testkit.Patience, `po.Create("bad", -2)`, func() { _, err = po.Create("bad", -2) })
	testkit.RequireErrorIs(t, err, ErrBadCapacity, `po.Create("bad", -2) = %s, want ErrBadCapacity (capacities are Unbounded (-1), 0 or positive)`, errName(err))
	testkit.Within(t, testkit.Patience, `po.Open("nobody")`, func() { _, err = po.Open("nobody") })
	testkit.RequireErrorIs(t, err, ErrNoMailbox, `po.Open("nobody") = %s, want ErrNoMailbox (no mailbox of that name was ever created)`, errName(err))

	// Open returns a handle to the same mailbox.
	a2 := open(t, po, "a")
	send(t, a, "a", text("p", "through the first handle"), "the mailbox had room")
	receive(t, a2, "a2", text("p", "through the first handle"), `a2 came from po.Open("a"), so it reaches the mailbox that a was created with`)
	send(t, a2, "a2", text("q", "and back"), "the mailbox had room")
	receive(t, a, "a", text("q", "and back"), `a2 came from po.Open("a"), so it reaches the mailbox that a was created with`)

	b := create(t, po, "b", Unbounded)
	create(t, po, "c", 0)
	send(t, b, "b", text("p", "for b"), "an unbounded mailbox always has room")

	deleteBox(t, po, "a", nil, `the mailbox "a" existed`)
	testkit.Within(t, testkit.Patience, `po.Open("a")`, func() { _, err = po.Open("a") })
	testkit.RequireErrorIs(t, err, ErrNoMailbox, `po.Open("a") = %s, want ErrNoMailbox ("a" had been deleted)`, errName(err))
	deleteBox(t, po, "a", ErrNoMailbox, `"a" had been deleted already`)
	deleteBox(t, po, "nobody", ErrNoMailbox, "no mailbox of that name was ever created")

	// The name is free again, for a new and empty mailbox.
	a3 := create(t, po, "a", 1)
	tryReceive(t, a3, "a3", Message{}, ErrWouldBlock, `a3 is a new mailbox called "a", created after the old one was deleted: it is empty`)

	// Deleting "a" did nothing to "b".
	receive(t, b, "b", text("p", "for b"), `the message was sent to "b", and only "a" was deleted`)

	// Two post offices do not share their mailboxes.
	other := newOffice(t)
	testkit.Within(t, testkit.Patience, `other.Open("b")`, func() { _, err = other.Open("b") })
	testkit.RequireErrorIs(t, err, ErrNoMailbox, `other.Open("b") = %s, want ErrNoMailbox ("b" was created in another post office)`, errName(err))
	create(t, other, "b", 1) // the same name in another post office is another mailbox
}

func TestSendReceiveInOrder(t *testing.T) {
	for _, capacity := range []int{3, Unbounded} {
		po := newOffice(t)
		out := create(t, po, "box", capacity)
		in := open(t, po, "box")
		why := fmt.Sprintf("a mailbox of capacity %s", capName(capacity))

		msgs := []Message{text("ann", "one"), text("bob", "two"), text("ann", ""), {From: "", Body: []byte{0, 1, 2, 255}}}
		for _, msg := range msgs[:3] {
			send(t, out, "out", msg, why+" with room")
		}
		receive(t, in, "in", msgs[0], "messages leave a mailbox in the order they were sent, with their From and Body")
		send(t, out, "out", msgs[3], why+" with room")
		for _, msg := range msgs[1:] {
			receive(t, in, "in", msg, "messages leave a mailbox in the order they were sent, with their From and Body")
		}

		// Keep two messages in the mailbox while 100 flow through it.
		body := func(i int) Message { return text("seq", fmt.Sprint(i)) }
		send(t, out, "out", body(0), why+", empty")
		send(t, out, "out", body(1), why+", holding 1 message")
		for i := 2; i < 100; i++ {
			send(t, out, "out", body(i), why+", holding 2 messages")
			receive(t, in, "in", body(i-2), fmt.Sprintf("0, 1, …, %d were sent in that order", i))
		}
		receive(t, in, "in", body(98), "0, 1, …, 99 were sent in that order")
		receive(t, in, "in", body(99), "0, 1, …, 99 were sent in that order")
	}
}

func TestBoundedMailboxBlocksWhenFull(t *testing.T) {
	for _, capacity := range []int{1, 3} {
		po := newOffice(t)
		box := create(t, po, "box", capacity)
		msg := func(i int) Message { return text("p", fmt.Sprint(i)) }
		for i := 0; i < capacity; i++ {
			trySend(t, box, "box", msg(i), nil, fmt.Sprintf("the mailbox held %d of %d messages", i, capacity))
		}
		trySend(t, box, "box", msg(100), ErrWouldBlock, fmt.Sprintf("the mailbox held %d of %d messages: it was full", capacity, capacity))

		op, err := goSend(box, msg(capacity))
		op.StaysBlocked(t, testkit.Grace, fmt.Sprintf("box.Send(%s) on a full mailbox of capacity %d", show(msg(capacity)), capacity))
		tryReceive(t, box, "box", msg(0), nil, "0 was the first message sent")
		op.Finishes(t, testkit.Patience, fmt.Sprintf("box.Send(%s), after a TryReceive made room in the full mailbox,", show(msg(capacity))))
		require.NoError(t, *err, "box.Send(%s) = %s, want nil (a TryReceive made room for it)", show(msg(capacity)), errName(*err))
		trySend(t, box, "box", msg(101), ErrWouldBlock, "the Send that waited had filled the mailbox again")
		for i := 1; i <= capacity; i++ {
			receive(t, box, "box", msg(i), fmt.Sprintf("0, 1, …, %d were sent in that order", capacity))
		}
		tryReceive(t, box, "box", Message{}, ErrWouldBlock, "every message had been received")
	}
}

func TestReceiveBlocksWhenEmpty(t *testing.T) {
	for _, capacity := range []int{0, 2, Unbounded} {
		po := newOffice(t)
		box := create(t, po, "box", capacity)
		tryReceive(t, box, "box", Message{}, ErrWouldBlock, fmt.Sprintf("nothing had been sent to the mailbox of capacity %s", capName(capacity)))

		op, r := goReceive(box)
		op.StaysBlocked(t, testkit.Grace, fmt.Sprintf("box.Receive() on an empty mailbox of capacity %s", capName(capacity)))
		send(t, box, "box", text("p", "hello"), "a Receive was waiting")
		op.Finishes(t, testkit.Patience, fmt.Sprintf("box.Receive(), waiting on a mailbox of capacity %s, after a Send,", capName(capacity)))
		gotMessage(t, r.msg, r.err, text("p", "hello"), "box.Receive() = %s, %s, want %s, nil (it was waiting when that message was sent, capacity %s)",
			show(r.msg), errName(r.err), show(text("p", "hello")), capName(capacity))
	}
}

func TestUnboundedNeverBlocks(t *testing.T) {
	const n = 10000
	po := newOffice(t)
	box := create(t, po, "box", Unbounded)
	failedAt, firstErr := -1, error(nil)
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%d calls of box.Send on an unbounded mailbox that nobody reads (Send must never wait there)", n), func() {
		for i := 0; i < n; i++ {
			if err := box.Send(text("p", fmt.Sprint(i))); err != nil {
				failedAt, firstErr = i, err
				return
			}
		}
	})
	require.NoError(t, firstErr, "box.Send(%s) = %s, want nil (an unbounded mailbox holding %d messages still has room)", show(text("p", fmt.Sprint(failedAt))), errName(firstErr), failedAt)
	trySend(t, box, "box", text("p", fmt.Sprint(n)), nil, fmt.Sprintf("an unbounded mailbox holding %d messages still has room", n))
	for i := 0; i <= n; i++ {
		tryReceive(t, box, "box", text("p", fmt.Sprint(i)), nil, fmt.Sprintf("0, 1, …, %d were sent in that order", n))
	}
	tryReceive(t, box, "box", Message{}, ErrWouldBlock, "every message had been received")
}

func TestRendezvous(t *testing.T) {
	po := newOffice(t)
	box := create(t, po, "box", 0)
	trySend(t, box, "box", text("p", "1"), ErrWouldBlock, "no receiver was waiting, and a rendezvous mailbox holds nothing")
	tryReceive(t, box, "box", Message{}, ErrWouldBlock, "no sender was waiting on the rendezvous mailbox")

	// A Send waits for a receiver.
	op, err := goSend(box, text("p", "1"))
	op.StaysBlocked(t, testkit.Grace, `box.Send({From: "p", Body: "1"}) on a rendezvous mailbox, with no receiver,`)
	tryReceive(t, box, "box", text("p", "1"), nil, "a Send was waiting on the rendezvous mailbox")
	op.Finishes(t, testkit.Patience, `box.Send({From: "p", Body: "1"}), after a TryReceive took its message,`)
	require.NoError(t, *err, `box.Send({From: "p", Body: "1"}) = %s, want nil (a TryReceive took the message)`, errName(*err))
	tryReceive(t, box, "box", Message{}, ErrWouldBlock, "the only sender that waited had been served")

	// A Receive waits for a sender, and TrySend hands it the message.
	opR, r := goReceive(box)
	opR.StaysBlocked(t, testkit.Grace, "box.Receive() on a rendezvous mailbox, with no sender,")
	trySend(t, box, "box", text("q", "2"), nil, "a Receive was waiting on the rendezvous mailbox")
	opR.Finishes(t, testkit.Patience, `box.Receive(), after box.TrySend({From: "q", Body: "2"}) handed it a message,`)
	requireMessage(t, r.msg, r.err, text("q", "2"), `box.Receive() = %s, %s, want {From: "q", Body: "2"}, nil (TrySend succeeded while it waited)`, show(r.msg), errName(r.err))
	trySend(t, box, "box", text("q", "3"), ErrWouldBlock, "the only receiver that waited had been served")

	// A Send returns only once its message has been taken: never before the
	// receiver has even asked for it. The receiver counts its calls before
	// it makes them.
	const n = 200
	var asked atomic.Int64 // how many times the receiver has called Receive
	var problem [2]string  // one for each goroutine
	testkit.Together(t, 2, testkit.Patience, fmt.Sprintf("a sender sending %d messages and a receiver receiving them, on a rendezvous mailbox", n), func(g int) {
		if g == 0 {
			for i := 0; i < n; i++ {
				if err := box.Send(text("p", fmt.Sprint(i))); err != nil {
					problem[g] = fmt.Sprintf("box.Send(message %d) = %s, want nil", i, errName(err))
					return
				}
				if a := asked.Load(); a <= int64(i) {
					problem[g] = fmt.Sprintf("box.Send(message %d) returned when the receiver had called Receive only %d times: on a rendezvous mailbox a Send returns only once a receiver has taken its message", i, a)
					po.Delete("box") // release the receiver
					return
				}
			}
			return
		}
		for i := 0; i < n; i++ {
			asked.Add(1)
			msg, err := box.Receive()
			if err != nil || !sameMessage(msg, text("p", fmt.Sprint(i))) {
				problem[g] = fmt.Sprintf("box.Receive() = %s, %s, want %s, nil", show(msg), errName(err), show(text("p", fmt.Sprint(i))))
				po.Delete("box") // release the sender
				return
			}
		}
	})
	for _, p := range problem {
		if p != "" {
			require.FailNow(t, "the sender or the receiver went wrong", p)
		}
	}
}

func TestContextForms(t *testing.T) {
	const wait = 100 * time.Millisecond
	po := newOffice(t)

	// A receive that gives up takes nothing.
	box := create(t, po, "box", 1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var r received
	testkit.Within(t, testkit.Patience, fmt.Sprintf("box.ReceiveContext(ctx) on an empty mailbox, with a deadline %v away (was it woken when the deadline passed?)", wait), func() {
		r.msg, r.err = box.ReceiveContext(ctx)
	})
	testkit.RequireErrorIs(t, r.err, context.DeadlineExceeded, "box.ReceiveContext(ctx) = %s, %s, want context.DeadlineExceeded (the mailbox stayed empty until the deadline)", show(r.msg), errName(r.err))

	// A send that gives up delivers nothing.
	send(t, box, "box", text("p", "in"), "the mailbox was empty")
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("box.SendContext(ctx, msg) on a full mailbox, with a deadline %v away (was it woken when the deadline passed?)", wait), func() {
		err = box.SendContext(ctx, text("p", "late"))
	})
	testkit.RequireErrorIs(t, err, context.DeadlineExceeded, `box.SendContext(ctx, {From: "p", Body: "late"}) = %s, want context.DeadlineExceeded (the mailbox stayed full until the deadline)`, errName(err))
	tryReceive(t, box, "box", text("p", "in"), nil, "that message was in the mailbox")
	tryReceive(t, box, "box", Message{}, ErrWouldBlock, `the SendContext that gave up must not have delivered {From: "p", Body: "late"}`)

	// On a rendezvous mailbox too.
	rv := create(t, po, "rendezvous", 0)
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	testkit.Within(t, testkit.Patience, fmt.Sprintf("rv.SendContext(ctx, msg) on a rendezvous mailbox with no receiver, with a deadline %v away", wait), func() {
		err = rv.SendContext(ctx, text("p", "nobody took it"))
	})
	testkit.RequireErrorIs(t, err, context.DeadlineExceeded, "rv.SendContext(ctx, msg) = %s, want context.DeadlineExceeded (no receiver came before the deadline)", errName(err))
	tryReceive(t, rv, "rv", Message{}, ErrWouldBlock, "the SendContext that gave up was no longer waiting, so no sender was")

	// A context that is not done changes nothing.
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	op, got := goReceiveContext(ctx, box)
	op.StaysBlocked(t, testkit.Grace, "box.ReceiveContext(ctx) on an empty mailbox, with a deadline an hour away,")
	testkit.Within(t, testkit.Patience, "box.SendContext(ctx, msg) with a Receive waiting", func() { err = box.SendContext(ctx, text("p", "now")) })
	require.NoError(t, err, "box.SendContext(ctx, msg) = %s, want nil (the mailbox had room, and ctx was not done)", errName(err))
	op.Finishes(t, testkit.Patience, "box.ReceiveContext(ctx), after a SendContext,")
	gotMessage(t, got.msg, got.err, text("p", "now"), `box.ReceiveContext(ctx) = %s, %s, want {From: "p", Body: "now"}, nil (it was waiting when that was sent)`, show(got.msg), errName(got.err))

	// A context that is done already: nothing to wait for.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	testkit.Within(t, testkit.Patience, "box.ReceiveContext(ctx) on an empty mailbox, with ctx cancelled already,", func() {
		r.msg, r.err = box.ReceiveContext(ctx)
	})
	testkit.ErrorIs(t, r.err, context.Canceled, "box.ReceiveContext(ctx) = %s, %s, want context.Canceled (the mailbox was empty, and ctx was cancelled before the call)", show(r.msg), errName(r.err))
}

func TestMessagesAreCopied(t *testing.T) {
	po := newOffice(t)

	// The sender changes its buffer after Send.
	box := create(t, po, "box", 2)
	buf := []byte("hello")
	send(t, box, "box", Message{From: "p", Body: buf}, "the mailbox was empty")
	copy(buf, "HELLO")
	receive(t, box, "box", text("p", "hello"),
		`the sender wrote "HELLO" into its buffer after Send had returned; the mailbox must have kept a copy of the bytes as they were sent`)

	// The sender reuses one buffer for every message.
	unb := create(t, po, "unbounded", Unbounded)
	buf = make([]byte, 1)
	for i := 0; i < 10; i++ {
		buf[0] = byte('0' + i)
		send(t, unb, "unb", Message{From: "p", Body: buf}, "an unbounded mailbox always has room")
	}
	for i := 0; i < 10; i++ {
		receive(t, unb, "unb", text("p", fmt.Sprint(i)),
			"the sender sent 0, 1, …, 9 from the same buffer, overwriting it after each Send: each message must be a copy")
	}

	// On a rendezvous mailbox the receiver has the message before Send
	// returns; the sender's later writes must not reach it.
	rv := create(t, po, "rendezvous", 0)
	op, r := goReceive(rv)
	op.StaysBlocked(t, testkit.Grace, "rv.Receive() on a rendezvous mailbox, with no sender,")
	buf = []byte("ping")
	send(t, rv, "rv", Message{From: "p", Body: buf}, "a Receive was waiting")
	copy(buf, "PONG")
	op.Finishes(t, testkit.Patience, "rv.Receive(), after a Send,")
	requireMessage(t, r.msg, r.err, text("p", "ping"), `rv.Receive() = %s, %s, want {From: "p", Body: "ping"}, nil (the sender wrote "PONG" into its buffer only after Send had returned)`, show(r.msg), errName(r.err))
}

func TestDeleteWakesWaiters(t *testing.T) {
	po := newOffice(t)
	empty := create(t, po, "empty", 1)
	rv := create(t, po, "rendezvous", 0)

	opR, r := goReceive(empty)
	opS, err := goSend(rv, text("p", "never taken"))
	opR.StaysBlocked(t, testkit.Grace, "empty.Receive() on an empty mailbox")
	opS.StaysBlocked(t, testkit.Grace, "rv.Send(msg) on a rendezvous mailbox, with no receiver,")

	deleteBox(t, po, "empty", nil, "the mailbox existed")
	opR.Finishes(t, testkit.Patience, "empty.Receive(), waiting when its mailbox was deleted,")
	testkit.ErrorIs(t, r.err, ErrDeleted, "empty.Receive() = %s, %s, want ErrDeleted (its mailbox was deleted while it waited)", show(r.msg), errName(r.err))
	deleteBox(t, po, "rendezvous", nil, "the mailbox existed")
	opS.Finishes(t, testkit.Patience, "rv.Send(msg), waiting when its mailbox was deleted,")
	testkit.ErrorIs(t, *err, ErrDeleted, "rv.Send(msg) = %s, want ErrDeleted (its mailbox was deleted while it waited)", errName(*err))

	// A deleted mailbox stays deleted, whatever the handle.
	var e error
	testkit.Within(t, testkit.Patience, "empty.Send(msg) after Delete", func() { e = empty.Send(text("p", "too late")) })
	testkit.ErrorIs(t, e, ErrDeleted, "empty.Send(msg) = %s, want ErrDeleted (the mailbox had been deleted)", errName(e))
	var got Message
	testkit.Within(t, testkit.Patience, "rv.Receive() after Delete (it must not wait)", func() { got, e = rv.Receive() })
	testkit.ErrorIs(t, e, ErrDeleted, "rv.Receive() = %s, %s, want ErrDeleted (the mailbox had been deleted)", show(got), errName(e))

	// The messages still in a mailbox are dropped with it.
	full := create(t, po, "full", 2)
	send(t, full, "full", text("p", "dropped"), "the mailbox was empty")
	deleteBox(t, po, "full", nil, "the mailbox existed")
	again := create(t, po, "full", 2)
	tryReceive(t, again, "again", Message{}, ErrWouldBlock, `"full" was deleted with a message in it and created anew: the new mailbox starts empty`)
}

func TestManySendersManyReceivers(t *testing.T) {
	testkit.AtLeastProcs(t, 4)
	const senders, receivers, each = 4, 4, 100 // each sender sends, and each receiver receives, 100 messages
	po := newOffice(t)
	create(t, po, "shared", 4)

	// Every goroutine opens its own handle, as separate processes would.
	got := make([][]Message, receivers)
	problems := make([]string, senders+receivers)
	testkit.Together(t, senders+receivers, testkit.Patience,
		fmt.Sprintf("%d senders each sending %d messages to one mailbox of capacity 4, and %d receivers each receiving %d", senders, each, receivers, each),
		func(g int) {
			box, err := po.Open("shared")
			if err != nil {
				problems[g] = fmt.Sprintf(`po.Open("shared") = %s, want nil`, errName(err))
				return
			}
			if g < senders {
				for i := 0; i < each; i++ {
					if err := box.Send(text(fmt.Sprint("s", g), fmt.Sprint(i))); err != nil {
						problems[g] = fmt.Sprintf("box.Send(message %d of sender %d) = %s, want nil", i, g, errName(err))
						return
					}
				}
				return
			}
			for i := 0; i < each; i++ {
				msg, err := box.Receive()
				if err != nil {
					problems[g] = fmt.Sprintf("box.Receive() = %s, want nil (receiver %d, call %d)", errName(err), g-senders, i)
					return
				}
				got[g-senders] = append(got[g-senders], msg)
			}
		})
	for _, p := range problems {
		if p != "" {
			require.FailNow(t, "a sender or a receiver went wrong", p)
		}
	}

	seen := map[string]int{}
	for _, msgs := range got {
		for _, msg := range msgs {
			seen[show(msg)]++
		}
	}
	for s := 0; s < senders; s++ {
		for i := 0; i < each; i++ {
			msg := text(fmt.Sprint("s", s), fmt.Sprint(i))
			n := seen[show(msg)]
			if !assert.Equal(t, 1, n, "message %s was received %d times, want exactly once (each message reaches exactly one receiver)", show(msg), n) {
				return // one such message says it: the others would say it a few hundred times over
			}
		}
	}
}

func TestSeveralMailboxesBetweenSamePair(t *testing.T) {
	po := newOffice(t)
	reqs := create(t, po, "requests", 0)
	reps := create(t, po, "replies", 2)
	logs := create(t, po, "log", Unbounded)

	// Two messages from the same sender, in two mailboxes, are received in
	// whichever order the receiver asks for them.
	send(t, logs, "logs", text("client", "to the log"), "an unbounded mailbox always has room")
	send(t, reps, "reps", text("client", "to replies"), "the mailbox was empty")
	receive(t, reps, "reps", text("client", "to replies"), "only that message was sent to replies")
	receive(t, logs, "logs", text("client", "to the log"), "only that message was sent to the log")

	// A client and a server talk through all three mailboxes at once.
	const rounds = 100
	release := func() {
		for _, name := range []string{"requests", "replies", "log"} {
			po.Delete(name)
		}
	}
	var problem [2]string
	testkit.Together(t, 2, testkit.Patience, fmt.Sprintf("a client and a server exchanging %d requests and replies, and logging each", rounds), func(g int) {
		if g == 0 { // the client
			for i := 0; i < rounds; i++ {
				if err := reqs.Send(text("client", fmt.Sprint("req ", i))); err != nil {
					problem[g] = fmt.Sprintf("reqs.Send(request %d) = %s, want nil", i, errName(err))
					return
				}
				msg, err := reps.Receive()
				if want := text("server", fmt.Sprint("rep ", i)); err != nil || !sameMessage(msg, want) {
					problem[g] = fmt.Sprintf("reps.Receive() = %s, %s, want %s, nil (the reply to request %d)", show(msg), errName(err), show(want), i)
					release() // so that the server does not wait for ever
					return
				}
			}
			return
		}
		for i := 0; i < rounds; i++ { // the server
			msg, err := reqs.Receive()
			if want := text("client", fmt.Sprint("req ", i)); err != nil || !sameMessage(msg, want) {
				problem[g] = fmt.Sprintf("reqs.Receive() = %s, %s, want %s, nil", show(msg), errName(err), show(want))
				release() // so that the client does not wait for ever
				return
			}
			if err := logs.Send(text("server", fmt.Sprint("served ", i))); err != nil {
				problem[g] = fmt.Sprintf("logs.Send(log %d) = %s, want nil", i, errName(err))
				return
			}
			if err := reps.Send(text("server", fmt.Sprint("rep ", i))); err != nil {
				problem[g] = fmt.Sprintf("reps.Send(reply %d) = %s, want nil", i, errName(err))
				return
			}
		}
	})
	for _, p := range problem {
		if p != "" {
			require.FailNow(t, "the client or the server went wrong", p)
		}
	}
	for i := 0; i < rounds; i++ {
		tryReceive(t, logs, "logs", text("server", fmt.Sprint("served ", i)), nil, "the server logged each request it served, in order, and nothing else went to the log")
	}
	tryReceive(t, logs, "logs", Message{}, ErrWouldBlock, "every log message had been received")
	tryReceive(t, reqs, "reqs", Message{}, ErrWouldBlock, "every request had been received")
	tryReceive(t, reps, "reps", Message{}, ErrWouldBlock, "every reply had been received")
}
