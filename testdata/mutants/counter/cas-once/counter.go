package counter

import "sync/atomic"

// MUTANT cas-once: every access goes through sync/atomic, and TryInc uses
// a compare-and-swap so that the check and the increment are one step;
// but it tries the swap once. When another goroutine changed the count
// between the Load and the CompareAndSwap, the swap fails and TryInc
// reports false, although the count is still below the limit: the swap
// must be retried in a loop until it succeeds or the limit is reached.

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
	v := c.n.Load()
	if v >= int64(limit) {
		return false
	}
	return c.n.CompareAndSwap(v, v+1) // BUG: a lost race is taken for a refusal
}
