package socket

// Hidden tests of part 2, the broadcast server. They cover these entries of
// the bug catalogue:
//
//   - huge-length: TestServerRefusesOversizedFrame sends the server frames
//     over its MaxFrame.
//   - slow-client-stalls: TestSlowClientIsDropped connects a client that
//     never reads and checks that the others keep getting every frame.
//   - lost-or-duplicated-broadcast: TestBroadcastExactlyOnceInOrder has
//     four clients, on TCP and on a Unix socket, all sending at once, and
//     counts every frame each one receives; TestSlowClientIsDropped checks
//     that a client that fell behind is dropped, not left with gaps.
//   - dropped-client-left-open: TestSlowClientIsDropped checks that the
//     slow client's connection is closed when it is dropped, while it
//     still reads nothing (its writer is stuck in a Write meanwhile).
//   - shutdown-leaks: TestShutdownLeavesNothing and
//     TestShutdownGivesUpOnStuckClient check, after Shutdown, that every
//     connection the server accepted is closed, every client sees the end
//     of its stream, and no goroutine is left.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallBuffers makes the kernel's buffers of a TCP connection small, so
// that a client that does not read stops the writes to it after a few
// kilobytes rather than a few megabytes.
const smallBuffer = 8 << 10

func shrinkWrites(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(smallBuffer)
	}
}

func shrinkReads(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.(*net.TCPConn).SetReadBuffer(smallBuffer), "conn.SetReadBuffer(%d)", smallBuffer)
}

// numbered returns a payload of size bytes that starts with n.
func numbered(n, size int) []byte {
	p := pattern(size)
	binary.BigEndian.PutUint32(p, uint32(n))
	return p
}

func TestServerRefusesOversizedFrame(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	l := testkit.NewTrackingListener(listenTCP(t))
	srv := &Server{MaxFrame: 1024}
	serve(t, srv, l)
	big, huge, b, c := dial(t, l), dial(t, l), dial(t, l), dial(t, l)
	waitClients(t, srv, 4, "four clients connected")

	// 1025 bytes, one over the server's MaxFrame of 1024.
	mustSend(t, big, "big", pattern(1025))
	expectEnd(t, big, "big", "it sent a frame of 1025 bytes to a server whose MaxFrame is 1024")
	// A prefix that claims 4 GiB, and nothing after it.
	huge.SetWriteDeadline(time.Now().Add(testkit.Patience))
	_, err := huge.Write([]byte{0xff, 0xff, 0xff, 0xff})
	require.NoError(t, err, "client huge: writing the prefix [ff ff ff ff]")
	expectEnd(t, huge, "huge", "it sent the length prefix [ff ff ff ff] to a server whose MaxFrame is 1024")
	waitClients(t, srv, 2, "the two clients that sent frames over the limit were disconnected")

	// The others heard nothing of it and carry on; 1024 bytes is allowed.
	mustSend(t, b, "b", pattern(1024))
	mustReceive(t, c, "c", pattern(1024),
		"the 1024-byte frame from b (not the 1025-byte frame from big: the server must refuse frames over its MaxFrame)")
	open, accepted := l.Open()
	assert.Equal(t, 2, open, "%d of the %d connections the server accepted are open, want 2: the connections of the clients that sent oversized frames must be closed", open, accepted)
}

