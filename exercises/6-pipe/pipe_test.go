//go:build unix

package pipe

// These tests are the contract of the exercise. Run them with the race
// detector, as the grader does:
//
//	go test -race ./6-pipe/
//
// The children are real processes: the test binary runs itself again in a
// "role" (cat, upper, count, …, registered below), so no program outside
// the repository is needed. A child still running when a test ends is
// killed and waited for, whatever your code did.
//
// No test waits without a limit: a call that hangs (a deadlock, or a pipe
// that never reaches end-of-file) fails its test after 30 seconds, with a
// message that names the call.
//
// The grader also runs hidden tests that look harder at the same ideas:
// inputs and outputs far larger than a pipe's buffer in both directions,
// zombies and descriptors left behind on every path, which stage a failure
// is blamed on, cancelled pipelines, and whether the stages of a pipeline
// really share one pipe. README.md lists what they check.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// The roles a child process can play. Each one reads its standard input
// and writes its standard output the way the comment says.
func init() {
	// cat copies its input to its output as it reads it.
	childproc.Register("cat", func(args []string) int {
		return transform(func(b []byte) {})
	})
	// upper copies its input to its output in upper case, as it reads it
	// (the tests give it ASCII only).
	childproc.Register("upper", func(args []string) int {
		return transform(func(b []byte) { copy(b, bytes.ToUpper(b)) })
	})
	// tr FROM TO copies its input to its output as it reads it, with
	// every byte FROM replaced by TO.
	childproc.Register("tr", func(args []string) int {
		if len(args) != 2 || len(args[0]) != 1 || len(args[1]) != 1 {
			fmt.Fprintf(os.Stderr, "tr: want two one-byte arguments, got %q\n", args)
			return 2
		}
		from, to := args[0][0], args[1][0]
		return transform(func(b []byte) {
			for i, c := range b {
				if c == from {
					b[i] = to
				}
			}
		})
	})
	// count reads its whole input and then writes how many bytes it
	// read, in decimal, and a newline: it can only answer once its
	// input has reached end-of-file.
	childproc.Register("count", func(args []string) int {
		n, err := io.Copy(io.Discard, os.Stdin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "count: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stdout, "%d\n", n)
		return 0
	})
	// drain-exit CODE reads its whole input, writes nothing, and exits
	// with status CODE.
	childproc.Register("drain-exit", func(args []string) int {
		io.Copy(io.Discard, os.Stdin)
		return exitCode(args)
	})
	// exit CODE exits at once with status CODE, without reading its
	// input.
	childproc.Register("exit", func(args []string) int {
		return exitCode(args)
	})
	// hang writes "ready" and a newline, then sleeps for an hour without
	// reading its input: only a kill ends it early.
	childproc.Register("hang", func(args []string) int {
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Hour)
		return 0
	})
}

// transform copies standard input to standard output in chunks, applying
// fn to each chunk in place, and exits 0 at end-of-file.
func transform(fn func([]byte)) int {
	buf := make([]byte, 16<<10)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			fn(buf[:n])
			if _, err := os.Stdout.Write(buf[:n]); err != nil {
				return 1
			}
		}
		if err == io.EOF {
			return 0
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "reading stdin: %v\n", err)
			return 1
		}
	}
}

func exitCode(args []string) int {
	if len(args) != 1 {
		return 2
	}
	code, err := strconv.Atoi(args[0])
	if err != nil {
		return 2
	}
	return code
}

// patience bounds each call of Filter or Pipeline, and each wait for a
// child. It is three times testkit.Patience because every call starts
// real processes: on a busy machine a child may wait a long time for a
// processor at every turn of a pipe. A call that hangs would hang for
// ever, so a generous bound changes no verdict, only how long a hung test
// takes to fail.
const patience = 3 * testkit.Patience

// child returns a command, not started, that runs the test binary in the
// given role. It is killed, if it still runs, and waited for when the test
// ends.
func child(t *testing.T, role string, args ...string) *exec.Cmd {
	t.Helper()
	return childproc.Command(t, role, args...)
}

// describe names a command in failure messages by its role: "tr a b".
func describe(cmd *exec.Cmd) string {
	if cmd == nil {
		return "no command"
	}
	for i, a := range cmd.Args {
		if a == "--" {
			role := ""
			for _, kv := range cmd.Env {
				if v, ok := strings.CutPrefix(kv, childproc.RoleEnv+"="); ok {
					role = v
				}
			}
			return strings.Join(append([]string{role}, cmd.Args[i+1:]...), " ")
		}
	}
	return strings.Join(cmd.Args, " ")
}

// describeAll names the stages of a pipeline: "cat | upper".
func describeAll(cmds []*exec.Cmd) string {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = describe(c)
	}
	return strings.Join(names, " | ")
}

