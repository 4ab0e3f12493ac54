package socket

// These tests are the contract of the exercise. Run them with the race
// detector, which is what the grader does:
//
//	go test -race ./8-socket/
//
// Every network test uses the loopback interface only (127.0.0.1, port 0,
// so the system picks a free port) or a Unix socket in a fresh temporary
// directory. Every wait has a bound: a test that would hang fails instead,
// and says what did not happen.
//
// The helpers at the top are shared with the tests the grader adds.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Helpers: frames as the tests see them
// ---------------------------------------------------------------------------

// pattern returns n bytes that are easy to tell apart: 0, 1, 2, … 250, 0, 1, …
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i % 251)
	}
	return p
}

// wire returns the frame of payload as the README specifies it, written
// out by hand: the length as 4 bytes, most significant first, then the
// payload.
func wire(prefix [4]byte, payload []byte) []byte {
	return append(prefix[:], payload...)
}

// goldenFrames are frames and the exact bytes that stand for them.
var goldenFrames = []struct {
	name    string
	payload []byte
	wire    []byte
}{
	{"an empty payload", []byte{}, []byte{0x00, 0x00, 0x00, 0x00}},
	{`the payload "hi!"`, []byte("hi!"), []byte{0x00, 0x00, 0x00, 0x03, 'h', 'i', '!'}},
	{"a payload of 258 bytes", pattern(258), wire([4]byte{0x00, 0x00, 0x01, 0x02}, pattern(258))},
	{"a payload of 70000 bytes", pattern(70000), wire([4]byte{0x00, 0x01, 0x11, 0x70}, pattern(70000))},
}

// hexStart shows the first bytes of b in hex, and its length when it is
// longer than what is shown.
func hexStart(b []byte) string {
	const show = 12
	if len(b) <= show {
		return fmt.Sprintf("[% x] (%d bytes)", b, len(b))
	}
	return fmt.Sprintf("[% x …] (%d bytes)", b[:show], len(b))
}

// describePrefix guesses what went wrong when the 4-byte prefix got is not
// the big-endian length want.
func describePrefix(got []byte, want uint32) string {
	if len(got) < 4 {
		return "the frame is shorter than its 4-byte length prefix"
	}
	be, le := binary.BigEndian.Uint32(got), binary.LittleEndian.Uint32(got)
	switch {
	case be == want:
		return "the prefix is right; the payload after it is not"
	case le == want:
		return fmt.Sprintf("the prefix holds %d in little-endian order (the host's byte order on most machines); the wire format is big-endian, network byte order: most significant byte first", want)
	case be == want+1 || be+1 == want:
		return fmt.Sprintf("the prefix says %d, the payload has %d bytes: the length is off by one", be, want)
	case be == want+4:
		return fmt.Sprintf("the prefix says %d for a payload of %d bytes: it must count the payload only, not the 4 bytes of the prefix", be, want)
	}
	return fmt.Sprintf("the prefix reads %d as a big-endian number, want %d (the payload's length)", be, want)
}

// writeFrameNow calls WriteFrame(w, payload) and fails the test if it does
// not return within testkit.Patience.
func writeFrameNow(t *testing.T, w io.Writer, payload []byte, what string) error {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, what, func() { err = WriteFrame(w, payload) })
	return err
}

// readFrameNow calls ReadFrame(r, max) and fails the test if it does not
// return within testkit.Patience.
func readFrameNow(t *testing.T, r io.Reader, max int, what string) ([]byte, error) {
	t.Helper()
	var (
		p   []byte
		err error
	)
	testkit.Within(t, testkit.Patience, what, func() { p, err = ReadFrame(r, max) })
	return p, err
}

// ---------------------------------------------------------------------------
// Helpers: sockets
// ---------------------------------------------------------------------------

// listenTCP listens on a free port of the loopback interface.
func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, `net.Listen("tcp", "127.0.0.1:0")`)
	t.Cleanup(func() { l.Close() })
	return l
}

