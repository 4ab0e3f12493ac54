package counter

import "sync/atomic"

// MUTANT check-then-act: every access is atomic, so the race detector is
// silent, but TryInc is two atomic steps, a Load and then an Add. Between
// them another goroutine can take the last place: both saw limit-1, both
// add, and the count ends above limit.

// A Counter is a count that many goroutines may update and read at the same
// time. The zero value is a counter at 0, ready to use.
type Counter struct {
	n atomic.Int64
}

// Inc adds one to the count.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n to the count.
func (c *Counter) Add(n int) { c.n.Add(int64(n)) }

// Value returns the current count.
func (c *Counter) Value() int { return int(c.n.Load()) }

// TryInc adds one to the count only if the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	if c.n.Load() < int64(limit) { // BUG: the check ...
		c.n.Add(1) // ... and the act are separate atomic steps
		return true
	}
	return false
}
