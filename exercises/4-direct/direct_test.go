package direct

// These tests are the contract of the exercise: what a Network and its
// processes must do, one behaviour a test. Run them with the race
// detector, as the grader does:
//
//	go test -race ./4-direct/
//
// The grader also runs hidden tests that look harder at the same
// behaviours: many processes at once, every capacity, processes that exit
// while others wait on them, contexts, and copies. README.md lists what
// they check.
//
// No test waits without a limit. A call that must wait is watched for a
// moment (testkit.Grace) to see that it does not return; a call that must
// return is given a few seconds (testkit.Patience) before the test fails
// and says which call hung.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// capName says how a network was made, for failure messages.
func capName(capacity int) string {
	if capacity == Unbounded {
		return "New(Unbounded)"
	}
	return fmt.Sprintf("New(%d)", capacity)
}

// errName names the errors of this package the way a student writes them.
// It asks testkit.Is, so that an error that claims to be every error is
// shown as what it says, not as the first name it claims.
func errName(err error) string {
	switch {
	case err == nil:
		return "nil"
	case testkit.Is(err, ErrDuplicateName):
		return "ErrDuplicateName"
	case testkit.Is(err, ErrUnknownPeer):
		return "ErrUnknownPeer"
	case testkit.Is(err, ErrPeerExited):
		return "ErrPeerExited"
	case testkit.Is(err, ErrExited):
		return "ErrExited"
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
// it returned, and why it should have returned want.
func gotMessage(t testing.TB, msg []byte, err error, want string, msgAndArgs ...any) bool {
	t.Helper()
	return assert.NoError(t, err, msgAndArgs...) && assert.Equal(t, want, string(msg), msgAndArgs...)
}

// requireMessage is gotMessage for a test that cannot go on.
func requireMessage(t testing.TB, msg []byte, err error, want string, msgAndArgs ...any) {
	t.Helper()
	if !gotMessage(t, msg, err, want, msgAndArgs...) {
		t.FailNow()
	}
}

// gotMessageFrom is gotMessage for ReceiveAny, which also says who sent
// the message: from must be wantFrom.
func gotMessageFrom(t testing.TB, from string, msg []byte, err error, wantFrom, want string, msgAndArgs ...any) bool {
	t.Helper()
	return gotMessage(t, msg, err, want, msgAndArgs...) && assert.Equal(t, wantFrom, from, msgAndArgs...)
}

// quote shows a message the way the tests write it.
func quote(msg []byte) string {
	if msg == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", msg)
}

// A result is what a receiving call returned.
type result struct {
	from string // ReceiveAny only
	msg  []byte
	err  error
}

// join joins a process named name to n, which must succeed at once.
func join(t *testing.T, n *Network, name string) *Process {
	t.Helper()
	var p *Process
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("n.Join(%q)", name), func() { p, err = n.Join(name) })
	const msg = "n.Join(%q) = %v, %s, want a process, nil (no process of that name had joined)"
	require.NoError(t, err, msg, name, p, errName(err))
	require.NotNil(t, p, msg, name, p, errName(err))
	return p
}

// joinAll joins a process for every name, in order.
func joinAll(t *testing.T, n *Network, names ...string) []*Process {
	t.Helper()
	ps := make([]*Process, len(names))
	for i, name := range names {
		ps[i] = join(t, n, name)
	}
	return ps
}

// send calls p.Send(to, msg), which must return nil without waiting for
// long. why says why it must, for the failure message.
func send(t *testing.T, p *Process, to, msg, why string) {
	t.Helper()
	what := fmt.Sprintf("%s.Send(%q, %q)", p.Name(), to, msg)
	var err error
	testkit.Within(t, testkit.Patience, what+" ("+why+")", func() { err = p.Send(to, []byte(msg)) })
	require.NoError(t, err, "%s = %s, want nil (%s)", what, errName(err), why)
}

// receive calls p.Receive(from), which must return want and nil without
// waiting for long.
func receive(t *testing.T, p *Process, from, want, why string) []byte {
	t.Helper()
	what := fmt.Sprintf("%s.Receive(%q)", p.Name(), from)
	var got []byte
	var err error
	testkit.Within(t, testkit.Patience, what+" ("+why+")", func() { got, err = p.Receive(from) })
	requireMessage(t, got, err, want, "%s = %s, %s, want %q, nil (%s)", what, quote(got), errName(err), want, why)
	return got
}

// trySend calls p.TrySend(to, msg), which must return want at once.
func trySend(t *testing.T, p *Process, to, msg string, want error, why string) {
	t.Helper()
	what := fmt.Sprintf("%s.TrySend(%q, %q)", p.Name(), to, msg)
	var err error
	testkit.Within(t, testkit.Patience, what+" (TrySend must never wait)", func() { err = p.TrySend(to, []byte(msg)) })
	testkit.RequireErrorIs(t, err, want, "%s = %s, want %s (%s)", what, errName(err), errName(want), why)
}

// tryReceive calls p.TryReceive(from), which must return wantMsg and
// wantErr at once. wantMsg is not checked when wantErr is not nil.
func tryReceive(t *testing.T, p *Process, from, wantMsg string, wantErr error, why string) {
	t.Helper()
	what := fmt.Sprintf("%s.TryReceive(%q)", p.Name(), from)
	var got []byte
	var err error
	testkit.Within(t, testkit.Patience, what+" (TryReceive must never wait)", func() { got, err = p.TryReceive(from) })
	if wantErr == nil {
		requireMessage(t, got, err, wantMsg, "%s = %s, %s, want %q, nil (%s)", what, quote(got), errName(err), wantMsg, why)
		return
	}
	testkit.RequireErrorIs(t, err, wantErr, "%s = %s, %s, want %s (%s)", what, quote(got), errName(err), errName(wantErr), why)
}

// mustFail runs the call what, which must return an error matching want
// without waiting for long.
func mustFail(t *testing.T, what string, want error, why string, call func() error) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, what+" ("+why+": it must fail at once, not wait)", func() { err = call() })
	testkit.ErrorIs(t, err, want, "%s = %s, want %s (%s)", what, errName(err), errName(want), why)
}

