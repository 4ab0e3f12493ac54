package counter

import "sync"

// MUTANT unlock-missed: TryInc locks and unlocks by hand, and the early
// return for a full counter leaves without unlocking. The first refusal
// keeps the mutex locked for ever, and every later call blocks.

// A Counter is a count that many goroutines may update and read at the same
// time. The zero value is a counter at 0, ready to use.
type Counter struct {
	mu sync.Mutex
	n  int
}

// Inc adds one to the count.
func (c *Counter) Inc() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

// Add adds n to the count.
func (c *Counter) Add(n int) {
	c.mu.Lock()
	c.n += n
	c.mu.Unlock()
}

// Value returns the current count.
func (c *Counter) Value() int {
	c.mu.Lock()
	v := c.n
	c.mu.Unlock()
	return v
}

// TryInc adds one to the count only if the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	c.mu.Lock()
	if c.n >= limit {
		return false // BUG: returns with the mutex still locked
	}
	c.n++
	c.mu.Unlock()
	return true
}
