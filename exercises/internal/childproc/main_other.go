//go:build !unix

package childproc

import (
	"fmt"
	"os"
	"testing"
)

// Main stops the tests: the process exercises use Unix pipes, FIFOs and
// shared memory, which Windows does not have in the same form.
func Main(m *testing.M) {
	fmt.Fprintln(os.Stderr, "this exercise needs a Unix system (Linux or macOS); on Windows, run it in WSL or in the repository's dev container (see the README)")
	os.Exit(1)
}
