// Package counter is a counter that many goroutines share.
//
// Correct, but for its init function, which never returns: the test
// binary hangs before its first test, so every test would wait out its
// whole time limit.
package counter

import "sync/atomic"

// init blocks for ever. select {} needs no import, so no static check
// stands in its way; the test binary's own time-out alarm is not yet
// running, so only the grader's kill ends the process.
func init() { select {} }

// A Counter is a count that many goroutines may update and read at the same
// time. The zero value is ready to use.
type Counter struct {
	n atomic.Int64
}

// Inc adds one to the count.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n to the count.
func (c *Counter) Add(n int) { c.n.Add(int64(n)) }

// Value returns the current count.
func (c *Counter) Value() int { return int(c.n.Load()) }

// TryInc adds one only while the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	for {
		old := c.n.Load()
		if old >= int64(limit) {
			return false
		}
		if c.n.CompareAndSwap(old, old+1) {
			return true
		}
	}
}
