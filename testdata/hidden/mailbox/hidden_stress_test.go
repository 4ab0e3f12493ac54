package mailbox

// Hidden tests: many senders and receivers on one mailbox. Every message
// must reach exactly one receiver (catalogue entry lost-or-duplicated), and
// the messages of one sender must arrive in the order it sent them
// (per-sender-order).

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStressExactlyOnce runs many senders and receivers on mailboxes of
// every capacity, with every form of Send and Receive, and counts every
// message: each one whose Send returned nil must be received exactly once,
// and each one whose SendContext gave up must never be received.
func TestStressExactlyOnce(t *testing.T) {
	for _, capacity := range []int{0, 1, 4, Unbounded} {
		res := stress(t, stressConfig{capacity: capacity, senders: 6, perSender: 200, receivers: 5, mixed: true})
		res.checkExactlyOnce(t)
	}

	// Many receivers race to empty a mailbox that holds many messages,
	// round after round. A mailbox that reads the oldest message and
	// removes it in two separate steps hands the same message to two
	// receivers now and then, but not in every round: the test goes on
	// for a while, and stops at the first round that goes wrong.
	const (
		minRounds = 40 // rounds run even on a slow machine
		maxRounds = 400
		budget    = 1500 * time.Millisecond // then stop, once minRounds are done
	)
	start := time.Now()
	for round := 1; round <= maxRounds; round++ {
		res := drain(t, stressConfig{capacity: Unbounded, senders: 4, perSender: 250, receivers: 16,
			desc: fmt.Sprintf("round %d: 4 senders each sent 250 messages to an unbounded mailbox, then 16 receivers emptied it at once with TryReceive", round)})
		res.checkExactlyOnce(t)
		if round >= minRounds && time.Since(start) > budget {
			break
		}
	}
}

// drain lets the senders of cfg fill an unbounded mailbox, and then lets
// the receivers empty it all at once, each calling TryReceive until the
// mailbox is empty.
func drain(t *testing.T, cfg stressConfig) *stressResult {
	t.Helper()
	testkit.AtLeastProcs(t, 4)
	po := newOffice(t)
	box := create(t, po, "drain", Unbounded)
	total := cfg.senders * cfg.perSender
	res := &stressResult{cfg: cfg, sent: make([][]bool, cfg.senders), got: make([][]Message, cfg.receivers)}
	problems := make([]string, cfg.receivers)
	testkit.Together(t, cfg.senders, testkit.Patience, fmt.Sprintf("%d senders each sending %d messages to an unbounded mailbox", cfg.senders, cfg.perSender), func(s int) {
		res.sent[s] = make([]bool, cfg.perSender)
		msg := Message{From: senderName(s), Body: make([]byte, 8)}
		for i := 0; i < cfg.perSender; i++ {
			encode(msg.Body, s, i)
			res.sent[s][i] = box.Send(msg) == nil
		}
	})
	for s := range res.sent {
		for i, ok := range res.sent[s] {
			if !ok {
				require.FailNow(t, "a Send failed on an unbounded mailbox", "box.Send(message %d of sender %d) failed, want nil (an unbounded mailbox always has room)", i, s)
			}
		}
	}
	testkit.Together(t, cfg.receivers, testkit.Patience,
		fmt.Sprintf("%d receivers each calling box.TryReceive() until it returns ErrWouldBlock, on an unbounded mailbox holding %d messages", cfg.receivers, total),
		func(r int) {
			// Bounded: a correct mailbox runs dry after total calls in all.
			for call := 0; call <= total; call++ {
				msg, err := box.TryReceive()
				if testkit.Is(err, ErrWouldBlock) {
					return
				}
				if err != nil {
					problems[r] = fmt.Sprintf("receiver %d: box.TryReceive() = %s, want a message or ErrWouldBlock", r, errName(err))
					return
				}
				res.got[r] = append(res.got[r], msg)
			}
		})
	for _, p := range problems {
		if p != "" {
			require.FailNow(t, "a receiver went wrong", p)
		}
	}
	return res
}