func TestSlowClientIsDropped(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	const (
		queueLen  = 4
		frameSize = 64 << 10
		maxFrames = 256 // 16 MiB: far more than the slow client's queue and buffers hold
	)
	l := testkit.NewTrackingListener(listenTCP(t))
	l.Setup = shrinkWrites
	srv := &Server{QueueLen: queueLen}
	serve(t, srv, l)
	slow := dial(t, l)
	shrinkReads(t, slow)
	b, c := dial(t, l), dial(t, l)
	waitClients(t, srv, 3, "three clients connected")

	// b sends frames; c reads each one before b sends the next; slow reads
	// nothing. The broadcast to c must go on regardless, and slow must be
	// dropped once its queue is full.
	dropped := -1
	for i := 0; i < maxFrames && (dropped < 0 || i < dropped+3); i++ {
		p := numbered(i, frameSize)
		require.NoError(t, sendFrame(b, p), "client b: sending frame %d (is the server still reading from b?)", i)
		got, err := recvFrame(c, testkit.Patience)
		require.False(t, isTimeout(err), "client c received nothing within %v after b sent frame %d of %d bytes, while a client that reads nothing is connected: "+
			"the broadcast stalled behind the slow client (a write to a client that does not read blocks; queue frames per client and never wait for a full queue)",
			testkit.Patience, i, frameSize)
		require.NoError(t, err, "client c: reading frame %d", i)
		require.True(t, bytes.Equal(got, p), "client c received %s, want frame %d of b (%d bytes starting [% x])", hexStart(got), i, frameSize, p[:4])
		if dropped < 0 && clientsNow(t, srv) == 2 {
			dropped = i
		}
	}
	require.GreaterOrEqual(t, dropped, 0, "srv.Clients() = 3 after b sent %d frames of %d bytes that one client never read, want 2: "+
		"with a queue of %d frames the slow client's queue was full long ago, and a client whose queue is full must be dropped (its connection closed), not skipped",
		maxFrames, frameSize, queueLen)

	// slow has read nothing, so its writer is stuck in a Write: the server
	// must close slow's connection itself when it drops it, not leave that
	// to a writer that may never come back from its Write.
	var slowConn *testkit.TrackedConn
	for _, tc := range l.Accepted() {
		if tc.RemoteAddr().String() == slow.LocalAddr().String() {
			slowConn = tc
		}
	}
	require.NotNil(t, slowConn, "the server accepted no connection from the slow client's address %v", slow.LocalAddr())
	// Bounded: Patience in all, in steps of a millisecond.
	for deadline := time.Now().Add(testkit.Patience); !slowConn.Closed(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			require.FailNow(t, "the slow client's connection is still open", "srv.Clients() = 2: the slow client was dropped, but its connection was still open %v later, while it read nothing: "+
				"close a dropped client's connection when you drop it (its writer is stuck in a Write to a client that does not read, and would close it only once that Write ends)",
				testkit.Patience)
		}
	}

	// slow gets what was sent to it before the drop, in order and without
	// gaps, then the end of its stream.
	for k := 0; ; k++ {
		got, err := recvFrame(slow, testkit.Patience)
		require.False(t, isTimeout(err), "client slow: its connection was still open %v after srv.Clients() reported it gone: a dropped client's connection must be closed", testkit.Patience)
		if err != nil {
			break // the end of the stream, or a frame cut short by the drop
		}
		require.True(t, k < maxFrames && bytes.Equal(got, numbered(k, frameSize)), "client slow received %s as its frame %d, want frame %d of b: a client must get its frames in order and without gaps, until it is dropped",
			hexStart(got), k, k)
	}

	// b and c are still there and still hear each other.
	mustSend(t, c, "c", []byte("still here"))
	mustReceive(t, b, "b", []byte("still here"), `"still here" from c, after the slow client was dropped`)
	open, accepted := l.Open()
	assert.Equal(t, 2, open, "%d of the %d connections the server accepted are open, want 2 (b and c)", open, accepted)
}

