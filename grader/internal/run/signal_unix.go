//go:build unix

package run

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalOf names the signal that ended a process, or "".
func signalOf(ps *os.ProcessState) string {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ""
	}
	return unix.SignalName(ws.Signal())
}

// quit asks the test process alone for its goroutines' stacks (the Go
// runtime prints them all on SIGQUIT, then exits).
func quit(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGQUIT)
	}
}
