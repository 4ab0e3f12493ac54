//go:build unix

package pipe

// Hidden tests: they cover the bug catalogue of the pipe exercise. They
// build on the roles and helpers of the visible tests (pipe_test.go),
// which the grader always compiles with them.
//
//   - write-end-kept: TestPipelineEOFReachesEveryStage puts a stage that
//     answers only at end-of-file first, in the middle and last; a write
//     end the parent kept makes it wait for ever (so does every visible
//     test, and TestPipelineLargeInput).
//   - write-then-read-deadlock: TestFilterBothWaysLarge and
//     TestPipelineLargeInput move a mebibyte both ways, and one child
//     writes its mebibyte before it reads anything.
//   - zombies and fd-leak: TestFilterNoZombiesOrLeakedFDs,
//     TestPipelineNoZombiesOrLeakedFDs and TestPipelineStartFailure look
//     for child processes and descriptors after every call, down every
//     path: success, a failing stage, a stage that exits without reading,
//     a stage that cannot start.
//   - middle-stage-failure-unreported: TestPipelineReportsFailingStage
//     makes each stage fail in turn, and two at once.
//   - cancel-leaves-children: TestPipelineCancel cancels pipelines whose
//     stages would otherwise run for an hour.
//   - early-error-leaks: TestAlreadyCancelledLeavesNothing calls both
//     with a context that is already done, and
//     TestOutputFailureLeavesNothing with an out that fails part way;
//     both look for children, descriptors and goroutines left behind,
//     with garbage collection off so that no finalizer closes a
//     forgotten *os.File first.
//   - input-failure: TestInputFailureReported gives both an in that
//     fails part way: the children must still see end-of-file, and the
//     call returns the error reading in.
//   - data-through-parent: TestPipelineConnectsStagesDirectly has every
//     stage report which pipes its stdin and stdout are, and checks that
//     neighbours share one.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	// talk-first N writes N bytes of letters(N) before it reads anything,
	// then copies its input to its output as it reads it.
	childproc.Register("talk-first", func(args []string) int {
		n, err := strconv.Atoi(strings.Join(args, ""))
		if err != nil {
			return 2
		}
		if _, err := os.Stdout.Write(letters(n)); err != nil {
			return 1
		}
		return transform(func([]byte) {})
	})
	// stdio-report PATH writes to the file PATH what its stdin and stdout
	// are (see stdioReport), then copies its input to its output.
	childproc.Register("stdio-report", func(args []string) int {
		if len(args) != 1 {
			return 2
		}
		report := describeFD(0, "stdin") + describeFD(1, "stdout")
		if err := os.WriteFile(args[0], []byte(report), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "stdio-report: %v\n", err)
			return 1
		}
		return transform(func([]byte) {})
	})
}

// describeFD returns one line, "name kind device inode", for descriptor
// fd; kind is "pipe" for a pipe (or FIFO) and "other" for anything else.
func describeFD(fd int, name string) string {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Sprintf("%s closed 0 0\n", name)
	}
	kind := "other"
	if st.Mode&syscall.S_IFMT == syscall.S_IFIFO {
		kind = "pipe"
	}
	return fmt.Sprintf("%s %s %d %d\n", name, kind, st.Dev, st.Ino)
}

// An end is what a stage's stdin or stdout was, as stdio-report saw it.
type end struct {
	kind     string // "pipe", "other" or "closed"
	dev, ino string
}

func (e end) String() string {
	if e.kind != "pipe" {
		return "not a pipe (" + e.kind + ")"
	}
	return "pipe inode " + e.ino
}

// stdioReport reads the file a stdio-report stage wrote.
func stdioReport(t *testing.T, path string, stage int) (stdin, stdout end) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err, "stage %d (stdio-report) left no report", stage)
	ends := map[string]end{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 {
			ends[f[0]] = end{kind: f[1], dev: f[2], ino: f[3]}
		}
	}
	return ends["stdin"], ends["stdout"]
}

