//go:build unix

package shm

// These tests are the contract of the exercise. Run them with the race
// detector, as the grader does:
//
//	go test -race ./2-shm/
//
// Many of them start real processes: the test binary runs copies of
// itself in the roles registered below (a process that counts under the
// Mutex, one that sends numbered messages into a Ring, ...), and each of
// them maps the test's segment by its name. What a child finds wrong it
// prints on its standard output, and the test reports it.
//
// The race detector cannot see memory that mmap returned, so these tests
// cannot count on it. They check invariants instead: a counter that many
// processes increment under the Mutex must end exactly right, and every
// message that goes through a Ring must arrive whole, once, and in order.
//
// The grader also runs hidden tests on the same API: more processes,
// messages that wrap around the end of the ring at every offset, the CPU
// time a waiting process uses, what is left in the segment directory, and
// end-of-stream seen from another process. README.md lists them.
//
// No test waits without a limit: a call that must return is given a few
// seconds (testkit.Patience), and a child process that has not exited
// when its test ends is killed.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	childproc.Register("poke", pokeRole)
	childproc.Register("count", countRole)
	childproc.Register("produce", produceRole)
}

// segmentDir is where the README says segment names live: /dev/shm on
// Linux, the temporary directory elsewhere.
func segmentDir() string {
	if runtime.GOOS == "linux" {
		return "/dev/shm"
	}
	return os.TempDir()
}

// newName returns a segment name that no other test (and no other run of
// this test) uses, and removes whatever is left under that name when the
// test ends, so that a failing test leaves nothing behind either.
func newName(t *testing.T) string {
	t.Helper()
	var rnd [6]byte
	_, err := rand.Read(rnd[:])
	require.NoError(t, err, "rand.Read")
	short := strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	short = strings.NewReplacer("/", "-", " ", "-").Replace(short)
	if len(short) > 24 {
		short = short[:24]
	}
	name := fmt.Sprintf("ipclab-%s-%x", short, rnd)
	t.Cleanup(func() { os.Remove(filepath.Join(segmentDir(), name)) })
	return name
}

// exists reports whether the segment's name is in the segment directory.
func exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(segmentDir(), name))
	if !testkit.Is(err, os.ErrNotExist) { // not there is an answer too
		require.NoError(t, err, "stat %s", filepath.Join(segmentDir(), name))
	}
	return err == nil
}

// create calls Create(name, size), which must succeed, and closes the
// segment when the test ends, unless the test failed: then a goroutine or
// a call that hung may still be using the mapping, and unmapping it under
// its feet would crash the test binary. The process ends soon anyway.
func create(t *testing.T, name string, size int) *Segment {
	t.Helper()
	var seg *Segment
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("Create(%q, %d)", name, size), func() { seg, err = Create(name, size) })
	require.NoError(t, err, "Create(%q, %d) = %v, %v; want a segment and nil", name, size, seg, err)
	require.NotNil(t, seg, "Create(%q, %d) = %v, %v; want a segment and nil", name, size, seg, err)
	got := len(seg.Bytes())
	require.Equal(t, size, got, "len(Create(%q, %d).Bytes()) = %d, want %d", name, size, got, size)
	t.Cleanup(func() {
		if !t.Failed() {
			seg.Close()
		}
	})
	return seg
}

// open calls Open(name), which must succeed, and closes the segment when
// the test ends, unless the test failed (see create).
func open(t *testing.T, name string) *Segment {
	t.Helper()
	var seg *Segment
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("Open(%q)", name), func() { seg, err = Open(name) })
	require.NoError(t, err, "Open(%q) = %v, %v; want a segment and nil (the segment exists)", name, seg, err)
	require.NotNil(t, seg, "Open(%q) = %v, %v; want a segment and nil (the segment exists)", name, seg, err)
	t.Cleanup(func() {
		if !t.Failed() {
			seg.Close()
		}
	})
	return seg
}

// errName names the errors of the package the way a student writes them.
func errName(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, ErrExists):
		return fmt.Sprintf("ErrExists (%q)", err)
	case errors.Is(err, ErrNotExist):
		return fmt.Sprintf("ErrNotExist (%q)", err)
	case errors.Is(err, ErrBadName):
		return fmt.Sprintf("ErrBadName (%q)", err)
	case errors.Is(err, ErrTooLarge):
		return "ErrTooLarge"
	case errors.Is(err, ErrClosed):
		return "ErrClosed"
	case errors.Is(err, io.EOF):
		return "io.EOF"
	case errors.Is(err, io.ErrShortBuffer):
		return "io.ErrShortBuffer"
	}
	return fmt.Sprintf("error %q", err)
}

// ---- messages ----

// msgLen is the length of message number seq: it jumps around 0..maxLen,
// so that over many messages the records start at every offset of a ring
// and wrap around its end at every offset.
func msgLen(seq, maxLen int) int { return (seq*131 + seq/3) % (maxLen + 1) }

