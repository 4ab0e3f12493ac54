package direct

// Hidden tests: links. Every pair of processes has one link of its own,
// each direction of it a FIFO queue; the link table is shared by every
// process, and many pairs may make their first contact at the same time.

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// TestNoCrossTalk lets three processes send to bob at the same time and
// has bob take their messages sender by sender, in an order that has
// nothing to do with the order they arrived in. Receive(from) must take
// the next message from that sender, whatever else is waiting for bob; a
// message must never come back to its sender; and ReceiveAny must say who
// really sent each message.
func TestNoCrossTalk(t *testing.T) {
	const each = 5
	for _, capacity := range []int{0, 1, 3, Unbounded} {
		on := "on a network made by " + capName(capacity)
		n := New(capacity)
		ps := joinAll(t, n, "alice", "bob", "carol", "dave")
		alice, bob, carol, dave := ps[0], ps[1], ps[2], ps[3]

		var ops []*testkit.Op
		var errs []*error
		for _, s := range []*Process{alice, carol, dave} {
			op, err := sendAll(s, "bob", each)
			ops, errs = append(ops, op), append(errs, err)
		}
		for _, from := range []string{"dave", "alice", "carol"} {
			for k := 0; k < each; k++ {
				receive(t, bob, from, numbered(from, k), fmt.Sprintf(
					"alice, carol and dave were all sending to bob; Receive(%q) must take %s's next message and leave the others' where they are, %s",
					from, from, on))
			}
		}
		for i, op := range ops {
			op.Finishes(t, testkit.Patience, fmt.Sprintf("the %d Sends to bob of the sender #%d, after bob received them all,", each, i+1))
			require.NoError(t, *errs[i], "%v, want nil (bob received every message, %s)", *errs[i], on)
		}

		// Each direction of a link is a queue of its own.
		why := "alice had sent ping to bob, and bob had sent nothing to alice: a message must never come back to its sender, " + on
		if capacity == 0 {
			op, err := goSend(alice, "bob", "ping")
			op.StaysBlocked(t, testkit.Grace, `alice.Send("bob", "ping") on a rendezvous network, with bob not receiving,`)
			tryReceive(t, alice, "bob", "", ErrWouldBlock, why)
			receive(t, bob, "alice", "ping", `alice was waiting in Send("bob", "ping"), `+on)
			op.Finishes(t, testkit.Patience, `alice.Send("bob", "ping"), after bob received the message,`)
			require.NoError(t, *err, `alice.Send("bob", "ping") = %s, want nil (bob received the message, %s)`, errName(*err), on)
		} else {
			send(t, alice, "bob", "ping", "the link from alice to bob was empty, "+on)
			tryReceive(t, alice, "bob", "", ErrWouldBlock, why)
			send(t, bob, "alice", "pong", "the link from bob to alice was empty, "+on)
			receive(t, alice, "bob", "pong", "bob had sent pong to alice, "+on)
			receive(t, bob, "alice", "ping", "alice had sent ping to bob, "+on)
		}

		// ReceiveAny says who sent each message.
		opC, errC := sendAll(carol, "bob", 1)
		opD, errD := sendAll(dave, "bob", 1)
		seen := map[string]bool{}
		for i := 0; i < 2; i++ {
			var r result
			testkit.Within(t, testkit.Patience, "bob.ReceiveAny() (carol and dave were sending to bob)", func() { r.from, r.msg, r.err = bob.ReceiveAny() })
			sender, _, ok := parseNumbered(r.msg)
			msg := fmt.Sprintf(`bob.ReceiveAny() = %q, %s, %s, want "carol", "carol 0", nil or "dave", "dave 0", nil, each once (the sender ReceiveAny reports must be the one who sent the message, %s)`,
				r.from, quote(r.msg), errName(r.err), on)
			require.NoError(t, r.err, msg)
			require.True(t, ok, msg)
			require.Equal(t, sender, r.from, msg)
			require.False(t, seen[sender], msg)
			seen[sender] = true
		}
		opC.Finishes(t, testkit.Patience, `carol.Send("bob", "carol 0"), after bob received it,`)
		opD.Finishes(t, testkit.Patience, `dave.Send("bob", "dave 0"), after bob received it,`)
		require.NoError(t, *errC, "%v, %v, want nil, nil (bob received both messages)", *errC, *errD)
		require.NoError(t, *errD, "%v, %v, want nil, nil (bob received both messages)", *errC, *errD)
	}
}

