// Package buffer verifies the buffer exercise under go test: solution, stub,
// manifest and (unless -short) every mutant.
package buffer_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/verify/verifytest"
)

func TestVerify(t *testing.T) { verifytest.Exercise(t, "buffer") }