// message returns message number seq. Its first eight bytes (when it has
// that many) are seq, and every byte is derived from seq and its
// position, so a message that is torn, truncated, stale or another one
// altogether does not pass for it.
func message(seq, maxLen int) []byte {
	m := make([]byte, msgLen(seq, maxLen))
	for i := range m {
		m[i] = byte(seq*7 + i*13 + (seq>>8)*3 + 1)
	}
	if len(m) >= 8 {
		binary.LittleEndian.PutUint64(m, uint64(seq))
	}
	return m
}

// checkMessage says what is wrong with got, received where message
// number seq was due; "" when nothing is.
func checkMessage(seq, maxLen int, got []byte) string {
	want := message(seq, maxLen)
	if bytes.Equal(got, want) {
		return ""
	}
	if len(got) >= 8 && len(got) == msgLen(int(binary.LittleEndian.Uint64(got)), maxLen) {
		if other := int(binary.LittleEndian.Uint64(got)); other != seq && bytes.Equal(got, message(other, maxLen)) {
			return fmt.Sprintf("message %d arrived where message %d was due: messages were lost, repeated or reordered", other, seq)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("message %d has %d bytes, want %d (its length prefix was read wrong, or from the wrong place)", seq, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("message %d has the right length, %d bytes, but byte %d is %#02x, want %#02x: the message is torn (part of it was read before it was written, or from the wrong place)", seq, len(got), i, got[i], want[i])
		}
	}
	return ""
}

// A tally is what a consumer saw.
type tally struct {
	received int      // messages received
	eof      bool     // io.EOF came after them
	err      error    // the error Receive returned, other than io.EOF
	problems []string // wrong messages, the first few
}

// receiveAll receives from r until io.EOF or another error, and checks
// that the messages are numbers first, first+1, ... in that order. It
// stops after 10 wrong messages. It counts the messages in progress as
// they arrive.
func receiveAll(r *Ring, first, maxLen int, progress *atomic.Int64) tally {
	var tl tally
	buf := make([]byte, maxLen)
	for seq := first; ; seq++ {
		n, err := r.Receive(buf)
		if errors.Is(err, io.EOF) {
			tl.eof = true
			return tl
		}
		if err != nil {
			tl.err = err
			return tl
		}
		tl.received++
		progress.Add(1)
		if p := checkMessage(seq, maxLen, buf[:n]); p != "" {
			tl.problems = append(tl.problems, p)
			if len(tl.problems) == 10 {
				return tl
			}
		}
	}
}

// sendAll sends messages number first, ..., first+count-1 into r, and
// closes r if close is set.
func sendAll(r *Ring, first, count, maxLen int, close bool) error {
	for seq := first; seq < first+count; seq++ {
		if err := r.Send(message(seq, maxLen)); err != nil {
			return fmt.Errorf("r.Send(message %d, %d bytes) = %s, want nil", seq, msgLen(seq, maxLen), errName(err))
		}
	}
	if close {
		if err := r.Close(); err != nil {
			return fmt.Errorf("r.Close() = %s, want nil", errName(err))
		}
	}
	return nil
}

// receiveChecked runs receiveAll on r, for at most d, and fails the test
// unless exactly count messages arrive, all right, followed by io.EOF.
func receiveChecked(t *testing.T, d time.Duration, r *Ring, first, count, maxLen int, from string) {
	t.Helper()
	var tl tally
	var progress atomic.Int64
	op := testkit.Go(func() { tl = receiveAll(r, first, maxLen, &progress) })
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-op.Finished():
	case <-timer.C:
		t.Fatalf("receiving %d messages from %s took longer than %v: %d had arrived, and r.Receive(buf) did not return (was end-of-stream, or a message, never seen? or does every wait sleep far too long?)", count, from, d, progress.Load())
	}
	if len(tl.problems) > 0 { // the error lists them, one to a line
		require.FailNow(t, strings.Join(tl.problems, "\n"), "stopped receiving from %s after %d messages, %d of them wrong", from, tl.received, len(tl.problems))
	}
	require.NoError(t, tl.err, "r.Receive(buf) = 0, %s after %d messages from %s, want the next message or io.EOF", errName(tl.err), tl.received, from)
	require.Equal(t, count, tl.received, "received %d messages from %s and then io.EOF, want %d and then io.EOF", tl.received, from, count)
}

// ---- child processes ----

// A child is a process the test started: the test binary in a role.
type child struct {
	name   string
	cmd    *exec.Cmd
	out    *childproc.Lines
	stderr *childproc.Lines
	stdin  io.WriteCloser
	exited chan struct{}
	err    error // what Wait returned; read it once exited is closed
}

