package rpc_test

// Hidden tests: a server that goes away, Close on both sides, and the
// server's memory of completed calls. Nothing may hang, nothing may be left
// running, and nothing may grow without bound.

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerCloseWakesCallers serves a client over TCP on the loopback
// interface and closes the server while calls wait in their handlers:
// every call must return an error promptly, and so must later calls.
func TestServerCloseWakesCallers(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	l := listenTCP(t)
	served := serve(ts.Server, l)
	addr := l.Addr().String()
	var down atomic.Bool
	c := newClient(t, func() (net.Conn, error) {
		if down.Load() {
			// Refused at once: on some systems a TCP dial to a closed
			// port takes seconds to be refused.
			return nil, errServerDown
		}
		return net.Dial("tcp", addr)
	})

	sum := callInt(t, c, "add", ints(1, 2), "over TCP")
	assert.Equal(t, int64(3), sum, "add(1, 2) over TCP = %d, want 3", sum)
	const n = 3
	var calls []*pendingCall
	for i := 0; i < n; i++ {
		calls = append(calls, goCall(context.Background(), c, "block", []byte(fmt.Sprintf("call %d", i))))
		ts.gate.wait(t, fmt.Sprintf("after call %d of block", i))
	}
	down.Store(true)
	testkit.Within(t, testkit.Patience, "srv.Close() with calls in progress (does Close cancel the handlers' context and wait for them?)", func() { ts.Close() })
	for _, pc := range calls {
		pc.Finishes(t, testkit.Patience, pc.label+", waiting when the server was closed,")
		assert.Error(t, pc.err, "%s = %q, nil, want an error (the server was closed during the call)", pc.label, pc.result)
	}
	served.returnsShutdown(t)
	err := callErr(t, context.Background(), c, "add", ints(1, 2), "the server is closed")
	testkit.ErrorIs(t, err, rpc.ErrConnLost, "c.Call(ctx, \"add\", ...) after the server was closed = %s, want an error wrapping ErrConnLost", errText(err))
}

// TestCloseLeavesNothingRunning closes clients and a server and checks that
// every connection was closed, every waiting call woken, and every
// goroutine stopped.
func TestCloseLeavesNothingRunning(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	tl := testkit.NewTrackingListener(listenTCP(t))
	served := serve(ts.Server, tl)
	addr := tl.Addr().String()
	var dialled []*testkit.TrackedConn
	c1 := newClient(t, func() (net.Conn, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		tc := testkit.Track(conn)
		dialled = append(dialled, tc)
		return tc, nil
	})
	sum := callInt(t, c1, "add", ints(2, 2), "over TCP")
	assert.Equal(t, int64(4), sum, "add(2, 2) = %d, want 4", sum)

	// A client closed while a call waits.
	pn := serverNet(t, ts.Server)
	c2 := newClient(t, pn.dial)
	pc := goCall(context.Background(), c2, "block", []byte("waiting"))
	ts.gate.wait(t, "after a call of block")
	testkit.Within(t, testkit.Patience, "c.Close() with a call waiting", func() { c2.Close() })
	pc.Finishes(t, testkit.Patience, pc.label+", waiting when its client was closed,")
	testkit.ErrorIs(t, pc.err, rpc.ErrShutdown, "%s = %q, %s, want ErrShutdown (its client was closed while it waited)", pc.label, pc.result, errText(pc.err))
	err := callErr(t, context.Background(), c2, "add", ints(1, 1), "the client is closed")
	testkit.ErrorIs(t, err, rpc.ErrShutdown, "c.Call(ctx, \"add\", ...) on a closed client = %s, want ErrShutdown", errText(err))
	testkit.Within(t, testkit.Patience, "a second c.Close()", func() { c2.Close() })

	testkit.Within(t, testkit.Patience, "c.Close()", func() { c1.Close() })
	for i, tc := range dialled {
		assert.True(t, tc.Closed(), "connection %d that the client dialled is still open after c.Close(), want it closed", i+1)
	}

	// A server closed while a connection is open and idle.
	rc := newRawConn(t, ts.Server)
	rc.send(t, goldenAdd, "the golden request add(2, 40)")
	rc.receive(t, "the reply to add(2, 40)")
	testkit.Within(t, testkit.Patience, "srv.Close()", func() { ts.Close() })
	rc.served.Finishes(t, testkit.Patience, "srv.ServeConn(conn), idle when the server was closed,")
	testkit.ErrorIs(t, rc.err, rpc.ErrShutdown, "srv.ServeConn(conn) = %s after srv.Close(), want ErrShutdown", errText(rc.err))
	served.returnsShutdown(t)
	for i, tc := range tl.Accepted() {
		assert.True(t, tc.Closed(), "connection %d that the server accepted is still open after srv.Close(), want it closed", i+1)
	}

	// A closed server refuses to serve.
	l2 := &testkit.CloseWatcher{Listener: listenTCP(t)}
	var err2 error
	testkit.Within(t, testkit.Patience, "srv.Serve(l) on a closed server", func() { err2 = ts.Serve(l2) })
	testkit.ErrorIs(t, err2, rpc.ErrShutdown, "srv.Serve(l) on a closed server = %s, want ErrShutdown", errText(err2))
	assert.True(t, l2.Closed(), "srv.Serve(l) on a closed server returned and left l open, want l closed: Close closes the listeners, and a Serve that comes after Close must close its own, or clients that dial it wait for ever")
	a, b := net.Pipe()
	defer a.Close()
	tb := testkit.Track(b)
	testkit.Within(t, testkit.Patience, "srv.ServeConn(conn) on a closed server", func() { err2 = ts.ServeConn(tb) })
	testkit.ErrorIs(t, err2, rpc.ErrShutdown, "srv.ServeConn(conn) on a closed server = %s, want ErrShutdown", errText(err2))
	assert.True(t, tb.Closed(), "srv.ServeConn(conn) on a closed server returned and left conn open, want it closed: ServeConn always closes conn")
	testkit.Within(t, testkit.Patience, "a second srv.Close()", func() { ts.Close() })
}