// goSend calls p.Send(to, msg) on a new goroutine. Read the error only
// once the returned Op has finished.
func goSend(p *Process, to, msg string) (*testkit.Op, *error) {
	err := new(error)
	return testkit.Go(func() { *err = p.Send(to, []byte(msg)) }), err
}

// goReceive calls p.Receive(from) on a new goroutine.
func goReceive(p *Process, from string) (*testkit.Op, *result) {
	r := new(result)
	return testkit.Go(func() { r.msg, r.err = p.Receive(from) }), r
}

// goReceiveAny calls p.ReceiveAny() on a new goroutine.
func goReceiveAny(p *Process) (*testkit.Op, *result) {
	r := new(result)
	return testkit.Go(func() { r.from, r.msg, r.err = p.ReceiveAny() }), r
}

func TestJoin(t *testing.T) {
	n := New(Unbounded)
	alice := join(t, n, "alice")
	got := alice.Name()
	assert.Equal(t, "alice", got, "alice.Name() = %q, want \"alice\" (the name it joined under)", got)
	bob := join(t, n, "bob")
	got = bob.Name()
	assert.Equal(t, "bob", got, "bob.Name() = %q, want \"bob\" (the name it joined under)", got)

	var err error
	testkit.Within(t, testkit.Patience, `n.Join("alice") a second time`, func() { _, err = n.Join("alice") })
	testkit.ErrorIs(t, err, ErrDuplicateName, `n.Join("alice") = %s, want ErrDuplicateName (a process named alice is in the network)`, errName(err))

	testkit.Within(t, testkit.Patience, "bob.Exit()", bob.Exit)
	testkit.Within(t, testkit.Patience, `n.Join("bob") after bob exited`, func() { _, err = n.Join("bob") })
	testkit.ErrorIs(t, err, ErrDuplicateName, `n.Join("bob") = %s, want ErrDuplicateName (names are never reused, even once their process has exited)`, errName(err))

	join(t, n, "carol")
	links := n.Links()
	assert.Equal(t, 0, links, "n.Links() = %d, want 0 (no process has sent or received anything yet)", links)

	// Names belong to one network: another network has its own.
	join(t, New(0), "alice")
}

func TestSendAndReceive(t *testing.T) {
	for _, capacity := range []int{Unbounded, 3} {
		n := New(capacity)
		ps := joinAll(t, n, "alice", "bob")
		alice, bob := ps[0], ps[1]
		on := fmt.Sprintf("on a network made by %s", capName(capacity))

		send(t, alice, "bob", "hello", "the link from alice to bob was empty, "+on)
		receive(t, bob, "alice", "hello", "alice had sent \"hello\", "+on)

		for _, m := range []string{"one", "two", "three"} {
			send(t, alice, "bob", m, "the link from alice to bob had room, "+on)
		}
		for _, m := range []string{"one", "two", "three"} {
			receive(t, bob, "alice", m, "alice sent one, two, three in that order, and a link keeps the order, "+on)
		}

		send(t, bob, "alice", "hi alice", "the link from bob to alice was empty, "+on)
		receive(t, alice, "bob", "hi alice", "bob had replied, "+on)

		got := n.Links()
		assert.Equal(t, 1, got, "n.Links() = %d, want 1 (alice and bob talked both ways, over the one link between them, %s)", got, on)
	}
}