// size says how big an input is, for messages.
func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// large is the size of the big inputs and outputs: 1 MiB, sixteen times
// what a pipe holds on Linux or macOS (64 KiB), so that nothing of that
// size fits in the pipes while the other side is not reading.
const large = 1 << 20

// letters returns n bytes of lower-case text in lines, the same every
// time. The text is made of blocks that are each a different rotation of
// one block of random letters, so a block that is lost, repeated or moved
// shows, and it is cheap to make even under the race detector.
func letters(n int) []byte { return text(n, 'a') }

// capitals returns letters(n) in upper case, as the upper role writes it.
func capitals(n int) []byte { return text(n, 'A') }

func text(n int, first byte) []byte {
	const block = 4093 // a prime, so that no two rotations are the same
	base := make([]byte, block)
	x := uint32(2463534242)
	for i := range base {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if i%61 == 60 {
			base[i] = '\n'
		} else {
			base[i] = first + byte(x%26)
		}
	}
	b := make([]byte, n)
	for k, off := 0, 0; off < n; k, off = k+1, off+block {
		r := k * 1021 % block
		m := copy(b[off:], base[r:])
		copy(b[off+m:min(off+block, n)], base[:r])
	}
	return b
}

// A syncBuffer is an io.Writer for the output of a filter or a pipeline
// that tells the test when the first bytes have arrived.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	once    sync.Once
	arrived chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{arrived: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if n > 0 {
		b.once.Do(func() { close(b.arrived) })
	}
	return n, err
}

// waitFor waits up to patience for the first bytes of output, and
// fails the test if none arrive. what says whose output it is.
func (b *syncBuffer) waitFor(t *testing.T, what string) {
	t.Helper()
	timer := time.NewTimer(patience)
	defer timer.Stop()
	select {
	case <-b.arrived:
	case <-timer.C:
		t.Fatalf("%s: no output arrived within %v (the child writes \"ready\" as soon as it starts)", what, patience)
	}
}

// hangHint explains what a call that does not return is probably stuck on.
const hangHint = "a pipe that never reaches end-of-file because some process, perhaps the parent, still holds its write end; " +
	"or a deadlock: the parent writing the input while nobody reads the output"

// filter calls Filter(ctx, cmd, in, out) and waits for it for at most
// patience. label is the input as the message shows it.
func filter(t *testing.T, ctx context.Context, cmd *exec.Cmd, in io.Reader, out io.Writer, label string) error {
	t.Helper()
	var err error
	what := fmt.Sprintf("Filter(ctx, %s, %s, out) (%s)", describe(cmd), label, hangHint)
	testkit.Within(t, patience, what, func() { err = Filter(ctx, cmd, in, out) })
	return err
}

// pipeline calls Pipeline(ctx, in, out, cmds...) and waits for it for at
// most patience.
func pipeline(t *testing.T, ctx context.Context, in io.Reader, out io.Writer, label string, cmds ...*exec.Cmd) error {
	t.Helper()
	var err error
	what := fmt.Sprintf("Pipeline(ctx, %s, out, %s) (%s)", label, describeAll(cmds), hangHint)
	testkit.Within(t, patience, what, func() { err = Pipeline(ctx, in, out, cmds...) })
	return err
}

// sameOutput fails the test if got is not want, saying where they differ.
// Long outputs are not compared with require.Equal, whose dump of a
// mebibyte would bury the message.
func sameOutput(t *testing.T, call string, got, want []byte) {
	t.Helper()
	if len(got) < 64 && len(want) < 64 {
		require.Equal(t, string(want), string(got), "%s wrote %q, want %q", call, got, want)
		return
	}
	i := firstDifference(got, want)
	require.True(t, i < 0, "%s wrote %s, want %s; they differ from byte %d on (data lost, repeated or out of order)",
		call, size(len(got)), size(len(want)), i)
}

// firstDifference returns the index of the first byte where a and b
// differ, the length of the shorter one if it is a prefix of the other,
// or -1 if they are equal.
func firstDifference(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// usesPipeEnds fails the test unless cmd's Stdin and Stdout are *os.File
// values: the ends of pipes made with os.Pipe.
func usesPipeEnds(t *testing.T, call string, cmd *exec.Cmd) {
	t.Helper()
	assert.IsType(t, (*os.File)(nil), cmd.Stdin, "after %s, cmd.Stdin of %s is a %T, want an *os.File: give the child the read end of a pipe made with os.Pipe, "+
		"not a reader of yours (exec would then copy it in the parent for you)", call, describe(cmd), cmd.Stdin)
	assert.IsType(t, (*os.File)(nil), cmd.Stdout, "after %s, cmd.Stdout of %s is a %T, want an *os.File: give the child the write end of a pipe made with os.Pipe, "+
		"not a writer of yours (exec would then copy it in the parent for you)", call, describe(cmd), cmd.Stdout)
}

// exitStatus returns the exit status in err (an *exec.ExitError, maybe
// wrapped), or -1 and false when err holds none.
func exitStatus(err error) (int, bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1, false
	}
	return ee.ExitCode(), true
}

