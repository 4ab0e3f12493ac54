//go:build linux

package run

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/grader/internal/testjson"
)

// compile builds the test binary of a fixture package, with extra flags
// for go test -c.
func compile(t testing.TB, pkg string, flags ...string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the fixture exercises Linux process groups")
	}
	bin := filepath.Join(t.TempDir(), "fixture.test")
	cmd := exec.Command("go", append(append([]string{"test", "-c", "-o", bin}, flags...), "./"+pkg)...)
	cmd.Dir = filepath.Join("testdata", "fixture")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c ./%s: %v\n%s", pkg, err, out)
	}
	return bin
}

func runFixture(t *testing.T, bin, test string, timeout time.Duration, limit int64) *Outcome {
	t.Helper()
	o, err := Test(context.Background(), Spec{
		Binary: bin, Package: "example.com/fixture", Test: test,
		Timeout: timeout, OutputLimit: limit, KillGrace: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Test(%s): %v", test, err)
	}
	return o
}

func TestOutcomes(t *testing.T) {
	bin := compile(t, ".")
	tests := []struct {
		test      string
		timeout   time.Duration
		limit     int64
		passed    bool
		outcome   testjson.Outcome
		timedOut  bool
		exceeded  bool
		exitNonOK bool
	}{
		{test: "TestPass", passed: true, outcome: testjson.Passed},
		{test: "TestFail", outcome: testjson.Failed, exitNonOK: true},
		// The testing package's alarm ends the hang, with no final event
		// for the test.
		{test: "TestHang", timeout: time.Second, outcome: testjson.NoResult, exitNonOK: true},
		// The forged pass is seen by test2json, but the real failure comes
		// after it, and the exit status is 1.
		{test: "TestForgedPass", outcome: testjson.Failed, exitNonOK: true},
		// -test.paniconexit0 turns the early exit into a panic. test2json
		// believes the forged line, as it must: only the exit status
		// tells the truth, and Passed reads it.
		{test: "TestForgedExit", outcome: testjson.Passed, exitNonOK: true},
		// A race report in the output fails the test even with exit
		// status 0 (the race detector halts at its first report; a
		// process that went on has found a way round it).
		{test: "TestRaceReportThenPass", outcome: testjson.Passed},
		{test: "TestFlood", limit: 64 << 10, exceeded: true, exitNonOK: true},
		{test: "TestBecomeSleep", timeout: time.Second, timedOut: true, exitNonOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 30 * time.Second
			}
			o := runFixture(t, bin, tt.test, timeout, tt.limit)
			if got := o.Passed(tt.test); got != tt.passed {
				t.Errorf("Passed = %v, want %v", got, tt.passed)
			}
			if r := o.Report.Test(tt.test); !tt.exceeded && !tt.timedOut && (r == nil || r.Outcome != tt.outcome) {
				t.Errorf("result = %+v, want outcome %v", r, tt.outcome)
			}
			if o.TimedOut != tt.timedOut || o.OutputExceeded != tt.exceeded {
				t.Errorf("TimedOut, OutputExceeded = %v, %v; want %v, %v", o.TimedOut, o.OutputExceeded, tt.timedOut, tt.exceeded)
			}
			if (o.ExitCode != 0) != tt.exitNonOK {
				t.Errorf("ExitCode = %d", o.ExitCode)
			}
		})
	}
}

func TestExitInInit(t *testing.T) {
	bin := compile(t, "exitinit")
	o := runFixture(t, bin, "TestPass", 30*time.Second, 0)
	if o.Passed("TestPass") {
		t.Error("a binary that exits in init passed TestPass")
	}
	if o.ExitCode != 0 || o.Report.Test("TestPass") != nil {
		t.Errorf("ExitCode %d, result %+v; want 0 and no result at all", o.ExitCode, o.Report.Test("TestPass"))
	}
}

func TestChildrenAreKilled(t *testing.T) {
	bin := compile(t, ".")
	o := runFixture(t, bin, "TestOrphan", 30*time.Second, 0)
	m := regexp.MustCompile(`orphan pid (\d+)`).FindStringSubmatch(o.Report.Test("TestOrphan").Output)
	if m == nil {
		t.Fatalf("the fixture did not report its child: %q", o.Report.Test("TestOrphan").Output)
	}
	pid, _ := strconv.Atoi(m[1])
	// The child was killed; once its parent is gone it is reaped by init.
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if stat, err := os.ReadFile("/proc/" + m[1] + "/stat"); err == nil && strings.Contains(string(stat), ") Z ") {
			break // a zombie: dead, waiting for init to reap it
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d of the test is still running after the run", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A process that escaped the test's group and holds the output pipe
// open costs DrainWait at most, and the test's own output, its pass
// among it, is read to the end before that.
func TestOutputIsReadToItsEnd(t *testing.T) {
	bin := compile(t, ".")
	start := time.Now()
	o := runFixture(t, bin, "TestDetachedHolder", 30*time.Second, 0)
	took := time.Since(start)
	r := o.Report.Test("TestDetachedHolder")
	if r != nil {
		if m := regexp.MustCompile(`holder pid (\d+)`).FindStringSubmatch(r.Output); m != nil {
			pid, _ := strconv.Atoi(m[1])
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if !o.Passed("TestDetachedHolder") {
		t.Errorf("TestDetachedHolder did not pass: exit %d, result %+v", o.ExitCode, r)
	}
	if took > DrainWait+20*time.Second {
		t.Errorf("the run took %v with a detached process holding the output: want about DrainWait (%v) at most", took.Round(time.Second), DrainWait)
	}
}

func TestEnvironmentIsScrubbed(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "secret-token")
	t.Setenv("IPCLAB_SECRET", "secret")
	bin := compile(t, ".")
	o := runFixture(t, bin, "TestEnvironment", 30*time.Second, 0)
	out := o.Report.Test("TestEnvironment").Output
	if strings.Contains(out, "secret") {
		t.Errorf("the test saw the grader's secrets:\n%s", out)
	}
	for _, want := range []string{"env HOME=", "env TMPDIR=", "env GORACE=atexit_sleep_ms=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("environment lacks %q:\n%s", want, out)
		}
	}
}

// BenchmarkTest measures what one process per test costs: a test that
// does nothing, in a race-detector binary as graded, at each isolation
// level this machine allows, with and without the binary's checksum.
func BenchmarkTest(b *testing.B) {
	bin := compile(b, ".", "-race")
	sum, err := Sum(bin)
	if err != nil {
		b.Fatal(err)
	}
	best, _ := Probe()
	for iso := IsolateNone; iso <= best; iso++ {
		for _, withSum := range []bool{false, true} {
			name := iso.String()
			if withSum {
				name += "/checksum"
			}
			b.Run(name, func(b *testing.B) {
				s := Spec{Binary: bin, Package: "example.com/fixture", Test: "TestPass", Timeout: time.Minute, Isolation: iso, Limits: DefaultLimits}
				if withSum {
					s.BinarySum = sum
				}
				for b.Loop() {
					o, err := Test(context.Background(), s)
					if err != nil {
						b.Fatal(err)
					}
					if !o.Passed("TestPass") {
						b.Fatalf("TestPass did not pass: %+v", o)
					}
				}
			})
		}
	}
}
