//go:build unix

package fifo

// TestNoDescriptorsLeft covers the catalogue entry fds-left-open: it counts
// the process's open descriptors before and after requests that end in
// every way, and after Close. Client and server both run in the test
// process, so a descriptor either of them forgot shows.
// TestRequestLeavesNoGoroutine covers goroutine-left: requests whose
// context is never cancelled must not leave a goroutine behind.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// An fdCheck finds descriptors that the code under test opened and did
// not close. It compares the open descriptors with those open before the
// server was made, allowing only the server's own descriptors of its FIFO
// (as many as it held once it had answered a first request) and any the
// test opened itself.
type fdCheck struct {
	base      map[int]bool // open before Listen
	own       map[int]bool // opened by the test itself since
	serverDev uint64       // the server's FIFO: descriptors of it are counted apart
	serverIno uint64
	serverFDs int // how many may be open on it: the server's own, while it serves
}

func newFDCheck(t *testing.T) *fdCheck {
	t.Helper()
	c := &fdCheck{base: map[int]bool{}, own: map[int]bool{}}
	for _, fd := range openFDList(t) {
		c.base[fd] = true
	}
	return c
}

func openFDList(t *testing.T) []int {
	t.Helper()
	fds, err := childproc.OpenFDs()
	require.NoError(t, err, "childproc.OpenFDs() = %v", err)
	return fds
}

// onServer reports whether fd is open on the server's FIFO.
func (c *fdCheck) onServer(fd int) bool {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return false
	}
	return uint64(st.Dev) == c.serverDev && uint64(st.Ino) == c.serverIno
}

// countOnServer counts the descriptors open on the server's FIFO.
func (c *fdCheck) countOnServer(t *testing.T) int {
	t.Helper()
	n := 0
	for _, fd := range openFDList(t) {
		if !c.base[fd] && !c.own[fd] && c.onServer(fd) {
			n++
		}
	}
	return n
}

// extra returns the descriptors open now that may not be: those on the
// server's FIFO beyond the server's own count, and all others not open
// before.
func (c *fdCheck) extra(t *testing.T) (onServer, others []int) {
	t.Helper()
	for _, fd := range openFDList(t) {
		switch {
		case c.base[fd] || c.own[fd]:
		case c.serverIno != 0 && c.onServer(fd):
			onServer = append(onServer, fd)
		default:
			others = append(others, fd)
		}
	}
	if len(onServer) <= c.serverFDs {
		onServer = nil
	}
	return onServer, others
}

// settled waits until no descriptor is open that may not be, and stops the
// test if some are still open after testkit.Patience. It waits because a
// server closes the reply FIFO after its client has the reply, so a
// moment after Request returned. No garbage collection runs meanwhile
// (the test turned it off), so no finalizer closes a forgotten *os.File
// behind the code's back.
func (c *fdCheck) settled(t *testing.T, after, hint string) {
	t.Helper()
	deadline := time.Now().Add(testkit.Patience)
	for {
		onServer, others := c.extra(t)
		if len(onServer) == 0 && len(others) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, fd := range append(others, onServer...) {
				desc = append(desc, describeFD(fd))
			}
			msg := fmt.Sprintf("after %s, the process still has these descriptors open: %s (%s)", after, strings.Join(desc, ", "), hint)
			if len(onServer) > 0 {
				msg += fmt.Sprintf("; %d descriptors are open on the server's FIFO, where the server itself held %d", len(onServer), c.serverFDs)
			}
			require.FailNow(t, msg)
		}
		time.Sleep(5 * time.Millisecond) // polling: a close announces itself to nobody
	}
}

// describeFD names a descriptor for a failure message, with what it
// refers to where the system says ("12 -> /tmp/fifo-1/reply (deleted)").
func describeFD(fd int) string {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if target, err := os.Readlink(fmt.Sprintf("%s/%d", dir, fd)); err == nil {
			return fmt.Sprintf("%d -> %s", fd, target)
		}
	}
	return fmt.Sprint(fd)
}

const (
	clientFDHint = "Request must close every descriptor it opens, its reply FIFO's ends and its end of the server's FIFO, " +
		"on every way out, errors included: defer f.Close() right after each open that succeeded"
	serverFDHint = "the server must close the reply FIFO it opened for each reply, also when the write failed or timed out: " +
		"defer f.Close() right after the open"
)