// listenUnix listens on a Unix socket in a new, short temporary directory
// (a socket's path must fit in about 100 bytes, and t.TempDir() can be
// longer). On a Windows without Unix sockets the test is skipped.
func listenUnix(t *testing.T) net.Listener {
	t.Helper()
	dir, err := os.MkdirTemp("", "sock")
	require.NoError(t, err, `os.MkdirTemp("", "sock")`)
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil && runtime.GOOS == "windows" {
		t.Skipf("net.Listen(\"unix\", %q) = %v: this Windows has no Unix sockets (Windows 10 1803 or newer has them)", path, err)
	}
	require.NoError(t, err, "net.Listen(\"unix\", %q), want a listener: %s has Unix sockets, so this test fails rather than skips (is something leaking file descriptors?)", path, runtime.GOOS)
	t.Cleanup(func() { l.Close() })
	return l
}

// A running server, as the tests start it.
type running struct {
	srv   *Server
	serve []*testkit.Op
	errs  []error // what each Serve returned, once its Op is done
}

// serve starts srv.Serve on each listener, each on a goroutine of its own.
// When the test ends, the server is closed (if the test has not done it)
// and every Serve must have returned.
func serve(t *testing.T, srv *Server, ls ...net.Listener) *running {
	t.Helper()
	r := &running{srv: srv, errs: make([]error, len(ls))}
	for i, l := range ls {
		r.serve = append(r.serve, testkit.Go(func() { r.errs[i] = srv.Serve(l) }))
	}
	t.Cleanup(func() {
		wait := testkit.Patience
		if t.Failed() {
			wait = time.Second // the failure is reported already; do not make it wait
		}
		testkit.Within(t, wait, "srv.Close() at the end of the test", func() { srv.Close() })
		for _, op := range r.serve {
			op.Finishes(t, wait, "srv.Serve(l) after srv.Close()")
		}
	})
	return r
}

// serveReturned checks that every Serve has returned ErrServerClosed.
func (r *running) serveReturned(t *testing.T, after string) {
	t.Helper()
	for i, op := range r.serve {
		op.Finishes(t, testkit.Patience, "srv.Serve(l) after "+after)
		testkit.ErrorIs(t, r.errs[i], ErrServerClosed, "srv.Serve(l) = %s after %s, want ErrServerClosed", errName(r.errs[i]), after)
	}
}

// dial connects a client to l, and closes it when the test ends.
func dial(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout(l.Addr().Network(), l.Addr().String(), testkit.Patience)
	require.NoError(t, err, "net.Dial(%q, %q)", l.Addr().Network(), l.Addr().String())
	t.Cleanup(func() { conn.Close() })
	return conn
}

// clientsNow calls srv.Clients(), with a time limit.
func clientsNow(t *testing.T, srv *Server) int {
	t.Helper()
	var n int
	testkit.Within(t, testkit.Patience,
		"srv.Clients() (it waits for the server's lock: does some goroutine hold the lock while it waits for a client?)",
		func() { n = srv.Clients() })
	return n
}

// waitClients waits until srv.Clients() reports n: the server has taken in
// (or let go of) the clients the test connected (or disconnected).
func waitClients(t *testing.T, srv *Server, n int, why string) {
	t.Helper()
	deadline := time.Now().Add(testkit.Patience)
	for {
		got := clientsNow(t, srv)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			require.Equal(t, n, got, "srv.Clients() = %d for %v, want %d (%s)", got, testkit.Patience, n, why)
		}
		time.Sleep(time.Millisecond)
	}
}

// sendFrame writes one frame to a client's connection, the way the README
// specifies it (not with WriteFrame: the server is tested on its own).
func sendFrame(conn net.Conn, payload []byte) error {
	conn.SetWriteDeadline(time.Now().Add(testkit.Patience))
	frame := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(frame, uint32(len(payload)))
	copy(frame[4:], payload)
	_, err := conn.Write(frame)
	return err
}

