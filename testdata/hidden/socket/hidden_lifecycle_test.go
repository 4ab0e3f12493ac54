package socket

// Hidden tests of the server's life cycle and of exact limits. They cover
// these entries of the bug catalogue:
//
//   - close-returns-early: TestCloseWaitsForItsGoroutines holds a server
//     goroutine inside conn.Write after the connection was closed, and
//     checks that Close waits for it.
//   - serve-after-close: TestCloseWaitsForItsGoroutines calls Serve on a
//     closed server and checks that the listener it was given is closed.
//   - writer-leaves-unlocked: TestFailingWritersLeaveUnderLock makes the
//     writes to several clients fail at once, while others broadcast; the
//     race detector sees a client taken out of the set without the lock.
//   - shutdown-returns-early: TestCloseWaitsForItsGoroutines does the same
//     for Shutdown.
//   - accepted-while-closing: TestConnAcceptedWhileClosing hands the
//     server a new connection just as Close closes the listener.
//   - udp-limit-off-by-one: TestCallExactSizes sends the largest request
//     that fits in a datagram, and one byte more, and replies with an empty
//     response (a reply of exactly IDLen bytes).

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A heldListener hands out connections whose Write, once the test holds
// it, announces itself on entered and then waits until the test lets it go,
// whether or not the connection was closed meanwhile: a goroutine of the
// server that stays inside a Write for a while.
type heldListener struct {
	net.Listener
	entered chan struct{}
	release chan struct{}
}

type heldConn struct {
	net.Conn
	l    *heldListener
	once sync.Once
}

func (l *heldListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: c, l: l}, nil
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.once.Do(func() { c.l.entered <- struct{}{} })
	<-c.l.release
	return c.Conn.Write(p)
}

// A heldServer is a server on a heldListener, with two clients connected.
type heldServer struct {
	srv  *Server
	r    *running
	held *heldListener
	a, b net.Conn // the clients, in the order they connected
	once sync.Once
}

// startHeld starts a server on a heldListener and connects two clients.
// The held Write is let go when the test ends, before the server's
// clean-up closes it, if the test has not done it.
func startHeld(t *testing.T) *heldServer {
	t.Helper()
	h := &heldServer{srv: &Server{}, held: &heldListener{Listener: listenTCP(t), entered: make(chan struct{}, 8), release: make(chan struct{})}}
	h.r = serve(t, h.srv, h.held)
	h.a, h.b = dial(t, h.held), dial(t, h.held)
	t.Cleanup(h.letGo) // runs before the server's clean-up, which closes it
	waitClients(t, h.srv, 2, "two clients connected")
	return h
}

// letGo lets the held Write go on; only the first call counts.
func (h *heldServer) letGo() { h.once.Do(func() { close(h.held.release) }) }

// holdWrite sends a frame from the first client to the second and waits
// until the server's Write of it to the second client is held. from and to
// name the clients.
func (h *heldServer) holdWrite(t *testing.T, from, to string) {
	t.Helper()
	mustSend(t, h.a, from, []byte("for "+to))
	testkit.Within(t, testkit.Patience, fmt.Sprintf("the server's Write of %s's frame to %s", from, to), func() { <-h.held.entered })
}

// stopWhileHeld calls stop, which is srv.Close or srv.Shutdown (named
// what), while a Write of the server is held: stop must stay blocked (the
// message staysBlocked says why) until the Write is let go, then return
// nil (returnsNil names the call that must), and every Serve must have
// returned.
func (h *heldServer) stopWhileHeld(t *testing.T, what string, stop func() error, staysBlocked, returnsNil string) {
	t.Helper()
	var err error
	stopping := testkit.Go(func() { err = stop() })
	stopping.StaysBlocked(t, testkit.Grace, staysBlocked)
	h.letGo()
	stopping.Finishes(t, testkit.Patience, what+" once the server's last Write returned")
	assert.NoError(t, err, returnsNil)
	h.r.serveReturned(t, what)
}

