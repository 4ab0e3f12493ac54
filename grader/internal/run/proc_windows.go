package run

import (
	"os"
	"os/exec"
)

// isolate does nothing on Windows, where students run only their own code
// with `grader test`; grading submissions needs Linux.
func isolate(cmd *exec.Cmd) {}

// killGroup kills the test process.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// signalOf is always "" on Windows, which has no signals.
func signalOf(ps *os.ProcessState) string { return "" }

// quit does nothing on Windows, which has no SIGQUIT.
func quit(cmd *exec.Cmd) {}

// TotalMemory returns 0: the machine's memory is read on Linux only,
// where the memory limit is enforced.
func TotalMemory() uint64 { return 0 }
