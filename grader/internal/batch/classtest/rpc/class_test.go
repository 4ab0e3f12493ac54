// Package rpc batches every implementation of the rpc exercise and
// checks each row against its grade alone; see package classtest.
package rpc_test

import (
	"testing"

	"github.com/ipclab/ipclab/grader/internal/batch/classtest"
)

func TestClass(t *testing.T) { classtest.Run(t, "rpc") }
