// Package counter is a counter that many goroutines share.
package counter

import "sync/atomic"

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

// TryInc adds one only while the count is below limit. The compare-and-swap
// fails if another goroutine changed the count since we read it, and then
// we read again.
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
