package mailbox

// Hidden tests: Delete. It must wake every sender and receiver waiting on
// the mailbox (catalogue entry delete-leaves-waiters), and every later use
// of the mailbox must fail with ErrDeleted (use-after-delete).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/require"
)

// TestDeleteWakesEveryWaiter lets senders and receivers of every kind wait
// on five mailboxes, deletes the mailboxes, and checks that every one of
// them returns ErrDeleted and leaves no goroutine behind.
func TestDeleteWakesEveryWaiter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // after the leak check, which is registered later and runs first
	testkit.NoGoroutineLeaks(t)

	po := newOffice(t)
	emptyBounded := create(t, po, "empty bounded", 2)
	emptyUnbounded := create(t, po, "empty unbounded", Unbounded)
	asks := create(t, po, "rendezvous with receivers", 0)
	full := create(t, po, "full", 1)
	send(t, full, "full", text("p", "fills it"), "the mailbox was empty")
	offers := create(t, po, "rendezvous with senders", 0)

	c := newCrowd()
	for i := 1; i <= 3; i++ {
		c.receive(fmt.Sprintf("emptyBounded.Receive() (receiver %d)", i), emptyBounded)
		c.receive(fmt.Sprintf("asks.Receive() (receiver %d)", i), asks)
		c.send(fmt.Sprintf("full.Send(msg) (sender %d)", i), full, text("p", fmt.Sprint(i)))
		c.send(fmt.Sprintf("offers.Send(msg) (sender %d)", i), offers, text("p", fmt.Sprint(i)))
	}
	c.receive("emptyUnbounded.Receive()", emptyUnbounded)
	c.receiveContexts(ctx, handle{"emptyBounded", emptyBounded}, handle{"emptyUnbounded", emptyUnbounded}, handle{"asks", asks})
	c.sendContexts(ctx, text("p", "ctx"), handle{"full", full}, handle{"offers", offers})
	c.Quiet(t, testkit.Grace, "every mailbox was empty or full, or a rendezvous mailbox without a partner")

	names := []string{"empty bounded", "empty unbounded", "rendezvous with receivers", "full", "rendezvous with senders"}
	for _, name := range names {
		deleteBox(t, po, name, nil, "the mailbox existed")
	}
	c.AllReturn(t, "every mailbox they waited on was deleted (does Delete wake every waiter, and does a waiter that wakes check whether its mailbox is gone?)",
		ErrDeleted, "its mailbox was deleted while it waited")
	for _, name := range names {
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("po.Open(%q)", name), func() { _, err = po.Open(name) })
		testkit.ErrorIs(t, err, ErrNoMailbox, "po.Open(%q) = %s, want ErrNoMailbox (it had been deleted)", name, errName(err))
	}
}

