package grading

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ipclab/ipclab/grader/internal/run"
)

// Four jobs per CPU, unless the machine's memory cannot hold that many
// test processes at their memory limit; never fewer than one per CPU.
func TestDefaultJobs(t *testing.T) {
	n, cpus := DefaultJobs(), runtime.NumCPU()
	assert.GreaterOrEqual(t, n, cpus, "DefaultJobs() with %d CPUs", cpus)
	assert.LessOrEqual(t, n, 4*cpus, "DefaultJobs() with %d CPUs", cpus)
	mem := run.TotalMemory()
	if runtime.GOOS == "linux" {
		assert.Positive(t, mem, "run.TotalMemory() on Linux")
	}
	if mem > 0 && n > cpus {
		assert.LessOrEqual(t, uint64(n)*uint64(run.DefaultLimits.Memory), mem,
			"DefaultJobs() = %d: that many processes at the %d-byte limit need more than the machine's %d bytes", n, run.DefaultLimits.Memory, mem)
	}
}
