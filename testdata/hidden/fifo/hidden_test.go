//go:build unix

package fifo

// Hidden tests: they cover the bug catalogue of the fifo exercise, with
// the helpers of the visible tests (fifo_test.go), which the grader always
// compiles with these.
//
//   - interleaved-requests: TestConcurrentRequestsNeverInterleave has
//     four client processes of 32 goroutines each write at once into
//     a FIFO shrunk to one page, and the server starts reading only once
//     it is nearly full; a request written in more than one write(2)
//     gets mixed with other clients' bytes, and a server that does not
//     cut the byte stream back into requests loses some.
//   - exits-or-spins-on-eof: TestIdleServerNeitherExitsNorSpins watches
//     the server before any client, after every client process has gone,
//     and after a writer that left without a word: Serve must keep
//     running and use next to no CPU.
//   - fifos-left-on-disk: TestNothingLeftAfterErrorsOrCancel checks the
//     server's directory after Close, and the clients' TMPDIR after every
//     way a Request can end: a reply, no server, a cancelled or expired
//     context.
//   - blocks-on-dead-client: TestDeadClientDoesNotBlockServer sends
//     requests from a client that exits without opening its reply FIFO,
//     and from one that opens it and never reads; later clients must still
//     be answered, and Serve must return when cancelled.
//   - oversized-not-refused: TestOversizedNeverHalfWritten refuses
//     requests just over the limit (header included) and checks that not
//     one byte of them reached the server's FIFO.
//   - limit-exclusive: TestRequestOfExactlyMaxRequestSent plays the
//     server, learns how long the client's reply paths are, and asks for
//     requests of exactly MaxRequest bytes, which must go through.
//   - fds-left-open: TestNoDescriptorsLeft (descriptors_test.go) counts
//     the open descriptors after requests that end in every way, after
//     the server gave up on a client, and after Close.
//   - goroutine-left: TestRequestLeavesNoGoroutine (descriptors_test.go)
//     makes requests with a context that is never cancelled and looks for
//     goroutines left running.
//
// TestWireFormat pins the protocol of README.md, so that any client works
// with any server: the test plays the client of the student's server,
// and the server of the student's client.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	childproc.Register("dead-client", deadClientRole)
	childproc.Register("stalled-client", stalledClientRole)
}

// rawRequest encodes a request by the protocol of README.md.
func rawRequest(replyPath string, payload []byte) []byte {
	return []byte(replyPath + "\n" + strconv.Itoa(len(payload)) + "\n" + string(payload))
}

// sendRaw writes a request into the server's FIFO, in one write.
func sendRaw(serverPath string, msg []byte) error {
	fd, err := syscall.Open(serverPath, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", serverPath, err)
	}
	defer syscall.Close(fd)
	n, err := syscall.Write(fd, msg)
	if err != nil || n != len(msg) {
		return fmt.Errorf("write to %s: %d of %d bytes, %v", serverPath, n, len(msg), err)
	}
	return nil
}

// deadClientRole makes a reply FIFO, sends a request naming it, and exits
// without ever opening it: a client that died before its reply came.
// Arguments: the server's path and the reply FIFO's path.
func deadClientRole(args []string) int {
	if err := syscall.Mkfifo(args[1], 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "dead-client:", err)
		return 1
	}
	if err := sendRaw(args[0], rawRequest(args[1], []byte("dead"))); err != nil {
		fmt.Fprintln(os.Stderr, "dead-client:", err)
		return 1
	}
	return 0
}

// stalledClientRole makes a reply FIFO, opens it for reading, asks for a
// reply far larger than a pipe holds, prints "sent", and then never reads:
// it waits for its standard input to close. Arguments: the server's path
// and the reply FIFO's path.
func stalledClientRole(args []string) int {
	if err := syscall.Mkfifo(args[1], 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "stalled-client:", err)
		return 1
	}
	fd, err := syscall.Open(args[1], syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stalled-client:", err)
		return 1
	}
	defer syscall.Close(fd)
	if err := sendRaw(args[0], rawRequest(args[1], []byte("big"))); err != nil {
		fmt.Fprintln(os.Stderr, "stalled-client:", err)
		return 1
	}
	fmt.Println("sent")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// readFull reads exactly n bytes from f, giving up after d.
func readFull(f *os.File, n int, d time.Duration) ([]byte, error) {
	f.SetReadDeadline(time.Now().Add(d))
	defer f.SetReadDeadline(time.Time{})
	buf := make([]byte, n)
	got, err := io.ReadFull(f, buf)
	return buf[:got], err
}

