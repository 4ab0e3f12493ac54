package rpc_test

// Hidden tests: many calls on one connection. Replies come back in whatever
// order the server finishes the calls, and each must reach its own caller;
// replies nobody waits for must be dropped without harm.

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlowCallDoesNotHoldUpOthers makes a slow call and, while its handler
// waits, several fast calls on the same client: the fast ones must come
// back first, each with its own reply, and the slow one must keep waiting
// for its own.
func TestSlowCallDoesNotHoldUpOthers(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 2)
	ts, pn, c := setup(t)

	slow := goCall(context.Background(), c, "block", []byte("slow"))
	ts.gate.wait(t, "after the slow call was made")

	const n = 5
	var fast []*pendingCall
	for i := 0; i < n; i++ {
		fast = append(fast, goCall(context.Background(), c, "echo", []byte(fmt.Sprintf("fast %d", i))))
	}
	timeout := timerC(t)
	for i, pc := range fast {
		select {
		case <-pc.Finished():
		case <-slow.Finished():
			require.FailNow(t, "the slow call returned before its handler did", "%s returned %q, %s while its handler was still waiting and %d fast calls were in flight: it took a reply that was not its own (are replies matched to calls by call ID?)", slow.label, slow.result, errText(slow.err), n)
		case <-timeout:
			require.FailNow(t, "a fast call did not return", "%s did not return within %v while a slow call's handler waited: does the server run one call at a time, or does the client wait for replies in the order it sent the calls?", pc.label, testkit.Patience)
		}
		pc.returned(t, fmt.Sprintf("fast %d", i), "each caller must get its own reply")
	}
	if slow.Done() {
		require.FailNow(t, "the slow call returned before its handler did", "%s returned %q, %s while its handler was still waiting: it took a reply that was not its own", slow.label, slow.result, errText(slow.err))
	}
	ts.gate.release()
	slow.Finishes(t, testkit.Patience, slow.label+", after its handler was released,")
	slow.returned(t, "slow", "its handler returned its arguments")
	d := pn.dialCount()
	assert.Equal(t, 1, d, "the client dialled %d times, want once (all calls share one connection)", d)
}

// TestRepliesMatchedByID talks to a fake server that collects several
// requests and then answers them in an order of its own: every caller must
// get the reply with its call's ID.
func TestRepliesMatchedByID(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	const n = 6
	order := []int{3, 0, 5, 1, 4, 2} // the order in which the fake server answers
	arrived := make(chan rpc.Request, n)
	pn := newPipeNet(t, func(_ int, conn net.Conn) {
		var reqs []rpc.Request
		for len(reqs) < n {
			r, err := decodeRequest(conn)
			if err != nil {
				return
			}
			reqs = append(reqs, r)
			arrived <- r
		}
		for _, i := range order {
			if _, err := conn.Write(encodeReply(rpc.Reply{ID: reqs[i].ID, Status: rpc.StatusOK, Payload: reqs[i].Args})); err != nil {
				return
			}
		}
		for {
			if _, err := decodeRequest(conn); err != nil {
				return
			}
		}
	})
	c := newClient(t, pn.dial)

	var calls []*pendingCall
	for i := 0; i < n; i++ {
		calls = append(calls, goCall(context.Background(), c, "echo", []byte(fmt.Sprintf("call %d", i))))
	}
	seen := map[uint64]bool{}
	timeout := timerC(t)
	for i := 0; i < n; i++ {
		select {
		case r := <-arrived:
			require.False(t, seen[r.ID], "two concurrent calls carried the same call ID %d: every call of a client needs an ID of its own", r.ID)
			seen[r.ID] = true
		case <-timeout:
			require.FailNow(t, fmt.Sprintf("only %d of %d concurrent calls reached the server within %v", i, n, testkit.Patience))
		}
	}
	for i, pc := range calls {
		pc.Finishes(t, testkit.Patience, pc.label+", answered out of order,")
		pc.returned(t, fmt.Sprintf("call %d", i), fmt.Sprintf("the server answered in the order %v of the calls; each reply must go to the call with its ID", order))
	}
}