// TestFIFOWithinEachLink checks that each direction of every link keeps
// its order: first with several messages queued on each link before
// anything is received, then with three senders sending at full speed
// while bob takes their messages, by name and with ReceiveAny in turn.
func TestFIFOWithinEachLink(t *testing.T) {
	const queued = 6
	for _, capacity := range []int{queued, Unbounded} {
		on := "on a network made by " + capName(capacity)
		n := New(capacity)
		ps := joinAll(t, n, "alice", "bob", "carol")
		alice, bob, carol := ps[0], ps[1], ps[2]
		for k := 0; k < queued; k++ {
			send(t, alice, "bob", numbered("alice", k), "the link from alice to bob had room, "+on)
			send(t, carol, "bob", numbered("carol", k), "the link from carol to bob had room, "+on)
		}
		sent := fmt.Sprintf("alice sent %q, %q, … %q to bob in that order, and carol did the same, before bob received anything, %s",
			numbered("alice", 0), numbered("alice", 1), numbered("alice", queued-1), on)
		for k := 0; k < queued; k++ {
			receive(t, bob, "alice", numbered("alice", k), sent)
		}
		for k := 0; k < queued; k++ {
			var r result
			testkit.Within(t, testkit.Patience, "bob.ReceiveAny() (carol's messages were queued)", func() { r.from, r.msg, r.err = bob.ReceiveAny() })
			requireMessageFrom(t, r.from, r.msg, r.err, "carol", numbered("carol", k), "bob.ReceiveAny() = %q, %s, %s, want \"carol\", %q, nil (only carol's messages were left; %s)",
				r.from, quote(r.msg), errName(r.err), numbered("carol", k), sent)
		}
	}

	const each = 150
	for _, capacity := range []int{0, 2, Unbounded} {
		on := "on a network made by " + capName(capacity)
		n := New(capacity)
		ps := joinAll(t, n, "alice", "bob", "carol", "dave")
		bob := ps[1]
		senders := []string{"alice", "carol", "dave"}
		var ops []*testkit.Op
		var errs []*error
		for _, s := range []*Process{ps[0], ps[2], ps[3]} {
			op, err := sendAll(s, "bob", each)
			ops, errs = append(ops, op), append(errs, err)
		}

		next := map[string]int{} // the number bob expects next from each sender
		problem := ""
		testkit.Within(t, testkit.Patience, fmt.Sprintf("bob receiving the %d messages of alice, carol and dave, %s", 3*each, on), func() {
			turn := 0
			for i := 0; i < 3*each; i++ {
				var r result
				call := "bob.ReceiveAny()"
				if i%2 == 0 {
					r.from, r.msg, r.err = bob.ReceiveAny()
				} else {
					// The next sender in turn that still has messages.
					from := senders[turn%3]
					for next[from] == each {
						turn++
						from = senders[turn%3]
					}
					turn++
					call = fmt.Sprintf("bob.Receive(%q)", from)
					r.from = from
					r.msg, r.err = bob.Receive(from)
				}
				sender, k, ok := parseNumbered(r.msg)
				switch {
				case r.err != nil:
					problem = fmt.Sprintf("%s = %s, %s, want a message, nil", call, quote(r.msg), errName(r.err))
				case !ok || sender != r.from:
					problem = fmt.Sprintf("%s returned %s from %q, which is not a message %s sent", call, quote(r.msg), r.from, r.from)
				case k != next[sender]:
					problem = fmt.Sprintf("%s returned %q, want %q (%s sent %q, %q, … in that order, and a link must keep it)",
						call, r.msg, numbered(sender, next[sender]), sender, numbered(sender, 0), numbered(sender, 1))
				}
				if problem != "" {
					return
				}
				next[sender]++
			}
		})
		if problem != "" {
			require.FailNow(t, fmt.Sprintf("%s (%s)", problem, on))
		}
		for i, op := range ops {
			op.Finishes(t, testkit.Patience, fmt.Sprintf("the Sends of %s, after bob received all of them,", senders[i]))
			require.NoError(t, *errs[i], "%v, want nil (bob received every message, %s)", *errs[i], on)
		}
	}
}