// receive reads one request from the sniffer, by the protocol, giving up
// after d.
func (s *sniffer) receive(t *testing.T, d time.Duration) (replyPath string, payload []byte) {
	t.Helper()
	s.r.SetReadDeadline(time.Now().Add(d))
	defer s.r.SetReadDeadline(time.Time{})
	in := bufio.NewReader(s.r)
	path, err := in.ReadString('\n')
	require.NoError(t, err, "reading a request from the server's FIFO: got %q, then %v; want the reply FIFO's path and a newline", path, err)
	size, err := in.ReadString('\n')
	require.NoError(t, err, "reading a request from the server's FIFO: got %q, %q, then %v; want the path, a newline, the payload's length in decimal and a newline", path, size, err)
	n, err := strconv.Atoi(strings.TrimSuffix(size, "\n"))
	require.NoError(t, err, "the request's second line is %q; want the payload's length in decimal", size)
	require.GreaterOrEqual(t, n, 0, "the request's second line is %q; want the payload's length in decimal", size)
	require.LessOrEqual(t, n, MaxRequest, "the request's second line is %q; want the payload's length in decimal", size)
	payload = make([]byte, n)
	got, err := io.ReadFull(in, payload)
	require.NoError(t, err, "reading a request's payload of %d bytes from the server's FIFO: got %d bytes, then %v", n, got, err)
	extra, _ := in.Peek(in.Buffered())
	assert.Zero(t, len(extra), "the request was followed by %s; want nothing more: a request is the path, the length and exactly that many bytes", show(extra))
	return strings.TrimSuffix(path, "\n"), payload
}

// reply answers a request as a server does: it opens the reply FIFO for
// writing (waiting a while for a reader, to be lenient) and writes the
// framed reply.
func reply(t *testing.T, replyPath string, data []byte) {
	t.Helper()
	deadline := time.Now().Add(testkit.Patience)
	var fd int
	var err error
	for {
		fd, err = syscall.Open(replyPath, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.ENXIO || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling for the client's open, which no event announces
	}
	require.NoError(t, err, "opening the reply FIFO %s for writing: %v; want it open for reading by the client, which is waiting for its reply", replyPath, err)
	f := os.NewFile(uintptr(fd), replyPath)
	defer f.Close()
	f.SetWriteDeadline(time.Now().Add(testkit.Patience))
	_, err = f.Write([]byte(strconv.Itoa(len(data)) + "\n" + string(data)))
	require.NoError(t, err, "writing the reply into %s: %v (is the client reading it?)", replyPath, err)
}

// requireReply is gotReply for a test that cannot go on: it stops the
// test, as require does, unless Request returned want and no error.
func requireReply(t testing.TB, got []byte, err error, want []byte, msgAndArgs ...any) {
	t.Helper()
	if !gotReply(t, got, err, want, msgAndArgs...) {
		t.FailNow()
	}
}

// A pending is a Request running on a goroutine of its own (goRequest).
type pending struct {
	op    *testkit.Op
	reply []byte
	err   error // what Request returned, with reply; read them once op is done
}

// goRequest calls Request(ctx, serverPath, req) on a new goroutine, with
// a context that ends after testkit.Patience: for a test that plays the
// server, and answers while the Request waits.
func goRequest(serverPath string, req []byte) *pending {
	p := &pending{}
	p.op = testkit.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Patience)
		defer cancel()
		p.reply, p.err = Request(ctx, serverPath, req)
	})
	return p
}

// requestToNobody makes a Request to a path where nothing exists, which
// must fail.
func requestToNobody(t *testing.T) {
	t.Helper()
	nowhere := filepath.Join(t.TempDir(), "nobody")
	_, err := request(t, context.Background(), nowhere, []byte("anyone?"))
	assert.Error(t, err, "Request(ctx, %q, \"anyone?\") = nil error, with nothing at that path; want an error", nowhere)
}

// requestToDeafFIFO makes a Request to a FIFO that no server reads, which
// must fail.
func requestToDeafFIFO(t *testing.T) {
	t.Helper()
	deaf := filepath.Join(t.TempDir(), "deaf")
	err := syscall.Mkfifo(deaf, 0o600)
	require.NoError(t, err, "mkfifo %s: %v", deaf, err)
	_, err = request(t, context.Background(), deaf, []byte("anyone?"))
	assert.Error(t, err, "Request(ctx, %q, \"anyone?\") = nil error, with nobody reading that FIFO; want an error", deaf)
}

