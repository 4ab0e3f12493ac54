//go:build unix

package fifo

// These tests are the contract of the exercise. Run them with the race
// detector, as the grader does:
//
//	go test -race ./7-fifo/
//
// The clients are real processes: the test binary starts copies of itself
// (the "clients" role below), each of which calls Request from many
// goroutines and reports every reply that was not the one it expected.
// The server runs inside the test process, so the test can watch it: that
// Serve keeps running, how much CPU it uses, what it leaves on disk.
//
// The grader also runs hidden tests on the same API: requests from many
// more clients at once, long idle spells, clients that die before they
// take their reply, and cleaning up after errors and cancellations.
//
// No test waits without a limit: a call that must return is given a few
// seconds (testkit.Patience), and a child process that does not exit in
// time is killed.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	childproc.Register("clients", clientsRole)
}

// requestTimeout is the context deadline of every Request a client process
// makes. A correct server answers in milliseconds.
const requestTimeout = 15 * time.Second

// answer is the reply the tests' servers give to a request: "re:" and the
// request backwards. Every reply differs from every request, and a reply
// that was computed from the wrong bytes shows.
func answer(req []byte) []byte {
	out := make([]byte, 0, 3+len(req))
	out = append(out, "re:"...)
	for i := len(req) - 1; i >= 0; i-- {
		out = append(out, req[i])
	}
	return out
}

// payload returns a request of exactly size bytes that starts with id and
// is filled with a pattern of its own, newlines included: a request is
// framed by its length, not by its content.
func payload(id string, size int) []byte {
	const fill = "abcdefghijklmnopqrstuvwxyz0123456789\n"
	p := make([]byte, 0, size)
	p = append(p, id...)
	p = append(p, ':')
	var seed uint
	for _, b := range []byte(id) {
		seed = seed*31 + uint(b)
	}
	for i := 0; len(p) < size; i++ {
		p = append(p, fill[(seed+uint(i)*7)%uint(len(fill))])
	}
	return p[:size]
}

// room is the largest payload that surely fits in one request when the
// client's reply FIFO lives under the directory tmp. The header is the
// reply FIFO's path, its length, and two newlines; the tests assume the
// path is tmp plus at most 64 bytes (README.md).
func room(tmp string) int {
	return MaxRequest - (len(tmp) + 64) - len("\n") - len(strconv.Itoa(MaxRequest)) - len("\n")
}

// show describes bytes for a failure message: short ones in full, long
// ones by their length and their first bytes.
func show(b []byte) string {
	if len(b) <= 48 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes %q...", len(b), b[:40])
}

