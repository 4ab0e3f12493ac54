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
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
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

// A closeWatcher is a listener that records whether it was closed.
type closeWatcher struct {
	net.Listener
	closed atomic.Bool
}

func (l *closeWatcher) Close() error {
	l.closed.Store(true)
	return l.Listener.Close()
}

func TestCloseWaitsForItsGoroutines(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	held := &heldListener{Listener: listenTCP(t), entered: make(chan struct{}, 8), release: make(chan struct{})}
	srv := &Server{}
	r := serve(t, srv, held)
	a, b := dial(t, held), dial(t, held)
	released := false
	letGo := func() {
		if !released {
			released = true
			close(held.release)
		}
	}
	t.Cleanup(letGo) // runs before the server's clean-up, which closes it
	waitClients(t, srv, 2, "two clients connected")

	// a's frame goes to b: b's writer enters Write, and stays there.
	mustSend(t, a, "a", []byte("for b"))
	testkit.Within(t, testkit.Patience, "the server's Write of a's frame to b", func() { <-held.entered })

	var err error
	closing := testkit.Go(func() { err = srv.Close() })
	closing.StaysBlocked(t, testkit.Grace,
		"srv.Close() while a goroutine of the server was still inside conn.Write (Close must return only once every goroutine of the server has ended: wait for them, with a sync.WaitGroup)")
	letGo()
	closing.Finishes(t, testkit.Patience, "srv.Close() once the server's last Write returned")
	if err != nil {
		t.Errorf("srv.Close() = %v, want nil", err)
	}
	r.serveReturned(t, "srv.Close()")
	expectEnd(t, a, "a", "srv.Close()")
	expectEnd(t, b, "b", "srv.Close()")

	// The same for Shutdown: it returns once the writers have sent what
	// was queued and every goroutine has ended, not before.
	held2 := &heldListener{Listener: listenTCP(t), entered: make(chan struct{}, 8), release: make(chan struct{})}
	srv2 := &Server{}
	r2 := serve(t, srv2, held2)
	c, d := dial(t, held2), dial(t, held2)
	released2 := false
	letGo2 := func() {
		if !released2 {
			released2 = true
			close(held2.release)
		}
	}
	t.Cleanup(letGo2)
	waitClients(t, srv2, 2, "two clients connected")
	mustSend(t, c, "c", []byte("for d"))
	testkit.Within(t, testkit.Patience, "the server's Write of c's frame to d", func() { <-held2.entered })
	shutting := testkit.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*testkit.Patience)
		defer cancel()
		err = srv2.Shutdown(ctx)
	})
	shutting.StaysBlocked(t, testkit.Grace,
		"srv.Shutdown(ctx) while a goroutine of the server was still inside conn.Write, sending a queued frame (Shutdown returns once the queued frames are sent and every goroutine of the server has ended)")
	letGo2()
	shutting.Finishes(t, testkit.Patience, "srv.Shutdown(ctx) once the server's last Write returned")
	if err != nil {
		t.Errorf("srv.Shutdown(ctx) = %v, want nil (the queued frame was sent)", err)
	}
	r2.serveReturned(t, "srv.Shutdown(ctx)")
	mustReceive(t, d, "d", []byte("for d"), `"for d" from c, queued before the shutdown`)
	expectEnd(t, c, "c", "srv.Shutdown(ctx)")
	expectEnd(t, d, "d", "srv.Shutdown(ctx)")

	// Serve on a closed server refuses, and closes the listener it was
	// given, as every return of Serve does.
	l := &closeWatcher{Listener: listenTCP(t)}
	var again error
	testkit.Within(t, testkit.Patience, "srv.Serve(l) after srv.Close()", func() { again = srv.Serve(l) })
	if !testkit.Is(again, ErrServerClosed) {
		t.Errorf("srv.Serve(l) on a closed server = %s, want ErrServerClosed", errName(again))
	}
	if !l.closed.Load() {
		t.Errorf("srv.Serve(l) on a closed server returned and left l open, want l closed: Serve always closes its listener, or clients that dial it wait for ever for a server that is gone")
	}
}

// A lateListener hands the server the connection it accepted only once the
// listener is being closed: a client that connects just as the server
// closes.
type lateListener struct {
	*trackingListener
	got     chan struct{} // a value once Accept has a connection in hand
	closing chan struct{}
	once    sync.Once
}

