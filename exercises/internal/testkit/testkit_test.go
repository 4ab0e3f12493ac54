package testkit

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what would have failed the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

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
		if tt.want == "" && r.failed != "" || !strings.Contains(r.failed, tt.want) {
			t.Errorf("%s: Finishes failed with %q, want %q", tt.name, r.failed, tt.want)
		}
		r = &recorder{TB: t}
		Together(r, 4, Patience, "f(i)", func(i int) {
			if i == 2 {
				tt.fn()
			}
		})
		if want := strings.Replace(tt.want, "f() ended its goroutine", "f(i): 1 of 4 goroutines ended", 1); tt.want == "" && r.failed != "" || !strings.Contains(r.failed, want) {
			t.Errorf("%s: Together failed with %q, want %q", tt.name, r.failed, want)
		}
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
		if got := Is(tt.err, target); got != tt.want {
			t.Errorf("Is(%s, target) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
