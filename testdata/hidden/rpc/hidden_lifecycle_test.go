package rpc_test

// Hidden tests: what may happen at any time (Register while serving, a call
// cancelled while replies arrive), the exact limit of a method name, and
// Close on both sides waiting for every goroutine it started.

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegisterWhileServing registers handlers from several goroutines at
// once while other goroutines make calls: Register may be called at any
// time, so the map of handlers needs the server's lock on every path (the
// race detector is watching).
func TestRegisterWhileServing(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 4)
	ts, _, c := setup(t)
	const registrars, callers, each = 4, 4, 8
	name := func(i, k int) string { return fmt.Sprintf("late-%d-%d", i, k) }
	problems := make([]error, registrars+callers)
	testkit.Together(t, registrars+callers, 3*testkit.Patience,
		fmt.Sprintf("%d goroutines registering %d handlers each while %d others make %d calls each", registrars, each, callers, each),
		func(i int) {
			if i < registrars {
				for k := 0; k < each; k++ {
					n := name(i, k)
					ts.Register(n, func(context.Context, []byte) ([]byte, error) { return []byte(n), nil })
				}
				return
			}
			for k := 0; k < each; k++ {
				res, err := c.Call(context.Background(), "add", ints(int64(i), int64(k)))
				v, rest, cerr := rpc.ConsumeInt64(res)
				if err != nil || cerr != nil || len(rest) != 0 || v != int64(i+k) {
					problems[i] = fmt.Errorf("c.Call(ctx, \"add\", %d, %d) = %s, %s while handlers were being registered, want %d, nil", i, k, showBytes(res), errText(err), i+k)
					return
				}
			}
		})
	for i, err := range problems {
		assert.NoError(t, err, "goroutine %d: %v", i, err)
	}
	for i := 0; i < registrars; i++ {
		for k := 0; k < each; k++ {
			n := name(i, k)
			got := call(t, c, n, nil, "it was registered while the server served")
			assert.Equal(t, n, string(got), "c.Call(ctx, %q, nil) = %q, want %q", n, got, n)
		}
	}
}

// TestLongestMethodName registers and calls a method whose name is exactly
// MaxMethod bytes long, the longest the wire format carries, and checks
// that one byte more is refused.
func TestLongestMethodName(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts, _, c := setup(t)
	register := func(name string) (panicked any) {
		defer func() { panicked = recover() }()
		ts.Register(name, func(_ context.Context, args []byte) ([]byte, error) {
			return append([]byte("longest:"), args...), nil
		})
		return nil
	}
	longest := strings.Repeat("m", rpc.MaxMethod)
	p := register(longest)
	require.True(t, p == nil, "srv.Register(a name of MaxMethod = %d bytes, h) panicked (%s), want it registered: the limit is inclusive, and a length of %d fits in the name's u16",
		rpc.MaxMethod, showText(fmt.Sprint(p)), rpc.MaxMethod)
	got := call(t, c, longest, []byte("hi"), "its name is MaxMethod bytes long, which the format allows")
	assert.Equal(t, "longest:hi", string(got), "c.Call(ctx, a name of MaxMethod bytes, \"hi\") = %s, want \"longest:hi\"", showBytes(got))
	assert.True(t, register(longest+"m") != nil, "srv.Register(a name of MaxMethod+1 = %d bytes, h) returned, want a panic: no request can carry that name", rpc.MaxMethod+1)
}

// A lingeringConn is a connection whose Read, once it has failed (the
// connection was closed), does not return until the test lets it: the
// goroutine reading it ends a while after the connection was closed. ended
// gets a value when that happens.
type lingeringConn struct {
	net.Conn
	ended   chan<- struct{}
	release <-chan struct{}
	once    sync.Once
}

func (c *lingeringConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.once.Do(func() { c.ended <- struct{}{} })
		<-c.release
	}
	return n, err
}

// A lingering is a set of lingeringConns that the test lets go at once.
type lingering struct {
	ended   chan struct{}
	release chan struct{}
	once    sync.Once
}

// newLingering makes a lingering. Let it go in a clean-up registered after
// the one that closes the client or server, so that it runs first.
func newLingering() *lingering {
	return &lingering{ended: make(chan struct{}, 16), release: make(chan struct{})}
}

func (lg *lingering) wrap(c net.Conn) net.Conn {
	return &lingeringConn{Conn: c, ended: lg.ended, release: lg.release}
}

func (lg *lingering) letGo() { lg.once.Do(func() { close(lg.release) }) }

// A lingeringListener wraps every connection it accepts.
type lingeringListener struct {
	net.Listener
	lg *lingering
}

func (l *lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.lg.wrap(c), nil
}