func TestFilterBothWaysLarge(t *testing.T) {
	// The child writes 1 MiB before it reads a byte, then echoes 1 MiB
	// of input: a parent that writes all the input before it reads, or
	// waits for the child before it reads, is stuck.
	in := capitals(large)
	cmd := child(t, "talk-first", strconv.Itoa(large))
	var out bytes.Buffer
	err := filter(t, context.Background(), cmd, bytes.NewReader(in), &out, "1 MiB of input")
	call := "Filter(ctx, talk-first 1048576, 1 MiB of input, out)"
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), append(letters(large), in...))
}

func TestFilterNoZombiesOrLeakedFDs(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	lc := startLeakCheck(t)
	missing := filepath.Join(t.TempDir(), "no-such-program")
	cases := []struct {
		cmd     *exec.Cmd
		in      []byte
		wantErr bool
		why     string
	}{
		{child(t, "cat"), letters(64 << 10), false, "the child copied its input"},
		{child(t, "count"), nil, false, "the child counted an empty input"},
		{child(t, "drain-exit", "3"), letters(1000), true, "the child exited with status 3"},
		{child(t, "exit", "0"), letters(large), false,
			"the child exited at once without reading its input: the parent's writes must then fail (a broken pipe), not block, and that is no error"},
		{exec.Command(missing), letters(1000), true, "the program does not exist, so it cannot start"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		label := size(len(c.in)) + " of input"
		err := filter(t, context.Background(), c.cmd, bytes.NewReader(c.in), &out, label)
		call := fmt.Sprintf("Filter(ctx, %s, %s, out)", describe(c.cmd), label)
		errorIfWanted(t, call, err, c.wantErr, c.why)
		lc.noneLeft(t, call)
	}
}

func TestPipelineLargeInput(t *testing.T) {
	in := letters(large)
	cmds := []*exec.Cmd{child(t, "cat"), child(t, "upper"), child(t, "cat")}
	var out bytes.Buffer
	err := pipeline(t, context.Background(), bytes.NewReader(in), &out, "1 MiB of input", cmds...)
	call := "Pipeline(ctx, 1 MiB of input, out, cat | upper | cat)"
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), capitals(large))

	// The first stage writes 1 MiB before it reads any input, then
	// echoes 1 MiB of input.
	in = capitals(large)
	cmds = []*exec.Cmd{child(t, "talk-first", strconv.Itoa(large)), child(t, "cat")}
	out.Reset()
	err = pipeline(t, context.Background(), bytes.NewReader(in), &out, "1 MiB of input", cmds...)
	call = "Pipeline(ctx, 1 MiB of input, out, talk-first 1048576 | cat)"
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), append(letters(large), in...))
}

func TestPipelineEOFReachesEveryStage(t *testing.T) {
	// count answers only at end-of-file on its stdin, which comes only
	// once every write end of that pipe is closed: the previous stage's
	// (when it exits) and every copy the parent made.
	const n = 10000
	in := letters(n)
	for _, roles := range [][]string{{"count"}, {"count", "cat", "cat"}, {"cat", "count", "cat"}, {"cat", "cat", "count"}} {
		cmds := make([]*exec.Cmd, len(roles))
		for i, r := range roles {
			cmds[i] = child(t, r)
		}
		var out bytes.Buffer
		err := pipeline(t, context.Background(), bytes.NewReader(in), &out, size(n)+" of input", cmds...)
		call := fmt.Sprintf("Pipeline(ctx, %s of input, out, %s)", size(n), describeAll(cmds))
		require.NoError(t, err, "%s = %s, want nil", call, show(err))
		sameOutput(t, call, out.Bytes(), []byte(fmt.Sprintf("%d\n", n)))
	}
}