// sameBytes asserts that got holds the bytes want holds, and reports
// whether it does; msgAndArgs say what got is. It never prints either in
// full, as assert.Equal would: a reply can be far larger than a failure
// message may be. It shows where they part instead.
func sameBytes(t testing.TB, want, got []byte, msgAndArgs ...any) bool {
	t.Helper()
	if bytes.Equal(got, want) {
		return true
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return assert.Fail(t, fmt.Sprintf("got %d bytes, want %d; from byte %d on, got %s, want %s",
		len(got), len(want), i, show(got[i:]), show(want[i:])), msgAndArgs...)
}

// gotReply asserts that Request returned the reply want and no error,
// and reports whether it did; msgAndArgs say which Request, what it
// returned, and what was wanted.
func gotReply(t testing.TB, got []byte, err error, want []byte, msgAndArgs ...any) bool {
	t.Helper()
	return assert.NoError(t, err, msgAndArgs...) && sameBytes(t, want, got, msgAndArgs...)
}

// clientsRole is a client process. Its arguments: the server's path, a
// name, how many goroutines call Request, how many requests each makes,
// and the smallest and largest payload. It prints "ready" once every
// goroutine is about to make its first request, a line "fail ..." for
// every request that did not get the right reply, and "done N" at the end,
// N being the number of right replies.
func clientsRole(args []string) int {
	if len(args) != 6 {
		fmt.Fprintf(os.Stderr, "clients: want 6 arguments, got %q\n", args)
		return 2
	}
	serverPath, name := args[0], args[1]
	var n [4]int
	for i := range n {
		v, err := strconv.Atoi(args[2+i])
		if err != nil {
			fmt.Fprintf(os.Stderr, "clients: %v\n", err)
			return 2
		}
		n[i] = v
	}
	goroutines, rounds, minSize, maxSize := n[0], n[1], n[2], n[3]

	var (
		mu       sync.Mutex
		failures []string
		ok       int
		ready    sync.WaitGroup
		done     sync.WaitGroup
		start    = make(chan struct{})
	)
	ready.Add(goroutines)
	done.Add(goroutines)
	for g := 0; g < goroutines; g++ {
		go func(g int) {
			defer done.Done()
			ready.Done()
			<-start
			for r := 0; r < rounds; r++ {
				id := fmt.Sprintf("%s-g%d-r%d", name, g, r)
				size := minSize + (g*7+r*13)%(maxSize-minSize+1)
				req := payload(id, size)
				ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
				got, err := Request(ctx, serverPath, req)
				cancel()
				mu.Lock()
				switch want := answer(req); {
				case err != nil:
					failures = append(failures, fmt.Sprintf("Request(ctx, server, %s) = %v, want the reply %s", show(req), err, show(want)))
				case !bytes.Equal(got, want):
					failures = append(failures, fmt.Sprintf("Request(ctx, server, %s) = %s, want %s", show(req), show(got), show(want)))
				default:
					ok++
				}
				mu.Unlock()
			}
		}(g)
	}
	ready.Wait()
	fmt.Println("ready")
	close(start)
	done.Wait()
	for _, f := range failures {
		fmt.Println("fail " + strings.ReplaceAll(f, "\n", " "))
	}
	fmt.Println("done", ok)
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// A child is a client process the test started.
type child struct {
	name   string
	tmp    string // its TMPDIR: where its reply FIFOs live
	cmd    *exec.Cmd
	out    *childproc.Lines
	stderr *childproc.Lines
	stdin  io.WriteCloser
	exited chan struct{}
	err    error // what Wait returned; read it once exited is closed
}

// startChild starts the test binary in the given role, with tmp as its
// TMPDIR. When the test ends, the child is killed if it is still running,
// and always waited for.
func startChild(t *testing.T, name, tmp, role string, args ...string) *child {
	t.Helper()
	c := &child{name: name, tmp: tmp, out: childproc.NewLines(), stderr: childproc.NewLines(), exited: make(chan struct{})}
	c.cmd = childproc.Command(t, role, args...)
	c.cmd.Env = append(c.cmd.Env, "TMPDIR="+c.tmp)
	c.cmd.Stdout = c.out
	c.cmd.Stderr = c.stderr
	stdin, err := c.cmd.StdinPipe()
	require.NoError(t, err, "starting %s: %v", name, err)
	c.stdin = stdin
	err = c.cmd.Start()
	require.NoError(t, err, "starting %s: %v", name, err)
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.stdin.Close()
		select {
		case <-c.exited:
			return
		default:
		}
		c.cmd.Process.Kill()
		select {
		case <-c.exited:
		case <-time.After(testkit.Patience):
		}
	})
	return c
}

// startClients starts a "clients" process (see clientsRole) with a new
// TMPDIR. A maxSize of 0 means the largest payload that surely fits.
func startClients(t *testing.T, name, serverPath string, goroutines, rounds, minSize, maxSize int) *child {
	t.Helper()
	tmp := t.TempDir()
	if maxSize <= 0 || maxSize > room(tmp) {
		maxSize = room(tmp)
	}
	return startChild(t, name, tmp, "clients", serverPath, name,
		strconv.Itoa(goroutines), strconv.Itoa(rounds), strconv.Itoa(minSize), strconv.Itoa(maxSize))
}

// waitLine waits up to d for the child to print a line that starts with
// prefix.
func (c *child) waitLine(t *testing.T, d time.Duration, prefix string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		lines, grew := c.out.Snapshot()
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return
			}
		}
		select {
		case <-grew:
		case <-c.exited:
			lines, _ := c.out.Snapshot() // what it printed last is in by now
			for _, l := range lines {
				if strings.HasPrefix(l, prefix) {
					return
				}
			}
			require.FailNow(t, fmt.Sprintf("%s exited (%v) before it printed %q; it printed %q%s", c.name, c.err, prefix, lines, c.stderrTail()))
		case <-timer.C:
			require.FailNow(t, fmt.Sprintf("%s did not print %q within %v", c.name, prefix, d))
		}
	}
}

// wait waits up to d for the child to exit.
func (c *child) wait(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-c.exited:
	case <-timer.C:
		require.FailNow(t, fmt.Sprintf("%s did not exit within %v: a request is stuck (was it ever answered?)", c.name, d))
	}
}

func (c *child) stderrTail() string {
	lines, _ := c.stderr.Snapshot()
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 8 {
		lines = lines[:8]
	}
	return "\n\t" + c.name + " said on stderr:\n\t\t" + strings.Join(lines, "\n\t\t")
}

