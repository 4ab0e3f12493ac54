// Package fifo verifies the fifo exercise under go test: solution, stub,
// manifest and (unless -short) every mutant.
package fifo_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/verify/verifytest"
)

func TestVerify(t *testing.T) { verifytest.Exercise(t, "fifo") }
