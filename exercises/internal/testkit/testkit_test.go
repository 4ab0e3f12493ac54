package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that keeps what would have failed the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

// assertFailure asserts that failed, what a check reported, says want, or
// that the check reported nothing when want is "".
func assertFailure(t *testing.T, failed, want string, msgAndArgs ...any) bool {
	t.Helper()
	if want == "" {
		return assert.Empty(t, failed, msgAndArgs...)
	}
	return assert.Contains(t, failed, want, msgAndArgs...)
}

// An operation that ends its goroutine with runtime.Goexit has not
// returned, whatever zero values its results hold: the waits say so.
func TestGoexitIsNotAReturn(t *testing.T) {
	for _, tt := range []struct {
		name string
		fn   func()
		want string
	}{
		{"returns", func() {}, ""},
		{"goexit", runtime.Goexit, "f() ended its goroutine without returning"},
	} {
		r := &recorder{TB: t}
		Go(tt.fn).Finishes(r, Patience, "f()")
		assertFailure(t, r.failed, tt.want, "%s: Finishes failed with %q, want %q", tt.name, r.failed, tt.want)
		r = &recorder{TB: t}
		Together(r, 4, Patience, "f(i)", func(i int) {
			if i == 2 {
				tt.fn()
			}
		})
		want := strings.Replace(tt.want, "f() ended its goroutine", "f(i): 1 of 4 goroutines ended", 1)
		assertFailure(t, r.failed, want, "%s: Together failed with %q, want %q", tt.name, r.failed, want)
	}
}

// slowPanic is a panic value that takes a second to print: the runtime
// prints it after the goroutine's deferred calls have run, so a helper
// that told the test the goroutine had ended gives the test that second
// to go on, and be seen going on.
type slowPanic struct{}

func (slowPanic) Error() string { time.Sleep(time.Second); return "boom" }

// A panic in a helper goroutine crashes the test binary, as it would
// without the helper, and never first lets the waiting test go on as if
// the goroutine had ended: then the verdict would depend on which came
// first. The child (this test binary run again) panics in Go and in
// Together.
func TestPanicCrashes(t *testing.T) {
	if which := os.Getenv("TESTKIT_PANIC_IN"); which != "" {
		r := &recorder{TB: t}
		switch which {
		case "Go":
			Go(func() { panic(slowPanic{}) }).Finishes(r, Patience, "f()")
		case "Together":
			Together(r, 4, Patience, "f(i)", func(i int) {
				if i == 2 {
					panic(slowPanic{})
				}
			})
		}
		fmt.Printf("the test went on after the panic; it recorded: %q\n", r.failed)
		time.Sleep(Patience)
		return
	}
	for _, which := range []string{"Go", "Together"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPanicCrashes$")
		cmd.Env = append(os.Environ(), "TESTKIT_PANIC_IN="+which)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if assert.ErrorAs(t, err, &exit, "%s: a panic in the helper goroutine ended the process with %v, want exit status 2\n%s", which, err, out) {
			assert.Equal(t, 2, exit.ExitCode(), "%s: a panic in the helper goroutine ended the process with %v, want exit status 2\n%s", which, err, out)
		}
		assert.True(t, strings.Contains(string(out), "panic: boom") && !strings.Contains(string(out), "went on"),
			"%s: want the crash report of the panic, and nothing from the test after it; got:\n%s", which, out)
	}
}

// anyError says it is every error.
type anyError struct{}

func (anyError) Error() string { return "any error" }
func (anyError) Is(error) bool { return true }

func TestIsRefusesAnErrorThatIsEveryError(t *testing.T) {
	target := errors.New("the sentinel")
	wrapped := fmt.Errorf("context: %w", target)
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"the sentinel", target, true},
		{"the sentinel wrapped", wrapped, true},
		{"another error", errors.New("other"), false},
		{"nil", nil, false},
		{"an error that is every error", anyError{}, false},
		{"one wrapped", fmt.Errorf("x: %w", anyError{}), false},
	} {
		got := Is(tt.err, target)
		assert.Equal(t, tt.want, got, "Is(%s, target) = %v, want %v", tt.name, got, tt.want)
	}
}

// everything is an error that claims to be every error.
type everything struct{}

func (everything) Error() string        { return "everything" }
func (everything) Is(target error) bool { return true }

func TestErrorIs(t *testing.T) {
	target := errors.New("target")
	for _, tt := range []struct {
		name string
		err  error
		ok   bool
		says string
	}{
		{"same", target, true, ""},
		{"wrapped", fmt.Errorf("op: %w", target), true, ""},
		{"nil", nil, false, "got error <nil>, want target"},
		{"other", errors.New("other"), false, "got error other, want target"},
		{"every error", everything{}, false, "claims to be every error"},
	} {
		r := &failures{}
		got := ErrorIs(r, tt.err, target, "f(%d)", 1)
		assert.Equal(t, tt.ok, got, "%s: ErrorIs = %v, want %v", tt.name, got, tt.ok)
		if assertFailure(t, r.said, tt.says, "%s: ErrorIs failed with %q, want it to say %q and f(1)", tt.name, r.said, tt.says) && !tt.ok {
			assert.Contains(t, r.said, "f(1)", "%s: ErrorIs failed with %q, want it to say %q and f(1)", tt.name, r.said, tt.says)
		}
	}
}

