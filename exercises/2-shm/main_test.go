package shm

import (
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
)

// TestMain lets the test binary play the other processes of the tests
// (see childproc). On Windows it stops with one line: shared memory
// between processes needs a Unix here.
func TestMain(m *testing.M) { childproc.Main(m) }
