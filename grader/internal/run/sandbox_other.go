//go:build !linux

package run

import (
	"os"
	"os/exec"
)

// sandboxCommand returns cmd: resource limits and namespaces are
// implemented for Linux only, where grading happens.
func sandboxCommand(cmd *exec.Cmd, iso Isolation, s Spec, p *privateDirs) (*exec.Cmd, error) {
	return cmd, nil
}

// Probe reports that only the basic isolation is available.
func Probe() (Isolation, string) {
	return IsolateNone, "resource limits and namespaces are implemented for Linux only"
}

func watchMemory(pgid int, limit int64, stop <-chan struct{}, exceeded chan<- struct{}) {}

// sandboxFailure is the trampoline's exit status on Linux; elsewhere no
// trampoline runs.
const sandboxFailure = -2

// privateBase is where the tests' private directories go.
func privateBase() string { return os.TempDir() }
