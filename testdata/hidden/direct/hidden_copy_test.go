package direct

// Hidden tests: copies and contexts. A message is copied when it is sent,
// whichever forms send and receive it; a call whose context is cancelled
// gives up, leaves no trace in the links, and leaves no goroutine behind.

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A receiver is one of the ways bob can take a message from alice.
type receiver struct {
	what string
	call func(bob *Process) ([]byte, error)
}

var (
	// waitingReceivers wait for a message to come.
	waitingReceivers = []receiver{
		{`bob.Receive("alice")`, func(bob *Process) ([]byte, error) { return bob.Receive("alice") }},
		{"bob.ReceiveAny()", func(bob *Process) ([]byte, error) { _, msg, err := bob.ReceiveAny(); return msg, err }},
	}
	// tryReceivers take a message that is there already.
	tryReceivers = []receiver{
		{`bob.TryReceive("alice")`, func(bob *Process) ([]byte, error) { return bob.TryReceive("alice") }},
		{"bob.TryReceiveAny()", func(bob *Process) ([]byte, error) { _, msg, err := bob.TryReceiveAny(); return msg, err }},
	}
	receivers = append(append([]receiver{
		{`bob.ReceiveContext(ctx, "alice")`, func(bob *Process) ([]byte, error) {
			return bob.ReceiveContext(context.Background(), "alice")
		}},
	}, waitingReceivers...), tryReceivers...)
)

// checkCopies checks, once alice has overwritten her buffer with "zzzz",
// that bob's message is still "aaaa", and that bob's changes to his
// message do not reach alice's buffer.
func checkCopies(t *testing.T, what string, got, buf []byte, on string) {
	t.Helper()
	require.Equal(t, "aaaa", string(got), `%s = %s, want "aaaa" (alice sent "aaaa" and then reused her buffer for "zzzz": the message must be a copy, made when it is sent, %s)`, what, quote(got), on)
	got[0] = 'X'
	require.Equal(t, "zzzz", string(buf), `after bob changed the message he received, alice's buffer is %q, want "zzzz" (bob's copy must not share memory with alice's buffer, %s)`, buf, on)
}

// TestCopyOnSendEveryForm sends from a buffer that the sender overwrites
// as soon as the send has returned, and receives in every form: the
// receiver must see what was sent, and the sender must not see the
// receiver's changes.
func TestCopyOnSendEveryForm(t *testing.T) {
	for _, capacity := range []int{1, Unbounded} {
		alice, bob, on := aliceAndBob(t, capacity)
		buf := make([]byte, 4)
		for _, rc := range receivers {
			copy(buf, "aaaa")
			var err error
			testkit.Within(t, testkit.Patience, `alice.Send("bob", buf)`, func() { err = alice.Send("bob", buf) })
			require.NoError(t, err, `alice.Send("bob", buf) = %s, want nil (the link from alice to bob was empty, %s)`, errName(err), on)
			copy(buf, "zzzz")
			var got []byte
			testkit.Within(t, testkit.Patience, rc.what+" (alice had sent a message)", func() { got, err = rc.call(bob) })
			require.NoError(t, err, `%s = %s, %s, want "aaaa", nil (%s)`, rc.what, quote(got), errName(err), on)
			checkCopies(t, rc.what, got, buf, on)
		}
	}

	// On a rendezvous network the message goes straight into the hands of
	// a receiver that waits, or is taken from a sender that waits.
	alice, bob, on := aliceAndBob(t, 0)
	buf := make([]byte, 4)
	for _, rc := range waitingReceivers {
		for _, try := range []bool{false, true} {
			what := `alice.Send("bob", buf)`
			if try {
				what = `alice.TrySend("bob", buf)`
			}
			copy(buf, "aaaa")
			var got []byte
			var recvErr error
			op := testkit.Go(func() { got, recvErr = rc.call(bob) })
			op.StaysBlocked(t, testkit.Grace, rc.what+" on a rendezvous network, with nothing sent,")
			var err error
			testkit.Within(t, testkit.Patience, what+" (bob was waiting to receive)", func() {
				if try {
					err = alice.TrySend("bob", buf)
				} else {
					err = alice.Send("bob", buf)
				}
			})
			require.NoError(t, err, "%s = %s, want nil (bob was waiting in %s, %s)", what, errName(err), rc.what, on)
			copy(buf, "zzzz")
			op.Finishes(t, testkit.Patience, rc.what+", after "+what+" returned,")
			require.NoError(t, recvErr, `%s = %s, %s, want "aaaa", nil (%s)`, rc.what, quote(got), errName(recvErr), on)
			checkCopies(t, rc.what, got, buf, on)
		}
	}
	for _, rc := range tryReceivers {
		copy(buf, "aaaa")
		var sendErr error
		op := testkit.Go(func() { sendErr = alice.Send("bob", buf) })
		op.StaysBlocked(t, testkit.Grace, `alice.Send("bob", buf) on a rendezvous network, with bob not receiving,`)
		var got []byte
		var err error
		testkit.Within(t, testkit.Patience, rc.what+` (alice was waiting in Send)`, func() { got, err = rc.call(bob) })
		op.Finishes(t, testkit.Patience, `alice.Send("bob", buf), after bob took the message,`)
		msg := fmt.Sprintf(`%s = %s, %s and alice.Send("bob", buf) = %s, want "aaaa", nil and nil (%s)`, rc.what, quote(got), errName(err), errName(sendErr), on)
		require.NoError(t, err, msg)
		require.NoError(t, sendErr, msg)
		copy(buf, "zzzz")
		checkCopies(t, rc.what, got, buf, on)
	}
}