// checkClients waits for "clients" processes to exit, and fails the test
// for every wrong reply they report and for every file they left in their
// TMPDIR. want is the number of right replies each one must report.
func checkClients(t *testing.T, want int, kids ...*child) {
	t.Helper()
	for _, c := range kids {
		c.wait(t, requestTimeout+testkit.Patience)
	}
	for _, c := range kids {
		lines, _ := c.out.Snapshot()
		var fails []string
		done := -1
		for _, l := range lines {
			if f, ok := strings.CutPrefix(l, "fail "); ok {
				fails = append(fails, f)
			}
			if d, ok := strings.CutPrefix(l, "done "); ok {
				done, _ = strconv.Atoi(d)
			}
		}
		if len(fails) > 0 {
			more := ""
			if len(fails) > 4 {
				more = fmt.Sprintf("\n\t(and %d more)", len(fails)-4)
				fails = fails[:4]
			}
			assert.Fail(t, fmt.Sprintf("%s: %d of %d requests did not get their own reply:\n\t%s%s", c.name, want-done, want, strings.Join(fails, "\n\t"), more))
		} else {
			assert.Equal(t, want, done, "%s exited (%v) after %d right replies, want %d%s", c.name, c.err, done, want, c.stderrTail())
		}
		left := leftovers(t, c.tmp)
		assert.Empty(t, left, "after %s's Requests returned, its TMPDIR still holds %q; Request must remove the reply FIFO (and any directory it made) before it returns", c.name, left)
	}
}

// mixedUp is the hint for requests that did not get their replies while
// many clients wrote at once.
const mixedUp = "with many clients writing at once, some requests did not get their own replies: " +
	"a request must go out in one write of at most MaxRequest bytes, header included (two writes let another client's bytes in between), " +
	"and the server must cut what it reads into requests by the lengths in their headers (one read may return several requests, or part of one)"

// leftovers lists what is left in dir, recursively, for a failure message.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			rel, _ := filepath.Rel(dir, path)
			if info.Mode()&os.ModeNamedPipe != 0 {
				rel += " (a FIFO)"
			}
			left = append(left, rel)
		}
		return nil
	})
	require.NoError(t, err, "listing %s: %v", dir, err)
	sort.Strings(left)
	return left
}

// listen calls Listen(path) and fails the test if it does not return a
// server. The server is closed when the test ends.
func listen(t *testing.T, path string) *Server {
	t.Helper()
	var srv *Server
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("Listen(%q) (it must not wait for a client)", path), func() { srv, err = Listen(path) })
	require.NoError(t, err, "Listen(%q) = %v, %v; want a server, nil", path, srv, err)
	require.NotNil(t, srv, "Listen(%q) = %v, %v; want a server, nil", path, srv, err)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Close()
		}()
		select {
		case <-done:
		case <-time.After(cleanupPatience(t)):
		}
	})
	return srv
}

// cleanupPatience is how long a clean-up waits for a call to return: as
// long as any call may take, unless the test has failed already, and a
// hung call is no news.
func cleanupPatience(t *testing.T) time.Duration {
	if t.Failed() {
		return testkit.Grace
	}
	return testkit.Patience
}

// A serving is a call of Serve running on its own goroutine.
type serving struct {
	op     *testkit.Op
	cancel context.CancelFunc
	err    error // what Serve returned; read it once op is done
}

// serve runs srv.Serve(ctx, handle) on a new goroutine. It is cancelled
// when the test ends, if the test did not stop it.
func serve(t *testing.T, srv *Server, handle func([]byte) []byte) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{cancel: cancel}
	s.op = testkit.Go(func() { s.err = srv.Serve(ctx, handle) })
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.op.Finished():
		case <-time.After(cleanupPatience(t)):
		}
	})
	return s
}

// stop cancels Serve's context and waits for Serve to return what it
// must: context.Canceled.
func (s *serving) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	s.op.Finishes(t, testkit.Patience, "srv.Serve(ctx, handle) after ctx was cancelled")
	testkit.ErrorIs(t, s.err, context.Canceled, "srv.Serve(ctx, handle) = %v after ctx was cancelled, want context.Canceled", s.err)
}

// request calls Request in the test process, with a time limit.
func request(t *testing.T, ctx context.Context, serverPath string, req []byte) ([]byte, error) {
	t.Helper()
	var reply []byte
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("Request(ctx, %q, %s)", serverPath, show(req)), func() {
		reply, err = Request(ctx, serverPath, req)
	})
	return reply, err
}