// TestReplyForUnknownCallIgnored talks to a fake server that sends, before
// each true reply, a reply for a call ID nobody used, and after it, the same
// reply again: the client must drop both and carry on.
func TestReplyForUnknownCallIgnored(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	pn := newPipeNet(t, func(_ int, conn net.Conn) {
		for {
			r, err := decodeRequest(conn)
			if err != nil {
				return
			}
			for _, reply := range []rpc.Reply{
				{ID: r.ID + 1000, Status: rpc.StatusOK, Payload: []byte("a stray reply")},
				{ID: r.ID, Status: rpc.StatusOK, Payload: r.Args},
				{ID: r.ID, Status: rpc.StatusOK, Payload: []byte("the same reply again")},
			} {
				if _, err := conn.Write(encodeReply(reply)); err != nil {
					return
				}
			}
		}
	})
	c := newClient(t, pn.dial)
	for i := 0; i < 3; i++ {
		args := []byte(fmt.Sprintf("call %d", i))
		got := call(t, c, "echo", args, "the server also sent a reply for an unknown call ID, and one reply twice")
		assert.Equal(t, string(args), string(got), "c.Call(ctx, \"echo\", %q) = %q, want %q (a reply for a call ID nobody waits for must be dropped)", args, got, args)
	}
	d := pn.dialCount()
	assert.Equal(t, 1, d, "the client dialled %d times, want once: a reply for an unknown call ID is no reason to drop the connection", d)
}

// TestLateReplyDiscarded lets a call give up at its deadline, then lets its
// reply arrive while another call waits: the other call must not take it,
// and nothing may be left running.
func TestLateReplyDiscarded(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	h := newHolds()
	ts.Register("hold", h.handler)
	taps := make(chan *tapConn, 1)
	pn := newPipeNet(t, func(_ int, conn net.Conn) {
		tc := newTapConn(conn)
		taps <- tc
		ts.ServeConn(tc)
	})
	c := newClient(t, pn.dial)

	const wait = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	late := goCall(ctx, c, "hold", []byte("late"))
	h.wait(t, "late")
	late.Finishes(t, testkit.Patience, fmt.Sprintf("%s, with a deadline %v away and a handler that does not return,", late.label, wait))
	testkit.RequireErrorIs(t, late.err, context.DeadlineExceeded, "%s = %q, %s, want context.DeadlineExceeded, the error of ctx (the reply had not come when the deadline passed)", late.label, late.result, errText(late.err))
	tc := <-taps

	next := goCall(context.Background(), c, "hold", []byte("next"))
	h.wait(t, "next")
	h.release("late")
	waitFrame(t, tc.writes, "the server writing the late reply", decodeReply, func(r rpc.Reply) bool { return string(r.Payload) == "late" })
	h.release("next")
	next.Finishes(t, testkit.Patience, next.label+", after its handler was released,")
	next.returned(t, "next", "the late reply of the call that gave up arrived while this call waited; it belongs to no one and must be dropped")
}

// TestClientsHaveTheirOwnIDs makes calls from two clients of one server:
// their call IDs overlap, so the server can tell their calls apart only by
// the client ID, which every client must pick for itself and send.
func TestClientsHaveTheirOwnIDs(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	pn := serverNet(t, ts.Server)
	c1, c2 := newClient(t, pn.dial), newClient(t, pn.dial)
	var want int64
	for i := 0; i < 3; i++ {
		for j, c := range []*rpc.Client{c1, c2} {
			want++
			got := callInt(t, c, "count", nil, fmt.Sprintf("call %d of client %d", i+1, j+1))
			require.Equal(t, want, got, "count() from client %d, its call %d = %d, want %d: the handler must run for every call of every client (two clients number their calls alike; does every client send an ID of its own, and does the server tell calls apart by client ID and call ID together?)", j+1, i+1, got, want)
		}
	}
}
