package run

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ipclab/ipclab/grader/internal/stacks"
	"github.com/ipclab/ipclab/grader/internal/testjson"
)

// DefaultOutputLimit bounds what one test may print, stdout and stderr
// together. A correct test prints a few kilobytes; a race report with
// stacks a few dozen.
const DefaultOutputLimit = 4 << 20

// DefaultKillGrace is how long after the time limit the process group is
// killed from outside: long enough for the testing package's own alarm to
// print its goroutine dump first.
const DefaultKillGrace = 5 * time.Second

// DrainWait is how long the output is read for after the test's process
// group was killed, when something outside the group still holds it open.
const DrainWait = 5 * time.Second

// QuitWait is how long a test process that outlived its time limit and
// the kill grace (its alarm never fired: it hangs before its first test,
// in an init function) is given to print its goroutines' stacks on
// SIGQUIT before its group is killed. A process may so run KillGrace +
// QuitWait past its limit.
const QuitWait = time.Second

// A Spec says which test to run and under what limits.
type Spec struct {
	// Binary is the compiled test binary (go test -c).
	Binary string
	// BinarySum, when set, is the SHA-256 of Binary as it was built: the
	// test does not run if the file has changed since.
	BinarySum []byte
	// Package is the import path, for the events.
	Package string
	// Test is the top-level test function to run.
	Test string
	// Args are extra arguments for the test binary, after its -test flags.
	Args []string
	// Timeout is the test's time limit.
	Timeout time.Duration
	// OutputLimit bounds the output; DefaultOutputLimit when zero.
	OutputLimit int64
	// KillGrace is how long after Timeout the process group is killed
	// from outside; DefaultKillGrace when zero.
	KillGrace time.Duration
	// Isolation fences the test off from the machine (see Probe).
	Isolation Isolation
	// Limits apply from IsolateLimits up.
	Limits Limits
	// Hide lists directories the test must not see (the course
	// repository, the grader's home), from IsolateNamespaces up.
	Hide []string
}

// An Outcome is what one run produced.
type Outcome struct {
	// Report holds the events, read.
	Report *testjson.Report
	// ExitCode is the process's exit status, -1 if it was killed.
	ExitCode int
	// TimedOut is set when the process had to be killed at the time limit.
	TimedOut bool
	// OutputExceeded is set when the process was killed for printing more
	// than the output limit.
	OutputExceeded bool
	// MemoryExceeded is set when the process group was killed for using
	// more memory than its limit.
	MemoryExceeded bool
	// Signal names the signal that ended the process ("SIGSEGV"), when
	// one did and the grader did not send it; "" otherwise.
	Signal string
	// RaceReported is set when the output holds a race detector's report,
	// whatever the exit status says: the race detector halts the process
	// at its first report, and a process that got past one (or exited 0
	// after one) has not passed.
	RaceReported bool
	// Tampered says why the test was not run when its binary is no
	// longer the one the grader built (an earlier test of the same
	// submission rewrote it); "" otherwise.
	Tampered string
	// Elapsed is the wall time of the process.
	Elapsed time.Duration
}

// Passed reports whether the test passed: a pass event for it, the
// package's own final pass, and exit status 0.
func (o *Outcome) Passed(test string) bool {
	r := o.Report.Test(test)
	return r != nil && r.Outcome == testjson.Passed && o.Report.Finished && o.Report.Passed && o.ExitCode == 0 && o.Tampered == "" && !o.RaceReported && !o.TimedOut && !o.OutputExceeded && !o.MemoryExceeded
}

