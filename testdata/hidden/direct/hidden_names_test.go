package direct

// Hidden tests: names. A call that names a process that never joined, or
// one that has exited, must fail at once with an error, and a process that
// exits must wake everyone who waits on it. Names are unique, even when
// many goroutines ask for the same one at once.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// TestUnknownPeersNeverWait calls every form of Send and Receive with a
// name that never joined, with the caller's own name, with a name that
// joins only later, and with the name of a process that has exited. Each
// must fail at once: a call that waits for the name to turn up hangs the
// caller for ever.
func TestUnknownPeersNeverWait(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	for _, capacity := range []int{0, 1, Unbounded} {
		on := "on a network made by " + capName(capacity)
		n := New(capacity)
		alice := join(t, n, "alice")
		m := []byte("hello")
		bg := context.Background()
		forms := func(p *Process, name string) []struct {
			what string
			call func() error
		} {
			return []struct {
				what string
				call func() error
			}{
				{fmt.Sprintf("%s.Send(%q, \"hello\")", p.Name(), name), func() error { return p.Send(name, m) }},
				{fmt.Sprintf("%s.SendContext(ctx, %q, \"hello\")", p.Name(), name), func() error { return p.SendContext(bg, name, m) }},
				{fmt.Sprintf("%s.TrySend(%q, \"hello\")", p.Name(), name), func() error { return p.TrySend(name, m) }},
				{fmt.Sprintf("%s.Receive(%q)", p.Name(), name), func() error { _, err := p.Receive(name); return err }},
				{fmt.Sprintf("%s.ReceiveContext(ctx, %q)", p.Name(), name), func() error { _, err := p.ReceiveContext(bg, name); return err }},
				{fmt.Sprintf("%s.TryReceive(%q)", p.Name(), name), func() error { _, err := p.TryReceive(name); return err }},
			}
		}
		for _, k := range []struct{ name, why string }{
			{"nobody", "no process named nobody ever joined the network"},
			{"alice", "a process has no link to itself"},
			{"erin", "erin had not joined yet: a call must not wait for a name to turn up"},
		} {
			for _, f := range forms(alice, k.name) {
				mustFail(t, f.what, ErrUnknownPeer, k.why+", "+on, f.call)
			}
		}

		erin := join(t, n, "erin")
		testkit.Within(t, testkit.Patience, "erin.Exit()", erin.Exit)
		for _, f := range forms(alice, "erin") {
			mustFail(t, f.what, ErrPeerExited, "erin had exited without sending anything, "+on, f.call)
		}
		testkit.Within(t, testkit.Patience, "alice.Exit()", alice.Exit)
		for _, f := range forms(alice, "erin") {
			mustFail(t, f.what, ErrExited, "alice herself had exited, "+on, f.call)
		}
		if t.Failed() {
			return
		}
	}
}

// TestPeerExitWakesBlockedCalls lets calls wait on bob, in Send and
// Receive with and without a context, and then makes bob exit: every one
// of them must return ErrPeerExited. A ReceiveAny is not ended by a peer's
// exit, since another peer may still send.
func TestPeerExitWakesBlockedCalls(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	for _, capacity := range []int{0, 1} {
		on := "on a network made by " + capName(capacity)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		n := New(capacity)
		ps := joinAll(t, n, "alice", "bob", "carol", "dave", "erin", "frank")
		alice, bob, carol, dave, erin, frank := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]
		if capacity > 0 {
			trySend(t, alice, "bob", "fills the link", nil, "the link from alice to bob was empty, "+on)
			trySend(t, carol, "bob", "fills the link", nil, "the link from carol to bob was empty, "+on)
		}

		c := newCrowd()
		c.send(alice, "bob", "a")
		c.sendContext(ctx, "ctx", carol, "bob", "c")
		c.receive(dave, "bob")
		c.receiveContext(ctx, "ctx", erin, "bob")
		c.Quiet(t, testkit.Grace, "bob neither received nor sent anything, "+on)

		forAnyone := newCrowd()
		anyLabel := forAnyone.receiveAny(frank)

		testkit.Within(t, testkit.Patience, "bob.Exit()", bob.Exit)
		for _, r := range c.All(t, "bob exited (does Exit wake the calls that wait on the process?)") {
			testkit.ErrorIs(t, r.err, ErrPeerExited, "%v, want ErrPeerExited (bob exited while it waited for him, %s)", r, on)
		}
		forAnyone.Quiet(t, testkit.Grace, "bob's exit must not end a ReceiveAny: other processes may still send")
		send(t, alice, "frank", "still here", "frank was waiting in ReceiveAny, "+on)
		r := forAnyone.Next(t, `alice.Send("frank", "still here")`)
		gotMessageFrom(t, r.from, r.msg, r.err, "alice", "still here", `%v, want "alice", "still here", nil (%s)`, r, anyLabel)
		cancel()
		if t.Failed() {
			return
		}
	}
}