func TestNoDescriptorsLeft(t *testing.T) {
	// A forgotten *os.File is closed by its finalizer when the garbage
	// collector finds it: a collection during the test would hide the
	// leak. No collection runs until the test ends.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	big := bytes.Repeat([]byte("a reply far larger than a pipe holds "), 8<<10) // about 300 KiB
	release := make(chan struct{})
	var releaseOnce bool
	letGo := func() {
		if !releaseOnce {
			releaseOnce = true
			close(release)
		}
	}
	defer letGo()
	arrived := make(chan string, 10)
	handle := func(req []byte) []byte {
		switch {
		case string(req) == "big":
			return big
		case bytes.HasPrefix(req, []byte("hold")):
			arrived <- string(req)
			<-release
		}
		return answer(req)
	}
	var serving string // the path of the server that ask sends to
	ask := func(req string) {
		t.Helper()
		got, err := request(t, context.Background(), serving, []byte(req))
		want := handle([]byte(req))
		requireReply(t, got, err, want, "Request(ctx, server, %q) = %s, %v; want %s, nil", req, show(got), err, show(want))
	}

	// A first server, served and closed, opens what Go opens once per
	// process (the poller's descriptors), so that those are not counted.
	warm := filepath.Join(t.TempDir(), "server")
	serving = warm
	s := serve(t, listen(t, warm), handle)
	ask("warm-up")
	s.stop(t)

	fds := newFDCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	serving = path
	srv := listen(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err, "after Listen(%q): os.Stat = %v, want the FIFO", path, err)
	st := fi.Sys().(*syscall.Stat_t)
	fds.serverDev, fds.serverIno = uint64(st.Dev), uint64(st.Ino)
	s = serve(t, srv, handle)
	ask("first")
	// What the server holds of its own FIFO once it serves, counted when
	// the first client is done with everything else.
	fds.serverFDs = math.MaxInt
	fds.settled(t, `Request(ctx, server, "first") returned`, clientFDHint)
	fds.serverFDs = fds.countOnServer(t)

	// Requests that get their replies.
	for i := 0; i < 8; i++ {
		ask(fmt.Sprintf("request %d", i))
	}
	ask("big")
	fds.settled(t, "nine Requests that got their replies had returned", clientFDHint)

	// Requests that fail.
	requestToNobody(t)
	fds.settled(t, "a Request to a path where nothing exists returned", clientFDHint)
	requestToDeafFIFO(t)
	fds.settled(t, "a Request to a FIFO that no server reads returned", clientFDHint)
	huge := payload("huge", 2*MaxRequest)
	_, err = request(t, context.Background(), path, huge)
	testkit.ErrorIs(t, err, ErrTooLarge, "Request(ctx, server, %d bytes) = %v, want an error wrapping ErrTooLarge", len(huge), err)
	fds.settled(t, "a Request refused as too large returned", clientFDHint)

	// A Request cancelled while it waits for its reply.
	requestCancelledWhileHeld(t, path, "hold", arrived)
	letGo()
	ask("after the cancelled one") // the server has given up on the cancelled client by then
	fds.settled(t, `Request(ctx, server, "hold") returned on a cancelled context`, clientFDHint)

	// A client that opens its reply FIFO and never reads it: the server's
	// write times out, and the server must still close the FIFO.
	stalled := filepath.Join(t.TempDir(), "stalled")
	// The test's own ends of the FIFO (a write end too, so that its read
	// waits for the server instead of reporting end-of-file).
	sniff := newSniffer(t, stalled)
	fds.own[sniff.rfd], fds.own[sniff.w] = true, true
	err = sendRaw(path, rawRequest(stalled, []byte("big")))
	require.NoError(t, err, "sending a request for a big reply: %v", err)
	// One byte of the reply shows that the server has opened the FIFO and
	// is writing; the rest never fits.
	got, err := readFull(sniff.r, 1, testkit.Patience)
	require.NoError(t, err, "reading the first byte of the big reply: got %q, %v; want the server writing its reply", got, err)
	ask("after the stalled one") // the server has given up on the stalled client by then
	fds.settled(t, "the server gave up on a client that never read its reply", serverFDHint)

	// Close: the server's own descriptors go too.
	s.stop(t)
	testkit.Within(t, testkit.Patience, "srv.Close()", func() { err = srv.Close() })
	assert.NoError(t, err, "srv.Close() = %v, want nil", err)
	fds.serverFDs = 0
	fds.settled(t, "Serve returned and srv.Close() was called",
		"Close must close every descriptor the server opened: its read end of the FIFO, and the write end it keeps for itself")
}

func TestRequestLeavesNoGoroutine(t *testing.T) {
	// A Request that watches its context on a goroutine of its own must
	// end that goroutine before it returns, also when the context is
	// never cancelled: otherwise every request leaves one behind, for
	// ever.
	testkit.NoGoroutineLeaks(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	path := filepath.Join(t.TempDir(), "server")
	srv := listen(t, path)
	s := serve(t, srv, answer)
	for i := 0; i < 4; i++ {
		req := []byte(fmt.Sprintf("request %d", i))
		got, err := request(t, context.Background(), path, req)
		want := answer(req)
		requireReply(t, got, err, want, "Request(ctx, server, %q) = %s, %v; want %s, nil", req, show(got), err, show(want))
	}
	requestToNobody(t)
	s.stop(t)
	// NoGoroutineLeaks looks when the test ends, once the server is
	// closed too.
}