func TestPipelineConnectsStagesDirectly(t *testing.T) {
	dir := t.TempDir()
	const stages = 3
	cmds := make([]*exec.Cmd, stages)
	reports := make([]string, stages)
	for i := range cmds {
		reports[i] = filepath.Join(dir, fmt.Sprintf("stage%d", i))
		cmds[i] = child(t, "stdio-report", reports[i])
	}
	in := letters(256 << 10)
	var out bytes.Buffer
	err := pipeline(t, context.Background(), bytes.NewReader(in), &out, "256 KiB of input", cmds...)
	call := "Pipeline(ctx, 256 KiB of input, out, stdio-report | stdio-report | stdio-report)"
	require.NoError(t, err, "%s = %s, want nil", call, show(err))
	sameOutput(t, call, out.Bytes(), in)

	stdin := make([]end, stages)
	stdout := make([]end, stages)
	for i := range cmds {
		stdin[i], stdout[i] = stdioReport(t, reports[i], i)
	}
	assert.Equal(t, "pipe", stdin[0].kind, "in %s, stage 0's stdin is %v, want a pipe made with os.Pipe", call, stdin[0])
	last := stages - 1
	assert.Equal(t, "pipe", stdout[last].kind, "in %s, stage %d's stdout is %v, want a pipe made with os.Pipe", call, last, stdout[last])
	for i := 0; i+1 < stages; i++ {
		w, r := stdout[i], stdin[i+1]
		// The same kind, device and inode, and that kind a pipe.
		assert.True(t, w.kind == "pipe" && w == r, "in %s, stage %d's stdout is %v but stage %d's stdin is %v: they must be the two ends of one pipe, "+
			"so that the data goes from child to child through the kernel; here it went through the parent "+
			"(make one os.Pipe per pair of neighbours: the write end is stage %d's Stdout, the read end stage %d's Stdin)",
			call, i, w, i+1, r, i, i+1)
	}
}

func TestPipelineNoZombiesOrLeakedFDs(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	lc := startLeakCheck(t)
	cases := []struct {
		roles   [][]string
		in      []byte
		wantErr bool
		why     string
	}{
		{[][]string{{"cat"}, {"cat"}, {"cat"}}, letters(64 << 10), false, "every stage succeeded"},
		{[][]string{{"cat"}, {"drain-exit", "3"}, {"cat"}}, letters(1000), true, "stage 1 exited with status 3"},
		{[][]string{{"cat"}, {"cat"}, {"drain-exit", "4"}}, letters(1000), true, "stage 2 exited with status 4"},
		{[][]string{{"exit", "0"}}, letters(large), false,
			"the only stage exited at once without reading: the parent's writes must then fail, not block, and that is no error"},
		{[][]string{{"cat"}, {"exit", "0"}, {"cat"}}, letters(large), true,
			"stage 1 exited at once without reading, so stage 0 was killed by a broken pipe when it wrote; " +
				"it can only get one if nobody, the parent included, still holds the read end of the pipe between them"},
	}
	for _, c := range cases {
		_, call, err := runStages(t, c.roles, c.in)
		errorIfWanted(t, call, err, c.wantErr, c.why)
		lc.noneLeft(t, call)
	}
}

func TestPipelineStartFailure(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	lc := startLeakCheck(t)
	missing := filepath.Join(t.TempDir(), "no-such-program")
	for _, layout := range [][]string{{"cat", "missing", "cat"}, {"missing", "cat"}, {"cat", "cat", "missing"}} {
		cmds := make([]*exec.Cmd, len(layout))
		bad := -1
		for i, r := range layout {
			if r == "missing" {
				cmds[i] = exec.Command(missing)
				bad = i
			} else {
				cmds[i] = child(t, r)
			}
		}
		var out bytes.Buffer
		err := pipeline(t, context.Background(), strings.NewReader("input\n"), &out, `"input\n"`, cmds...)
		call := fmt.Sprintf(`Pipeline(ctx, "input\n", out, %s)`, strings.Join(layout, " | "))
		var se *StageError
		if assert.True(t, errors.As(err, &se), "%s = %s, want a *StageError for stage %d (%s does not exist, so it cannot start)", call, show(err), bad, missing) {
			assert.True(t, se.Index == bad && se.Cmd == cmds[bad], "%s = %s, want stage %d, the one that could not start", call, show(err), bad)
		}
		lc.noneLeft(t, call+" (the stages that had started must be stopped and waited for, and every pipe closed)")
	}
}