// TestFirstContactManyPairs has eight processes make first contact with
// each other all at once: every process sends one message to every other
// on one goroutine and receives one from every other on another, so 28
// links are made at the same moment by whoever comes first. The table of
// links must be guarded (the race detector is watching), and every pair
// must end up with exactly one link.
func TestFirstContactManyPairs(t *testing.T) {
	testkit.AtLeastProcs(t, 4)
	const procs = 8
	for _, capacity := range []int{0, Unbounded} {
		on := "on a network made by " + capName(capacity)
		n := New(capacity)
		names := make([]string, procs)
		for i := range names {
			names[i] = fmt.Sprintf("p%d", i)
		}
		ps := joinAll(t, n, names...)
		msg := func(from, to int) string { return fmt.Sprintf("from %s to %s", names[from], names[to]) }

		problems := make([]string, 2*procs)
		testkit.Together(t, 2*procs, testkit.Patience,
			fmt.Sprintf("%d processes each sending to and receiving from every other at once, %s", procs, on),
			func(g int) {
				i := g / 2
				for j := 0; j < procs; j++ {
					if j == i {
						continue
					}
					if g%2 == 0 {
						if err := ps[i].Send(names[j], []byte(msg(i, j))); err != nil {
							problems[g] = fmt.Sprintf("%s.Send(%q, %q) = %s, want nil", names[i], names[j], msg(i, j), errName(err))
							return
						}
						continue
					}
					got, err := ps[i].Receive(names[j])
					if err != nil || string(got) != msg(j, i) {
						problems[g] = fmt.Sprintf("%s.Receive(%q) = %s, %s, want %q, nil", names[i], names[j], quote(got), errName(err), msg(j, i))
						return
					}
				}
			})
		for _, p := range problems {
			if p != "" {
				assert.Fail(t, fmt.Sprintf("%s (every process sent one message to every other, %s)", p, on))
			}
		}
		want := procs * (procs - 1) / 2
		var got int
		testkit.Within(t, testkit.Patience, "n.Links()", func() { got = n.Links() })
		assert.Equal(t, want, got, "n.Links() = %d, want %d (each of the %d pairs of %d processes has exactly one link, %s)", got, want, want, procs, on)
	}
}

// TestRendezvousHandover looks closely at the hand-over on a rendezvous
// network: a TrySend succeeds only for a receive that waits for this very
// sender (or for anyone), and each blocked Send returns when its own
// message is taken, and not before.
func TestRendezvousHandover(t *testing.T) {
	n := New(0)
	ps := joinAll(t, n, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps[0], ps[1], ps[2], ps[3]

	op, r := goReceiveAny(bob)
	op.StaysBlocked(t, testkit.Grace, "bob.ReceiveAny(), with nothing sent,")
	trySend(t, alice, "bob", "to anyone", nil, "bob was waiting in ReceiveAny, which takes a message from anyone")
	op.Finishes(t, testkit.Patience, `bob.ReceiveAny(), after alice.TrySend("bob", "to anyone") returned nil,`)
	requireMessageFrom(t, r.from, r.msg, r.err, "alice", "to anyone", `bob.ReceiveAny() = %q, %s, %s, want "alice", "to anyone", nil (alice's TrySend handed it over)`, r.from, quote(r.msg), errName(r.err))

	op, r = goReceive(bob, "carol")
	op.StaysBlocked(t, testkit.Grace, `bob.Receive("carol"), with nothing sent,`)
	trySend(t, alice, "bob", "not for you", ErrWouldBlock, `bob was waiting in Receive("carol"): a message from alice is not what he waits for, and a rendezvous link holds nothing`)
	trySend(t, carol, "bob", "for you", nil, `bob was waiting in Receive("carol")`)
	op.Finishes(t, testkit.Patience, `bob.Receive("carol"), after carol.TrySend("bob", "for you") returned nil,`)
	requireMessage(t, r.msg, r.err, "for you", `bob.Receive("carol") = %s, %s, want "for you", nil (carol's TrySend handed it over)`, quote(r.msg), errName(r.err))

	// Each sends the first letter of its name.
	c := newCrowd()
	label := map[string]string{
		"alice": c.send(alice, "bob", "a"),
		"carol": c.send(carol, "bob", "c"),
		"dave":  c.send(dave, "bob", "d"),
	}
	c.Quiet(t, testkit.Grace, "on a rendezvous network a Send returns only once its message is taken, and bob was not receiving")
	for left := 3; left > 0; left-- {
		var from string
		var msg []byte
		var err error
		testkit.Within(t, testkit.Patience, "bob.TryReceiveAny() (TryReceiveAny must never wait)", func() { from, msg, err = bob.TryReceiveAny() })
		took := fmt.Sprintf("bob.TryReceiveAny() = %q, %s, %s, want the message of one of the %d Sends waiting for bob, nil", from, quote(msg), errName(err), left)
		require.NoError(t, err, took)
		require.Contains(t, label, from, took)
		require.Equal(t, from[:1], string(msg), took) // each sent the first letter of its name
		s := c.Next(t, fmt.Sprintf("bob's TryReceiveAny took %s's message", from))
		returned := fmt.Sprintf("%v returned after bob took %s's message, want %s = nil (a Send returns when its own message is taken)", s, from, label[from])
		require.Equal(t, label[from], s.label, returned)
		require.NoError(t, s.err, returned)
		delete(label, from)
		if left > 1 {
			c.Quiet(t, testkit.Grace, fmt.Sprintf("bob had taken only %s's message, so the other Sends were still waiting for him", from))
		}
	}
}