// requestCancelledWhileHeld calls Request(ctx, serverPath, req) on a
// goroutine of its own, cancels ctx once the server's handler has the
// request (and has said so on arrived) and holds on to it, and checks
// that Request returns context.Canceled.
func requestCancelledWhileHeld(t *testing.T, serverPath, req string, arrived <-chan string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	call := testkit.Go(func() { _, err = Request(ctx, serverPath, []byte(req)) })
	select {
	case <-arrived:
	case <-time.After(testkit.Patience):
		require.FailNow(t, fmt.Sprintf("the server did not pass the request of Request(ctx, server, %q) to its handler within %v", req, testkit.Patience))
	}
	cancel()
	call.Finishes(t, testkit.Patience, fmt.Sprintf("Request(ctx, server, %q) after ctx was cancelled", req))
	testkit.ErrorIs(t, err, context.Canceled, "Request(ctx, server, %q) = %v after ctx was cancelled, want an error wrapping context.Canceled", req, err)
}

// within reports whether path lies inside dir.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}

func TestWireFormat(t *testing.T) {
	// The student's server, and a client played by the test.
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)
	s := serve(t, srv, answer)

	replyPath := filepath.Join(t.TempDir(), "reply")
	answers := newSniffer(t, replyPath) // opened for reading before the request is sent, as a client must
	req := []byte("hello\nworld")
	msg := rawRequest(replyPath, req)
	err := sendRaw(path, msg)
	require.NoError(t, err, "sending the request %q: %v", msg, err)
	want := []byte(strconv.Itoa(len(answer(req))) + "\n" + string(answer(req)))
	got, err := readFull(answers.r, len(want), testkit.Patience)
	gotReply(t, got, err, want, "for the request %q, the server wrote %q into the reply FIFO (%v); want %q: the reply's length in decimal, a newline, and the reply",
		msg, got, err, want)
	s.stop(t)

	// The student's client, and a server played by the test.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	serverPath := filepath.Join(t.TempDir(), "server")
	requests := newSniffer(t, serverPath)
	req = payload("wire", 100)
	call := goRequest(serverPath, req)
	clientReply, gotReq := requests.receive(t, testkit.Patience)
	sameBytes(t, req, gotReq, "Request(ctx, server, %s) sent the payload %s; want it unchanged", show(req), show(gotReq))
	assert.True(t, within(tmp, clientReply), "Request(ctx, server, %s) named the reply FIFO %q; want a path inside os.TempDir() (TMPDIR is %s)", show(req), clientReply, tmp)
	fi, err := os.Lstat(clientReply)
	require.NoError(t, err, "the reply FIFO %q that the request names: os.Lstat = %v, %v; want a FIFO that exists while the client waits", clientReply, fi, err)
	require.True(t, fi.Mode()&os.ModeNamedPipe != 0, "the reply FIFO %q that the request names: os.Lstat = %v, %v; want a FIFO that exists while the client waits", clientReply, fi, err)
	reply(t, clientReply, answer(gotReq))
	call.op.Finishes(t, testkit.Patience, fmt.Sprintf("Request(ctx, server, %s) after the server replied", show(req)))
	gotReply(t, call.reply, call.err, answer(req), "Request(ctx, server, %s) = %s, %v; want %s, nil", show(req), show(call.reply), call.err, show(answer(req)))
	left := leftovers(t, tmp)
	assert.Empty(t, left, "after Request returned, TMPDIR holds %q; want it empty", left)
}

func TestConcurrentRequestsNeverInterleave(t *testing.T) {
	const procs, goroutines, rounds = 4, 32, 2
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)

	// 128 goroutines in four processes, each with a request of about 350
	// to 500 bytes (header included) always in flight, write into a FIFO
	// whose buffer holds one page, about ten requests. The server starts
	// reading only once that page is nearly full, so writers wait for
	// room from the start, and each page the server empties lets them
	// race for it. A request sent in two writes, the header and then the
	// payload, then often has its header in one page and another client's
	// bytes right after it: the test does not leave the split to the
	// scheduler's luck.
	size := shrinkFIFO(t, path)
	var kids []*child
	for p := 0; p < procs; p++ {
		kids = append(kids, startClients(t, fmt.Sprintf("client process %d", p), path, goroutines, rounds, 250, 0))
	}
	for _, k := range kids {
		k.waitLine(t, testkit.Patience, "ready")
	}
	if size > 0 {
		want := size - MaxRequest
		if held, counted := fifoBacklog(t, path, want, testkit.Patience); counted && held < want {
			t.Logf("the server's FIFO held %d bytes, not %d, when the server started: the clients were slow to write", held, want)
		}
	}
	s := serve(t, srv, answer)
	checkClients(t, goroutines*rounds, kids...)
	if t.Failed() {
		require.FailNow(t, mixedUp)
	}
	s.stop(t)
}

