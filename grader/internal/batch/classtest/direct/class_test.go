// Package direct batches every implementation of the direct exercise and
// checks each row against its grade alone; see package classtest.
package direct_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/batch/classtest"
)

func TestClass(t *testing.T) { classtest.Run(t, "direct") }