// TestCompletedCallsBounded makes many calls with large results and checks
// that the server's memory of completed calls stays bounded: it may keep
// the last RememberedCalls, not all of them.
func TestCompletedCallsBounded(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	srv := rpc.NewServer()
	const size = 8 << 10
	srv.Register("blob", func(context.Context, []byte) ([]byte, error) { return make([]byte, size), nil })
	t.Cleanup(func() { cleanUp(t, "srv.Close()", func() { srv.Close() }) })
	rc := newRawConn(t, srv)

	const calls = 8 * rpc.RememberedCalls
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)

	var werr error
	writer := testkit.Go(func() {
		for i := 1; i <= calls; i++ {
			if _, werr = rc.conn.Write(encodeRequest(rpc.Request{Client: 9, ID: uint64(i), Method: "blob"})); werr != nil {
				return
			}
		}
	})
	var problem string
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%d calls of blob() on one connection", calls), func() {
		for i := 0; i < calls; i++ {
			r, err := decodeReply(rc.conn)
			if err != nil || r.Status != rpc.StatusOK || len(r.Payload) != size {
				problem = fmt.Sprintf("reply %d = %s, %v, want %d bytes of result", i+1, showReply(r), err, size)
				return
			}
		}
	})
	writer.Finishes(t, testkit.Patience, "writing the requests")
	require.Empty(t, problem, "%d calls of blob() on one connection: %s", calls, problem)
	require.NoError(t, werr, "writing the requests of %d calls of blob() on one connection", calls)

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(base.HeapAlloc)
	all := int64(calls * size)
	t.Logf("after %d calls with results of %d KiB each, the heap grew by %.1f MiB", calls, size>>10, float64(grew)/(1<<20))
	limit := all / 2
	assert.LessOrEqual(t, grew, limit, "after %d calls with results of %d KiB each, the heap holds %d MiB more than before, want less than %d MiB: the server keeps the results of all %d completed calls (%d MiB); it may remember the last RememberedCalls = %d and must forget older ones", calls, size>>10, grew>>20, limit>>20, calls, all>>20, rpc.RememberedCalls)
	runtime.KeepAlive(srv)
}
