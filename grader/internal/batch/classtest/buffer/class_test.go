// Package buffer batches every implementation of the buffer exercise and
// checks each row against its grade alone; see package classtest.
package buffer_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/batch/classtest"
)

func TestClass(t *testing.T) { classtest.Run(t, "buffer") }