// failures is an assert.TestingT that keeps what it was told.
type failures struct{ said string }

func (f *failures) Errorf(format string, args ...any) { f.said += fmt.Sprintf(format, args...) }

// reports is a recorder that also keeps what assertions reported.
type reports struct {
	recorder
	said []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.said = append(r.said, fmt.Sprintf(format, args...))
}

// A crowd of calls prints each call in call form, and checks what they
// all returned.
func TestCalls(t *testing.T) {
	errName := func(err error) string {
		switch {
		case err == nil:
			return "nil"
		case errors.Is(err, context.Canceled):
			return "context.Canceled"
		}
		return "Err" + err.Error()
	}
	closed := errors.New("Closed")
	c := NewCalls(strconv.Itoa, errName)
	c.StartValue("q.Get()", func() (int, error) { return 3, nil })
	c.StartErr("q.Put(1)", func() error { return closed })
	calls := c.All(t, "the calls were made")
	printed := map[string]string{}
	for label, r := range calls {
		printed[label] = r.String()
	}
	assert.Equal(t, map[string]string{"q.Get()": "q.Get() = 3, nil", "q.Put(1)": "q.Put(1) = ErrClosed"}, printed, "the calls printed as")
	// What the test wanted prints as the call does.
	assert.Equal(t, "q.Get() = 5, ErrClosed", calls["q.Get()"].With(5, closed).String(), `calls["q.Get()"].With(5, closed)`)
	assert.Equal(t, "q.Put(9) = Closed", Call[int]{Label: "q.Put(9)", Err: closed}.String(), "a Call the test made itself")

	for _, tt := range []struct {
		name string
		want error
		ok   bool
		says string
	}{
		{"every call returns want", closed, true, ""},
		{"one call does not", nil, false, "q.Put(2) = ErrClosed, want nil (why)"},
	} {
		c := NewCalls(strconv.Itoa, errName)
		c.StartValue("q.Get()", func() (int, error) { return 4, tt.want })
		c.StartErr("q.Put(2)", func() error { return closed })
		r := &reports{recorder: recorder{TB: t}}
		ok := c.AllReturn(r, "the calls were made", tt.want, "why")
		assert.Equal(t, tt.ok, ok, "%s: AllReturn = %v, want %v", tt.name, ok, tt.ok)
		assert.Empty(t, r.failed, "%s: AllReturn stopped the test", tt.name)
		assertFailure(t, strings.Join(r.said, "\n"), tt.says, "%s: AllReturn reported %q, want %q", tt.name, r.said, tt.says)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c = NewCalls(strconv.Itoa, errName)
	c.StartValue("q.GetContext(ctx)", func() (int, error) { <-ctx.Done(); return 0, ctx.Err() })
	c.StartErr("q.PutContext(ctx, 1)", func() error { <-ctx.Done(); return nil })
	rr := &reports{recorder: recorder{TB: t}}
	assert.False(t, c.CancelWhileWaiting(rr, cancel), "CancelWhileWaiting, with a call that returned nil when ctx was cancelled")
	assertFailure(t, strings.Join(rr.said, "\n"), "q.PutContext(ctx, 1) = nil, want context.Canceled (ctx was cancelled while it waited)",
		"CancelWhileWaiting reported %q", rr.said)
}

// An error of 70,000 bytes would be a line testify leaves out: ErrorIs
// says how it starts and how long it is.
func TestErrorIsAbbreviatesLongErrors(t *testing.T) {
	r := &failures{}
	long := errors.New(strings.Repeat("é", 35_000))
	ErrorIs(r, long, errors.New("target"), "f()")
	assert.Contains(t, r.said, "… (70000 bytes in all)", "ErrorIs of a 70,000-byte error")
	assert.Less(t, len(r.said), 1000, "ErrorIs of a 70,000-byte error said %d bytes", len(r.said))
	assert.Equal(t, "short", Abbreviate("short"), `Abbreviate("short")`)
}

// A nil target asks for no error; RequireErrorIs stops the test where
// ErrorIs would only fail it.
func TestErrorIsNilAndRequire(t *testing.T) {
	r := &failures{}
	assert.True(t, ErrorIs(r, nil, nil, "f()"), "ErrorIs(nil, nil)")
	assert.False(t, ErrorIs(r, errors.New("boom"), nil, "f()"), "ErrorIs(boom, nil)")
	assert.Contains(t, r.said, "boom", "ErrorIs(boom, nil) says which error came")

	s := &stopper{}
	RequireErrorIs(s, nil, nil, "f()")
	assert.False(t, s.stopped, "RequireErrorIs(nil, nil) stopped the test")
	RequireErrorIs(s, errors.New("other"), errors.New("target"), "f()")
	assert.True(t, s.stopped, "RequireErrorIs(other, target) did not stop the test")
}

// stopper is a require.TestingT that records FailNow instead of stopping.
type stopper struct {
	failures
	stopped bool
}

func (s *stopper) FailNow() { s.stopped = true }
