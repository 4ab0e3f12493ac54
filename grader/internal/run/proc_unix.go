//go:build unix && !linux

package run

import (
	"os/exec"
	"syscall"
)

// isolate puts the test in a session (and so a process group) of its own,
// with no controlling terminal.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// killGroup kills the test's whole process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// TotalMemory returns 0: the machine's memory is read on Linux only,
// where the memory limit is enforced.
func TotalMemory() uint64 { return 0 }
