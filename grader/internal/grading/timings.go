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
	// Builds is the wall time of the builds added up (static checks,
	// the wait for a slot, compiling); BuildCount counts them.
	Builds     time.Duration
	BuildCount int
	// Processes is the wall time of the test processes, from start to
	// the end of their output, added up; Tests is the time the tests
	// themselves reported (go test's elapsed time); TestCount counts
	// them. Processes minus Tests is what one process per test costs.
	Processes time.Duration
	Tests     time.Duration
	TestCount int
}

func (t *Timings) addBuild(d time.Duration) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sums.Builds += d
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
