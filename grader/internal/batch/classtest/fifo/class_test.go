// Package fifo batches every implementation of the fifo exercise and
// checks each row against its grade alone; see package classtest.
package fifo_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/batch/classtest"
)

func TestClass(t *testing.T) { classtest.Run(t, "fifo") }