func TestReceiveWaits(t *testing.T) {
	for _, capacity := range []int{Unbounded, 2, 0} {
		n := New(capacity)
		ps := joinAll(t, n, "alice", "bob")
		alice, bob := ps[0], ps[1]
		on := fmt.Sprintf("on a network made by %s", capName(capacity))

		op, r := goReceive(bob, "alice")
		op.StaysBlocked(t, testkit.Grace, `bob.Receive("alice"), with nothing sent yet `+on+",")
		send(t, alice, "bob", "finally", "bob was waiting to receive from alice, "+on)
		op.Finishes(t, testkit.Patience, `bob.Receive("alice"), after alice.Send("bob", "finally"),`)
		gotMessage(t, r.msg, r.err, "finally", `bob.Receive("alice") = %s, %s, want "finally", nil (alice sent it while bob waited, %s)`, quote(r.msg), errName(r.err), on)
	}
}

func TestReceiveFromNamedPeerOnly(t *testing.T) {
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]

	send(t, alice, "bob", "from alice", "an unbounded link always has room")
	send(t, carol, "bob", "from carol", "an unbounded link always has room")
	receive(t, bob, "carol", "from carol", `alice's message reached bob first, but Receive("carol") takes carol's only`)
	receive(t, bob, "alice", "from alice", "alice's message was still waiting for bob")
	tryReceive(t, bob, "carol", "", ErrWouldBlock, "bob had received carol's only message")

	send(t, alice, "bob", "ping", "an unbounded link always has room")
	tryReceive(t, alice, "bob", "", ErrWouldBlock,
		"bob had sent nothing to alice: alice's own message to bob must not come back to her; each direction of a link is a queue of its own")

	// A Receive waiting for carol must let alice's messages pass.
	op, r := goReceive(bob, "carol")
	op.StaysBlocked(t, testkit.Grace, `bob.Receive("carol"), with nothing from carol,`)
	send(t, alice, "bob", "pong", "an unbounded link always has room")
	op.StaysBlocked(t, testkit.Grace, `bob.Receive("carol"), after alice (not carol) sent to bob,`)
	send(t, carol, "bob", "carol again", "an unbounded link always has room")
	op.Finishes(t, testkit.Patience, `bob.Receive("carol"), after carol sent to bob,`)
	requireMessage(t, r.msg, r.err, "carol again", `bob.Receive("carol") = %s, %s, want "carol again", nil (the only message carol sent while bob waited)`, quote(r.msg), errName(r.err))
	receive(t, bob, "alice", "ping", "alice sent ping, then pong")
	receive(t, bob, "alice", "pong", "alice sent ping, then pong")
}

func TestReceiveAny(t *testing.T) {
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps[0], ps[1], ps[2], ps[3]

	send(t, alice, "bob", "a", "an unbounded link always has room")
	send(t, carol, "bob", "c", "an unbounded link always has room")
	got := map[string]string{}
	for i := 0; i < 2; i++ {
		var from string
		var msg []byte
		var err error
		testkit.Within(t, testkit.Patience, "bob.ReceiveAny() (alice and carol had each sent bob a message)", func() { from, msg, err = bob.ReceiveAny() })
		require.NoError(t, err, "bob.ReceiveAny() = %q, %s, %s, want a sender, a message, nil (alice and carol had each sent bob a message)", from, quote(msg), errName(err))
		got[from] = string(msg)
	}
	assert.Equal(t, map[string]string{"alice": "a", "carol": "c"}, got,
		`two calls of bob.ReceiveAny() returned %v (sender: message), want map[alice:a carol:c] (alice sent "a" and carol sent "c"; ReceiveAny must say who sent each)`, got)

	var err error
	testkit.Within(t, testkit.Patience, "bob.TryReceiveAny() (TryReceiveAny must never wait)", func() { _, _, err = bob.TryReceiveAny() })
	testkit.ErrorIs(t, err, ErrWouldBlock, "bob.TryReceiveAny() = %s, want ErrWouldBlock (bob had received every message sent to him)", errName(err))

	op, r := goReceiveAny(bob)
	op.StaysBlocked(t, testkit.Grace, "bob.ReceiveAny(), with nothing sent to bob,")
	send(t, dave, "bob", "d", "an unbounded link always has room")
	op.Finishes(t, testkit.Patience, `bob.ReceiveAny(), after dave.Send("bob", "d"),`)
	gotMessageFrom(t, r.from, r.msg, r.err, "dave", "d", `bob.ReceiveAny() = %q, %s, %s, want "dave", "d", nil (dave sent "d" while bob waited)`, r.from, quote(r.msg), errName(r.err))
}

