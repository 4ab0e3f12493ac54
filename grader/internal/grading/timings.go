package grading

import (
	"sync"
	"time"

	"github.com/ipclab/ipclab/grader/internal/run"
)

// Timings adds up where grading spent its time, for the benchmark that
// compares grading with plain go test (package gradebench). Set
// Options.Timings to collect them; the zero value is ready to use.
type Timings struct {
	mu   sync.Mutex
	sums Sums
}

// Sums are the times Timings added up.
type Sums struct {
	// Checks, SlotWait and Compiles are the builds' wall time added up:
	// the static checks, the wait for a slot, and compiling and linking
	// (the binary's checksum included); BuildCount counts the builds.
	Checks, SlotWait, Compiles time.Duration
	BuildCount                 int
	// Processes is the wall time of the test processes, from start to
	// the end of their output, added up; Tests is the time the tests
	// themselves reported (go test's elapsed time); TestCount counts
	// them. Processes minus Tests is what one process per test costs.
	Processes time.Duration
	Tests     time.Duration
	TestCount int
}

// buildPhases times the phases of one build: mark ends the phase that
// began at the previous mark (or at the start) and adds its length to d,
// when d is not nil.
type buildPhases struct {
	last                  time.Time
	checks, wait, compile time.Duration
}

func (p *buildPhases) mark(d *time.Duration) {
	now := time.Now()
	if d != nil && !p.last.IsZero() {
		*d += now.Sub(p.last)
	}
	p.last = now
}

func (t *Timings) addBuild(p *buildPhases) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sums.Checks += p.checks
	t.sums.SlotWait += p.wait
	t.sums.Compiles += p.compile
	t.sums.BuildCount++
}

func (t *Timings) addTest(name string, o *run.Outcome) {
	if t == nil || o == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sums.Processes += o.Elapsed
	t.sums.TestCount++
	if o.Report != nil {
		if r := o.Report.Test(name); r != nil {
			t.sums.Tests += r.Elapsed
		}
	}
}

// Sums returns the sums so far.
func (t *Timings) Sums() Sums {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sums
}