func TestIdleServerNeitherExitsNorSpins(t *testing.T) {
	const window = 400 * time.Millisecond
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)
	s := serve(t, srv, answer)
	s.idle(t, window, "before any client had connected")

	for round := 1; round <= 2; round++ {
		kid := startClients(t, fmt.Sprintf("client process %d", round), path, 2, 2, 10, 100)
		checkClients(t, 4, kid)
		if t.Failed() {
			return
		}
		s.idle(t, window, fmt.Sprintf("after client process %d had exited", round))
	}

	// A writer that opens the FIFO and leaves without a word.
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	require.NoError(t, err, "opening the server's FIFO for writing: %v; want a server reading it", err)
	syscall.Close(fd)
	s.idle(t, window, "after a writer opened the FIFO and closed it without writing")

	last := startClients(t, "the last client process", path, 2, 2, 10, 100)
	checkClients(t, 4, last)
	s.stop(t)
}

func TestDeadClientDoesNotBlockServer(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	big := bytes.Repeat([]byte("a reply far larger than a pipe holds "), 8<<10) // about 300 KiB
	handle := func(req []byte) []byte {
		if string(req) == "big" {
			return big
		}
		return answer(req)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)
	s := serve(t, srv, handle)
	clients := t.TempDir()

	// A client that sends its request and exits without ever opening its
	// reply FIFO: nobody will ever read the reply.
	dead := startChild(t, "a client that died", t.TempDir(), "dead-client", path, filepath.Join(clients, "dead"))
	dead.wait(t, testkit.Patience)
	require.NoError(t, dead.err, "the dying client failed to send its request: %v%s", dead.err, dead.stderrTail())
	after := startClients(t, "a client process after the one that died", path, 2, 2, 10, 100)
	checkClients(t, 4, after)
	if t.Failed() {
		require.FailNow(t, "the server did not answer later clients after a client died before opening its reply FIFO: "+
			"opening a FIFO for writing waits for a reader, for ever if none comes; open the reply FIFO with O_NONBLOCK and give up after ReplyTimeout")
	}

	// A client that opens its reply FIFO and never reads from it.
	stalled := startChild(t, "a client that never reads", t.TempDir(), "stalled-client", path, filepath.Join(clients, "stalled"))
	stalled.waitLine(t, testkit.Patience, "sent")
	later := startClients(t, "a client process after the one that never reads", path, 2, 2, 10, 100)
	checkClients(t, 4, later)
	if t.Failed() {
		require.FailNow(t, "the server did not answer later clients while a client never read its reply: "+
			"writing a reply larger than the pipe holds waits for the reader; bound it (a write deadline of ReplyTimeout)")
	}
	stalled.stdin.Close()
	stalled.wait(t, testkit.Patience)

	s.stop(t)
}