func TestRendezvous(t *testing.T) {
	n := New(0)
	ps := joinAll(t, n, "alice", "bob")
	alice, bob := ps[0], ps[1]

	op, err := goSend(alice, "bob", "x")
	op.StaysBlocked(t, testkit.Grace, `alice.Send("bob", "x") on a rendezvous network, with bob not receiving,`)
	receive(t, bob, "alice", "x", "alice was waiting in Send")
	op.Finishes(t, testkit.Patience, `alice.Send("bob", "x"), after bob received the message,`)
	require.NoError(t, *err, `alice.Send("bob", "x") = %s, want nil (bob received the message)`, errName(*err))

	opR, r := goReceive(bob, "alice")
	opR.StaysBlocked(t, testkit.Grace, `bob.Receive("alice") on a rendezvous network, with alice not sending,`)
	send(t, alice, "bob", "y", "bob was waiting in Receive(\"alice\")")
	opR.Finishes(t, testkit.Patience, `bob.Receive("alice"), after alice.Send("bob", "y") returned,`)
	requireMessage(t, r.msg, r.err, "y", `bob.Receive("alice") = %s, %s, want "y", nil (alice sent it while bob waited)`, quote(r.msg), errName(r.err))

	trySend(t, alice, "bob", "z", ErrWouldBlock, "on a rendezvous network a message needs a receiver waiting for it, and bob was not receiving")
	tryReceive(t, bob, "alice", "", ErrWouldBlock, "alice was not waiting in Send, and a rendezvous link holds no messages")

	// The Try forms succeed when the other side is already waiting.
	opR, r = goReceive(bob, "alice")
	opR.StaysBlocked(t, testkit.Grace, `bob.Receive("alice"), with alice not sending,`)
	trySend(t, alice, "bob", "w", nil, `bob was waiting in Receive("alice")`)
	opR.Finishes(t, testkit.Patience, `bob.Receive("alice"), after alice.TrySend("bob", "w") returned nil,`)
	requireMessage(t, r.msg, r.err, "w", `bob.Receive("alice") = %s, %s, want "w", nil (alice's TrySend handed it over)`, quote(r.msg), errName(r.err))

	op, err = goSend(alice, "bob", "v")
	op.StaysBlocked(t, testkit.Grace, `alice.Send("bob", "v"), with bob not receiving,`)
	tryReceive(t, bob, "alice", "v", nil, `alice was waiting in Send("bob", "v")`)
	op.Finishes(t, testkit.Patience, `alice.Send("bob", "v"), after bob's TryReceive took the message,`)
	require.NoError(t, *err, `alice.Send("bob", "v") = %s, want nil (bob took the message)`, errName(*err))
}

func TestBoundedCapacity(t *testing.T) {
	n := New(2)
	ps := joinAll(t, n, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]

	trySend(t, alice, "bob", "1", nil, "the link from alice to bob held 0 of 2 messages")
	trySend(t, alice, "bob", "2", nil, "the link from alice to bob held 1 of 2 messages")
	trySend(t, alice, "bob", "3", ErrWouldBlock, "the link from alice to bob held 2 of 2 messages")
	trySend(t, carol, "bob", "c", nil, "the link from alice to bob was full, but carol's link to bob is another link")
	trySend(t, bob, "alice", "b", nil, "the link from alice to bob was full, but messages from bob to alice travel the other way, with room of their own")

	op, err := goSend(alice, "bob", "3")
	op.StaysBlocked(t, testkit.Grace, `alice.Send("bob", "3"), with the link from alice to bob holding 2 of 2 messages,`)
	receive(t, bob, "alice", "1", "alice sent 1 first")
	op.Finishes(t, testkit.Patience, `alice.Send("bob", "3"), after bob's Receive made room in the link,`)
	require.NoError(t, *err, `alice.Send("bob", "3") = %s, want nil (bob's Receive made room for it)`, errName(*err))
	receive(t, bob, "alice", "2", "alice sent 1, 2, 3 in that order")
	receive(t, bob, "alice", "3", "alice sent 1, 2, 3 in that order")
	receive(t, bob, "carol", "c", "carol sent c")
	receive(t, alice, "bob", "b", "bob sent b")
}