// startChild starts the test binary in the given role. When the test
// ends, the child is killed if it is still running, and always waited
// for.
func startChild(t *testing.T, name, role string, args ...string) *child {
	t.Helper()
	c := &child{name: name, out: childproc.NewLines(), stderr: childproc.NewLines(), exited: make(chan struct{})}
	c.cmd = childproc.Command(t, role, args...)
	c.cmd.Stdout = c.out
	c.cmd.Stderr = c.stderr
	stdin, err := c.cmd.StdinPipe()
	require.NoError(t, err, "starting %s: cmd.StdinPipe()", name)
	c.stdin = stdin
	require.NoError(t, c.cmd.Start(), "starting %s: cmd.Start()", name)
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

// waitLine waits up to d for the child to print a line that starts with
// prefix, and returns that line. It fails the test if the child exits or
// d passes first.
func (c *child) waitLine(t *testing.T, d time.Duration, prefix string) string {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	find := func(lines []string) (string, bool) {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l, true
			}
		}
		return "", false
	}
	for {
		lines, grew := c.out.Snapshot()
		if l, ok := find(lines); ok {
			return l
		}
		select {
		case <-grew:
		case <-c.exited:
			lines, _ := c.out.Snapshot() // what it printed last is in by now
			if l, ok := find(lines); ok {
				return l
			}
			t.Fatalf("%s exited (%v) before it printed %q; it printed %q%s", c.name, c.err, prefix, lines, c.stderrTail())
		case <-timer.C:
			t.Fatalf("%s did not print %q within %v (it printed %q): it is stuck%s", c.name, prefix, d, lines, c.stderrTail())
		}
	}
}

// quiet watches the child for d and fails the test if it prints a line
// that starts with prefix meanwhile: the call it is in must still wait.
func (c *child) quiet(t *testing.T, d time.Duration, prefix, what string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		lines, grew := c.out.Snapshot()
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				t.Fatalf("%s printed %q, but %s should still be waiting", c.name, l, what)
			}
		}
		select {
		case <-grew:
		case <-c.exited:
			lines, _ := c.out.Snapshot()
			t.Fatalf("%s exited (%v) while %s should still be waiting; it printed %q%s", c.name, c.err, what, lines, c.stderrTail())
		case <-timer.C:
			return
		}
	}
}

// tell writes a line to the child's standard input.
func (c *child) tell(t *testing.T, line string) {
	t.Helper()
	_, err := io.WriteString(c.stdin, line+"\n")
	require.NoError(t, err, "telling %s %q", c.name, line)
}

// wait waits up to d for the child to exit, and fails the test unless it
// exited with status 0.
func (c *child) wait(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-c.exited:
	case <-timer.C:
		lines, _ := c.out.Snapshot()
		t.Fatalf("%s did not exit within %v (it printed %q): it is stuck", c.name, d, lines)
	}
	lines, _ := c.out.Snapshot()
	require.NoError(t, c.err, "%s failed; it printed %q%s", c.name, lines, c.stderrTail())
}

// noProblems checks that the child printed no line that starts with
// "bad ": what it found wrong, which the error lists, one to a line. It
// reports whether the child printed none.
func (c *child) noProblems(t *testing.T) bool {
	t.Helper()
	problems := c.problems()
	if len(problems) == 0 {
		return true
	}
	return assert.Fail(t, strings.Join(problems, "\n"), "%s found something wrong", c.name)
}

// problems returns the lines the child printed that start with "bad ".
func (c *child) problems() []string {
	lines, _ := c.out.Snapshot()
	var bad []string
	for _, l := range lines {
		if strings.HasPrefix(l, "bad ") {
			bad = append(bad, strings.TrimPrefix(l, "bad "))
		}
	}
	return bad
}

func (c *child) stderrTail() string {
	lines, _ := c.stderr.Snapshot()
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return "\n\t" + c.name + " said on stderr:\n\t\t" + strings.Join(lines, "\n\t\t")
}

// ints parses a role's numeric arguments; a role gets them from the test,
// so a bad one is a bug in the test.
func ints(args []string) []int {
	n := make([]int, len(args))
	for i, a := range args {
		v, err := strconv.Atoi(a)
		if err != nil {
			panic(fmt.Sprintf("bad argument %q: %v", a, err))
		}
		n[i] = v
	}
	return n
}

// openInChild opens a segment in a child role, or says why it could not.
func openInChild(name string) (*Segment, bool) {
	seg, err := Open(name)
	if err != nil {
		fmt.Printf("bad Open(%q) = %s in the child process, want the segment the test created\n", name, errName(err))
		return nil, false
	}
	return seg, true
}

// readLine reads one line from the role's standard input: the test's go-ahead.
func readLine(in *bufio.Reader) { in.ReadString('\n') }