// show describes what a call returned, for failure messages. A
// *StageError is shown with its stage's role rather than with the test
// binary's path that its Error method prints.
func show(err error) string {
	var se *StageError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &se):
		s := fmt.Sprintf("*StageError{Index: %d (%s), Err: %v}", se.Index, describe(se.Cmd), se.Err)
		if error(se) != err {
			s = "an error wrapping " + s
		}
		return s
	}
	return fmt.Sprintf("error %q", err)
}

// A leakCheck finds what the code under test left behind: child
// processes, running or zombies, and (when made by startLeakCheck) open
// descriptors.
type leakCheck struct {
	fds      []int        // open before the call; nil when not counted
	reported map[int]bool // children already reported, by PID
}

// childCheck returns a leakCheck that looks for child processes only.
func childCheck() *leakCheck { return &leakCheck{reported: map[int]bool{}} }

// startLeakCheck runs one child through two pipes first, without the code
// under test, so that the descriptors Go opens once per process (for its
// poller, for instance) are already open, and then records the open
// descriptors.
func startLeakCheck(t *testing.T) *leakCheck {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err, "os.Pipe()")
	cmd := child(t, "exit", "0")
	cmd.Stdin, cmd.Stdout = r, w
	testkit.Within(t, patience, "warming up: running a child through two pipes", func() { err = cmd.Run() })
	r.Close()
	w.Close()
	require.NoError(t, err, "warming up: running a child through two pipes")
	lc := childCheck()
	lc.fds = openFDs(t)
	return lc
}

func openFDs(t *testing.T) []int {
	t.Helper()
	fds, err := childproc.OpenFDs()
	require.NoError(t, err, "childproc.OpenFDs()")
	return fds
}

// noneLeft fails the test if, after call returned, a child process is
// still running or is a zombie, or a descriptor opened since the last
// check is still open. Each child and descriptor is reported once: the
// next check blames the next call only for what it leaves itself.
func (lc *leakCheck) noneLeft(t *testing.T, call string) {
	t.Helper()
	kids, err := childproc.Children()
	require.NoError(t, err, "childproc.Children()")
	var left []string // each says whether it is a zombie or still running
	for _, k := range kids {
		if !lc.reported[k.PID] {
			lc.reported[k.PID] = true
			left = append(left, k.String())
		}
	}
	assert.Empty(t, left, "after %s returned, child processes %s: every child must have exited, and been waited for (cmd.Wait), before the call returns",
		call, strings.Join(left, ", "))
	if lc.fds == nil {
		return
	}
	leaked, err := childproc.LeakedFDs(lc.fds)
	require.NoError(t, err, "childproc.LeakedFDs()")
	hint := "close every pipe end you made: the parent's own ends once it is done with them, the children's ends as soon as they have started"
	if strings.Contains(strings.Join(leaked, " "), "pidfd") {
		hint += "; a pidfd is held for a child that was never waited for"
	}
	assert.Empty(t, leaked, "after %s returned, the parent still has these descriptors open: %s (%s)", call, strings.Join(leaked, ", "), hint)
	lc.fds = openFDs(t)
}

func TestFilterRunsChild(t *testing.T) {
	cmd := child(t, "upper")
	var out bytes.Buffer
	err := filter(t, context.Background(), cmd, strings.NewReader("hello, pipe\n"), &out, `"hello, pipe\n"`)
	call := `Filter(ctx, upper, "hello, pipe\n", out)`
	require.NoError(t, err, "%s = %s, want nil (the child exited with status 0)", call, show(err))
	sameOutput(t, call, out.Bytes(), []byte("HELLO, PIPE\n"))
	usesPipeEnds(t, call, cmd)
}

func TestFilterChildSeesEOF(t *testing.T) {
	// count answers only once its input has reached end-of-file, and the
	// parent sees the answer end only once count's output has.
	for _, n := range []int{0, 1, 1000} {
		cmd := child(t, "count")
		var out bytes.Buffer
		label := size(n) + " of input"
		err := filter(t, context.Background(), cmd, bytes.NewReader(letters(n)), &out, label)
		call := fmt.Sprintf("Filter(ctx, count, %s, out)", label)
		require.NoError(t, err, "%s = %s, want nil", call, show(err))
		sameOutput(t, call, out.Bytes(), []byte(fmt.Sprintf("%d\n", n)))
	}
}

