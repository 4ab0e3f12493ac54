//go:build guarded

package rewrite

// What the grader adds to every package it builds.
import _ "github.com/ipclab/ipclab/exercises/internal/testflags"