// pokeRole: args name, off, text. The child opens the segment, prints
// "read <text>" with what it finds at the start of the segment (up to the
// first zero byte), writes text at off, and prints "done".
func pokeRole(args []string) int {
	name, text := args[0], args[2]
	off := ints(args[1:2])[0]
	seg, ok := openInChild(name)
	if !ok {
		return 1
	}
	b := seg.Bytes()
	end := bytes.IndexByte(b, 0)
	if end < 0 {
		end = len(b)
	}
	fmt.Printf("read %s\n", b[:end])
	copy(b[off:], text)
	if err := seg.Close(); err != nil {
		fmt.Printf("bad seg.Close() = %s\n", errName(err))
		return 1
	}
	fmt.Println("done")
	return 0
}

// Where the counting processes keep their state in the segment.
const (
	countMutexOff = 0  // the Mutex
	countValueOff = 8  // the counter, a uint64, incremented in two steps
	countOwnerOff = 16 // who is in the critical section, a uint32, 0 for nobody
)

// countRole: args name, goroutines, d (a duration). The child opens the
// segment and prints "ready"; once the test writes a line to its standard
// input, each of its goroutines enters the critical section again and
// again for d. In there it checks that nobody else is, reads the counter,
// now and then gives others a chance to run, and writes the counter plus
// one. The child prints "done <violations> <increments>": the number of
// times it found someone else in the critical section, and the number of
// times it incremented the counter.
func countRole(args []string) int {
	name := args[0]
	goroutines := ints(args[1:2])[0]
	d, err := time.ParseDuration(args[2])
	if err != nil {
		panic(err)
	}
	seg, ok := openInChild(name)
	if !ok {
		return 1
	}
	b := seg.Bytes()
	m := MutexAt(seg, countMutexOff)
	fmt.Println("ready")
	readLine(bufio.NewReader(os.Stdin))
	deadline := time.Now().Add(d)
	var violations, increments atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(me uint32) {
			defer wg.Done()
			for r := 0; r%64 != 0 || time.Now().Before(deadline); r++ {
				m.Lock()
				if binary.LittleEndian.Uint32(b[countOwnerOff:]) != 0 {
					violations.Add(1)
				}
				binary.LittleEndian.PutUint32(b[countOwnerOff:], me)
				v := binary.LittleEndian.Uint64(b[countValueOff:])
				if r%4 == 0 {
					runtime.Gosched()
				}
				binary.LittleEndian.PutUint64(b[countValueOff:], v+1)
				if binary.LittleEndian.Uint32(b[countOwnerOff:]) != me {
					violations.Add(1)
				}
				binary.LittleEndian.PutUint32(b[countOwnerOff:], 0)
				m.Unlock()
				increments.Add(1)
			}
		}(uint32(os.Getpid())<<4 | uint32(g+1))
	}
	wg.Wait()
	fmt.Println("done", violations.Load(), increments.Load())
	return 0
}

// countTogether runs procs counting processes with goroutines goroutines
// each, released together, for d, and checks that the counter holds the
// sum of their increments and that no process found another in its
// critical section. Running for a while, rather than a number of rounds,
// makes sure the processes overlap in time even on a busy machine.
func countTogether(t *testing.T, procs, goroutines int, d time.Duration) {
	t.Helper()
	name := newName(t)
	seg := create(t, name, 4096)
	kids := make([]*child, procs)
	for i := range kids {
		kids[i] = startChild(t, fmt.Sprintf("counting process %d", i+1), "count", name, strconv.Itoa(goroutines), d.String())
	}
	for _, c := range kids {
		c.waitLine(t, testkit.Patience, "ready")
	}
	for _, c := range kids {
		c.tell(t, "go")
	}
	var violations, want int64
	for _, c := range kids {
		line := c.waitLine(t, d+testkit.Patience, "done ")
		var v, n int64
		_, err := fmt.Sscanf(line, "done %d %d", &v, &n)
		require.NoError(t, err, "%s printed %q, want \"done <violations> <increments>\"", c.name, line)
		violations += v
		want += n
		c.wait(t, testkit.Patience)
	}
	got := int64(binary.LittleEndian.Uint64(seg.Bytes()[countValueOff:]))
	assert.Equal(t, want, got, "%d processes with %d goroutines each incremented the counter %d times in all, each time under MutexAt(seg, %d).Lock(): the counter is %d, want %d (%d updates lost: two of them were in the critical section at once)",
		procs, goroutines, want, countMutexOff, got, want, want-got)
	assert.Zero(t, violations, "%d times a goroutine holding the Mutex found another goroutine or process in the critical section: Lock must let in one holder at a time, across every process that maps the segment", violations)
}

// produceRole: args name, off, size, maxLen, first, count, close. The
// child opens the segment, sends messages number first, ...,
// first+count-1 into RingAt(seg, off, size), closes the ring when close
// is 1, and prints "sent <count>". A failed Send is printed as "bad ...".
func produceRole(args []string) int {
	name := args[0]
	n := ints(args[1:])
	off, size, maxLen, first, count, close := n[0], n[1], n[2], n[3], n[4], n[5] == 1
	seg, ok := openInChild(name)
	if !ok {
		return 1
	}
	r := RingAt(seg, off, size)
	if err := sendAll(r, first, count, maxLen, close); err != nil {
		fmt.Println("bad", err)
		return 1
	}
	fmt.Println("sent", count)
	return 0
}

