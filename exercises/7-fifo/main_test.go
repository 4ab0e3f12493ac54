package fifo

import (
	"testing"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
)

// TestMain lets the test binary play the client processes of the tests
// (see childproc). On Windows it stops with one line: FIFOs need a Unix.
func TestMain(m *testing.M) { childproc.Main(m) }