// idle watches a running Serve for window while no client is connected,
// and fails the test if Serve returns, or if it spins: if it keeps a
// processor busy instead of waiting. after says what happened before.
func (s *serving) idle(t *testing.T, window time.Duration, after string) {
	t.Helper()
	cpu0, wall0 := testkit.CPUTime(), time.Now()
	timer := time.NewTimer(window)
	defer timer.Stop()
	select {
	case <-s.op.Finished():
		require.FailNow(t, fmt.Sprintf("srv.Serve(ctx, handle) returned %v %s, while ctx was still live; want it to keep serving: "+
			"a read that finds no writer reports end-of-file, which only means that no client is connected right now", s.err, after))
	case <-timer.C:
	}
	cpu, wall := testkit.CPUTime()-cpu0, time.Since(wall0)
	share := cpu.Seconds() / wall.Seconds()
	t.Logf("%s, the idle server used %v of CPU time in %v (%.2f%% of a processor)", after, cpu.Round(time.Millisecond/10), wall.Round(time.Millisecond), 100*share)
	// A server that waits in the kernel or in Go's poller uses next to
	// nothing (well under a tenth of a per cent). One that spins keeps a
	// processor busy: all of it on a quiet machine, and still several per
	// cent of one on a machine loaded with a dozen other busy programs.
	// The limit sits between the two.
	const limit = 0.01
	assert.LessOrEqual(t, share, limit, "%s, no client was connected for %v and the process used %v of CPU time (%.1f%% of a processor, the limit is %.0f%%): "+
		"the server is busy waiting, reading end-of-file over and over; keep a write end of your own FIFO open, so that a read waits for the next client",
		after, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*share, 100*limit)
}

func TestRequestAndReply(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB, far more than a pipe holds
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

	// A client in another process.
	kid := startClients(t, "client process", path, 1, 3, 20, 200)
	checkClients(t, 3, kid)

	// Clients in this process, with TMPDIR pointing at a directory of
	// their own.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, req := range [][]byte{
		[]byte("hello"),
		{},                             // an empty request gets a reply too
		[]byte("two\nlines\x00\xff\n"), // any bytes at all: the length frames the payload
		[]byte("big"),                  // a reply may be larger than MaxRequest, and than the pipe
	} {
		want := handle(req)
		got, err := request(t, context.Background(), path, req)
		gotReply(t, got, err, want, "Request(ctx, %q, %q) = %s, %v; want %s, nil", path, req, show(got), err, show(want))
		left := leftovers(t, tmp)
		require.Empty(t, left, "after Request(ctx, %q, %q) returned, TMPDIR holds %q; want it empty: Request must remove its reply FIFO", path, req, left)
	}

	s.stop(t)
}

func TestManyClientProcesses(t *testing.T) {
	const procs, goroutines, rounds = 4, 16, 2
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)

	// The clients may send as soon as Listen has returned. The server
	// starts reading once all of them are about to send, so their requests
	// meet in the FIFO.
	var kids []*child
	for p := 0; p < procs; p++ {
		kids = append(kids, startClients(t, fmt.Sprintf("client process %d", p), path, goroutines, rounds, 150, 0))
	}
	for _, k := range kids {
		k.waitLine(t, testkit.Patience, "ready")
	}
	s := serve(t, srv, answer)
	checkClients(t, goroutines*rounds, kids...)
	if t.Failed() {
		require.FailNow(t, mixedUp)
	}
	s.stop(t)
}

func TestServerOutlivesItsClients(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "server")
	srv := listen(t, path)
	s := serve(t, srv, answer)

	first := startClients(t, "the first client process", path, 1, 2, 10, 100)
	checkClients(t, 2, first)
	if t.Failed() {
		return
	}
	s.idle(t, 500*time.Millisecond, "after the first client process had exited")

	second := startClients(t, "a later client process", path, 2, 2, 10, 100)
	checkClients(t, 4, second)
	s.stop(t)
}

