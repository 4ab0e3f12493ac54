//go:build linux

package run

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needIsolation skips tests of a level the machine does not allow, saying
// why; the grader itself then falls back and says so too.
func needIsolation(t *testing.T, want Isolation) {
	t.Helper()
	if got, why := Probe(); got < want {
		t.Skipf("this machine allows isolation %s, not %s: %s", got, want, why)
	}
}

func runIsolated(t *testing.T, iso Isolation, test string, hide ...string) *Outcome {
	t.Helper()
	bin := compile(t, ".")
	o, err := Test(context.Background(), Spec{
		Binary: bin, Package: "example.com/fixture", Test: test,
		Timeout: 30 * time.Second, KillGrace: time.Second,
		Isolation: iso, Limits: DefaultLimits, Hide: hide,
	})
	if err != nil {
		t.Fatalf("Test(%s) at isolation %s: %v", test, iso, err)
	}
	return o
}

func TestProbe(t *testing.T) {
	got, why := Probe()
	t.Logf("isolation here: %s (%s)", got, why)
	if got == IsolateNamespaces && why != "" {
		t.Errorf("Probe() = %s with a reason %q; a reason is only given for less", got, why)
	}
}

func TestNamespacedTestPasses(t *testing.T) {
	needIsolation(t, IsolateNamespaces)
	o := runIsolated(t, IsolateNamespaces, "TestPass")
	if !o.Passed("TestPass") {
		t.Errorf("TestPass failed in the sandbox: exit %d\n%s", o.ExitCode, o.Report.Output)
	}
}

