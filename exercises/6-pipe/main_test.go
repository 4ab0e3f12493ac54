package pipe

// This file has no build constraint, so that on Windows the test binary
// still builds and stops at once with one line that says to use WSL or the
// dev container. The tests themselves are in pipe_test.go (Unix only).

import (
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
)

// TestMain lets the test binary play a child process's role (see the
// roles registered in pipe_test.go) when it is started as one.
func TestMain(m *testing.M) { childproc.Main(m) }