func TestCloseWaitsForItsGoroutines(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	h := startHeld(t)
	srv, a, b := h.srv, h.a, h.b

	// a's frame goes to b: b's writer enters Write, and stays there.
	h.holdWrite(t, "a", "b")

	h.stopWhileHeld(t, "srv.Close()", srv.Close,
		"srv.Close() while a goroutine of the server was still inside conn.Write (Close must return only once every goroutine of the server has ended: wait for them, with a sync.WaitGroup)",
		"srv.Close()")
	expectEnd(t, a, "a", "srv.Close()")
	expectEnd(t, b, "b", "srv.Close()")

	// The same for Shutdown: it returns once the writers have sent what
	// was queued and every goroutine has ended, not before.
	h2 := startHeld(t)
	c, d := h2.a, h2.b
	h2.holdWrite(t, "c", "d")
	shutdown := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Patience)
		defer cancel()
		return h2.srv.Shutdown(ctx)
	}
	h2.stopWhileHeld(t, "srv.Shutdown(ctx)", shutdown,
		"srv.Shutdown(ctx) while a goroutine of the server was still inside conn.Write, sending a queued frame (Shutdown returns once the queued frames are sent and every goroutine of the server has ended)",
		"srv.Shutdown(ctx) (the queued frame was sent)")
	mustReceive(t, d, "d", []byte("for d"), `"for d" from c, queued before the shutdown`)
	expectEnd(t, c, "c", "srv.Shutdown(ctx)")
	expectEnd(t, d, "d", "srv.Shutdown(ctx)")

	// Serve on a closed server refuses, and closes the listener it was
	// given, as every return of Serve does.
	l := &testkit.CloseWatcher{Listener: listenTCP(t)}
	var again error
	testkit.Within(t, testkit.Patience, "srv.Serve(l) after srv.Close()", func() { again = srv.Serve(l) })
	testkit.ErrorIs(t, again, ErrServerClosed, "srv.Serve(l) on a closed server = %s, want ErrServerClosed", errName(again))
	assert.True(t, l.Closed(), "srv.Serve(l) on a closed server returned and left l open, want l closed: Serve always closes its listener, or clients that dial it wait for ever for a server that is gone")
}

func TestConnAcceptedWhileClosing(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	tl := testkit.NewTrackingListener(listenTCP(t))
	l := testkit.NewLateListener(tl) // hands the server its connection once it is being closed
	srv := &Server{}
	r := serve(t, srv, l)
	late := dial(t, l)
	testkit.Within(t, testkit.Patience, "the listener accepting the client's connection", func() { <-l.Holding() })

	// Accept returns the connection once Close has closed the listener:
	// the server must close it (it is nobody's client), release its lock,
	// and let Serve return.
	var err error
	testkit.Within(t, testkit.Patience,
		"srv.Close() while Serve was receiving a new connection (does Serve release the lock on every path, and return once the listener is closed?)",
		func() { err = srv.Close() })
	assert.NoError(t, err, "srv.Close()")
	r.serveReturned(t, "srv.Close()")
	open, accepted := tl.Open()
	require.Zero(t, open, "after srv.Close() returned, %d of the %d connections the server accepted were still open: a connection that Accept returns after Close must be closed too (it leaks otherwise)", open, accepted)
	expectEnd(t, late, "late", "srv.Close()")
	n := clientsNow(t, srv)
	assert.Zero(t, n, "srv.Clients() = %d after srv.Close(), want 0", n)
}

// A breakingListener hands out connections whose writes fail, from the
// accepted connection number healthy on: their clients are gone for the
// server as soon as it writes to them.
type breakingListener struct {
	net.Listener
	healthy int

	mu       sync.Mutex
	accepted int
}

type brokenConn struct{ net.Conn }

func (brokenConn) Write([]byte) (int, error) { return 0, errBroken }

func (l *breakingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.accepted++
	n := l.accepted
	l.mu.Unlock()
	if n > l.healthy {
		return brokenConn{c}, nil
	}
	return c, nil
}

func TestFailingWritersLeaveUnderLock(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 4)
	const (
		healthy = 3
		broken  = 4
		frames  = 20 // per healthy client
	)
	l := &breakingListener{Listener: listenTCP(t), healthy: healthy}
	srv := &Server{QueueLen: 2 * healthy * frames} // nobody is dropped for a full queue
	serve(t, srv, l)
	var conns []net.Conn
	for i := 0; i < healthy; i++ {
		conns = append(conns, dial(t, l))
		waitClients(t, srv, i+1, "the healthy clients connected, one at a time")
	}
	for i := 0; i < broken; i++ {
		dial(t, l)
	}
	waitClients(t, srv, healthy+broken, fmt.Sprintf("%d healthy clients and %d whose connections fail on every write connected", healthy, broken))

	// The healthy clients broadcast all at once. The first frame goes to
	// every broken client too, whose writers then fail together, while the
	// broadcasts go on: each of them must take its client out of the set
	// under the server's lock.
	problems := make([]error, healthy)
	testkit.Together(t, healthy, 3*testkit.Patience,
		fmt.Sprintf("%d clients each sending %d frames and reading the others' %d", healthy, frames, (healthy-1)*frames),
		func(i int) {
			for k := 0; k < frames; k++ {
				if err := sendFrame(conns[i], numbered(i, 100+k)); err != nil {
					problems[i] = fmt.Errorf("sending frame %d: %v", k, err)
					return
				}
			}
			for n := 0; n < (healthy-1)*frames; n++ {
				if _, err := recvFrame(conns[i], testkit.Patience); err != nil {
					problems[i] = fmt.Errorf("after %d of the %d frames of the other healthy clients: %v", n, (healthy-1)*frames, err)
					return
				}
			}
		})
	for i, err := range problems {
		assert.NoError(t, err, "healthy client %d: %v", i, err)
	}
	waitClients(t, srv, healthy, fmt.Sprintf("the %d clients whose connections failed on write must be gone", broken))
}