func TestUnboundedNeverWaits(t *testing.T) {
	const count = 10000
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob")
	alice, bob := ps[0], ps[1]

	failedAt, firstErr := -1, error(nil)
	testkit.Within(t, testkit.Patience, fmt.Sprintf(`%d calls of alice.Send("bob", …) on an unbounded network, with bob not receiving (Send must never wait there)`, count), func() {
		for i := 0; i < count; i++ {
			if err := alice.Send("bob", []byte(fmt.Sprint(i))); err != nil {
				failedAt, firstErr = i, err
				return
			}
		}
	})
	require.NoError(t, firstErr, `alice.Send("bob", %q) = %s, want nil (an unbounded link holding %d messages still has room)`, fmt.Sprint(failedAt), errName(firstErr), failedAt)
	trySend(t, alice, "bob", "last", nil, fmt.Sprintf("an unbounded link holding %d messages still has room", count))
	for i := 0; i < count; i++ {
		tryReceive(t, bob, "alice", fmt.Sprint(i), nil, fmt.Sprintf("alice sent 0, 1, …, %d in that order", count-1))
	}
	tryReceive(t, bob, "alice", "last", nil, "alice sent last after the numbers")
}

func TestUnknownAndExitedPeers(t *testing.T) {
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]
	m := []byte("hello")

	mustFail(t, `alice.Send("nobody", "hello")`, ErrUnknownPeer, "no process named nobody joined", func() error { return alice.Send("nobody", m) })
	mustFail(t, `alice.TrySend("nobody", "hello")`, ErrUnknownPeer, "no process named nobody joined", func() error { return alice.TrySend("nobody", m) })
	mustFail(t, `alice.Receive("nobody")`, ErrUnknownPeer, "no process named nobody joined", func() error { _, err := alice.Receive("nobody"); return err })
	mustFail(t, `alice.TryReceive("nobody")`, ErrUnknownPeer, "no process named nobody joined", func() error { _, err := alice.TryReceive("nobody"); return err })
	mustFail(t, `alice.Send("alice", "hello")`, ErrUnknownPeer, "a process has no link to itself", func() error { return alice.Send("alice", m) })

	testkit.Within(t, testkit.Patience, "bob.Exit()", bob.Exit)
	mustFail(t, `alice.Send("bob", "hello")`, ErrPeerExited, "bob had exited", func() error { return alice.Send("bob", m) })
	mustFail(t, `alice.Receive("bob")`, ErrPeerExited, "bob had exited without sending anything", func() error { _, err := alice.Receive("bob"); return err })
	mustFail(t, `bob.Send("alice", "hello")`, ErrExited, "bob had exited, so bob can do nothing any more", func() error { return bob.Send("alice", m) })
	mustFail(t, `bob.Receive("alice")`, ErrExited, "bob had exited, so bob can do nothing any more", func() error { _, err := bob.Receive("alice"); return err })
	mustFail(t, `bob.ReceiveAny()`, ErrExited, "bob had exited, so bob can do nothing any more", func() error { _, _, err := bob.ReceiveAny(); return err })
	testkit.Within(t, testkit.Patience, "bob.Exit() a second time (exiting twice does nothing)", bob.Exit)

	// A peer that exits wakes whoever waits for it.
	op, r := goReceive(alice, "carol")
	op.StaysBlocked(t, testkit.Grace, `alice.Receive("carol"), with nothing from carol,`)
	testkit.Within(t, testkit.Patience, "carol.Exit()", carol.Exit)
	op.Finishes(t, testkit.Patience, `alice.Receive("carol"), waiting when carol exited,`)
	testkit.ErrorIs(t, r.err, ErrPeerExited, `alice.Receive("carol") = %s, %s, want ErrPeerExited (carol exited while alice waited for her)`, quote(r.msg), errName(r.err))
}