func TestSandboxView(t *testing.T) {
	needIsolation(t, IsolateNamespaces)
	secret := t.TempDir()
	if err := os.WriteFile(filepath.Join(secret, "answer.go"), []byte("package x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IPCLAB_FIXTURE_SECRET", secret) // scrubbed from the test's environment; passed as an argument below
	bin := compile(t, ".")
	o, err := Test(context.Background(), Spec{
		Binary: bin, Package: "example.com/fixture", Test: "TestSandboxView",
		Timeout: 30 * time.Second, Isolation: IsolateNamespaces, Limits: DefaultLimits,
		Hide: []string{secret}, Args: []string{"-secret=" + secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := o.Report.Test("TestSandboxView").Output
	// What the test wrote to /dev/shm went with its private copy.
	if _, err := os.Stat("/dev/shm/ipclab-sandbox-view"); err == nil {
		os.Remove("/dev/shm/ipclab-sandbox-view")
		t.Error("a file the sandboxed test wrote to /dev/shm is in the machine's /dev/shm")
	}
	for _, want := range []string{
		"wrote /dev/shm/ipclab-sandbox-view", // /dev/shm is there, and writable
		"pid 1",                              // a PID namespace of its own
		"secret hidden",                      // the hidden directory shows nothing
		"no network but loopback",            // only lo
		"loopback works",                     // and lo is up
		"no capabilities",                    // root in the namespace, without power
		"others' processes invisible",        // /proc is the sandbox's own
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the sandboxed test did not report %q:\n%s", want, out)
		}
	}
}

func TestSandboxKillsEscapedChildren(t *testing.T) {
	needIsolation(t, IsolateNamespaces)
	o := runIsolated(t, IsolateNamespaces, "TestEscape")
	out := o.Report.Test("TestEscape").Output
	if !strings.Contains(out, "escaped") {
		t.Fatalf("the fixture did not start its escaping child:\n%s", out)
	}
	// The child left the process group with setsid and would survive a
	// group kill; the PID namespace ends it with its first process.
	if strings.Contains(readProcs(t), "ipclab-escaped-sleeper") {
		t.Error("a child that left the process group survived the sandbox")
	}
}

// readProcs returns the command lines of every process on the machine.
func readProcs(t *testing.T) string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var b strings.Builder
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil {
			b.Write(cmdline)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestLimitsApply(t *testing.T) {
	needIsolation(t, IsolateLimits)
	for _, iso := range []Isolation{IsolateLimits, IsolateNamespaces} {
		if got, _ := Probe(); got < iso {
			continue
		}
		o := runIsolated(t, iso, "TestLimits")
		out := o.Report.Test("TestLimits").Output
		for _, want := range []string{"open files 1024", "file size 268435456", "core 0"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: limits not in place, no %q:\n%s", iso, want, out)
			}
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	needIsolation(t, IsolateLimits)
	bin := compile(t, ".")
	lim := DefaultLimits
	lim.Memory = 64 << 20
	// TestHogAway's hog is a child in a process group of its own.
	for _, test := range []string{"TestHog", "TestHogAway"} {
		for _, iso := range []Isolation{IsolateLimits, IsolateNamespaces} {
			if got, _ := Probe(); got < iso {
				continue
			}
			o, err := Test(context.Background(), Spec{
				Binary: bin, Package: "example.com/fixture", Test: test,
				Timeout: 30 * time.Second, Isolation: iso, Limits: lim,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !o.MemoryExceeded || o.Passed(test) {
				t.Errorf("%s at %s: MemoryExceeded = %v, passed = %v; want a memory hog stopped", test, iso, o.MemoryExceeded, o.Passed(test))
			}
		}
	}
}

// TestReadOnlyWorld runs a test that tries to write everywhere, at every
// level this machine allows, and checks what it was allowed and what it
// left behind.
func TestReadOnlyWorld(t *testing.T) {
	needIsolation(t, IsolateLimits)
	bin := compile(t, ".")
	for _, iso := range []Isolation{IsolateLimits, IsolateNamespaces} {
		if got, _ := Probe(); got < iso {
			continue
		}
		t.Run(iso.String(), func(t *testing.T) {
			planted := filepath.Join(t.TempDir(), "planted")
			if err := os.Mkdir(planted, 0o755); err != nil {
				t.Fatal(err)
			}
			// A descriptor the grader holds without close-on-exec, as one
			// inherited from whatever started the grader would be.
			fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(fd)
			o, err := Test(context.Background(), Spec{
				Binary: bin, Package: "example.com/fixture", Test: "TestWorld",
				Timeout: 30 * time.Second, Isolation: iso, Limits: DefaultLimits,
				Args: []string{"-planted=" + planted, "-fd=" + strconv.Itoa(fd)},
			})
			if err != nil {
				t.Fatal(err)
			}
			out := o.Report.Test("TestWorld").Output
			t.Logf("%s:\n%s", iso, out)
			t.Cleanup(func() {
				for _, p := range []string{"/etc/ipclab-world", "/usr/ipclab-world", "/ipclab-world-fifo", "/tmp/ipclab-world-ok", "/dev/shm/ipclab-world-ok"} {
					os.Remove(p)
				}
			})
			// Out of reach below namespaces, and said so in every report:
			// the host's /tmp and /dev/shm are shared, /proc/self/mem is
			// writable, and a grader that is not root cannot keep its own
			// user out of its own files.
			outOfReach := map[string]bool{}
			if iso < IsolateNamespaces {
				outOfReach["open /proc/self/mem for writing"] = true
				if os.Getuid() != 0 {
					for _, w := range []string{"write the planted directory", "open the test binary for writing"} {
						outOfReach[w] = true
					}
				}
			}
			for _, line := range strings.Split(out, "\n") {
				if what, ok := strings.CutPrefix(strings.TrimSpace(line), "ALLOWED: "); ok && !outOfReach[what] {
					t.Errorf("%s: the test could %s", iso, what)
				}
			}
			for _, want := range []string{"wrote .", "wrote " + "/tmp", "wrote /dev/shm", "refused: ptrace a child", "refused: write /etc",
				"refused: keep a descriptor of the grader's", "refused: install a seccomp filter with prctl",
				"refused: install a seccomp filter with seccomp", "refused: start a thread that execs", "refused: share the grader's session",
				"refused: hold memory in a memfd", "refused: make a user namespace", "refused: start a child sharing the signal handlers"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s: no %q in the test's report:\n%s", iso, want, out)
				}
			}
			for _, p := range []string{"/etc/ipclab-world", "/usr/ipclab-world", "/ipclab-world-fifo", filepath.Join(planted, "ipclab-world")} {
				if _, err := os.Lstat(p); err == nil && !outOfReach["write the planted directory"] {
					t.Errorf("%s: %s exists on the host after the test", iso, p)
				}
			}
			if iso == IsolateNamespaces {
				for _, p := range []string{"/tmp/ipclab-world-ok", "/dev/shm/ipclab-world-ok"} {
					if _, err := os.Lstat(p); err == nil {
						t.Errorf("%s: %s, written in the sandbox's private copy, is in the host's", iso, p)
					}
				}
				if !strings.Contains(out, "root holds: bin dev etc") || strings.Contains(out, " home") || strings.Contains(out, " root ") {
					t.Errorf("%s: the sandbox's root shows more than the system directories:\n%s", iso, out)
				}
			}
			if sum, err := Sum(bin); err != nil || len(sum) == 0 {
				t.Fatalf("Sum(%s) = %x, %v", bin, sum, err)
			}
		})
	}
}

// TestChangedBinaryIsNotRun checks the grader's last look before it starts
// a test: a binary that is not the one it built is not run.
func TestChangedBinaryIsNotRun(t *testing.T) {
	bin := compile(t, ".")
	sum, err := Sum(bin)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Binary: bin, BinarySum: sum, Package: "example.com/fixture", Test: "TestPass", Timeout: 30 * time.Second}
	o, err := Test(context.Background(), spec)
	if err != nil || !o.Passed("TestPass") {
		t.Fatalf("the unchanged binary: passed = %v, err = %v", o != nil && o.Passed("TestPass"), err)
	}
	script := "#!/bin/sh\necho '=== RUN   TestPass'\necho '--- PASS: TestPass (0.00s)'\necho PASS\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o, err = Test(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if o.Passed("TestPass") || o.Tampered == "" {
		t.Errorf("a script written over the binary: passed = %v, Tampered = %q; want not run", o.Passed("TestPass"), o.Tampered)
	}
}
