// Package childproc lets an exercise's test binary run itself as a child
// process, the way Go's own os/exec tests do, so that multi-process tests
// need no program outside the repository.
//
// A test package registers the roles a child can play and hands TestMain
// to [Main]:
//
//	func init() {
//		childproc.Register("upper", func(args []string) int {
//			// read stdin, write it upper-cased to stdout
//			return 0
//		})
//	}
//
//	func TestMain(m *testing.M) { childproc.Main(m) }
//
// [Command] then builds an *exec.Cmd that re-runs the test binary in that
// role. When the environment variable [RoleEnv] is set, [Main] runs the
// role's function instead of the tests and exits with its result. It
// reads the variable when the package is initialised, before any code of
// the package under test can change it.
//
// The package also counts what a test must not leak: open file
// descriptors ([OpenFDs]) and child processes ([Children]).
//
// On Windows, [Main] stops the tests with one line that points to WSL or
// the dev container: the process exercises need a Unix kernel.
package childproc

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// RoleEnv is the environment variable that tells a re-run test binary
// which role to play.
const RoleEnv = "IPCLAB_CHILD_ROLE"

var (
	mu    sync.Mutex
	roles = map[string]func(args []string) int{}
)

// The role this process was started in, and its command line, as they
// were when this package was initialised. In an exercise's test binary
// that is before any code of the package under test runs, since that
// package's tests import this one; by the time TestMain calls [Main],
// the submission's init functions have run and could have set [RoleEnv]
// themselves, to run a role that exits 0 instead of the tests. So Main
// decides from this snapshot, never from the environment as it is then.
var (
	startRole, startedInRole = os.LookupEnv(RoleEnv)
	// startEnv is the environment the process started with, which every
	// child gets: code under test that changes the environment (GORACE,
	// to hide its data races in the children, say) changes nothing for
	// them.
	startEnv  = os.Environ()
	startArgs = append([]string(nil), os.Args...)
)

// Register makes fn available as a child role. Call it from an init
// function or a package-level variable, before [Main] runs. fn gets the
// arguments given to [Command] and returns the exit status.
func Register(role string, fn func(args []string) int) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := roles[role]; dup {
		panic("childproc: role " + role + " registered twice")
	}
	roles[role] = fn
}

// runRole runs the role the process was started in, if any, and exits.
func runRole() {
	if !startedInRole {
		return
	}
	role := startRole
	mu.Lock()
	fn := roles[role]
	names := make([]string, 0, len(roles))
	for n := range roles {
		names = append(names, n)
	}
	mu.Unlock()
	if fn == nil {
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "childproc: no role %q (roles: %v)\n", role, names)
		os.Exit(2)
	}
	// The arguments follow "--" on the command line Command built.
	var args []string
	for i, a := range startArgs {
		if a == "--" {
			args = startArgs[i+1:]
			break
		}
	}
	os.Exit(fn(args))
}

// Command returns a command that runs the test binary itself in the given
// role with args. It is not started. When the test ends, a child that is
// still running is killed, and a child that was started is waited for,
// so that no test leaves a process behind. The child does not linger at
// exit under the race detector (GORACE atexit_sleep_ms=0, unless GORACE
// already sets it).
func Command(t testing.TB, role string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("childproc: cannot find the test binary: %v", err)
	}
	cmd := exec.Command(exe, append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(slices.Clone(startEnv), RoleEnv+"="+role)
	// A binary built with -race sleeps for a second before it exits, in
	// case another goroutine is about to report a race; a child need not.
	if gorace := startGORACE(); !strings.Contains(gorace, "atexit_sleep_ms") {
		cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
	}
	t.Cleanup(func() { Reap(cmd) })
	return cmd
}

// Reap kills cmd's process if it is still running and waits for it, for
// at most a few seconds. It does nothing for a command that was never
// started or was already waited for.
func Reap(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Kill()
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// startGORACE is GORACE as the process started with it.
func startGORACE() string {
	for _, kv := range startEnv {
		if v, ok := strings.CutPrefix(kv, "GORACE="); ok {
			return v
		}
	}
	return ""
}