func TestMessagesAreCopied(t *testing.T) {
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob")
	alice, bob := ps[0], ps[1]

	buf := []byte("hello")
	var err error
	testkit.Within(t, testkit.Patience, `alice.Send("bob", buf)`, func() { err = alice.Send("bob", buf) })
	require.NoError(t, err, `alice.Send("bob", buf) = %s, want nil (an unbounded link always has room)`, errName(err))
	buf[0] = 'J' // alice reuses her buffer once Send has returned
	got := receive(t, bob, "alice", "hello",
		`alice sent "hello" and then changed her buffer to "Jello": Send must copy the message, not keep alice's buffer`)
	got[0] = 'Y' // bob changes what he received
	assert.Equal(t, "Jello", string(buf), `after bob changed the message he received, alice's buffer is %q, want "Jello" (the receiver's copy must not share memory with the sender's buffer)`, buf)
}

func TestContextDeadline(t *testing.T) {
	const wait = 100 * time.Millisecond
	n := New(0)
	ps := joinAll(t, n, "alice", "bob")
	alice, bob := ps[0], ps[1]

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var r result
	testkit.Within(t, testkit.Patience, fmt.Sprintf(`bob.ReceiveContext(ctx, "alice"), with nothing sent and a deadline %v away (was the waiter woken when the deadline passed?)`, wait), func() {
		r.msg, r.err = bob.ReceiveContext(ctx, "alice")
	})
	testkit.RequireErrorIs(t, r.err, context.DeadlineExceeded, `bob.ReceiveContext(ctx, "alice") = %s, %s, want context.DeadlineExceeded (alice sent nothing before the deadline)`, quote(r.msg), errName(r.err))

	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf(`alice.SendContext(ctx, "bob", "late") on a rendezvous network, with bob not receiving and a deadline %v away`, wait), func() {
		err = alice.SendContext(ctx, "bob", []byte("late"))
	})
	testkit.RequireErrorIs(t, err, context.DeadlineExceeded, `alice.SendContext(ctx, "bob", "late") = %s, want context.DeadlineExceeded (bob did not receive before the deadline)`, errName(err))
	tryReceive(t, bob, "alice", "", ErrWouldBlock, "alice's SendContext gave up at its deadline, so its message must not be delivered any more")

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	testkit.Within(t, testkit.Patience, "bob.ReceiveAnyContext(ctx), with ctx cancelled already,", func() {
		r.from, r.msg, r.err = bob.ReceiveAnyContext(ctx)
	})
	testkit.ErrorIs(t, r.err, context.Canceled, "bob.ReceiveAnyContext(ctx) = %q, %s, %s, want context.Canceled (nothing was sent, and ctx was cancelled before the call)", r.from, quote(r.msg), errName(r.err))

	// A context that is not done changes nothing.
	ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	op := testkit.Go(func() { err = alice.SendContext(ctx, "bob", []byte("on time")) })
	op.StaysBlocked(t, testkit.Grace, `alice.SendContext(ctx, "bob", "on time"), with a deadline an hour away and bob not receiving,`)
	receive(t, bob, "alice", "on time", "alice was waiting in SendContext")
	op.Finishes(t, testkit.Patience, `alice.SendContext(ctx, "bob", "on time"), after bob received the message,`)
	assert.NoError(t, err, `alice.SendContext(ctx, "bob", "on time") = %s, want nil (bob received the message before the deadline)`, errName(err))
}

func TestLinksMadeOnFirstUse(t *testing.T) {
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps[0], ps[1], ps[2], ps[3]
	links := func(want int, why string) {
		t.Helper()
		var got int
		testkit.Within(t, testkit.Patience, "n.Links()", func() { got = n.Links() })
		require.Equal(t, want, got, "n.Links() = %d, want %d (%s)", got, want, why)
	}

	links(0, "four processes had joined, and none had sent or received anything")
	send(t, alice, "bob", "hi", "an unbounded link always has room")
	links(1, "alice had sent to bob, the first use of their link")
	send(t, bob, "alice", "hi", "an unbounded link always has room")
	receive(t, bob, "alice", "hi", "alice had sent hi")
	receive(t, alice, "bob", "hi", "bob had sent hi")
	links(1, "alice and bob talked both ways, over the one link between them")
	tryReceive(t, carol, "alice", "", ErrWouldBlock, "alice had sent nothing to carol")
	links(2, "carol's TryReceive from alice was the first use of their link, even though it found nothing")

	var err error
	testkit.Within(t, testkit.Patience, "dave.TryReceiveAny()", func() { _, _, err = dave.TryReceiveAny() })
	testkit.RequireErrorIs(t, err, ErrWouldBlock, "dave.TryReceiveAny() = %s, want ErrWouldBlock (nobody had sent to dave)", errName(err))
	links(2, "ReceiveAny names no peer, so it uses no link")
}