// TestDeleteDuringTraffic deletes a mailbox while senders and receivers
// are busy with it. Every one of them must stop with ErrDeleted, leaving no
// goroutine behind; no message may be received twice, and none whose Send
// failed may be received at all. On a rendezvous mailbox, where a Send
// returns nil only once a receiver has the message, every message whose
// Send returned nil must have been received.
func TestDeleteDuringTraffic(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 4)
	const senders, receivers, perSender, before = 4, 4, 1000, 100
	for _, capacity := range []int{0, 2, Unbounded} {
		cfg := stressConfig{capacity: capacity, senders: senders, perSender: perSender, receivers: receivers}
		what := fmt.Sprintf("%d senders and %d receivers on a mailbox of capacity %s, deleted after %d messages had been received",
			senders, receivers, capName(capacity), before)
		po := newOffice(t)
		create(t, po, "busy", capacity)

		var found problemList
		sent := make([][]bool, senders)
		got := make([][]Message, receivers)
		progress := make(chan struct{}, senders*perSender)
		var ops []*testkit.Op
		// Every goroutine has its own handle, opened before anything starts:
		// a goroutine may not run before the mailbox is deleted.
		for s := 0; s < senders; s++ {
			s := s
			sent[s] = make([]bool, perSender)
			box := open(t, po, "busy")
			ops = append(ops, testkit.Go(func() {
				msg := Message{From: senderName(s), Body: make([]byte, 8)}
				for i := 0; i < perSender; i++ {
					encode(msg.Body, s, i)
					err := box.Send(msg)
					if testkit.Is(err, ErrDeleted) {
						return
					}
					if err != nil {
						found.add("sender %d: box.Send(message %d) = %s, want nil or ErrDeleted", s, i, errName(err))
						return
					}
					sent[s][i] = true
				}
			}))
		}
		for r := 0; r < receivers; r++ {
			r := r
			box := open(t, po, "busy")
			ops = append(ops, testkit.Go(func() {
				for call := 0; call <= senders*perSender; call++ {
					msg, err := box.Receive()
					if testkit.Is(err, ErrDeleted) {
						return
					}
					if err != nil {
						found.add("receiver %d: box.Receive() = %s, want a message or ErrDeleted", r, errName(err))
						return
					}
					got[r] = append(got[r], msg)
					select {
					case progress <- struct{}{}:
					default:
					}
				}
				found.add("receiver %d received more messages than were sent", r)
			}))
		}

		timer := time.NewTimer(testkit.Patience)
		for n := 0; n < before; n++ {
			select {
			case <-progress:
			case <-timer.C:
				require.FailNow(t, "too few messages received", "%s: only %d messages had been received after %v", what, n, testkit.Patience)
			}
		}
		timer.Stop()
		deleteBox(t, po, "busy", nil, "the mailbox existed")
		for i, op := range ops {
			who := fmt.Sprintf("sender %d", i)
			if i >= senders {
				who = fmt.Sprintf("receiver %d", i-senders)
			}
			op.Finishes(t, testkit.Patience, fmt.Sprintf("%s, busy with the mailbox when it was deleted (%s),", who, what))
		}
		if p := found.String(); p != "" {
			require.FailNow(t, "a sender or a receiver went wrong", "%s:\n%s", what, p)
		}

		seen := make([][]int, senders)
		for s := range seen {
			seen[s] = make([]int, perSender)
		}
		for r, msgs := range got {
			for _, msg := range msgs {
				s, i, ok := cfg.decode(msg)
				if !ok {
					require.FailNow(t, "a message that no sender sent", "%s: receiver %d received %s, which no sender sent", what, r, show(msg))
				}
				seen[s][i]++
			}
		}
		for s := range seen {
			for i, n := range seen[s] {
				switch {
				case n > 1:
					require.FailNow(t, "a message received twice", "%s: message %d of sender %d was received %d times, want at most once", what, i, s, n)
				case n == 1 && !sent[s][i]:
					require.FailNow(t, "a message delivered by a Send that failed", "%s: message %d of sender %d was received, but its Send returned ErrDeleted (a Send that fails must not deliver)", what, i, s)
				case n == 0 && sent[s][i] && capacity == 0:
					require.FailNow(t, "a message lost on a rendezvous mailbox", "%s: the Send of message %d of sender %d returned nil, but no receiver received it (on a rendezvous mailbox, Send returns nil only once a receiver has taken the message)", what, i, s)
				}
			}
		}
	}
}