// TestExitWakesOwnCalls makes bob exit while his own calls wait, on other
// goroutines: each must return ErrExited, and the message of his
// withdrawn Send must never arrive.
func TestExitWakesOwnCalls(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	n := New(0)
	ps := joinAll(t, n, "alice", "bob")
	alice, bob := ps[0], ps[1]

	c := newCrowd()
	c.receive(bob, "alice")
	c.receiveAny(bob)
	c.send(bob, "alice", "never")
	c.receiveAnyContext(ctx, "ctx", bob)
	c.Quiet(t, testkit.Grace, "alice neither sent nor received anything")

	testkit.Within(t, testkit.Patience, "bob.Exit()", bob.Exit)
	for _, r := range c.All(t, "bob exited (does Exit wake the process's own waiting calls?)") {
		testkit.ErrorIs(t, r.err, ErrExited, "%v, want ErrExited (bob exited while the call waited)", r)
	}
	tryReceive(t, alice, "bob", "", ErrPeerExited, `bob exited while he waited in Send("alice", "never"), so that message was never sent, and bob can send nothing any more`)
	mustFail(t, `alice.Send("bob", "hello")`, ErrPeerExited, "bob had exited", func() error { return alice.Send("bob", []byte("hello")) })
}

// TestMessagesOutliveTheirSender checks that what a process sent before it
// exited still reaches the receiver, in order, and only then does Receive
// report that the peer has exited.
func TestMessagesOutliveTheirSender(t *testing.T) {
	for _, capacity := range []int{2, Unbounded} {
		alice, bob, on := aliceAndBob(t, capacity)
		send(t, alice, "bob", "1", "the link from alice to bob had room, "+on)
		send(t, alice, "bob", "2", "the link from alice to bob had room, "+on)
		testkit.Within(t, testkit.Patience, "alice.Exit()", alice.Exit)

		receive(t, bob, "alice", "1", "alice sent 1 and 2 before she exited, and what a process sent stays on its way, "+on)
		var r result
		testkit.Within(t, testkit.Patience, "bob.ReceiveAny()", func() { r.from, r.msg, r.err = bob.ReceiveAny() })
		requireMessageFrom(t, r.from, r.msg, r.err, "alice", "2", `bob.ReceiveAny() = %q, %s, %s, want "alice", "2", nil (alice sent 2 before she exited, %s)`, r.from, quote(r.msg), errName(r.err), on)
		mustFail(t, `bob.Receive("alice")`, ErrPeerExited, "alice had exited, and bob had received everything she sent, "+on,
			func() error { _, err := bob.Receive("alice"); return err })
		tryReceive(t, bob, "alice", "", ErrPeerExited, "alice had exited, and bob had received everything she sent, "+on)
	}
}

// TestJoinRaceOneWinner has eight goroutines join the same names at the
// same time: each goes through the same list of names, so that they keep
// meeting on the same name. Exactly one of them may have each name. The
// race is run many times over, on a new network each time.
func TestJoinRaceOneWinner(t *testing.T) {
	testkit.AtLeastProcs(t, 4)
	const (
		rounds  = 300
		names   = 50
		callers = 8
	)
	for round := 0; round < rounds; round++ {
		n := New(Unbounded)
		won := make([][]bool, callers)
		problems := make([]string, callers)
		testkit.Together(t, callers, testkit.Patience, fmt.Sprintf("%d goroutines each calling n.Join(\"p0\"), …, n.Join(\"p%d\")", callers, names-1), func(i int) {
			won[i] = make([]bool, names)
			for k := 0; k < names; k++ {
				name := fmt.Sprintf("p%d", k)
				p, err := n.Join(name)
				switch {
				case err == nil && p != nil:
					won[i][k] = true
				case testkit.Is(err, ErrDuplicateName):
				default:
					problems[i] = fmt.Sprintf("n.Join(%q) = %v, %s, want a process, nil or nil, ErrDuplicateName", name, p, errName(err))
					return
				}
			}
		})
		for _, p := range problems {
			if p != "" {
				require.FailNow(t, p)
			}
		}
		for k := 0; k < names; k++ {
			winners := 0
			for i := range won {
				if won[i][k] {
					winners++
				}
			}
			require.Equal(t, 1, winners, "%d of the %d calls of n.Join(\"p%d\"), made at the same time, succeeded, want exactly 1 (a name belongs to one process: checking that it is free and taking it must be one step, or two callers both find it free)",
				winners, callers, k)
		}
	}
}
