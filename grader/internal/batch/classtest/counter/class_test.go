// Package counter batches every implementation of the counter exercise and
// checks each row against its grade alone; see package classtest.
package counter_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/batch/classtest"
)

func TestClass(t *testing.T) { classtest.Run(t, "counter") }