// ---- segments ----

func TestCreateAndOpen(t *testing.T) {
	name := newName(t)
	a := create(t, name, 4096)
	for i, v := range a.Bytes() {
		require.Zero(t, v, "Create(%q, 4096).Bytes()[%d] = %d, want 0 (a new segment is all zero)", name, i, v)
	}
	path := filepath.Join(segmentDir(), name)
	st, err := os.Stat(path)
	require.NoError(t, err, "after Create(%q, 4096), os.Stat(%q); want the segment's name there (README: where segments live)", name, path)
	assert.Equal(t, int64(4096), st.Size(), "after Create(%q, 4096), %s is %d bytes, want 4096", name, path, st.Size())

	copy(a.Bytes()[100:], "hello")
	b := open(t, name)
	got := len(b.Bytes())
	require.Equal(t, 4096, got, "len(Open(%q).Bytes()) = %d, want 4096, the size it was created with", name, got)
	require.NotSame(t, &a.Bytes()[0], &b.Bytes()[0], "Open(%q).Bytes() is the very slice Create returned: Open must map the segment anew, as another process would", name)
	hello := string(b.Bytes()[100:105])
	require.Equal(t, "hello", hello, "Open(%q).Bytes()[100:105] = %q, want \"hello\", written through the mapping Create made", name, hello)
	copy(b.Bytes()[4090:], "world!")
	world := string(a.Bytes()[4090:])
	require.Equal(t, "world!", world, "a.Bytes()[4090:] = %q, want \"world!\", written through the mapping Open made: both map the same memory", world)

	err = a.Close()
	require.NoError(t, err, "a.Close() = %s, want nil", errName(err))
	closed := a.Bytes()
	assert.True(t, closed == nil, "a.Bytes() after a.Close() has %d bytes, want nil", len(closed))
	err = a.Close()
	assert.NoError(t, err, "a.Close() a second time = %s, want nil (closing a closed Segment does nothing)", errName(err))
	hello = string(b.Bytes()[100:105])
	assert.Equal(t, "hello", hello, "b.Bytes()[100:105] = %q after a.Close(), want \"hello\": closing one mapping leaves the others alone", hello)
	assert.True(t, exists(t, name), "the segment %q is gone from %s after Close: only Unlink removes the name", name, segmentDir())
}

func TestCreateErrors(t *testing.T) {
	name := newName(t)
	a := create(t, name, 64)
	copy(a.Bytes(), "keep me")

	seg, err := Create(name, 128)
	if !testkit.ErrorIs(t, err, ErrExists, "Create(%q, 128) = %s, want ErrExists (the segment exists)", name, errName(err)) {
		if seg != nil {
			seg.Close()
		}
		t.FailNow()
	}
	b := open(t, name)
	size := len(b.Bytes())
	if assert.Equal(t, 64, size, "len(Open(%q).Bytes()) = %d after a failed Create(%q, 128), want 64: the existing segment must be left as it was", name, size, name) {
		kept := string(b.Bytes()[:7])
		assert.Equal(t, "keep me", kept, "Open(%q).Bytes()[:7] = %q after a failed Create, want \"keep me\"", name, kept)
	}

	missing := newName(t)
	if seg, err := Open(missing); !testkit.ErrorIs(t, err, ErrNotExist, "Open(%q) = %s, want ErrNotExist (no such segment)", missing, errName(err)) {
		if seg != nil {
			seg.Close()
		}
	}
	err = Unlink(missing)
	testkit.ErrorIs(t, err, ErrNotExist, "Unlink(%q) = %s, want ErrNotExist (no such segment)", missing, errName(err))

	for _, bad := range []string{"", "a/b", ".", "..", "../" + name, strings.Repeat("x", MaxName+1), "nul\x00byte"} {
		if seg, err := Create(bad, 64); !testkit.ErrorIs(t, err, ErrBadName, "Create(%q, 64) = %s, want ErrBadName", bad, errName(err)) {
			if seg != nil {
				seg.Close()
			}
		}
		if seg, err := Open(bad); !testkit.ErrorIs(t, err, ErrBadName, "Open(%q) = %s, want ErrBadName", bad, errName(err)) {
			if seg != nil {
				seg.Close()
			}
		}
		err := Unlink(bad)
		testkit.ErrorIs(t, err, ErrBadName, "Unlink(%q) = %s, want ErrBadName", bad, errName(err))
	}
	long := name + strings.Repeat("x", MaxName-len(name))
	t.Cleanup(func() { os.Remove(filepath.Join(segmentDir(), long)) })
	create(t, long, 64)

	zero := newName(t)
	if seg, err := Create(zero, 0); !assert.Error(t, err, "Create(%q, 0) = nil error, want an error: a segment needs at least one byte", zero) {
		seg.Close()
	}
}

