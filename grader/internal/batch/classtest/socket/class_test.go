// Package socket batches every implementation of the socket exercise and
// checks each row against its grade alone; see package classtest.
package socket_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/batch/classtest"
)

func TestClass(t *testing.T) { classtest.Run(t, "socket") }