func TestListenAndClose(t *testing.T) {
	dir := t.TempDir()

	// Something already exists at the path: Listen refuses and leaves it.
	taken := filepath.Join(dir, "taken")
	require.NoError(t, os.WriteFile(taken, []byte("not yours"), 0o600), "os.WriteFile(%q)", taken)
	var srv *Server
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("Listen(%q)", taken), func() { srv, err = Listen(taken) })
	testkit.ErrorIs(t, err, ErrExists, "Listen(%q) = %v, %v with a file already there; want an error wrapping ErrExists", taken, srv, err)
	data, rerr := os.ReadFile(taken)
	if assert.NoError(t, rerr, "after Listen(%q) failed, the file holds %q, %v; want it untouched (\"not yours\")", taken, data, rerr) {
		assert.Equal(t, "not yours", string(data), "after Listen(%q) failed, the file holds %q, %v; want it untouched (\"not yours\")", taken, data, rerr)
	}
	os.Remove(taken)

	// A FIFO, then Close: the name is gone from disk.
	path := filepath.Join(dir, "server")
	srv = listen(t, path)
	fi, err := os.Lstat(path)
	require.NoError(t, err, "after Listen(%q): os.Lstat = %v, %v; want a named pipe (a FIFO made with mkfifo)", path, fi, err)
	require.True(t, fi.Mode()&os.ModeNamedPipe != 0, "after Listen(%q): os.Lstat = %v, %v; want a named pipe (a FIFO made with mkfifo)", path, fi, err)
	testkit.Within(t, testkit.Patience, fmt.Sprintf("Listen(%q) again while the first server is open", path), func() { _, err = Listen(path) })
	testkit.ErrorIs(t, err, ErrExists, "Listen(%q) while a server listens there = %v, want an error wrapping ErrExists", path, err)
	testkit.Within(t, testkit.Patience, "srv.Close()", func() { err = srv.Close() })
	assert.NoError(t, err, "srv.Close() = %v, want nil", err)
	left := leftovers(t, dir)
	assert.Empty(t, left, "after srv.Close(), the server's directory still holds %q; want it empty: Close must remove the FIFO", left)
	testkit.Within(t, testkit.Patience, "srv.Close() a second time", func() { err = srv.Close() })
	assert.NoError(t, err, "srv.Close() on a closed server = %v, want nil", err)
}

func TestOversizedRequestRefused(t *testing.T) {
	require.EqualValues(t, 512, MaxRequest, "MaxRequest = %d, want 512: the course fixes the limit (the smallest PIPE_BUF POSIX allows)", MaxRequest)
	// The test plays the server: a FIFO it reads itself, to see what
	// arrives.
	path := filepath.Join(t.TempDir(), "server")
	sniff := newSniffer(t, path)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	for _, size := range []int{MaxRequest, MaxRequest + 1, 4 * MaxRequest, 100 << 10} {
		req := payload(fmt.Sprintf("oversized-%d", size), size)
		// A Request that does send must not keep the test waiting long.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		reply, err := request(t, ctx, path, req)
		cancel()
		testkit.ErrorIs(t, err, ErrTooLarge, "Request(ctx, server, %d bytes) = %s, %v; want an error wrapping ErrTooLarge (a request may be at most MaxRequest = %d bytes, header included)",
			size, show(reply), err, MaxRequest)
		got := sniff.drain(t)
		assert.Zero(t, len(got), "Request(ctx, server, %d bytes) wrote %s into the server's FIFO; want nothing at all: refuse the request before writing any of it",
			size, show(got))
		if left := leftovers(t, tmp); !assert.Empty(t, left, "after Request(ctx, server, %d bytes) returned, TMPDIR holds %q; want it empty", size, left) {
			for _, l := range left {
				os.RemoveAll(filepath.Join(tmp, strings.TrimSuffix(l, " (a FIFO)")))
			}
		}
	}
}

// A sniffer is a FIFO that the test reads itself, in place of a server.
type sniffer struct {
	path string
	r    *os.File // the test's read end: non-blocking, so reads honour deadlines
	rfd  int      // its descriptor, for reads that must not wait at all
	w    int      // a write end of the test's own, so that reads never report end-of-file
}

// newSniffer makes a FIFO at path and opens it. It is closed and removed
// when the test ends.
func newSniffer(t *testing.T, path string) *sniffer {
	t.Helper()
	err := syscall.Mkfifo(path, 0o600)
	require.NoError(t, err, "mkfifo %s: %v", path, err)
	t.Cleanup(func() { os.Remove(path) })
	rfd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	require.NoError(t, err, "open %s for reading: %v", path, err)
	s := &sniffer{path: path, r: os.NewFile(uintptr(rfd), path), rfd: rfd}
	t.Cleanup(func() { s.r.Close() })
	s.w, err = syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	require.NoError(t, err, "open %s for writing: %v", path, err)
	t.Cleanup(func() { syscall.Close(s.w) })
	return s
}

// drain returns whatever is in the FIFO now, without waiting.
func (s *sniffer) drain(t *testing.T) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 64<<10)
	for i := 0; i < 1000; i++ {
		n, err := syscall.Read(s.rfd, buf)
		if n > 0 {
			got = append(got, buf[:n]...)
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		if err != syscall.EAGAIN {
			require.NoError(t, err, "reading %s: %v", s.path, err)
		}
		break
	}
	return got
}