// TestContextCancelLeavesNoGoroutines cancels the context of calls of
// every kind while they wait, checks that they left no trace in the
// links, and then runs calls whose context outlives the test: whatever
// watches a context for a call must stop when the call returns, not when
// the context ends.
func TestContextCancelLeavesNoGoroutines(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // after the leak check, which is registered later and runs first
	testkit.NoGoroutineLeaks(t)

	rv := New(0)
	ps := joinAll(t, rv, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps[0], ps[1], ps[2], ps[3]
	bd := New(1)
	ps = joinAll(t, bd, "erin", "frank")
	erin, frank := ps[0], ps[1]
	trySend(t, erin, "frank", "kept", nil, "the link from erin to frank was empty, on a network made by New(1)")

	short, stop := context.WithCancel(context.Background())
	c := newCrowd()
	cancelled := map[string]bool{
		c.sendContext(short, "short", alice, "bob", "withdrawn"):  true,
		c.receiveContext(short, "short", carol, "bob"):            true,
		c.receiveAnyContext(short, "short", dave):                 true,
		c.sendContext(short, "short", erin, "frank", "withdrawn"): true,
	}
	served := c.receiveContext(ctx, "ctx", bob, "carol")
	c.Quiet(t, testkit.Grace, "nobody was there to serve these calls")

	stop()
	for i := 0; i < len(cancelled); i++ {
		r := c.Next(t, "short was cancelled (is a waiting call woken when its context is cancelled, and does it check ctx.Err() when it wakes?)")
		require.Contains(t, cancelled, r.label, "%v, but it should still be waiting (only the context short was cancelled)", r)
		testkit.ErrorIs(t, r.err, context.Canceled, "%v, want context.Canceled (short was cancelled while it waited)", r)
	}
	c.Quiet(t, testkit.Grace, "ctx was not cancelled, and nobody had sent to bob")
	if t.Failed() {
		return
	}

	// The links must be as if the cancelled calls had never been made.
	tryReceive(t, bob, "alice", "", ErrWouldBlock, "alice's SendContext gave up, so its message must have been withdrawn")
	trySend(t, bob, "carol", "late", ErrWouldBlock, "carol's ReceiveContext gave up, so carol was not waiting for bob any more")
	trySend(t, alice, "dave", "late", ErrWouldBlock, "dave's ReceiveAnyContext gave up, so dave was not waiting for anyone any more")
	tryReceive(t, frank, "erin", "kept", nil, "kept was in the link from erin to frank")
	tryReceive(t, frank, "erin", "", ErrWouldBlock, "erin's SendContext gave up, so its message must not have been added")

	send(t, carol, "bob", "served", `bob was waiting in ReceiveContext(ctx, "carol")`)
	r := c.Next(t, `carol.Send("bob", "served")`)
	if assert.Equal(t, served, r.label, `%v, want %s = "served", nil`, r, served) {
		gotMessage(t, r.msg, r.err, "served", `%v, want %s = "served", nil`, r, served)
	}

	// Calls that never have to wait, many times over, with a live context.
	un := New(Unbounded)
	ps = joinAll(t, un, "gina", "hal")
	gina, hal := ps[0], ps[1]
	var problem string
	testkit.Within(t, testkit.Patience, "100 rounds of SendContext(ctx, …), ReceiveContext(ctx, …) and ReceiveAnyContext(ctx)", func() {
		for i := 0; i < 100; i++ {
			m := fmt.Sprint(i)
			if err := gina.SendContext(ctx, "hal", []byte(m)); err != nil {
				problem = fmt.Sprintf(`gina.SendContext(ctx, "hal", %q) = %s, want nil (an unbounded link always has room)`, m, errName(err))
				return
			}
			if err := gina.SendContext(ctx, "hal", []byte(m)); err != nil {
				problem = fmt.Sprintf(`gina.SendContext(ctx, "hal", %q) = %s, want nil (an unbounded link always has room)`, m, errName(err))
				return
			}
			if got, err := hal.ReceiveContext(ctx, "gina"); string(got) != m || err != nil {
				problem = fmt.Sprintf(`hal.ReceiveContext(ctx, "gina") = %s, %s, want %q, nil`, quote(got), errName(err), m)
				return
			}
			if from, got, err := hal.ReceiveAnyContext(ctx); from != "gina" || string(got) != m || err != nil {
				problem = fmt.Sprintf(`hal.ReceiveAnyContext(ctx) = %q, %s, %s, want "gina", %q, nil`, from, quote(got), errName(err), m)
				return
			}
		}
	})
	if problem != "" {
		require.FailNow(t, problem)
	}
}