// Test runs one test and returns what happened. An error means the grader
// could not run it at all (the binary is missing, test2json failed); what
// the test itself did is in the Outcome.
func Test(ctx context.Context, s Spec) (*Outcome, error) {
	limit := s.OutputLimit
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	p, err := newPrivateDirs()
	if err != nil {
		return nil, err
	}
	defer p.remove()
	bin, err := p.place(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("place the test binary: %w", err)
	}
	// The sum is checked on the file that will run, after it was placed:
	// a binary swapped for another between a check of the original and
	// the link would otherwise run unchecked.
	if s.BinarySum != nil {
		if err := checkSum(bin, s.BinarySum); err != nil {
			return &Outcome{ExitCode: -1, Tampered: err.Error(), Report: &testjson.Report{}}, nil
		}
	}
	cmd := exec.Command(bin,
		"-test.run=^"+regexp.QuoteMeta(s.Test)+"$",
		"-test.v=test2json",
		"-test.paniconexit0",
		"-test.count=1",
		"-test.timeout="+s.Timeout.String(),
	)
	cmd.Args = append(cmd.Args, s.Args...)
	cmd.Dir = p.work
	cmd.Env = Environment(p.home, p.tmp)
	// The output goes through a pipe this function drains itself, to its
	// end: exec.Cmd's own copying stops WaitDelay after the process
	// exits, and on a loaded machine it was stopped before it had copied
	// the test's last lines (its pass), so a test that passed had no
	// result. Here the process group is killed first, so that nothing
	// else holds the pipe, and the pipe is then read to its end.
	out := newCappedBuffer(limit)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	defer pw.Close()
	cmd.Stdout = pw
	cmd.Stderr = pw
	isolate(cmd)
	cmd, err = sandboxCommand(cmd, s.Isolation, s, p)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start test binary: %w", err)
	}
	pw.Close() // the child has its own copy
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(out, pr)
	}()
	o := &Outcome{ExitCode: -1}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	memExceeded := make(chan struct{})
	if s.Isolation >= IsolateLimits {
		stopWatch := make(chan struct{})
		defer close(stopWatch)
		go watchMemory(cmd.Process.Pid, s.Limits.Memory, stopWatch, memExceeded)
	}
	grace := s.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	timer := time.NewTimer(s.Timeout + grace)
	defer timer.Stop()
	var waitErr error
	select {
	case waitErr = <-waited:
		// The memory watch says why before it kills: a process it
		// killed may be seen to end first.
		select {
		case <-memExceeded:
			o.MemoryExceeded = true
		default:
		}
	case <-timer.C:
		o.TimedOut = true
		// Where it hangs is worth the wait: the stacks package reads
		// the dump the runtime prints on SIGQUIT.
		quit(cmd)
		select {
		case waitErr = <-waited:
		case <-time.After(QuitWait):
			killGroup(cmd)
			waitErr = <-waited
		}
	case <-out.exceeded:
		o.OutputExceeded = true
		killGroup(cmd)
		waitErr = <-waited
	case <-memExceeded:
		o.MemoryExceeded = true
		waitErr = <-waited
	case <-ctx.Done():
		killGroup(cmd)
		<-waited
		return nil, ctx.Err()
	}
	// Whatever the test started in its group goes too; then the output
	// is read to its end. A process that left the group (a session of
	// its own, possible below namespaces) may hold the pipe open: after
	// DrainWait, what it has not written is lost, which can only cost a
	// pass, never make one.
	killGroup(cmd)
	// The test's time is its process's, not the drain's.
	o.Elapsed = time.Since(start)
	select {
	case <-drained:
	case <-time.After(DrainWait):
		pr.Close()
		<-drained
	}
	if cmd.ProcessState != nil {
		o.ExitCode = cmd.ProcessState.ExitCode()
		if !o.TimedOut && !o.OutputExceeded && !o.MemoryExceeded {
			o.Signal = signalOf(cmd.ProcessState)
		}
	}
	if s.Isolation > IsolateNone && o.ExitCode == sandboxFailure {
		return nil, fmt.Errorf("the sandbox failed: %s", bytes.TrimSpace(out.Bytes()))
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return nil, fmt.Errorf("wait for test binary: %w", waitErr)
	}
	raw := out.Bytes()
	o.RaceReported = bytes.Contains(raw, []byte("WARNING: DATA RACE"))
	o.Report, err = convert(ctx, raw, s.Package)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// privateDirs is one test's own corner of the file system: its working
// directory, TMPDIR and HOME, all empty at the start and removed at the
// end, and an empty directory the namespaces level builds its root on.
type privateDirs struct {
	dir, work, tmp, home, root string
}

func newPrivateDirs() (*privateDirs, error) {
	dir, err := os.MkdirTemp(privateBase(), "ipclab-run-")
	if err != nil {
		return nil, err
	}
	p := &privateDirs{
		dir:  dir,
		work: filepath.Join(dir, "work"),
		tmp:  filepath.Join(dir, "tmp"),
		home: filepath.Join(dir, "home"),
		root: filepath.Join(dir, "root"),
	}
	for _, d := range []string{p.work, p.tmp, p.home, p.root} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	return p, nil
}