func TestPipelineReportsFailingStage(t *testing.T) {
	cases := []struct {
		roles     [][]string
		in        []byte
		wantStage int
		wantCode  int
		why       string
	}{
		{[][]string{{"drain-exit", "6"}, {"cat"}, {"cat"}}, letters(1000), 0, 6, "only stage 0 failed"},
		{[][]string{{"cat"}, {"cat"}, {"drain-exit", "4"}}, letters(1000), 2, 4, "only stage 2 failed"},
		{[][]string{{"drain-exit", "5"}, {"drain-exit", "3"}, {"cat"}}, letters(1000), 1, 3,
			"stages 0 and 1 both failed, and the one nearest the end of the pipeline is reported"},
		{[][]string{{"cat"}, {"exit", "3"}, {"cat"}}, letters(large), 1, 3,
			"stage 1 exited without reading, so stage 0 died of a broken pipe because of it; the failure nearest the end, stage 1's, is reported"},
	}
	for _, c := range cases {
		cmds, call, err := runStages(t, c.roles, c.in)
		var se *StageError
		if assert.Error(t, err, "%s = nil, want a *StageError for stage %d with exit status %d (%s)", call, c.wantStage, c.wantCode, c.why) &&
			assert.True(t, errors.As(err, &se), "%s = %s, want a *StageError for stage %d (errors.As found none, so the caller cannot tell which stage failed)", call, show(err), c.wantStage) &&
			assert.True(t, se.Index == c.wantStage && se.Cmd == cmds[c.wantStage], "%s = %s, want stage %d (%s)", call, show(err), c.wantStage, c.why) {
			code, _ := exitStatus(err) // -1 when err holds no *exec.ExitError
			assert.Equal(t, c.wantCode, code, "%s = %s, want the stage's *exec.ExitError with exit status %d inside the *StageError", call, show(err), c.wantCode)
		}
	}
}

func TestPipelineCancel(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	lc := startLeakCheck(t)
	for _, roles := range [][]string{{"cat", "hang", "cat"}, {"hang", "cat", "cat"}, {"hang"}} {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		cmds := make([]*exec.Cmd, len(roles))
		for i, r := range roles {
			cmds[i] = child(t, r)
		}
		out := newSyncBuffer()
		call := fmt.Sprintf("Pipeline(ctx, \"x\\n\", out, %s)", describeAll(cmds))
		var err error
		op := testkit.Go(func() { err = Pipeline(ctx, strings.NewReader("x\n"), out, cmds...) })
		out.waitFor(t, call)
		cancel()
		op.Finishes(t, patience, call+" after ctx was cancelled (a cancelled context must kill every stage)")
		testkit.ErrorIs(t, err, context.Canceled, "%s after ctx was cancelled = %s, want context.Canceled (or an error wrapping it)", call, show(err))
		lc.noneLeft(t, call+" after ctx was cancelled")
	}
}

func TestAlreadyCancelledLeavesNothing(t *testing.T) {
	// A context that is done before the call starts: the call returns
	// ctx.Err(), whether it starts the children (and kills them at once)
	// or not, and leaves nothing behind on the way out.
	testkit.NoGoroutineLeaks(t)
	// A forgotten *os.File is closed by its finalizer when the garbage
	// collector finds it: a collection between the call and the check
	// would hide the leak. No collection runs until the test ends.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	lc := startLeakCheck(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	cmd := child(t, "cat")
	var out bytes.Buffer
	err := filter(t, ctx, cmd, strings.NewReader("input\n"), &out, `"input\n"`)
	call := `Filter(ctx, cat, "input\n", out) with ctx already cancelled`
	testkit.ErrorIs(t, err, context.Canceled, "%s = %s, want context.Canceled (or an error wrapping it)", call, show(err))
	lc.noneLeft(t, call)

	cmds := []*exec.Cmd{child(t, "cat"), child(t, "cat"), child(t, "cat")}
	err = pipeline(t, ctx, strings.NewReader("input\n"), &out, `"input\n"`, cmds...)
	call = `Pipeline(ctx, "input\n", out, cat | cat | cat) with ctx already cancelled`
	testkit.ErrorIs(t, err, context.Canceled, "%s = %s, want context.Canceled (or an error wrapping it)", call, show(err))
	lc.noneLeft(t, call)
}

