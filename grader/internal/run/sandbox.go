package run

import (
	"fmt"
	"strings"
)

// Isolation says how far a test process is fenced off from the machine.
// Every level includes the ones before it.
type Isolation int

const (
	// IsolateNone: a process group of its own, a scrubbed environment, a
	// time limit and an output limit. Every system gets at least this.
	IsolateNone Isolation = iota
	// IsolateLimits adds resource limits (CPU time, file size, open
	// files, processes, and memory watched from outside), a system-call
	// filter that refuses tracing other processes, and, when the grader is
	// root, an unprivileged user for the test. Not tamper-proof: see the
	// package documentation.
	IsolateLimits
	// IsolateNamespaces adds Linux namespaces: a root file system of the
	// test's own (the host's system directories read-only, private /tmp,
	// /dev/shm, working directory, TMPDIR and HOME, nothing else of the
	// host), no network but loopback, a PID space of its own (so nothing
	// it starts outlives it), private IPC, a read-only /proc, and no
	// capabilities. The level at which a submission cannot forge its
	// score.
	IsolateNamespaces
)

var isolationNames = []string{"none", "limits", "namespaces"}

func (i Isolation) String() string {
	if i >= 0 && int(i) < len(isolationNames) {
		return isolationNames[i]
	}
	return fmt.Sprintf("Isolation(%d)", int(i))
}

// ParseIsolation reads "none", "limits", "namespaces" or "auto"; auto
// returns -1, meaning the best that [Probe] finds.
func ParseIsolation(s string) (Isolation, error) {
	if s == "auto" {
		return -1, nil
	}
	for i, n := range isolationNames {
		if s == n {
			return Isolation(i), nil
		}
	}
	return 0, fmt.Errorf("unknown isolation %q (auto, %s)", s, strings.Join(isolationNames, ", "))
}

// Limits are the resource limits of a test process under IsolateLimits
// and above.
type Limits struct {
	// Memory bounds the resident memory of the whole process group, in
	// bytes; the group is killed when it goes over. (An address-space
	// rlimit cannot be used: the race detector reserves terabytes of
	// address space it never touches.)
	Memory int64
	// FileSize bounds any file the test writes (RLIMIT_FSIZE).
	FileSize uint64
	// OpenFiles bounds open descriptors per process (RLIMIT_NOFILE).
	OpenFiles uint64
	// Processes bounds the processes and threads of the sandbox
	// (RLIMIT_NPROC; counted per user namespace on recent kernels).
	Processes uint64
}

// DefaultLimits are generous for any exercise and small enough to keep a
// runaway test from hurting the machine.
var DefaultLimits = Limits{
	Memory:    2 << 30,
	FileSize:  256 << 20,
	OpenFiles: 1024,
	Processes: 1024,
}