func TestUnlink(t *testing.T) {
	name := newName(t)
	a := create(t, name, 4096)
	b := open(t, name)
	err := Unlink(name)
	require.NoError(t, err, "Unlink(%q) = %s, want nil", name, errName(err))
	assert.False(t, exists(t, name), "after Unlink(%q), %s is still there", name, filepath.Join(segmentDir(), name))
	if seg, err := Open(name); !testkit.ErrorIs(t, err, ErrNotExist, "Open(%q) after Unlink = %s, want ErrNotExist", name, errName(err)) {
		if seg != nil {
			seg.Close()
		}
	}
	copy(a.Bytes()[10:], "still here")
	got := string(b.Bytes()[10:20])
	assert.Equal(t, "still here", got, "b.Bytes()[10:20] = %q after Unlink, want \"still here\", written through a: mappings stay valid, and shared, after Unlink", got)
	err = Unlink(name)
	testkit.ErrorIs(t, err, ErrNotExist, "Unlink(%q) a second time = %s, want ErrNotExist", name, errName(err))

	c := create(t, name, 4096)
	got = string(c.Bytes()[10:20])
	assert.Equal(t, string(make([]byte, 10)), got, "Create(%q, 4096) after Unlink found %q at 10:20, want zero bytes: it must make a new segment", name, got)
	copy(c.Bytes(), "new")
	assert.NotEqual(t, "new", string(a.Bytes()[:3]), "a write to the new segment %q showed in the old, unlinked one: they must be different memory", name)
}

func TestChildSeesSegment(t *testing.T) {
	name := newName(t)
	seg := create(t, name, 4096)
	copy(seg.Bytes(), "from the parent")
	c := startChild(t, "the child process", "poke", name, "2000", "from the child!")
	line := c.waitLine(t, testkit.Patience, "read ")
	got := strings.TrimPrefix(line, "read ")
	assert.Equal(t, "from the parent", got, "a child process that opened %q found %q at its start, want \"from the parent\"", name, got)
	c.waitLine(t, testkit.Patience, "done")
	c.wait(t, testkit.Patience)
	c.noProblems(t)
	got = string(seg.Bytes()[2000:2015])
	assert.Equal(t, "from the child!", got, "seg.Bytes()[2000:2015] = %q after a child process wrote \"from the child!\" there through its own mapping, want that", got)
}

// ---- the Mutex ----

func TestMutexExcludes(t *testing.T) {
	testkit.AtLeastProcs(t, 2)
	name := newName(t)
	a := create(t, name, 4096)
	b := open(t, name)
	ma, mb := MutexAt(a, 64), MutexAt(b, 64)

	require.True(t, ma.TryLock(), "MutexAt(a, 64).TryLock() = false on a new segment, want true (zero bytes are an unlocked Mutex)")
	require.False(t, mb.TryLock(), "MutexAt(b, 64).TryLock() = true while MutexAt(a, 64) of the same segment is locked, want false: the lock's state must live in the segment")
	assert.True(t, MutexAt(a, 68).TryLock(), "MutexAt(a, 68).TryLock() = false while only the Mutex at 64 is locked, want true: Mutexes at different offsets are independent")
	op := testkit.Go(mb.Lock)
	op.StaysBlocked(t, testkit.Grace, "mb.Lock() (the Mutex was locked through the other mapping)")
	ma.Unlock()
	op.Finishes(t, testkit.Patience, "mb.Lock() after ma.Unlock()")
	require.False(t, ma.TryLock(), "ma.TryLock() = true right after mb.Lock() returned, want false")
	mb.Unlock()

	// Goroutines of one process, half of them through each mapping.
	const goroutines, rounds = 8, 500
	testkit.Together(t, goroutines, testkit.Patience, "8 goroutines each locking 500 times", func(i int) {
		seg, m := a, ma
		if i%2 == 1 {
			seg, m = b, mb
		}
		for r := 0; r < rounds; r++ {
			m.Lock()
			v := binary.LittleEndian.Uint64(seg.Bytes()[8:])
			if r%8 == 0 {
				runtime.Gosched()
			}
			binary.LittleEndian.PutUint64(seg.Bytes()[8:], v+1)
			m.Unlock()
		}
	})
	got := binary.LittleEndian.Uint64(a.Bytes()[8:])
	assert.Equal(t, uint64(goroutines*rounds), got, "8 goroutines incremented a counter in the segment 500 times each under the Mutex: it is %d, want %d (updates were lost)", got, goroutines*rounds)
}

func TestMutexAcrossProcesses(t *testing.T) {
	countTogether(t, 2, 2, 300*time.Millisecond)
}

// ---- the Ring ----