// recvFrame reads one frame from a client's connection, waiting at most
// wait. It accepts frames up to 16 MiB.
func recvFrame(conn net.Conn, wait time.Duration) ([]byte, error) {
	conn.SetReadDeadline(time.Now().Add(wait))
	var header [4]byte
	if _, err := io.ReadFull(conn, header[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(header[:])
	if n > 16<<20 {
		return nil, fmt.Errorf("the server sent a length prefix of %d ([% x]): not a frame the test sent", n, header)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(conn, p); err != nil {
		return nil, fmt.Errorf("the frame was cut short after its prefix [% x]: %w", header, err)
	}
	return p, nil
}

// errName names the errors of the API the way the README does.
func errName(err error) string {
	for _, e := range []struct {
		err  error
		name string
	}{{ErrFrameTooLarge, "ErrFrameTooLarge"}, {io.ErrUnexpectedEOF, "io.ErrUnexpectedEOF"}, {io.EOF, "io.EOF"},
		{ErrServerClosed, "ErrServerClosed"}, {ErrNoReply, "ErrNoReply"}} {
		if errors.Is(err, e.err) {
			if err == e.err {
				return e.name
			}
			return fmt.Sprintf("%s (%q)", e.name, err)
		}
	}
	if err == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mustSend sends payload from the client called name, on the test
// goroutine.
func mustSend(t *testing.T, conn net.Conn, name string, payload []byte) {
	t.Helper()
	require.NoError(t, sendFrame(conn, payload), "client %s: sending a frame of %d bytes to the server", name, len(payload))
}

// mustReceive reads the next frame of the client called name and checks
// it is want.
func mustReceive(t *testing.T, conn net.Conn, name string, want []byte, what string) {
	t.Helper()
	got, err := recvFrame(conn, testkit.Patience)
	require.False(t, isTimeout(err), "client %s received nothing within %v, want %s", name, testkit.Patience, what)
	require.NoError(t, err, "client %s: reading the next frame (%s)", name, what)
	require.True(t, bytes.Equal(got, want), "client %s received %s, want %s", name, show(got), what)
}

// show quotes a short payload and sums up a long one.
func show(p []byte) string {
	if len(p) <= 40 {
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("a payload of %d bytes starting %q", len(p), p[:20])
}

// expectEnd checks that the client called name sees its connection end
// (end of stream, or a reset) within testkit.Patience, after reading what
// is left in it.
func expectEnd(t *testing.T, conn net.Conn, name, after string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(testkit.Patience))
	// Bounded: a deadline ends the loop, and so does every error.
	buf := make([]byte, 64<<10)
	extra := 0
	for {
		n, err := conn.Read(buf)
		extra += n
		if err == nil {
			continue
		}
		require.False(t, isTimeout(err), "client %s: its connection was still open %v after %s (read %d more bytes, then nothing): the server must close every connection",
			name, testkit.Patience, after, extra)
		return
	}
}

// ---------------------------------------------------------------------------
// Part 1: framing
// ---------------------------------------------------------------------------

func TestWriteFrameGoldenBytes(t *testing.T) {
	for _, tc := range goldenFrames {
		var buf bytes.Buffer
		err := writeFrameNow(t, &buf, tc.payload, "WriteFrame(&buf, "+tc.name+")")
		if !assert.NoError(t, err, "WriteFrame(&buf, %s)", tc.name) {
			continue
		}
		got := buf.Bytes()
		assert.True(t, bytes.Equal(got, tc.wire), "WriteFrame(&buf, %s) wrote %s, want %s: %s",
			tc.name, hexStart(got), hexStart(tc.wire), describePrefix(got, uint32(len(tc.payload))))
	}

	// The limit: MaxFrame bytes is a frame, one more is not.
	var buf bytes.Buffer
	err := writeFrameNow(t, &buf, make([]byte, MaxFrame), "WriteFrame(&buf, MaxFrame bytes)")
	if assert.NoError(t, err, "WriteFrame(&buf, a payload of MaxFrame = %d bytes) (the limit itself is allowed)", MaxFrame) {
		got, want := buf.Bytes()[:4], []byte{0x00, 0x10, 0x00, 0x00}
		assert.True(t, buf.Len() == 4+MaxFrame && bytes.Equal(got, want), "WriteFrame(&buf, MaxFrame bytes) wrote %d bytes starting [% x], want %d bytes starting [% x]",
			buf.Len(), got, 4+MaxFrame, want)
	}
	buf.Reset()
	err = writeFrameNow(t, &buf, make([]byte, MaxFrame+1), "WriteFrame(&buf, MaxFrame+1 bytes)")
	testkit.ErrorIs(t, err, ErrFrameTooLarge, "WriteFrame(&buf, a payload of MaxFrame+1 bytes) = %s, want ErrFrameTooLarge", errName(err))
	assert.Zero(t, buf.Len(), "WriteFrame(&buf, a payload of MaxFrame+1 bytes) wrote %d bytes, want none (a refused frame must leave the stream untouched)", buf.Len())
}

func TestReadFrameGoldenBytes(t *testing.T) {
	// All the golden frames, back to back, as one stream.
	var stream []byte
	for _, tc := range goldenFrames {
		stream = append(stream, tc.wire...)
	}
	r := bytes.NewReader(stream)
	for _, tc := range goldenFrames {
		got, err := readFrameNow(t, r, MaxFrame, "ReadFrame(r, MaxFrame) on "+tc.name)
		require.NoError(t, err, "ReadFrame(r, MaxFrame) on the frame %s, want its payload", hexStart(tc.wire))
		require.True(t, bytes.Equal(got, tc.payload), "ReadFrame(r, MaxFrame) on the frame %s returned %s, want %s (the prefix is a big-endian length: [00 01 11 70] is 70000)",
			hexStart(tc.wire), hexStart(got), hexStart(tc.payload))
	}
	_, err := readFrameNow(t, r, MaxFrame, "ReadFrame(r, MaxFrame) at the end of the stream")
	testkit.ErrorIs(t, err, io.EOF, "ReadFrame(r, MaxFrame) at the end of the stream, between frames, = %s, want io.EOF", errName(err))

	// max is the largest payload accepted; max <= 0 means MaxFrame.
	three := []byte{0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c'}
	for _, tc := range []struct {
		max int
		why string
	}{{3, "a payload of exactly max bytes is allowed"}, {0, "max 0 means MaxFrame"}} {
		what := fmt.Sprintf("ReadFrame(r, %d)", tc.max)
		got, err := readFrameNow(t, bytes.NewReader(three), tc.max, what)
		if assert.NoError(t, err, "%s on [% x], want \"abc\" (%s)", what, three, tc.why) {
			assert.Equal(t, "abc", string(got), "%s on [% x] (%s)", what, three, tc.why)
		}
	}
}

func TestReadFrameBadInput(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		max    int
		want   error
		why    string
	}{
		{"an empty stream", nil, MaxFrame, io.EOF,
			"the stream ended cleanly, between frames"},
		{"a stream that ends inside the prefix", []byte{0x00, 0x00}, MaxFrame, io.ErrUnexpectedEOF,
			"the stream ended in the middle of a frame"},
		{"a stream that ends right after the prefix", []byte{0x00, 0x00, 0x00, 0x05}, MaxFrame, io.ErrUnexpectedEOF,
			"the prefix promised 5 bytes and none came: that is a frame cut short, not a clean end"},
		{"a stream that ends inside the payload", []byte{0x00, 0x00, 0x00, 0x05, 'a', 'b'}, MaxFrame, io.ErrUnexpectedEOF,
			"the prefix promised 5 bytes and only 2 came"},
		{"a length one over max", wire([4]byte{0x00, 0x00, 0x00, 0x0a}, pattern(10)), 9, ErrFrameTooLarge,
			"the prefix says 10 and max is 9"},
		{"the length prefix ff ff ff ff", []byte{0xff, 0xff, 0xff, 0xff, 't', 'a', 'i', 'l'}, MaxFrame, ErrFrameTooLarge,
			"the prefix claims 4 GiB"},
	}
	for _, tc := range tests {
		r := bytes.NewReader(tc.stream)
		got, err := readFrameNow(t, r, tc.max, "ReadFrame(r, max) on "+tc.name)
		if !testkit.ErrorIs(t, err, tc.want, "ReadFrame(r, %d) on %s [% x] = %s, %s, want %s (%s)", tc.max, tc.name, tc.stream, show(got), errName(err), errName(tc.want), tc.why) {
			continue
		}
		if tc.want == ErrFrameTooLarge {
			read := len(tc.stream) - r.Len()
			assert.Equal(t, 4, read, "ReadFrame(r, %d) on %s read %d bytes, want 4: a frame that is too large must be refused as soon as its prefix is read, before reading (or allocating) anything more",
				tc.max, tc.name, read)
		}
	}
}

func TestFramesOverTCP(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	l := listenTCP(t)
	var (
		server net.Conn
		aerr   error
	)
	accepted := testkit.Go(func() { server, aerr = l.Accept() })
	client := dial(t, l)
	accepted.Finishes(t, testkit.Patience, "l.Accept()")
	require.NoError(t, aerr, "l.Accept()")
	defer server.Close()

	// A 1 MiB frame does not fit in the socket's buffers: the reader gets
	// it in pieces, and the writer waits for the reader along the way.
	payloads := [][]byte{[]byte("hello"), {}, pattern(1000), pattern(300000), pattern(MaxFrame)}
	for _, dir := range []struct {
		name     string
		from, to net.Conn
	}{{"client to server", client, server}, {"server to client", server, client}} {
		var werr error
		writer := testkit.Go(func() {
			for _, p := range payloads {
				if werr = WriteFrame(dir.from, p); werr != nil {
					return
				}
			}
		})
		dir.to.SetReadDeadline(time.Now().Add(testkit.Patience))
		for i, want := range payloads {
			got, err := readFrameNow(t, dir.to, MaxFrame, dir.name+": ReadFrame(conn, MaxFrame)")
			require.NoError(t, err, "%s: ReadFrame(conn, MaxFrame) for frame %d (%d bytes), want its payload", dir.name, i, len(want))
			require.True(t, bytes.Equal(got, want), "%s: ReadFrame(conn, MaxFrame) returned %s for frame %d, want %s (a single Read may return only part of what was sent: keep reading)",
				dir.name, hexStart(got), i, hexStart(want))
		}
		writer.Finishes(t, testkit.Patience, dir.name+": WriteFrame(conn, p) for every frame")
		require.NoError(t, werr, "%s: WriteFrame(conn, p)", dir.name)
	}
	client.Close()
	server.SetReadDeadline(time.Now().Add(testkit.Patience))
	_, err := readFrameNow(t, server, MaxFrame, "ReadFrame(conn, MaxFrame) after the other end closed")
	testkit.ErrorIs(t, err, io.EOF, "ReadFrame(conn, MaxFrame) after the other end closed = %s, want io.EOF", errName(err))
}

// ---------------------------------------------------------------------------
// Part 2: the broadcast server
// ---------------------------------------------------------------------------

// roundRobin makes each client in turn send a frame, and checks that every
// other client receives it, and that the sender does not get it back.
func roundRobin(t *testing.T, names []string, conns []net.Conn, payloads [][]byte) {
	t.Helper()
	for k, p := range payloads {
		from := k % len(conns)
		mustSend(t, conns[from], names[from], p)
		for i, c := range conns {
			if i == from {
				continue
			}
			what := fmt.Sprintf("%s from client %s", show(p), names[from])
			if k >= len(conns) || i > from {
				// A client that sent earlier would see its own frame here
				// if the server echoed it back.
				what += fmt.Sprintf(" (if this is a frame client %s sent itself, the server echoed it back: a frame goes to every client but its sender)", names[i])
			}
			mustReceive(t, c, names[i], p, what)
		}
	}
}

func TestBroadcastTCP(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	l := listenTCP(t)
	srv := &Server{}
	serve(t, srv, l)
	names := []string{"a", "b", "c"}
	conns := []net.Conn{dial(t, l), dial(t, l), dial(t, l)}
	waitClients(t, srv, 3, "three clients connected")

	roundRobin(t, names, conns, [][]byte{
		[]byte("hello from a"), []byte("hello from b"), []byte("hello from c"),
		{}, pattern(100000), []byte("bye from c"),
	})
}

func TestBroadcastUnix(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	// One server, two listeners: clients on a Unix socket and a client on
	// TCP all hear each other.
	unix, tcp := listenUnix(t), listenTCP(t)
	srv := &Server{}
	serve(t, srv, unix, tcp)
	names := []string{"u1 (unix)", "u2 (unix)", "t (tcp)"}
	conns := []net.Conn{dial(t, unix), dial(t, unix), dial(t, tcp)}
	waitClients(t, srv, 3, "two clients on the Unix socket and one on TCP connected")

	roundRobin(t, names, conns, [][]byte{
		[]byte("over a unix socket"), []byte("still unix"), []byte("and over tcp"), pattern(5000),
	})
}

func TestCloseDisconnectsEveryone(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	l := testkit.NewTrackingListener(listenTCP(t))
	srv := &Server{}
	r := serve(t, srv, l)
	names := []string{"a", "b", "c"}
	conns := []net.Conn{dial(t, l), dial(t, l), dial(t, l)}
	waitClients(t, srv, 3, "three clients connected")
	roundRobin(t, names, conns, [][]byte{[]byte("one"), []byte("two")})

	var err error
	testkit.Within(t, testkit.Patience, "srv.Close()", func() { err = srv.Close() })
	assert.NoError(t, err, "srv.Close()")
	open, accepted := l.Open()
	assert.Zero(t, open, "after srv.Close() returned, %d of the %d connections the server accepted were still open: Close must close every connection before it returns", open, accepted)
	r.serveReturned(t, "srv.Close()")
	for i, c := range conns {
		expectEnd(t, c, names[i], "srv.Close()")
	}
	n := clientsNow(t, srv)
	assert.Zero(t, n, "srv.Clients() = %d after srv.Close(), want 0", n)
	c, err := net.DialTimeout("tcp", l.Addr().String(), testkit.Patience)
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "net.Dial to the server after srv.Close() succeeded, want it refused: Close must close the listener")
	var again error
	testkit.Within(t, testkit.Patience, "srv.Serve(l) after srv.Close()", func() { again = srv.Serve(listenTCP(t)) })
	testkit.ErrorIs(t, again, ErrServerClosed, "srv.Serve(l) on a closed server = %s, want ErrServerClosed", errName(again))
}

// ---------------------------------------------------------------------------
// Part 3: UDP request and reply
// ---------------------------------------------------------------------------

// A udpServer answers requests on the loopback interface: to a request
// [id][payload] it replies [id]["re:" payload]. It drops the first
// dropFirst datagrams of every request ID, as a lossy network might, but
// in a way the test can count on.
type udpServer struct {
	conn      *net.UDPConn
	dropFirst int

	mu   sync.Mutex
	seen map[uint32]int // datagrams received per request ID
}

func startUDPServer(t *testing.T, dropFirst int) *udpServer {
	t.Helper()
	conn := listenUDP(t)
	s := &udpServer{conn: conn, dropFirst: dropFirst, seen: map[uint32]int{}}
	done := testkit.Go(func() {
		buf := make([]byte, 64<<10)
		for { // ends when the test closes conn
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n < 4 {
				continue
			}
			id := binary.BigEndian.Uint32(buf)
			s.mu.Lock()
			s.seen[id]++
			drop := s.seen[id] <= s.dropFirst
			s.mu.Unlock()
			if drop {
				continue
			}
			reply := append(append(buf[:4:4], "re:"...), buf[4:n]...)
			conn.WriteToUDP(reply, from)
		}
	})
	t.Cleanup(func() {
		conn.Close()
		done.Finishes(t, testkit.Patience, "the test's UDP server")
	})
	return s
}

// received returns how many datagrams each request ID has had.
func (s *udpServer) received() map[uint32]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[uint32]int{}
	for id, n := range s.seen {
		m[id] = n
	}
	return m
}

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err, `net.ListenUDP("udp4", 127.0.0.1:0)`)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// callNow runs cl.Call and fails the test if it does not return within
// testkit.Patience.
func callNow(t *testing.T, cl *Client, ctx context.Context, addr net.Addr, request string) ([]byte, error) {
	t.Helper()
	var (
		got []byte
		err error
	)
	testkit.Within(t, testkit.Patience, fmt.Sprintf("cl.Call(ctx, addr, %q)", request), func() {
		got, err = cl.Call(ctx, addr, []byte(request))
	})
	return got, err
}

func TestCallRetriesAfterLoss(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	// The server drops the first two datagrams of every request: only a
	// client that sends a request again after a timeout gets its answer.
	srv := startUDPServer(t, 2)
	cl := &Client{Conn: listenUDP(t), Timeout: 250 * time.Millisecond, Attempts: 5}
	addr := srv.conn.LocalAddr()

	for _, req := range []string{"ping", ""} {
		got, err := callNow(t, cl, context.Background(), addr, req)
		require.NoError(t, err, "cl.Call(ctx, addr, %q), want \"re:%s\" (the server drops the first 2 datagrams of each request; Attempts is 5)", req, req)
		want := "re:" + req
		require.Equal(t, want, string(got), "cl.Call(ctx, addr, %q) = %q, want %q", req, got, want)
	}
	seen := srv.received()
	assert.Len(t, seen, 2, "the server saw %d different request IDs for 2 calls, want 2 (one ID per call, the same ID on every attempt of a call): %v", len(seen), seen)
	for id, n := range seen {
		assert.GreaterOrEqual(t, n, 3, "the server got %d datagrams with request ID %d, want at least 3 (two dropped, one answered)", n, id)
	}
}