func TestNothingLeftAfterErrorsOrCancel(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mustBeEmpty := func(after string) {
		t.Helper()
		if left := leftovers(t, tmp); !assert.Empty(t, left, "after %s, TMPDIR still holds %q; want it empty: Request must remove its reply FIFO, and any directory it made, however it returns", after, left) {
			for _, l := range left {
				os.RemoveAll(filepath.Join(tmp, strings.TrimSuffix(l, " (a FIFO)")))
			}
		}
	}

	// No server at all, and a FIFO that nobody reads.
	requestToNobody(t)
	mustBeEmpty("a Request to a path where nothing exists")
	requestToDeafFIFO(t)
	mustBeEmpty("a Request to a FIFO that no server reads")

	// A server whose handler holds on to a request until the test lets it
	// go, so that the client's context ends first.
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)
	arrived := make(chan string, 10)
	release := make(chan struct{}) // closed to let every held request go
	released := false
	letGo := func() {
		if !released {
			released = true
			close(release)
		}
	}
	defer letGo()
	s := serve(t, srv, func(req []byte) []byte {
		if bytes.HasPrefix(req, []byte("hold")) {
			arrived <- string(req)
			<-release
		}
		return answer(req)
	})

	// Cancelled while it waits for the reply.
	requestCancelledWhileHeld(t, path, "hold 1", arrived)
	mustBeEmpty(`Request(ctx, server, "hold 1") returned on a cancelled context`)

	// Its deadline passes, wherever it is by then.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var err error
	call := testkit.Go(func() { _, err = Request(ctx, path, []byte("hold 2")) })
	call.Finishes(t, testkit.Patience, `Request(ctx, server, "hold 2") after its deadline`)
	testkit.ErrorIs(t, err, context.DeadlineExceeded, `Request(ctx, server, "hold 2") = %v after the deadline, want an error wrapping context.DeadlineExceeded`, err)
	mustBeEmpty(`Request(ctx, server, "hold 2") returned after its deadline`)
	letGo()

	// The server got over both: its replies found nobody.
	got, err := request(t, context.Background(), path, []byte("still there?"))
	want := answer([]byte("still there?"))
	gotReply(t, got, err, want, `Request(ctx, server, "still there?") = %s, %v after two clients gave up; want %s, nil`, show(got), err, show(want))
	mustBeEmpty("a Request that got its reply")

	kid := startClients(t, "a client process", path, 4, 4, 10, 0)
	checkClients(t, 16, kid)

	s.stop(t)
	testkit.Within(t, testkit.Patience, "srv.Close()", func() { err = srv.Close() })
	assert.NoError(t, err, "srv.Close() = %v, want nil", err)
	left := leftovers(t, dir)
	assert.Empty(t, left, "after Serve returned and srv.Close() was called, the server's directory still holds %q; want it empty: Close must remove the FIFO", left)
}

func TestOversizedNeverHalfWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server")
	sniff := newSniffer(t, path)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	// The header alone, the reply FIFO's path inside TMPDIR and the two
	// newlines, is longer than len(tmp): these are all over the limit.
	for _, size := range []int{MaxRequest - len(tmp), MaxRequest - len(tmp) + 17, MaxRequest - 1, 2*MaxRequest + 3, 5000} {
		req := payload(fmt.Sprintf("over-%d", size), size)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		got, err := request(t, ctx, path, req)
		cancel()
		testkit.ErrorIs(t, err, ErrTooLarge, "Request(ctx, server, %d bytes) = %s, %v; want an error wrapping ErrTooLarge: with the header (the reply FIFO's path inside %s, the length, two newlines) the request is over MaxRequest = %d bytes",
			size, show(got), err, tmp, MaxRequest)
		sent := sniff.drain(t)
		assert.Zero(t, len(sent), "Request(ctx, server, %d bytes) wrote %s into the server's FIFO; want nothing: an oversized request is refused before any of it is written, never sent in pieces",
			size, show(sent))
		if left := leftovers(t, tmp); !assert.Empty(t, left, "after Request(ctx, server, %d bytes) returned, TMPDIR holds %q; want it empty", size, left) {
			for _, l := range left {
				os.RemoveAll(filepath.Join(tmp, strings.TrimSuffix(l, " (a FIFO)")))
			}
		}
	}

	// A request that fits goes through, whole.
	req := payload("fits", room(tmp))
	call := goRequest(path, req)
	replyPath, sent := sniff.receive(t, testkit.Patience)
	sameBytes(t, req, sent, "Request(ctx, server, %d bytes) sent a payload of %s; want the %d bytes unchanged", len(req), show(sent), len(req))
	reply(t, replyPath, answer(sent))
	call.op.Finishes(t, testkit.Patience, fmt.Sprintf("Request(ctx, server, %d bytes) after the server replied", len(req)))
	want := answer(req)
	gotReply(t, call.reply, call.err, want, "Request(ctx, server, %d bytes) = %s, %v; want %s, nil (header and payload together fit in MaxRequest = %d bytes)",
		len(req), show(call.reply), call.err, show(want), MaxRequest)
}