func TestBroadcastExactlyOnceInOrder(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 4)
	const (
		clients  = 4
		rounds   = 25
		perRound = 6 // frames each client sends per round
	)
	tcp, unix := testkit.NewTrackingListener(listenTCP(t)), testkit.NewTrackingListener(listenUnix(t))
	srv := &Server{QueueLen: 128} // more than can ever be waiting: nobody is dropped
	r := serve(t, srv, tcp, unix)
	conns := []net.Conn{dial(t, tcp), dial(t, unix), dial(t, tcp), dial(t, unix)}
	names := []string{"t0 (tcp)", "u1 (unix)", "t2 (tcp)", "u3 (unix)"}
	waitClients(t, srv, clients, "two clients on TCP and two on a Unix socket connected")

	// Frame k of client i: [i][k][padding of a size that varies with k].
	frame := func(i, k int) []byte {
		p := make([]byte, 8+(k*37)%3000)
		binary.BigEndian.PutUint32(p, uint32(i))
		binary.BigEndian.PutUint32(p[4:], uint32(k))
		return p
	}

	// Each client, every round, sends its frames and then reads the
	// frames of the others for that round. A client is at most one round
	// ahead of the others, so no queue ever holds more than two rounds.
	problems := make([]error, clients)
	next := make([][]int, clients) // next[i][j]: the frame of j that i expects next
	testkit.Together(t, clients, 3*testkit.Patience,
		fmt.Sprintf("%d clients each sending %d frames and reading the others' %d", clients, rounds*perRound, (clients-1)*rounds*perRound),
		func(i int) {
			next[i] = make([]int, clients)
			for round := 0; round < rounds; round++ {
				for k := round * perRound; k < (round+1)*perRound; k++ {
					if err := sendFrame(conns[i], frame(i, k)); err != nil {
						problems[i] = fmt.Errorf("sending frame %d: %v", k, err)
						return
					}
				}
				for n := 0; n < (clients-1)*perRound; n++ {
					got, err := recvFrame(conns[i], testkit.Patience)
					if err != nil {
						problems[i] = fmt.Errorf("in round %d, after %d of the %d frames of the other clients: %v", round, n, (clients-1)*perRound, err)
						return
					}
					if err := checkFrame(got, i, next[i], names, frame); err != nil {
						problems[i] = err
						return
					}
				}
			}
		})
	for i, err := range problems {
		assert.NoError(t, err, "client %s: %v", names[i], err)
	}
	if t.Failed() {
		return
	}

	// Nothing more may come: no duplicate, no echo. Shutdown delivers
	// whatever is still queued before it closes the connections.
	err := shutdownNow(t, srv)
	assert.NoError(t, err, "srv.Shutdown(ctx) (every client had read everything sent to it)")
	r.serveReturned(t, "srv.Shutdown(ctx)")
	deadline := time.Now().Add(testkit.Patience) // one bound for all four
	for i, conn := range conns {
		got, err := recvFrame(conn, time.Until(deadline))
		if err == nil {
			assert.Fail(t, "a frame came after the last one", "client %s received %s after it had every frame of the others exactly once, want the end of the stream: %v",
				names[i], hexStart(got), describeExtra(got, i, next[i], names))
			continue
		}
		assert.False(t, isTimeout(err), "client %s: its connection was still open %v after srv.Shutdown(ctx) returned", names[i], testkit.Patience)
	}
}

// checkFrame checks that got, received by client i, is the frame it
// expects next from its sender, and moves next on.
func checkFrame(got []byte, i int, next []int, names []string, frame func(i, k int) []byte) error {
	if len(got) < 8 {
		return fmt.Errorf("received %s, which is no frame any client sent", hexStart(got))
	}
	from, k := int(binary.BigEndian.Uint32(got)), int(binary.BigEndian.Uint32(got[4:]))
	switch {
	case from >= len(next):
		return fmt.Errorf("received %s, which is no frame any client sent", hexStart(got))
	case from == i:
		return fmt.Errorf("received its own frame %d back: a frame goes to every client but its sender", k)
	case k < next[from]:
		return fmt.Errorf("received frame %d of %s twice (or out of order: frame %d was already in)", k, names[from], next[from]-1)
	case k > next[from]:
		return fmt.Errorf("received frame %d of %s while frame %d of it never came: frames were lost or reordered (each client gets every other client's frames, in the order they were sent; was a buffer reused while its frame was still waiting to be sent?)",
			k, names[from], next[from])
	case !bytes.Equal(got, frame(from, k)):
		return fmt.Errorf("received frame %d of %s with the wrong content: %s, want %s (was a buffer reused while its frame was still waiting to be sent?)",
			k, names[from], hexStart(got), hexStart(frame(from, k)))
	}
	next[from]++
	return nil
}

// shutdownNow calls srv.Shutdown with a context that gives up after
// testkit.Patience, and fails the test if Shutdown has not returned within
// testkit.Patience.
func shutdownNow(t *testing.T, srv *Server) error {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, "srv.Shutdown(ctx)", func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Patience)
		defer cancel()
		err = srv.Shutdown(ctx)
	})
	return err
}

func describeExtra(got []byte, i int, next []int, names []string) string {
	if len(got) < 8 {
		return "it is no frame any client sent"
	}
	from, k := int(binary.BigEndian.Uint32(got)), int(binary.BigEndian.Uint32(got[4:]))
	switch {
	case from == i:
		return fmt.Sprintf("it is its own frame %d, echoed back", k)
	case from < len(next):
		return fmt.Sprintf("it is frame %d of %s again", k, names[from])
	}
	return "it is no frame any client sent"
}