// ringPair maps one segment twice and returns a Ring on each mapping: p
// for the producer, c for the consumer, with capacity bytes for records.
func ringPair(t *testing.T, capacity int) (p, c *Ring) {
	t.Helper()
	name := newName(t)
	a := create(t, name, 4096)
	b := open(t, name)
	return RingAt(a, 0, RingHeader+capacity), RingAt(b, 0, RingHeader+capacity)
}

// send calls r.Send(msg), which must return nil without waiting for long.
func send(t *testing.T, r *Ring, msg []byte, why string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("r.Send(%s) (%s)", show(msg), why), func() { err = r.Send(msg) })
	require.NoError(t, err, "r.Send(%s) = %s, want nil (%s)", show(msg), errName(err), why)
}

// receive calls r.Receive with a buffer of bufLen bytes, which must return
// want without waiting for long.
func receive(t *testing.T, r *Ring, bufLen int, want []byte, why string) {
	t.Helper()
	buf := make([]byte, bufLen)
	var n int
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("r.Receive(buf) (%s)", why), func() { n, err = r.Receive(buf) })
	// Not require.Equal: its dump of two long messages says less than
	// show and firstDiff do.
	require.NoError(t, err, "r.Receive(buf) = %s, %s; want %s, nil (%s)", show(buf[:n]), errName(err), show(want), why)
	require.True(t, bytes.Equal(buf[:n], want), "r.Receive(buf) = %s, %s; want %s, nil (%s)%s", show(buf[:n]), errName(err), show(want), why, firstDiff(buf[:n], want))
}