// errOutFull is what a failingWriter returns.
var errOutFull = errors.New("no space left (the test's writer fails on purpose)")

// A failingWriter takes the first limit bytes written to it, and then
// fails every write with errOutFull.
type failingWriter struct {
	mu    sync.Mutex
	n     int
	limit int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n+len(p) > w.limit {
		k := w.limit - w.n
		w.n = w.limit
		return k, errOutFull
	}
	w.n += len(p)
	return len(p), nil
}

func TestOutputFailureLeavesNothing(t *testing.T) {
	// out fails after 64 KiB while the children still have most of a
	// mebibyte to write: the call must stop reading, let the children
	// find out (a broken pipe), wait for them, close every end and
	// return the error writing to out.
	testkit.NoGoroutineLeaks(t)
	// A forgotten *os.File is closed by its finalizer when the garbage
	// collector finds it: a collection between the call and the check
	// would hide the leak. No collection runs until the test ends.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	lc := startLeakCheck(t)
	in := letters(large)

	cmd := child(t, "cat")
	err := filter(t, context.Background(), cmd, bytes.NewReader(in), &failingWriter{limit: 64 << 10}, "1 MiB of input")
	call := "Filter(ctx, cat, 1 MiB of input, out) with an out that fails after 64 KiB"
	testkit.ErrorIs(t, err, errOutFull, "%s = %s, want the error out.Write returned (or an error wrapping it with %%w)", call, show(err))
	lc.noneLeft(t, call)

	cmds := []*exec.Cmd{child(t, "cat"), child(t, "upper"), child(t, "cat")}
	err = pipeline(t, context.Background(), bytes.NewReader(in), &failingWriter{limit: 64 << 10}, "1 MiB of input", cmds...)
	call = "Pipeline(ctx, 1 MiB of input, out, cat | upper | cat) with an out that fails after 64 KiB"
	testkit.ErrorIs(t, err, errOutFull, "%s = %s, want the error out.Write returned (or an error wrapping it with %%w)", call, show(err))
	lc.noneLeft(t, call)
}

// errInBroken is what a failingReader returns.
var errInBroken = errors.New("input device gone (the test's reader fails on purpose)")

// A failingReader gives the bytes of data and then fails every read with
// errInBroken, where a good reader would report io.EOF.
type failingReader struct {
	data []byte
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errInBroken
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestInputFailureReported(t *testing.T) {
	// in fails after 100 KiB. The child must still see end-of-file on its
	// stdin (the parent closes its write end whatever happened), exit
	// normally after copying what it got, and the call returns the error
	// reading in: nothing else went wrong.
	testkit.NoGoroutineLeaks(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	lc := startLeakCheck(t)
	data := letters(100 << 10)

	cmd := child(t, "cat")
	var out bytes.Buffer
	err := filter(t, context.Background(), cmd, &failingReader{data: data}, &out, "an in that fails after 100 KiB")
	call := "Filter(ctx, cat, in, out) with an in that fails after 100 KiB"
	testkit.ErrorIs(t, err, errInBroken, "%s = %s, want the error in.Read returned (or an error wrapping it with %%w): the child exited normally, so the error reading in is the result", call, show(err))
	sameOutput(t, call, out.Bytes(), data)
	lc.noneLeft(t, call)

	cmds := []*exec.Cmd{child(t, "cat"), child(t, "upper"), child(t, "cat")}
	out.Reset()
	err = pipeline(t, context.Background(), &failingReader{data: data}, &out, "an in that fails after 100 KiB", cmds...)
	call = "Pipeline(ctx, in, out, cat | upper | cat) with an in that fails after 100 KiB"
	testkit.ErrorIs(t, err, errInBroken, "%s = %s, want the error in.Read returned (or an error wrapping it with %%w): every stage exited normally, so the error reading in is the result", call, show(err))
	sameOutput(t, call, out.Bytes(), bytes.ToUpper(data))
	lc.noneLeft(t, call)
}
