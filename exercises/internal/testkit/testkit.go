// Package testkit holds the helpers that every exercise's tests share.
//
// # Bounded waits
//
// A test must never lean on the package-wide -timeout: a hang has to fail
// the test that hung, with a message that says what did not happen. Every
// wait in an exercise test therefore goes through [Within], [Op.Finishes]
// or [Op.StaysBlocked], which fail the test after a fixed bound.
//
// Two bounds are used throughout:
//
//   - [Patience] is how long an operation that must finish may take. It is
//     generous, because the tests run under the race detector on loaded
//     machines, and a correct solution finishes in microseconds anyway.
//   - [Grace] is how long an operation that must block is watched before
//     the test concludes that it blocks. A wrong solution returns at once,
//     so a fraction of a second is plenty even on a slow runner.
//
// When a wait gives up and the environment variable [DumpEnv] is set (the
// grader sets it), every goroutine's stack is printed first, so that the
// grader can say where the code under test was blocked.
//
// # Leaks
//
// [NoGoroutineLeaks] checks, when the test ends, that every goroutine the
// test started has exited ([go.uber.org/goleak] does the bookkeeping).
//
// # Busy waiting
//
// [CPUTime] reads the process's CPU time, so a test can tell a goroutine
// that sleeps while it waits from one that spins.
package testkit

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const (
	// Patience bounds an operation that must finish.
	Patience = 10 * time.Second
	// Grace is how long an operation that must block is watched.
	Grace = 250 * time.Millisecond
)

// Within runs fn on a new goroutine and fails the test if fn has not
// returned within d. what names the operation for the failure message, in
// call form: "q.Put(1)".
//
// When fn hangs, its goroutine is left behind: a test binary cannot kill a
// goroutine. The test has failed by then, and the grader runs each test in
// a process of its own.
func Within(t testing.TB, d time.Duration, what string, fn func()) {
	t.Helper()
	Go(fn).Finishes(t, d, what)
}

// An Op is a function running on its own goroutine, started by [Go].
type Op struct {
	done chan struct{}
	// returned is set when fn returned, rather than ending its goroutine
	// with runtime.Goexit, which would leave its results unset.
	returned bool
}

// Go starts fn on a new goroutine and returns a handle to watch it.
func Go(fn func()) *Op {
	op := &Op{done: make(chan struct{})}
	go func() {
		defer func() {
			if !op.returned {
				crashOnPanic(recover())
			}
			close(op.done)
		}()
		fn()
		op.returned = true
	}()
	return op
}

// crashOnPanic panics again with v, the value a deferred recover
// returned, unless it is nil (the goroutine ended with runtime.Goexit, or
// returned). A helper goroutine that panics must crash the test binary
// as it would without the helper: if the helper first told the test that
// the goroutine had ended, the test could report a failure before the
// crash, or after it, and the verdict would depend on which came first.
// The crash report still shows where the first panic was raised.
func crashOnPanic(v any) {
	if v != nil {
		panic(v)
	}
}

// Done reports whether the operation has returned.
func (op *Op) Done() bool {
	select {
	case <-op.done:
		return true
	default:
		return false
	}
}

// Finished returns a channel that is closed once the operation returns.
func (op *Op) Finished() <-chan struct{} { return op.done }

// Finishes waits up to d for the operation to return and fails the test
// (t.Fatalf) if it does not.
func (op *Op) Finishes(t testing.TB, d time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-op.done:
		if !op.returned {
			t.Fatalf("%s ended its goroutine without returning (runtime.Goexit?)", what)
		}
	case <-timer.C:
		dumpGoroutines()
		t.Fatalf("%s did not return within %v: it is blocked (a deadlock or a lost wake-up?)", what, d)
	}
}

// DumpEnv is the environment variable that makes a wait that gives up
// print every goroutine's stack first. The grader sets it and turns the
// dump into a few lines that say where the code's goroutines were blocked
// (its stacks package); a student running go test alone is spared the
// raw dump.
const DumpEnv = "IPCLAB_DUMP_GOROUTINES"

// dumpMarker precedes the dump; the grader's stacks package looks for it.
const dumpMarker = "testkit: the goroutines when the wait gave up:"

// maxDump bounds the dump: a test that parked thousands of goroutines
// must not print more than the grader accepts. A dump cut short still
// says where most of them were.
const maxDump = 1 << 20

// dumpGoroutines prints every goroutine's stack, when DumpEnv is set.
func dumpGoroutines() {
	if os.Getenv(DumpEnv) == "" {
		return
	}
	buf := make([]byte, maxDump)
	n := runtime.Stack(buf, true)
	fmt.Fprintf(os.Stderr, "%s\n%s\n", dumpMarker, buf[:n])
}

// StaysBlocked watches the operation for d and fails the test (t.Fatalf)
// if it returns in that time. Call it for operations that must wait, then
// release them and call [Op.Finishes].
func (op *Op) StaysBlocked(t testing.TB, d time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-op.done:
		t.Fatalf("%s returned, but it should still be waiting", what)
	case <-timer.C:
	}
}

// NoGoroutineLeaks makes the test fail, when it ends, if goroutines started
// during the test are still running. Call it first thing in the test, so
// that goroutines from earlier tests are not counted.
func NoGoroutineLeaks(t testing.TB) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := goleak.Find(ignore); err != nil {
			t.Errorf("goroutines still running after the test ended (something was never woken or never stopped):\n%v", err)
		}
	})
}

// Is reports whether err is target, in the sense of errors.Is, for a test
// that checks which error the code under test returned. An error that
// says it is every error (an Is method that always answers true) is not
// the one the test wants: it would also be errNeverReturned, a sentinel
// no code under test can know of, and Is says no to it.
func Is(err, target error) bool {
	return errors.Is(err, target) && !errors.Is(err, errNeverReturned)
}

var errNeverReturned = errors.New("testkit: an error no code under test returns")

// ErrorIs asserts that err is target in the sense of [Is], as testify's
// assert.ErrorIs does in the sense of errors.Is, and returns whether it
// is; msgAndArgs say which call returned err, as in every testify
// assertion. Use it instead of assert.ErrorIs wherever err comes from the
// code under test: an error that claims to be every error passes
// assert.ErrorIs.
//
// A nil target asks for no error, as assert.NoError does.
func ErrorIs(t assert.TestingT, err, target error, msgAndArgs ...any) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	if target == nil {
		return assert.NoError(t, err, msgAndArgs...)
	}
	if Is(err, target) {
		return true
	}
	got := "<nil>"
	if err != nil {
		got = Abbreviate(err.Error())
	}
	if err != nil && errors.Is(err, errNeverReturned) {
		return assert.Fail(t, fmt.Sprintf("error %q claims to be every error (its Is method answers true to any target)", got), msgAndArgs...)
	}
	return assert.Fail(t, fmt.Sprintf("got error %s, want %v", got, target), msgAndArgs...)
}

// RequireErrorIs is ErrorIs for a test that cannot go on: it stops the
// test, as require does, unless err is target.
func RequireErrorIs(t require.TestingT, err, target error, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	if !ErrorIs(t, err, target, msgAndArgs...) {
		t.FailNow()
	}
}

// Abbreviate cuts a text longer than a few hundred bytes (an error that
// quotes a whole oversized request, say) to its start and its length.
// testify leaves out a line of a failure message longer than 64 KiB, so
// printing it whole would print nothing.
func Abbreviate(s string) string {
	const keep = 200
	if len(s) <= 2*keep {
		return s
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:cut], len(s))
}