// TestUseAfterDelete deletes mailboxes of every capacity, some of them
// holding messages, and then calls every operation through every handle:
// each must return ErrDeleted at once.
func TestUseAfterDelete(t *testing.T) {
	for _, capacity := range []int{0, 1, 3, Unbounded} {
		po := newOffice(t)
		box := create(t, po, "box", capacity)
		again := open(t, po, "box")
		state := "empty"
		switch capacity {
		case 1:
			send(t, box, "box", text("p", "held"), "the mailbox was empty")
			state = "full, holding 1 message"
		case 3, Unbounded:
			send(t, box, "box", text("p", "held"), "the mailbox was empty")
			state = "holding 1 message, with room for more"
		}
		deleteBox(t, po, "box", nil, "the mailbox existed")
		why := fmt.Sprintf("the mailbox, of capacity %s and %s, had been deleted", capName(capacity), state)

		ctx, cancelLive := context.WithCancel(context.Background())
		for _, h := range []struct {
			label string
			box   *Mailbox
		}{{"box", box}, {"again", again}} {
			ops := []struct {
				call string
				fn   func() (Message, error)
			}{
				{"Send(msg)", func() (Message, error) { return Message{}, h.box.Send(text("p", "late")) }},
				{"TrySend(msg)", func() (Message, error) { return Message{}, h.box.TrySend(text("p", "late")) }},
				{"SendContext(ctx, msg)", func() (Message, error) { return Message{}, h.box.SendContext(ctx, text("p", "late")) }},
				{"Receive()", h.box.Receive},
				{"TryReceive()", h.box.TryReceive},
				{"ReceiveContext(ctx)", func() (Message, error) { return h.box.ReceiveContext(ctx) }},
			}
			for _, op := range ops {
				label := h.label + "." + op.call
				var msg Message
				var err error
				testkit.Within(t, testkit.Patience, label+" on a deleted mailbox (it must not wait)", func() { msg, err = op.fn() })
				testkit.ErrorIs(t, err, ErrDeleted, "%s = %s, %s, want ErrDeleted (%s)", label, show(msg), errName(err), why)
			}
		}
		cancelLive()

		var err error
		testkit.Within(t, testkit.Patience, `po.Open("box")`, func() { _, err = po.Open("box") })
		testkit.ErrorIs(t, err, ErrNoMailbox, `po.Open("box") = %s, want ErrNoMailbox (%s)`, errName(err), why)
		deleteBox(t, po, "box", ErrNoMailbox, why)
		if t.Failed() {
			return
		}
	}
}

// TestDeleteAndRecreate deletes a mailbox and creates another of the same
// name. The handles to the old mailbox must stay dead: they neither reach
// the new mailbox nor see its messages, and the new mailbox starts empty.
func TestDeleteAndRecreate(t *testing.T) {
	po := newOffice(t)
	old := create(t, po, "box", 2)
	oldAgain := open(t, po, "box")
	send(t, old, "old", text("p", "sent to the old mailbox"), "the mailbox was empty")
	deleteBox(t, po, "box", nil, "the mailbox existed")
	fresh := create(t, po, "box", Unbounded)
	freshAgain := open(t, po, "box")
	tryReceive(t, fresh, "fresh", Message{}, ErrWouldBlock, `fresh is a new mailbox called "box", created after the old one was deleted with a message in it: it starts empty`)

	// The old handles stay dead.
	var err error
	testkit.Within(t, testkit.Patience, "old.Send(msg) after the name was reused", func() { err = old.Send(text("p", "to the old handle")) })
	testkit.RequireErrorIs(t, err, ErrDeleted, `old.Send(msg) = %s, want ErrDeleted (old is a handle to the deleted mailbox; a new mailbox called "box" exists, but it is another mailbox)`, errName(err))
	tryReceive(t, fresh, "fresh", Message{}, ErrWouldBlock, "the only Send since the new mailbox was created went through a handle to the old, deleted one")
	send(t, freshAgain, "freshAgain", text("q", "for the new mailbox"), "an unbounded mailbox always has room")
	var msg Message
	testkit.Within(t, testkit.Patience, "oldAgain.TryReceive() after the name was reused", func() { msg, err = oldAgain.TryReceive() })
	testkit.RequireErrorIs(t, err, ErrDeleted, `oldAgain.TryReceive() = %s, %s, want ErrDeleted (oldAgain is a handle to the deleted mailbox, not to the new mailbox called "box")`, show(msg), errName(err))
	receive(t, fresh, "fresh", text("q", "for the new mailbox"), "that message was sent to the new mailbox, and nobody else took it")

	// A receiver waiting on the old mailbox when it was deleted stays out of
	// the new one.
	stale := create(t, po, "stale", 0)
	op, got := goReceive(stale)
	op.StaysBlocked(t, testkit.Grace, "stale.Receive() on an empty rendezvous mailbox")
	deleteBox(t, po, "stale", nil, "the mailbox existed")
	next := create(t, po, "stale", 0)
	op.Finishes(t, testkit.Patience, "stale.Receive(), waiting when its mailbox was deleted,")
	testkit.RequireErrorIs(t, got.err, ErrDeleted, `stale.Receive() = %s, %s, want ErrDeleted (its mailbox was deleted while it waited)`, show(got.msg), errName(got.err))
	trySend(t, next, "next", text("p", "x"), ErrWouldBlock, `the receiver that waited was on the old mailbox called "stale", not on the new one`)
}