func (l *lateListener) Accept() (net.Conn, error) {
	c, err := l.trackingListener.Accept()
	if err != nil {
		return nil, err
	}
	l.got <- struct{}{}
	<-l.closing
	return c, nil
}

func (l *lateListener) Close() error {
	l.once.Do(func() { close(l.closing) })
	return l.trackingListener.Close()
}

func TestConnAcceptedWhileClosing(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	l := &lateListener{trackingListener: track(listenTCP(t)), got: make(chan struct{}, 1), closing: make(chan struct{})}
	srv := &Server{}
	r := serve(t, srv, l)
	late := dial(t, l)
	testkit.Within(t, testkit.Patience, "the listener accepting the client's connection", func() { <-l.got })

	// Accept returns the connection once Close has closed the listener:
	// the server must close it (it is nobody's client), release its lock,
	// and let Serve return.
	var err error
	testkit.Within(t, testkit.Patience,
		"srv.Close() while Serve was receiving a new connection (does Serve release the lock on every path, and return once the listener is closed?)",
		func() { err = srv.Close() })
	if err != nil {
		t.Errorf("srv.Close() = %v, want nil", err)
	}
	r.serveReturned(t, "srv.Close()")
	if open, accepted := l.open(); open != 0 {
		t.Fatalf("after srv.Close() returned, %d of the %d connections the server accepted were still open: a connection that Accept returns after Close must be closed too (it leaks otherwise)", open, accepted)
	}
	expectEnd(t, late, "late", "srv.Close()")
	if n := clientsNow(t, srv); n != 0 {
		t.Errorf("srv.Clients() = %d after srv.Close(), want 0", n)
	}
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
		if err != nil {
			t.Errorf("healthy client %d: %v", i, err)
		}
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
	if !testkit.Is(err, ErrFrameTooLarge) {
		t.Errorf("cl.Call(ctx, addr, a request of MaxDatagram-IDLen+1 = %d bytes) = %q, %s, want ErrFrameTooLarge (with its 4-byte ID it does not fit in one datagram)", len(tooBig), resp, errName(err))
	}
	if d, ok := nextDatagram(t, srv, testkit.Grace); ok {
		t.Errorf("the server got a datagram of %d bytes from a call whose request is too large, want none", 4+len(d.payload))
	}

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
		t.Fatalf("cl.Call(ctx, addr, a request of MaxDatagram-IDLen = %d bytes) = %q, %s and sent nothing, want it sent and answered: with its 4-byte ID it is exactly MaxDatagram = %d bytes, which fits (the limit is inclusive)",
			len(largest), resp, errName(err), MaxDatagram)
	}
	if len(d.payload) != len(largest) {
		t.Errorf("the server got a request of %d bytes, want %d", len(d.payload), len(largest))
	}
	reply(t, srv, d.from, d.id, "got it")
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, the largest request) after its reply was sent")
	if err != nil || string(resp) != "got it" {
		t.Errorf("cl.Call(ctx, addr, a request of MaxDatagram-IDLen = %d bytes) = %q, %s, want \"got it\", nil (the limit is inclusive)", len(largest), resp, errName(err))
	}

	// An empty response: a reply of exactly IDLen bytes is a reply. A
	// second reply to the same call comes right after it, for a client
	// that skipped the first.
	op = testkit.Go(func() { resp, err = cl.Call(context.Background(), addr, []byte("anything?")) })
	// Bounded: a few datagrams at most (a late attempt of the call before
	// may come first), each read waiting Patience at most.
	for k := 0; d.payload != "anything?"; k++ {
		if k == 8 {
			t.Fatalf("the server got %d datagrams, none of them the request \"anything?\" of cl.Call(ctx, addr, \"anything?\")", k)
		}
		if d, ok = nextDatagram(t, srv, testkit.Patience); !ok {
			t.Fatalf("the server got nothing from cl.Call(ctx, addr, \"anything?\") within %v", testkit.Patience)
		}
	}
	reply(t, srv, d.from, d.id, "")
	reply(t, srv, d.from, d.id, "not this one")
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, \"anything?\") after its reply was sent")
	if err != nil || len(resp) != 0 {
		t.Errorf("cl.Call(ctx, addr, \"anything?\") = %q, %s, want \"\", nil: its first reply was the 4 bytes of its ID and nothing more, an empty response (only a datagram shorter than IDLen is no reply)", resp, errName(err))
	}
}
