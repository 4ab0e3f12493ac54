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
	"sync/atomic"
	"testing"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
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
	problems := make([]string, registrars+callers)
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
					problems[i] = fmt.Sprintf("c.Call(ctx, \"add\", %d, %d) = %s, %s while handlers were being registered, want %d, nil", i, k, showBytes(res), errText(err), i+k)
					return
				}
			}
		})
	for _, p := range problems {
		if p != "" {
			t.Error(p)
		}
	}
	for i := 0; i < registrars; i++ {
		for k := 0; k < each; k++ {
			n := name(i, k)
			if got := call(t, c, n, nil, "it was registered while the server served"); string(got) != n {
				t.Errorf("c.Call(ctx, %q, nil) = %q, want %q", n, got, n)
			}
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
	if p := register(longest); p != nil {
		t.Fatalf("srv.Register(a name of MaxMethod = %d bytes, h) panicked (%v), want it registered: the limit is inclusive, and a length of %d fits in the name's u16",
			rpc.MaxMethod, p, rpc.MaxMethod)
	}
	if got := call(t, c, longest, []byte("hi"), "its name is MaxMethod bytes long, which the format allows"); string(got) != "longest:hi" {
		t.Errorf("c.Call(ctx, a name of MaxMethod bytes, \"hi\") = %s, want \"longest:hi\"", showBytes(got))
	}
	if p := register(longest + "m"); p == nil {
		t.Errorf("srv.Register(a name of MaxMethod+1 = %d bytes, h) returned, want a panic: no request can carry that name", rpc.MaxMethod+1)
	}
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

// A closeWatcher is a listener that records whether it was closed.
type closeWatcher struct {
	net.Listener
	closed atomic.Bool
}

func (l *closeWatcher) Close() error {
	l.closed.Store(true)
	return l.Listener.Close()
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
	if got := callInt(t, c, "add", ints(1, 2), "the first call, which dials"); got != 3 {
		t.Errorf("add(1, 2) = %d, want 3", got)
	}
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
	served, serveErr := serve(ts2.Server, l)
	addr := l.Addr().String()
	c2 := newClient(t, func() (net.Conn, error) { return net.Dial("tcp", addr) })
	t.Cleanup(held2.letGo) // before srv.Close() at the end of the test
	if got := callInt(t, c2, "add", ints(2, 3), "over TCP"); got != 5 {
		t.Errorf("add(2, 3) = %d, want 5", got)
	}
	closing = testkit.Go(func() { ts2.Close() })
	testkit.Within(t, testkit.Patience, "the server's connection goroutine getting an error from conn.Read after srv.Close() (does Close close the connections?)", func() { <-held2.ended })
	closing.StaysBlocked(t, testkit.Grace,
		"srv.Close() while the goroutine serving a connection was still inside conn.Read (Close must return only once every goroutine the server started has ended: wait for them)")
	held2.letGo()
	closing.Finishes(t, testkit.Patience, "srv.Close() once the Read of its connection returned")
	served.Finishes(t, testkit.Patience, "srv.Serve(l), after srv.Close(),")
	if !testkit.Is(*serveErr, rpc.ErrShutdown) {
		t.Errorf("srv.Serve(l) = %s after srv.Close(), want ErrShutdown", errText(*serveErr))
	}
}

// A lateListener hands the server the connection it accepted only once the
// listener is being closed: a client that connects just as the server
// closes.
type lateListener struct {
	*trackListener
	got     chan struct{} // a value once Accept has a connection in hand
	closing chan struct{}
	once    sync.Once
}

func (l *lateListener) Accept() (net.Conn, error) {
	c, err := l.trackListener.Accept()
	if err != nil {
		return nil, err
	}
	l.got <- struct{}{}
	<-l.closing
	return c, nil
}

func (l *lateListener) Close() error {
	l.once.Do(func() { close(l.closing) })
	return l.trackListener.Close()
}

// TestConnAcceptedWhileClosing lets Serve receive a new connection just as
// Close closes its listener: Serve must close that connection (nobody will
// serve it) and return ErrShutdown.
func TestConnAcceptedWhileClosing(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	l := &lateListener{trackListener: &trackListener{Listener: listenTCP(t)}, got: make(chan struct{}, 1), closing: make(chan struct{})}
	served, serveErr := serve(ts.Server, l)
	conn, err := net.DialTimeout("tcp", l.Addr().String(), testkit.Patience)
	if err != nil {
		t.Fatalf("net.Dial(\"tcp\", %q) = %v", l.Addr().String(), err)
	}
	defer conn.Close()
	testkit.Within(t, testkit.Patience, "the listener accepting the client's connection", func() { <-l.got })

	testkit.Within(t, testkit.Patience, "srv.Close() while Serve was receiving a new connection", func() { ts.Close() })
	served.Finishes(t, testkit.Patience, "srv.Serve(l), after srv.Close(),")
	if !testkit.Is(*serveErr, rpc.ErrShutdown) {
		t.Errorf("srv.Serve(l) = %s after srv.Close(), want ErrShutdown", errText(*serveErr))
	}
	for i, tc := range l.accepted() {
		if !tc.closed.Load() {
			t.Errorf("connection %d, which Accept returned just as the server was closing, is still open after srv.Serve(l) returned, want it closed: nobody will serve it (it leaks, and its client waits for ever)", i+1)
		}
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
	if err != nil {
		t.Fatalf("the test's server: reading the request of %s: %v", pc.label, err)
	}
	write := func(r rpc.Reply, what string) {
		t.Helper()
		var werr error
		testkit.Within(t, testkit.Patience, "writing "+what+" to the client (is its reader reading?)", func() { _, werr = srv.Write(encodeReply(r)) })
		if werr != nil {
			t.Fatalf("the test's server: writing %s: %v", what, werr)
		}
	}

	// The reader looks up replies for call IDs nobody waits for, and is
	// still at the last of them when the call is cancelled.
	for k := uint64(1); k <= 8; k++ {
		write(rpc.Reply{ID: req.ID + 1000 + k, Status: rpc.StatusOK, Payload: []byte("stray")}, "a reply for a call ID nobody waits for")
	}
	cancel()
	pc.Finishes(t, testkit.Patience, pc.label+" after ctx was cancelled")
	if !testkit.Is(pc.err, context.Canceled) {
		t.Errorf("%s = %q, %s after ctx was cancelled, want context.Canceled", pc.label, pc.result, errText(pc.err))
	}

	// Its reply comes late, and is dropped; the connection still works.
	write(rpc.Reply{ID: req.ID, Status: rpc.StatusOK, Payload: []byte("cancel me")}, "the late reply to the cancelled call")
	next := goCall(context.Background(), c, "echo", []byte("next"))
	testkit.Within(t, testkit.Patience, "reading the request of "+next.label, func() { req, err = decodeRequest(srv) })
	if err != nil {
		t.Fatalf("the test's server: reading the request of %s: %v", next.label, err)
	}
	write(rpc.Reply{ID: req.ID, Status: rpc.StatusOK, Payload: req.Args}, "the reply to "+next.label)
	next.Finishes(t, testkit.Patience, next.label)
	if next.err != nil || string(next.result) != "next" {
		t.Errorf("%s = %q, %s, want \"next\", nil (the late reply to a cancelled call belongs to no one)", next.label, next.result, errText(next.err))
	}
}