// place puts the test binary in the private directory, as a hard link
// where it can (the same file, no copying) or a copy, so that the test's
// user reaches it through directories the grader controls.
func (p *privateDirs) place(binary string) (string, error) {
	dst := filepath.Join(p.dir, filepath.Base(binary))
	if err := os.Link(binary, dst); err == nil {
		return dst, nil
	}
	src, err := os.Open(binary)
	if err != nil {
		return "", err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// writable lists the directories the test may write.
func (p *privateDirs) writable() []string { return []string{p.work, p.tmp, p.home} }

// remove deletes the directories and whatever the test left in them, even
// a directory it made unreadable.
func (p *privateDirs) remove() {
	// Root needs no permission to remove anything; a grader that is not
	// root may find directories the test (its own user) made unreadable.
	if os.RemoveAll(p.dir) == nil || os.Getuid() == 0 {
		return
	}
	_ = filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(p.dir)
}

// Sum returns the SHA-256 of the file at path, for Spec.BinarySum.
func Sum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// checkSum reports how the file at path differs from what was built.
func checkSum(path string, want []byte) error {
	got, err := Sum(path)
	if err != nil {
		return fmt.Errorf("the test binary cannot be read any more: %v", err)
	}
	if !bytes.Equal(got, want) {
		return errors.New("the test binary was changed after it was built (by code that ran in an earlier test)")
	}
	return nil
}

// Environment is the whole environment a test process gets. Nothing from
// the grader's own environment leaks in but the search path for programs
// and a few settings that change no result.
func Environment(home, tmp string) []string {
	env := []string{
		"HOME=" + home,
		"TMPDIR=" + tmp,
		"PATH=" + safePath(),
		"GORACE=atexit_sleep_ms=0 halt_on_error=1",
		"LANG=C.UTF-8",
		// A wait of the tests that gives up prints the goroutines'
		// stacks, for the report to say where they were blocked.
		stacks.DumpEnv + "=1",
	}
	if runtime.GOOS == "windows" {
		env = append(env, "TEMP="+tmp, "TMP="+tmp, "USERPROFILE="+home, "SystemRoot="+os.Getenv("SystemRoot"))
	}
	return env
}

// safePath keeps the system directories of PATH and drops the rest
// (a user's own bin directories, tool caches).
func safePath() string {
	if runtime.GOOS == "windows" {
		return os.Getenv("PATH")
	}
	return "/usr/local/bin:/usr/bin:/bin"
}

var (
	toolOnce sync.Once
	toolPath string
	toolErr  error
)

// test2json returns the path of the toolchain's test2json. Recent
// toolchains build it on first use; `go tool -n` builds it if need be and
// prints where it is, without running it.
func test2json() (string, error) {
	toolOnce.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "test2json").Output()
		if err != nil {
			toolErr = fmt.Errorf("find test2json (go tool -n test2json): %w", err)
			return
		}
		toolPath = strings.TrimSpace(string(out))
		if _, err := os.Stat(toolPath); err != nil {
			toolErr = fmt.Errorf("find test2json: %w", err)
		}
	})
	return toolPath, toolErr
}

// convert turns a test binary's -test.v=test2json output into events with
// the toolchain's own converter, and reads them.
func convert(ctx context.Context, raw []byte, pkg string) (*testjson.Report, error) {
	tool, err := test2json()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, tool, "-t", "-p", pkg)
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	events, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("test2json: %w: %s", err, stderr.Bytes())
	}
	return testjson.Read(bytes.NewReader(events))
}

// cappedBuffer keeps the first limit bytes written and signals, once, when
// more arrive.
type cappedBuffer struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	limit    int64
	exceeded chan struct{}
}

func newCappedBuffer(limit int64) *cappedBuffer {
	return &cappedBuffer{limit: limit, exceeded: make(chan struct{})}
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.limit - int64(b.buf.Len())
	if int64(len(p)) > room {
		b.buf.Write(p[:max(room, 0)])
		select {
		case <-b.exceeded:
		default:
			close(b.exceeded)
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