// TestPerSenderOrder checks that the messages of one sender leave the
// mailbox in the order it sent them: first with one sender and one
// receiver taking turns, so that the mailbox fills and drains again and
// again; then with many senders and one receiver, which must see every
// sender's messages one after the other without a gap; then with many
// receivers, each of which must see every sender's messages in order.
func TestPerSenderOrder(t *testing.T) {
	msg := func(i int) Message { return text("p", fmt.Sprint(i)) }
	for _, capacity := range []int{2, 3, 5, Unbounded} {
		po := newOffice(t)
		box := create(t, po, "box", capacity)
		room := capacity
		if capacity == Unbounded {
			room = 40
		}
		why := fmt.Sprintf("a mailbox of capacity %s", capName(capacity))
		// Fill, take one, add one, over and over; then drain; three times.
		next, want := 0, 0
		for round := 0; round < 3; round++ {
			for ; next-want < room; next++ {
				send(t, box, "box", msg(next), why+" with room")
			}
			for k := 0; k < 2*room; k++ {
				receive(t, box, "box", msg(want), fmt.Sprintf("one sender sent 0, 1, …, %d in that order, to %s", next-1, why))
				want++
				send(t, box, "box", msg(next), why+" with room")
				next++
			}
			for want < next {
				receive(t, box, "box", msg(want), fmt.Sprintf("one sender sent 0, 1, …, %d in that order, to %s", next-1, why))
				want++
			}
		}
	}

	// Many senders, one receiver: each sender's messages, without a gap.
	for _, capacity := range []int{0, 1, 4, Unbounded} {
		res := stress(t, stressConfig{capacity: capacity, senders: 6, perSender: 200, receivers: 1})
		next := make([]int, 6)
		for _, m := range res.got[0] {
			s, i, ok := res.cfg.decode(m)
			if !ok {
				require.FailNow(t, "a message that no sender sent", "%s: the receiver received %s, which no sender sent", res.cfg, show(m))
			}
			if i != next[s] {
				require.FailNow(t, "a sender's messages out of order", "%s: the receiver received message %d of sender %d when it had received %d of that sender's messages, want message %d (each sender's messages in the order it sent them)",
					res.cfg, i, s, next[s], next[s])
			}
			next[s]++
		}
		res.checkExactlyOnce(t)
	}

	// Many senders, many receivers.
	for _, capacity := range []int{0, 1, 4, Unbounded} {
		res := stress(t, stressConfig{capacity: capacity, senders: 6, perSender: 200, receivers: 4, mixed: true})
		res.checkOrder(t)
	}
}

// TestPostOfficeFromManyGoroutines calls Create, Open and Delete from many
// goroutines at once, while messages flow through a mailbox of the same
// post office. Each goroutine creates, opens and deletes mailboxes of its
// own name, and opens (and tries to create) a shared one; the race
// detector reports a name table that is used without its lock. The
// goroutines share nothing else, so nothing but the post office's own
// lock orders their uses of the table.
func TestPostOfficeFromManyGoroutines(t *testing.T) {
	testkit.AtLeastProcs(t, 4)
	po := newOffice(t)
	create(t, po, "shared", Unbounded)
	const churners, flowers, rounds = 6, 2, 100
	problems := make([]string, churners+flowers)
	what := fmt.Sprintf("%d goroutines each creating, opening and deleting a mailbox %d times, while %d others send and receive through a shared mailbox",
		churners, rounds, flowers)
	testkit.Together(t, churners+flowers, testkit.Patience, what, func(g int) {
		fail := func(format string, args ...any) { problems[g] = fmt.Sprintf(format, args...) }
		if g >= churners {
			// Messages flow: each of these sends and receives its own
			// messages through the shared mailbox, opened afresh each
			// round.
			for i := 0; i < rounds; i++ {
				box, err := po.Open("shared")
				if err != nil {
					fail("po.Open(%q) = %s, want nil (the mailbox was never deleted)", "shared", errName(err))
					return
				}
				if err := box.Send(text(fmt.Sprint("flow ", g), fmt.Sprint(i))); err != nil {
					fail("box.Send(msg) = %s, want nil (an unbounded mailbox always has room)", errName(err))
					return
				}
				if _, err := box.Receive(); err != nil {
					fail("box.Receive() = %s, want nil (a message had just been sent)", errName(err))
					return
				}
			}
			return
		}
		name := fmt.Sprint("box of goroutine ", g)
		for i := 0; i < rounds; i++ {
			box, err := po.Create(name, 1)
			if err != nil || box == nil {
				fail("po.Create(%q, 1) = %v, %s, want a mailbox and nil (no mailbox of that name existed: round %d)", name, box, errName(err), i)
				return
			}
			again, err := po.Open(name)
			if err != nil || again == nil {
				fail("po.Open(%q) = %v, %s, want a mailbox and nil (it had just been created)", name, again, errName(err))
				return
			}
			msg := text(name, fmt.Sprint(i))
			if err := box.TrySend(msg); err != nil {
				fail("box.TrySend(%s) = %s, want nil (the mailbox was new and empty)", show(msg), errName(err))
				return
			}
			if got, err := again.TryReceive(); err != nil || !sameMessage(got, msg) {
				fail("again.TryReceive() = %s, %s, want %s, nil (again was opened by name after box was created: both reach the same mailbox)", show(got), errName(err), show(msg))
				return
			}
			if _, err := po.Open("shared"); err != nil {
				fail("po.Open(%q) = %s, want nil (the mailbox was never deleted)", "shared", errName(err))
				return
			}
			if _, err := po.Create("shared", 1); !testkit.Is(err, ErrExists) {
				fail("po.Create(%q, 1) = %s, want ErrExists (a mailbox of that name existed)", "shared", errName(err))
				return
			}
			if err := po.Delete(name); err != nil {
				fail("po.Delete(%q) = %s, want nil (it had been created)", name, errName(err))
				return
			}
			if _, err := po.Open(name); !testkit.Is(err, ErrNoMailbox) {
				fail("po.Open(%q) = %s, want ErrNoMailbox (it had just been deleted)", name, errName(err))
				return
			}
		}
	})
	for _, p := range problems {
		if p != "" {
			assert.Fail(t, "a goroutine's call went wrong", p)
		}
	}
}