// TestCloseWaitsForItsGoroutines closes a client, then a server, while a
// goroutine of theirs is still inside a Read of a connection they have
// closed: Close must not return before that goroutine has ended.
func TestCloseWaitsForItsGoroutines(t *testing.T) {
	testkit.NoGoroutineLeaks(t)

	// The client's reader.
	ts := newTestServer(t)
	pn := serverNet(t, ts.Server)
	held := newLingering()
	c := newClient(t, func() (net.Conn, error) {
		conn, err := pn.dial()
		if err != nil {
			return nil, err
		}
		return held.wrap(conn), nil
	})
	t.Cleanup(held.letGo) // before c.Close() at the end of the test
	sum := callInt(t, c, "add", ints(1, 2), "the first call, which dials")
	assert.Equal(t, int64(3), sum, "add(1, 2) = %d, want 3", sum)
	closing := testkit.Go(func() { c.Close() })
	testkit.Within(t, testkit.Patience, "the client's reader getting an error from conn.Read after c.Close() (does Close close the connection?)", func() { <-held.ended })
	closing.StaysBlocked(t, testkit.Grace,
		"c.Close() while the client's reader goroutine was still inside conn.Read (Close must return only once the reader has ended: wait for it)")
	held.letGo()
	closing.Finishes(t, testkit.Patience, "c.Close() once its reader's Read returned")

	// The goroutine that serves a connection the server accepted.
	ts2 := newTestServer(t)
	held2 := newLingering()
	l := &lingeringListener{Listener: listenTCP(t), lg: held2}
	served := serve(ts2.Server, l)
	addr := l.Addr().String()
	c2 := newClient(t, func() (net.Conn, error) { return net.Dial("tcp", addr) })
	t.Cleanup(held2.letGo) // before srv.Close() at the end of the test
	sum = callInt(t, c2, "add", ints(2, 3), "over TCP")
	assert.Equal(t, int64(5), sum, "add(2, 3) = %d, want 5", sum)
	closing = testkit.Go(func() { ts2.Close() })
	testkit.Within(t, testkit.Patience, "the server's connection goroutine getting an error from conn.Read after srv.Close() (does Close close the connections?)", func() { <-held2.ended })
	closing.StaysBlocked(t, testkit.Grace,
		"srv.Close() while the goroutine serving a connection was still inside conn.Read (Close must return only once every goroutine the server started has ended: wait for them)")
	held2.letGo()
	closing.Finishes(t, testkit.Patience, "srv.Close() once the Read of its connection returned")
	served.returnsShutdown(t)
}

// TestConnAcceptedWhileClosing lets Serve receive a new connection just as
// Close closes its listener: Serve must close that connection (nobody will
// serve it) and return ErrShutdown.
func TestConnAcceptedWhileClosing(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	tl := testkit.NewTrackingListener(listenTCP(t))
	l := testkit.NewLateListener(tl) // hands the server its connection once it is being closed
	served := serve(ts.Server, l)
	conn, err := net.DialTimeout("tcp", l.Addr().String(), testkit.Patience)
	require.NoError(t, err, "net.Dial(\"tcp\", %q)", l.Addr().String())
	defer conn.Close()
	testkit.Within(t, testkit.Patience, "the listener accepting the client's connection", func() { <-l.Holding() })

	testkit.Within(t, testkit.Patience, "srv.Close() while Serve was receiving a new connection", func() { ts.Close() })
	served.returnsShutdown(t)
	for i, tc := range tl.Accepted() {
		assert.True(t, tc.Closed(), "connection %d, which Accept returned just as the server was closing, is still open after srv.Serve(l) returned, want it closed: nobody will serve it (it leaks, and its client waits for ever)", i+1)
	}
}

// TestCancelledCallForgottenUnderLock cancels a call while the client's
// reader is busy with replies: the call takes itself out of the table of
// pending calls while the reader looks replies up in it, so both need the
// lock (the race detector is watching). The test plays the server.
func TestCancelledCallForgottenUnderLock(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 2)
	ends := make(chan net.Conn, 1)
	c := newClient(t, func() (net.Conn, error) {
		cl, srv := net.Pipe()
		select {
		case ends <- srv:
			return cl, nil
		default: // the test serves one connection only
			cl.Close()
			srv.Close()
			return nil, errServerDown
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pc := goCall(ctx, c, "echo", []byte("cancel me"))
	var srv net.Conn
	testkit.Within(t, testkit.Patience, pc.label+" dialling", func() { srv = <-ends })
	t.Cleanup(func() { srv.Close() })
	var (
		req rpc.Request
		err error
	)
	testkit.Within(t, testkit.Patience, "reading the request of "+pc.label, func() { req, err = decodeRequest(srv) })
	require.NoError(t, err, "the test's server: reading the request of %s", pc.label)
	write := func(r rpc.Reply, what string) {
		t.Helper()
		var werr error
		testkit.Within(t, testkit.Patience, "writing "+what+" to the client (is its reader reading?)", func() { _, werr = srv.Write(encodeReply(r)) })
		require.NoError(t, werr, "the test's server: writing %s", what)
	}

	// The reader looks up replies for call IDs nobody waits for, and is
	// still at the last of them when the call is cancelled.
	for k := uint64(1); k <= 8; k++ {
		write(rpc.Reply{ID: req.ID + 1000 + k, Status: rpc.StatusOK, Payload: []byte("stray")}, "a reply for a call ID nobody waits for")
	}
	cancel()
	pc.Finishes(t, testkit.Patience, pc.label+" after ctx was cancelled")
	testkit.ErrorIs(t, pc.err, context.Canceled, "%s = %q, %s after ctx was cancelled, want context.Canceled", pc.label, pc.result, errText(pc.err))

	// Its reply comes late, and is dropped; the connection still works.
	write(rpc.Reply{ID: req.ID, Status: rpc.StatusOK, Payload: []byte("cancel me")}, "the late reply to the cancelled call")
	next := goCall(context.Background(), c, "echo", []byte("next"))
	testkit.Within(t, testkit.Patience, "reading the request of "+next.label, func() { req, err = decodeRequest(srv) })
	require.NoError(t, err, "the test's server: reading the request of %s", next.label)
	write(rpc.Reply{ID: req.ID, Status: rpc.StatusOK, Payload: req.Args}, "the reply to "+next.label)
	next.Finishes(t, testkit.Patience, next.label)
	next.returned(t, "next", "the late reply to a cancelled call belongs to no one")
}