// firstDiff says where got and want, of the same length, differ first.
func firstDiff(got, want []byte) string {
	if len(got) != len(want) {
		return ""
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf(": byte %d is %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return ""
}

// show describes bytes for a failure message.
func show(b []byte) string {
	if len(b) <= 24 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes %q...", len(b), b[:16])
}

func TestRingInOrder(t *testing.T) {
	p, c := ringPair(t, 64)
	send(t, p, []byte("one"), "the ring was empty")
	send(t, p, []byte{}, "an empty message is a message")
	send(t, p, []byte("three"), "the ring had room")
	receive(t, c, 64, []byte("one"), "\"one\", \"\" and \"three\" were sent in that order")
	receive(t, c, 64, []byte{}, "the empty message was second")
	receive(t, c, 64, []byte("three"), "\"three\" was third")

	send(t, p, []byte("hello"), "the ring was empty")
	buf := make([]byte, 3)
	n, err := c.Receive(buf)
	require.Zero(t, n, "r.Receive(buf[:3]) = %d, %s with \"hello\" next, want 0, io.ErrShortBuffer", n, errName(err))
	testkit.RequireErrorIs(t, err, io.ErrShortBuffer, "r.Receive(buf[:3]) = %d, %s with \"hello\" next, want 0, io.ErrShortBuffer", n, errName(err))
	receive(t, c, 5, []byte("hello"), "\"hello\" stays in the ring after io.ErrShortBuffer")

	err = p.Send(make([]byte, 61))
	testkit.RequireErrorIs(t, err, ErrTooLarge, "r.Send(61 bytes) = %s in a ring of %d+64 bytes, want ErrTooLarge (4+61 > 64)", errName(err), RingHeader)
	big := bytes.Repeat([]byte("0123456789"), 6)
	send(t, p, big, "4+60 bytes fill a ring of capacity 64 exactly")
	receive(t, c, 64, big, "the largest message that fits")

	// Enough messages to go round the ring many times.
	for seq := 0; seq < 300; seq++ {
		m := message(seq, 40)
		send(t, p, m, "the ring was empty")
		receive(t, c, 64, m, fmt.Sprintf("message %d went round a ring of 64 bytes", seq))
	}
}

func TestRingWaits(t *testing.T) {
	testkit.AtLeastProcs(t, 2)
	p, c := ringPair(t, 64)
	receiveWaits(t, p, c, "wake up", "the ring is empty")

	big := bytes.Repeat([]byte("x"), 60)
	send(t, p, big, "4+60 bytes fill a ring of capacity 64 exactly")
	sendWaits(t, p, c, []byte{}, big, "the ring is full: even an empty message needs 4 bytes")

	// A process that joins a ring in use makes its own Ring with RingAt,
	// and all it knows must come from the segment. Once the ring has gone
	// round a few times, a new consumer waits on the empty ring, and a new
	// producer on the full one.
	name := newName(t)
	a, b := create(t, name, 4096), open(t, name)
	size := RingHeader + 64
	p, c = RingAt(a, 0, size), RingAt(b, 0, size)
	for i := 0; i < 5; i++ {
		send(t, p, big, "the ring was empty")
		receive(t, c, 64, big, "the message just sent")
	}
	newC := RingAt(b, 0, size)
	receiveWaits(t, p, newC, "hello", "on a Ring just made with RingAt; the ring is empty: 5 messages of 4+60 bytes went round it and were received")
	send(t, p, big, "4+60 bytes fill a ring of capacity 64 exactly")
	newP := RingAt(a, 0, size)
	sendWaits(t, newP, newC, []byte("x"), big, "on a Ring just made with RingAt; the ring is full, and its message not yet received")
}

// receiveWaits checks that c.Receive waits while the ring is empty (why
// says why it is), and returns msg once p has sent it.
func receiveWaits(t *testing.T, p, c *Ring, msg, why string) {
	t.Helper()
	var got []byte
	var err error
	op := testkit.Go(func() {
		buf := make([]byte, 64)
		var n int
		n, err = c.Receive(buf)
		got = buf[:n]
	})
	op.StaysBlocked(t, testkit.Grace, fmt.Sprintf("r.Receive(buf) (%s)", why))
	send(t, p, []byte(msg), "the ring was empty")
	op.Finishes(t, testkit.Patience, fmt.Sprintf("r.Receive(buf) after a Send (%s)", why))
	require.NoError(t, err, "r.Receive(buf) = %q, %s, want %q, nil (%s)", got, errName(err), msg, why)
	require.Equal(t, msg, string(got), "r.Receive(buf) = %q, %s, want %q, nil (%s)", got, errName(err), msg, why)
}

// sendWaits checks that p.Send(msg) waits while the ring is full (why
// says why it is) until c has received first, the message that fills
// it, and that c then receives msg.
func sendWaits(t *testing.T, p, c *Ring, msg, first []byte, why string) {
	t.Helper()
	var err error
	op := testkit.Go(func() { err = p.Send(msg) })
	op.StaysBlocked(t, testkit.Grace, fmt.Sprintf("r.Send(%s) (%s)", show(msg), why))
	receive(t, c, 64, first, "the message that filled the ring; "+why)
	op.Finishes(t, testkit.Patience, fmt.Sprintf("r.Send(%s) after a Receive made room (%s)", show(msg), why))
	require.NoError(t, err, "r.Send(%s) = %s after a Receive made room, want nil (%s)", show(msg), errName(err), why)
	receive(t, c, 64, msg, "the message that waited for room")
}

func TestRingEndOfStream(t *testing.T) {
	testkit.AtLeastProcs(t, 2)
	p, c := ringPair(t, 64)
	send(t, p, []byte("last"), "the ring was empty")
	send(t, p, []byte("words"), "the ring had room")
	err := p.Close()
	require.NoError(t, err, "r.Close() = %s, want nil", errName(err))
	err = p.Send([]byte("late"))
	testkit.ErrorIs(t, err, ErrClosed, "r.Send(\"late\") after r.Close() = %s, want ErrClosed", errName(err))
	receive(t, c, 64, []byte("last"), "messages sent before Close are still delivered")
	receive(t, c, 64, []byte("words"), "messages sent before Close are still delivered")
	for i := 0; i < 2; i++ {
		var n int
		var err error
		testkit.Within(t, testkit.Patience, "r.Receive(buf) (the ring was closed and empty)", func() { n, err = c.Receive(make([]byte, 64)) })
		require.Zero(t, n, "r.Receive(buf) = %d, %s on a closed, empty ring, want 0, io.EOF (every time)", n, errName(err))
		testkit.RequireErrorIs(t, err, io.EOF, "r.Receive(buf) = %d, %s on a closed, empty ring, want 0, io.EOF (every time)", n, errName(err))
	}

	// A consumer that is already waiting must see the end too.
	p, c = ringPair(t, 64)
	var n int
	op := testkit.Go(func() { n, err = c.Receive(make([]byte, 64)) })
	op.StaysBlocked(t, testkit.Grace, "r.Receive(buf) (the ring is empty and open)")
	closeErr := p.Close()
	require.NoError(t, closeErr, "r.Close() = %s, want nil", errName(closeErr))
	op.Finishes(t, testkit.Patience, "r.Receive(buf), waiting on an empty ring, after the producer's r.Close()")
	require.Zero(t, n, "r.Receive(buf) = %d, %s after the producer closed the empty ring, want 0, io.EOF", n, errName(err))
	testkit.RequireErrorIs(t, err, io.EOF, "r.Receive(buf) = %d, %s after the producer closed the empty ring, want 0, io.EOF", n, errName(err))
}

func TestRingAcrossProcesses(t *testing.T) {
	const size, maxLen, count = RingHeader + 509, 200, 2000
	name := newName(t)
	seg := create(t, name, 4096)
	c := startChild(t, "the producer process", "produce", name, "0", strconv.Itoa(size), strconv.Itoa(maxLen), "0", strconv.Itoa(count), "1")
	defer c.noProblems(t) // also when the test stops early: what the producer found explains it
	receiveChecked(t, testkit.Patience, RingAt(seg, 0, size), 0, count, maxLen, "a producer process")
	c.wait(t, testkit.Patience)
}