func TestFilterLargeInput(t *testing.T) {
	// cat writes its output as it reads its input, and 1 MiB does not
	// fit in the pipes: the parent must read while it writes.
	in := letters(large)
	cmd := child(t, "cat")
	var out bytes.Buffer
	err := filter(t, context.Background(), cmd, bytes.NewReader(in), &out, "1 MiB of input")
	call := "Filter(ctx, cat, 1 MiB of input, out)"
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), in)
}

func TestFilterExitStatus(t *testing.T) {
	cmd := child(t, "drain-exit", "3")
	var out bytes.Buffer
	err := filter(t, context.Background(), cmd, strings.NewReader("input\n"), &out, `"input\n"`)
	call := `Filter(ctx, drain-exit 3, "input\n", out)`
	code, _ := exitStatus(err) // -1 when err holds no *exec.ExitError
	assert.Equal(t, 3, code, "%s = %s, want an error holding the child's *exec.ExitError with exit status 3", call, show(err))
	kids := childCheck()
	kids.noneLeft(t, call)

	cmd = child(t, "exit", "0")
	err = filter(t, context.Background(), cmd, strings.NewReader("never read\n"), &out, `"never read\n"`)
	call = `Filter(ctx, exit 0, "never read\n", out)`
	assert.NoError(t, err, "%s = %s, want nil (the child exited with status 0 without reading its input, which is not an error)", call, show(err))
	kids.noneLeft(t, call)
}

func TestFilterCancel(t *testing.T) {
	lc := startLeakCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := child(t, "hang")
	out := newSyncBuffer()
	var err error
	call := "Filter(ctx, hang, \"x\\n\", out)"
	op := testkit.Go(func() { err = Filter(ctx, cmd, strings.NewReader("x\n"), out) })
	out.waitFor(t, call)
	cancel()
	op.Finishes(t, patience, call+" after ctx was cancelled (a cancelled context must kill the child)")
	testkit.ErrorIs(t, err, context.Canceled, "%s after ctx was cancelled = %s, want context.Canceled (or an error wrapping it)", call, show(err))
	lc.noneLeft(t, call+" after ctx was cancelled")
}

func TestPipelineThreeStages(t *testing.T) {
	// Each stage changes what the one before it wrote, so the output
	// shows that every stage ran, and in which order.
	cmds := []*exec.Cmd{child(t, "tr", "a", "b"), child(t, "tr", "b", "c"), child(t, "upper")}
	var out bytes.Buffer
	err := pipeline(t, context.Background(), strings.NewReader("a b c\n"), &out, `"a b c\n"`, cmds...)
	call := `Pipeline(ctx, "a b c\n", out, tr a b | tr b c | upper)`
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), []byte("C C C\n"))
	for _, cmd := range cmds {
		usesPipeEnds(t, call, cmd)
	}

	one := child(t, "upper")
	out.Reset()
	err = pipeline(t, context.Background(), strings.NewReader("solo\n"), &out, `"solo\n"`, one)
	call = `Pipeline(ctx, "solo\n", out, upper)`
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), []byte("SOLO\n"))

	err = pipeline(t, context.Background(), strings.NewReader("none\n"), &out, `"none\n"`)
	testkit.ErrorIs(t, err, ErrNoCommands, `Pipeline(ctx, "none\n", out) with no commands = %s, want ErrNoCommands`, show(err))
}

func TestPipelineMiddleStageFails(t *testing.T) {
	cmds := []*exec.Cmd{child(t, "cat"), child(t, "drain-exit", "3"), child(t, "cat")}
	var out bytes.Buffer
	err := pipeline(t, context.Background(), strings.NewReader("input\n"), &out, `"input\n"`, cmds...)
	call := `Pipeline(ctx, "input\n", out, cat | drain-exit 3 | cat)`
	var se *StageError
	if assert.Error(t, err, "%s = nil, want a *StageError for stage 1 (it exited with status 3; the last stage's status is not the only one that counts)", call) &&
		assert.True(t, errors.As(err, &se), "%s = %s, want a *StageError for stage 1 (errors.As found none, so the caller cannot tell which stage failed)", call, show(err)) {
		assert.True(t, se.Index == 1 && se.Cmd == cmds[1], "%s = %s, want stage 1 (drain-exit 3), the one that failed", call, show(err))
		code, _ := exitStatus(err) // -1 when err holds no *exec.ExitError
		assert.Equal(t, 3, code, "%s = %s, want the stage's *exec.ExitError with exit status 3 inside the *StageError (as its Err)", call, show(err))
	}
	childCheck().noneLeft(t, call)
}