func TestShutdownLeavesNothing(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	tcp, unix := testkit.NewTrackingListener(listenTCP(t)), testkit.NewTrackingListener(listenUnix(t))
	srv := &Server{}
	r := serve(t, srv, tcp, unix)
	a, b, c := dial(t, tcp), dial(t, unix), dial(t, tcp)
	waitClients(t, srv, 3, "three clients connected")

	// Two clients come and go before the shutdown: the server must let go
	// of them (and of their goroutines) when they leave.
	for _, l := range []net.Listener{tcp, unix} {
		d := dial(t, l)
		waitClients(t, srv, 4, "a fourth client connected")
		mustSend(t, d, "d", []byte("d was here"))
		mustReceive(t, a, "a", []byte("d was here"), `"d was here" from d`)
		mustReceive(t, b, "b", []byte("d was here"), `"d was here" from d`)
		mustReceive(t, c, "c", []byte("d was here"), `"d was here" from d`)
		d.Close()
		waitClients(t, srv, 3, "the fourth client hung up, and the server must notice it is gone")
	}

	// a sends three frames; b reads them, so the server has queued them
	// for c too, who has not read them yet. Shutdown must deliver them.
	sent := [][]byte{[]byte("one"), []byte("two"), pattern(20000)}
	for _, p := range sent {
		mustSend(t, a, "a", p)
	}
	for _, p := range sent {
		mustReceive(t, b, "b", p, show(p)+" from a")
	}

	err := shutdownNow(t, srv)
	assert.NoError(t, err, "srv.Shutdown(ctx) (every client reads, or has room for what is queued for it)")
	for _, l := range []*testkit.TrackingListener{tcp, unix} {
		open, accepted := l.Open()
		assert.Zero(t, open, "after srv.Shutdown(ctx) returned, %d of the %d connections accepted on %s were still open: "+
			"every connection must be closed by then, those of clients that left earlier included",
			open, accepted, l.Addr().Network())
	}
	n := clientsNow(t, srv)
	assert.Zero(t, n, "srv.Clients() = %d after srv.Shutdown(ctx), want 0", n)
	r.serveReturned(t, "srv.Shutdown(ctx)")
	for _, p := range sent {
		mustReceive(t, c, "c", p, show(p)+" from a, queued before the shutdown (a graceful shutdown delivers what is queued)")
	}
	expectEnd(t, a, "a", "srv.Shutdown(ctx)")
	expectEnd(t, b, "b", "srv.Shutdown(ctx)")
	expectEnd(t, c, "c", "srv.Shutdown(ctx)")

	// Close after Shutdown has nothing left to do.
	testkit.Within(t, testkit.Patience, "srv.Close() after srv.Shutdown(ctx)", func() { srv.Close() })
}

func TestShutdownGivesUpOnStuckClient(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	const (
		frames    = 40
		frameSize = 64 << 10 // 2.5 MiB in all: far more than the stuck client's buffers hold
		wait      = 300 * time.Millisecond
	)
	l := testkit.NewTrackingListener(listenTCP(t))
	l.Setup = shrinkWrites
	srv := &Server{QueueLen: 1024} // room for every frame: the stuck client is never dropped
	r := serve(t, srv, l)
	stuck := dial(t, l)
	shrinkReads(t, stuck)
	b, c := dial(t, l), dial(t, l)
	waitClients(t, srv, 3, "three clients connected")

	for i := 0; i < frames; i++ {
		p := numbered(i, frameSize)
		mustSend(t, b, "b", p)
		mustReceive(t, c, "c", p, fmt.Sprintf("frame %d of b (%d bytes)", i, frameSize))
	}

	// The frames queued for stuck can never all be sent: Shutdown must
	// give up when ctx is done, close everything, and say so.
	var (
		err     error
		elapsed time.Duration
	)
	testkit.Within(t, testkit.Patience, fmt.Sprintf("srv.Shutdown(ctx) with a %v deadline and a client that reads nothing", wait), func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		start := time.Now()
		err = srv.Shutdown(ctx)
		elapsed = time.Since(start)
	})
	testkit.ErrorIs(t, err, context.DeadlineExceeded, "srv.Shutdown(ctx) = %v after %v, want context.DeadlineExceeded: %d frames of %d bytes were queued for a client that reads nothing, so they could not all be delivered within %v",
		err, elapsed.Round(time.Millisecond), frames, frameSize, wait)
	open, accepted := l.Open()
	assert.Zero(t, open, "after srv.Shutdown(ctx) gave up, %d of the %d connections the server accepted were still open: when ctx is done, close everything at once", open, accepted)
	r.serveReturned(t, "srv.Shutdown(ctx)")
	expectEnd(t, stuck, "stuck", "srv.Shutdown(ctx)")
	expectEnd(t, b, "b", "srv.Shutdown(ctx)")
	expectEnd(t, c, "c", "srv.Shutdown(ctx)")
}
