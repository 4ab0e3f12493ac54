package run

import (
	"os/exec"
	"syscall"
)

// isolate puts the test in a session (and so a process group) of its own,
// with no controlling terminal, and makes the kernel kill it if the grader
// dies first.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the test's whole process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// TotalMemory returns the machine's memory in bytes, or 0 when it cannot
// tell.
func TotalMemory() uint64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