// answerAll plays a server on the sniffer's FIFO until its read end is
// closed or given a past deadline: it reads each request by the protocol,
// sends lengths the number of bytes the request took, header included,
// and replies answer(payload). It runs on a goroutine of its own, so it
// reports instead of failing the test: a request it could not read or
// answer is sent as a negative length.
func answerAll(s *sniffer, lengths chan<- int) {
	in := bufio.NewReader(s.r)
	for {
		path, err := in.ReadString('\n')
		if err != nil {
			return
		}
		size, err := in.ReadString('\n')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(size, "\n"))
		if err != nil || n < 0 || n > MaxRequest {
			lengths <- -1
			return
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(in, payload); err != nil {
			return
		}
		lengths <- len(path) + len(size) + n
		replyPath := strings.TrimSuffix(path, "\n")
		fd, err := syscall.Open(replyPath, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue // the client is gone; it will say so
		}
		f := os.NewFile(uintptr(fd), replyPath)
		f.SetWriteDeadline(time.Now().Add(testkit.Patience))
		f.Write([]byte(strconv.Itoa(len(answer(payload))) + "\n" + string(answer(payload))))
		f.Close()
	}
}

func TestRequestOfExactlyMaxRequestSent(t *testing.T) {
	// The test plays the server, to see how long each request is. A
	// request's length depends on the reply FIFO's path, which Request
	// chooses afresh every time: the test learns its length from the
	// requests that go through, and then asks for payloads that make a
	// request of exactly MaxRequest bytes with a path of that length,
	// until one such request has gone through.
	path := filepath.Join(t.TempDir(), "server")
	sniff := newSniffer(t, path)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	lengths := make(chan int, 100)
	server := testkit.Go(func() { answerAll(sniff, lengths) })
	t.Cleanup(func() {
		sniff.r.SetReadDeadline(time.Unix(1, 0))
		select {
		case <-server.Finished():
		case <-time.After(testkit.Patience):
		}
	})
	// send makes one request and returns its length as the server saw it,
	// or 0 when Request refused it as too large.
	send := func(req []byte) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Patience)
		defer cancel()
		got, err := request(t, ctx, path, req)
		if testkit.Is(err, ErrTooLarge) {
			return 0
		}
		want := answer(req)
		requireReply(t, got, err, want, "Request(ctx, server, %d bytes) = %s, %v; want %s, nil", len(req), show(got), err, show(want))
		select {
		case n := <-lengths:
			require.GreaterOrEqual(t, n, 0, "Request(ctx, server, %d bytes) sent a request whose header is not the path, a newline, the length in decimal and a newline", len(req))
			return n
		case <-time.After(testkit.Patience):
			require.FailNow(t, fmt.Sprintf("Request(ctx, server, %d bytes) returned the reply, but the test's server saw no request", len(req)))
		}
		return 0
	}
	// payloadFor returns the size of the payload that makes a request of
	// exactly MaxRequest bytes with a reply path of pathLen bytes.
	payloadFor := func(pathLen int) int {
		rest := MaxRequest - pathLen - len("\n\n")
		for digits := 1; digits < 5; digits++ {
			if n := rest - digits; n >= 0 && len(strconv.Itoa(n)) == digits {
				return n
			}
		}
		return -1
	}

	const tries = 60
	pathLen := 0   // the longest reply path seen so far
	refused := 0   // requests of exactly MaxRequest bytes, by that length, refused
	lastSize := -1 // the payload of the last of those
	for try := 0; try < tries; try++ {
		if pathLen == 0 {
			probe := payload(fmt.Sprintf("probe-%d", try), 100)
			n := send(probe)
			require.NotZero(t, n, "Request(ctx, server, %d bytes) = ErrTooLarge; want it sent (with a reply path at most 64 bytes longer than TMPDIR, %s, it fits)", len(probe), tmp)
			pathLen = n - len("\n\n") - len(strconv.Itoa(len(probe))) - len(probe)
		}
		size := payloadFor(pathLen)
		require.GreaterOrEqual(t, size, 0, "a reply path of %d bytes leaves no room for a payload", pathLen)
		n := send(payload(fmt.Sprintf("exact-%d", try), size))
		switch {
		case n == MaxRequest:
			return // sent, as it should be
		case n == 0:
			// Too large, or this time the path was longer: learn its
			// length again.
			refused++
			lastSize = size
			pathLen = 0
		default:
			// The path was shorter this time; keep the longest.
			pathLen = max(pathLen, n-len("\n\n")-len(strconv.Itoa(size))-size)
		}
	}
	assert.Fail(t, fmt.Sprintf("Request(ctx, server, %d bytes) = ErrTooLarge, with a reply path as long as the one before: the request, header included, would have been exactly MaxRequest = %d bytes "+
		"(%d of %d such tries were refused, and none went through); want it sent: the limit is inclusive, so refuse only a request larger than MaxRequest (> MaxRequest, not >=)",
		lastSize, MaxRequest, refused, tries))
}
