package rpc_test

// Hidden tests: retries and at-most-once execution. A client that lost its
// connection sends the same call again on a new one; the server must
// recognise it and never run a handler twice for one call.

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetryAfterReplyLost breaks the connection after the server has run a
// call but before the reply reached the client. The client must send the
// call again on a new connection, and the server must answer it with the
// first run's result instead of running the handler again.
func TestRetryAfterReplyLost(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	dropped := make(chan *dropOnReply, 1)
	pn := newPipeNet(t, func(n int, conn net.Conn) {
		if n == 1 {
			d := newDropOnReply(conn)
			dropped <- d
			conn = d
		}
		ts.ServeConn(conn)
	})
	c := newClient(t, pn.dial)

	got := callInt(t, c, "count", nil, "the reply of the first attempt was lost with its connection; a retry on a new connection must get it")
	select {
	case d := <-dropped:
		select {
		case <-d.dropped:
		default:
			require.FailNow(t, "the test's first connection never got a reply to lose (did the client dial more than once?)")
		}
	default:
		require.FailNow(t, "the client never dialled")
	}
	runs := ts.counted.Load()
	require.True(t, runs == 1 && got == 1, "count() = %d and the handler ran %d times, want 1 and once: the server ran the call, its reply was lost with the connection, and the client sent the call again; the server must recognise the retry (same client ID, same call ID) and answer with the result it remembers, not run the handler again", got, runs)
	d := pn.dialCount()
	assert.Equal(t, 2, d, "the client dialled %d times, want 2 (the first connection broke; the retry goes on a new one)", d)
	got = callInt(t, c, "count", nil, "a new call after the retry")
	assert.Equal(t, int64(2), got, "count() = %d, want 2 (a new call, with a new call ID, must run)", got)
}

// TestRetryWhileCallRunning breaks the connection while the handler of a
// call is still running. The retry reaches the server before the first run
// has finished: the server must not start a second run, but wait for the
// first one and answer the retry with its result.
func TestRetryWhileCallRunning(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	var runs atomic.Int64
	started := make(chan int64, 10)
	release := make(chan struct{})
	ts.Register("once", func(ctx context.Context, _ []byte) ([]byte, error) {
		n := runs.Add(1)
		started <- n
		if n == 1 {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return rpc.AppendInt64(nil, n), nil
	})
	firstConn := make(chan net.Conn, 1)
	secondConn := make(chan *tapConn, 1)
	pn := newPipeNet(t, func(n int, conn net.Conn) {
		switch n {
		case 1:
			firstConn <- conn
		case 2:
			tc := newTapConn(conn)
			secondConn <- tc
			conn = tc
		}
		ts.ServeConn(conn)
	})
	c := newClient(t, pn.dial)
	letGo := sync.OnceFunc(func() { close(release) })
	defer letGo()

	pc := goCall(context.Background(), c, "once", nil)
	select {
	case <-started:
	case <-timerC(t):
		require.FailNow(t, fmt.Sprintf("the handler of once() was not called within %v", testkit.Patience))
	}
	(<-firstConn).Close() // the connection breaks while the handler runs
	var tc *tapConn
	select {
	case tc = <-secondConn:
	case <-timerC(t):
		require.FailNow(t, fmt.Sprintf("the client did not dial a new connection within %v of losing the first one while a call was waiting for its reply", testkit.Patience))
	}
	retry := waitFrame(t, tc.reads, "the server reading the retried once() from the new connection", decodeRequest, func(r rpc.Request) bool { return r.Method == "once" })

	// Give the server time to do the wrong thing.
	watch := timerAfter(t, 2*testkit.Grace)
	select {
	case n := <-started:
		require.FailNow(t, "the handler ran a second time", "the handler of once() started a run number %d while the first run was still going: the retry (client %#x, call %d) must wait for the first run's result, not run the handler again", n, retry.Client, retry.ID)
	case <-pc.Finished():
		require.FailNow(t, "the call returned too early", "%s = %s, %s before the first run of its handler returned, want it to wait for that run's result", pc.label, showBytes(pc.result), errText(pc.err))
	case <-watch:
	}

	letGo()
	pc.Finishes(t, testkit.Patience, pc.label+", after the first run of its handler returned,")
	want := rpc.AppendInt64(nil, 1)
	msg := fmt.Sprintf("%s = %s, %s, want %s, nil (the result of the only run)", pc.label, showBytes(pc.result), errText(pc.err), showBytes(want))
	if assert.NoError(t, pc.err, msg) {
		assert.Equal(t, want, pc.result, msg)
	}
	n := runs.Load()
	assert.Equal(t, int64(1), n, "the handler of once() ran %d times for one call, want once", n)
}

// TestRetryGivesUp talks to a server whose connections all break as soon as
// a request is across: the client must send the very same request
// MaxAttempts times, each on a new connection, and then give up.
func TestRetryGivesUp(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	seen := make(chan rpc.Request, 100)
	pn := newPipeNet(t, func(_ int, conn net.Conn) {
		r, err := decodeRequest(conn)
		if err == nil {
			seen <- r
		}
		conn.Close()
	})
	c := newClient(t, pn.dial)

	for round := 1; round <= 2; round++ {
		err := callErr(t, context.Background(), c, "add", ints(1, 2), "every connection breaks before a reply")
		testkit.ErrorIs(t, err, rpc.ErrConnLost, "c.Call(ctx, \"add\", ...) = %s, want an error wrapping ErrConnLost (every connection broke before a reply)", errText(err))
		d := pn.dialCount()
		require.Equal(t, round*rpc.MaxAttempts, d, "the client has dialled %d times for %d calls, want %d: MaxAttempts = %d attempts a call, each on a new connection", d, round, round*rpc.MaxAttempts, rpc.MaxAttempts)
		var first rpc.Request
		for i := 0; i < rpc.MaxAttempts; i++ {
			var r rpc.Request
			select {
			case r = <-seen:
			default:
				require.FailNow(t, fmt.Sprintf("the server received %d requests for call %d, want MaxAttempts = %d", i, round, rpc.MaxAttempts))
			}
			if i == 0 {
				first = r
				continue
			}
			require.True(t, sameRequest(r, first), "attempt %d of call %d sent %s, want the first attempt's request again, %s: a retry must carry the same client ID and call ID, or the server cannot tell that it ran the call already", i+1, round, showRequest(r), showRequest(first))
		}
	}
}

// timerAfter is a channel that is closed after d; the timer is stopped
// when the test ends.
func timerAfter(t *testing.T, d time.Duration) <-chan struct{} {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx.Done()
}