func TestCallExactSizes(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("macOS limits a UDP datagram to 9216 bytes by default (net.inet.udp.maxdgram); the grader runs this test on Linux")
	}
	testkit.NoGoroutineLeaks(t)
	srv := listenUDP(t)
	addr := srv.LocalAddr()
	// Timeout is long: no attempt here is meant to time out.
	cl := &Client{Conn: listenUDP(t), Timeout: testkit.Patience, Attempts: 3}

	// One byte too many: refused before anything is sent.
	tooBig := pattern(MaxDatagram - IDLen + 1)
	var (
		resp []byte
		err  error
	)
	testkit.Within(t, testkit.Patience, fmt.Sprintf("cl.Call(ctx, addr, a request of MaxDatagram-IDLen+1 = %d bytes)", len(tooBig)), func() {
		resp, err = cl.Call(context.Background(), addr, tooBig)
	})
	testkit.ErrorIs(t, err, ErrFrameTooLarge, "cl.Call(ctx, addr, a request of MaxDatagram-IDLen+1 = %d bytes) = %q, %s, want ErrFrameTooLarge (with its 4-byte ID it does not fit in one datagram)", len(tooBig), resp, errName(err))
	extra, sent := nextDatagram(t, srv, testkit.Grace)
	assert.False(t, sent, "the server got a datagram of %d bytes from a call whose request is too large, want none", 4+len(extra.payload))

	// The largest request that fits: MaxDatagram bytes with its ID.
	largest := pattern(MaxDatagram - IDLen)
	op := testkit.Go(func() { resp, err = cl.Call(context.Background(), addr, largest) })
	var (
		d  datagram
		ok bool
	)
	// Bounded: Patience in all, in steps, so that a Call that refused the
	// request is seen at once.
	for deadline := time.Now().Add(testkit.Patience); !ok && !op.Done() && time.Now().Before(deadline); {
		d, ok = nextDatagram(t, srv, 100*time.Millisecond)
	}
	if !ok {
		op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, the largest request)")
		// resp and err are read only now that the call has returned.
		require.FailNow(t, "the server got no request", "cl.Call(ctx, addr, a request of MaxDatagram-IDLen = %d bytes) = %q, %s and sent nothing, want it sent and answered: with its 4-byte ID it is exactly MaxDatagram = %d bytes, which fits (the limit is inclusive)",
			len(largest), resp, errName(err), MaxDatagram)
	}
	assert.Equal(t, len(largest), len(d.payload), "the server got a request of %d bytes, want %d", len(d.payload), len(largest))
	reply(t, srv, d.from, d.id, "got it")
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, the largest request) after its reply was sent")
	msg := fmt.Sprintf("cl.Call(ctx, addr, a request of MaxDatagram-IDLen = %d bytes) = %q, %s, want \"got it\", nil (the limit is inclusive)", len(largest), resp, errName(err))
	if assert.NoError(t, err, msg) {
		assert.Equal(t, "got it", string(resp), msg)
	}

	// An empty response: a reply of exactly IDLen bytes is a reply. A
	// second reply to the same call comes right after it, for a client
	// that skipped the first.
	op = testkit.Go(func() { resp, err = cl.Call(context.Background(), addr, []byte("anything?")) })
	// Bounded: a few datagrams at most (a late attempt of the call before
	// may come first), each read waiting Patience at most.
	for k := 0; d.payload != "anything?"; k++ {
		require.Less(t, k, 8, "the server got %d datagrams, none of them the request \"anything?\" of cl.Call(ctx, addr, \"anything?\")", k)
		d, ok = nextDatagram(t, srv, testkit.Patience)
		require.True(t, ok, "the server got nothing from cl.Call(ctx, addr, \"anything?\") within %v", testkit.Patience)
	}
	reply(t, srv, d.from, d.id, "")
	reply(t, srv, d.from, d.id, "not this one")
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, \"anything?\") after its reply was sent")
	msg = fmt.Sprintf("cl.Call(ctx, addr, \"anything?\") = %q, %s, want \"\", nil: its first reply was the 4 bytes of its ID and nothing more, an empty response (only a datagram shorter than IDLen is no reply)", resp, errName(err))
	if assert.NoError(t, err, msg) {
		assert.Equal(t, "", string(resp), msg)
	}
}
