package childproc

import (
	"bytes"
	"sync"
)

// Lines collects what a child process writes, one line at a time: set a
// *Lines as the command's Stdout or Stderr, and the test can wait for
// each line as it arrives. It is safe for concurrent use.
type Lines struct {
	mu      sync.Mutex
	partial []byte   // the start of a line whose newline has not come yet
	lines   []string // complete lines, without their newlines
	grew    chan struct{}
}

// NewLines returns an empty Lines.
func NewLines() *Lines { return &Lines{grew: make(chan struct{})} }

// Write keeps p, and makes every line it completes visible to Snapshot.
func (w *Lines) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.lines = append(w.lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
		close(w.grew)
		w.grew = make(chan struct{})
	}
	return len(p), nil
}

// Snapshot returns a copy of the complete lines written so far, and a
// channel that is closed when the next line arrives: a test waits for a
// line by selecting on it with a timer, then takes a new snapshot.
func (w *Lines) Snapshot() ([]string, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...), w.grew
}
