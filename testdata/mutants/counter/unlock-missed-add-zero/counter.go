package counter

import "sync"

// MUTANT unlock-missed (unlock-missed-add-zero): Add takes a shortcut when
// there is nothing to add, and that return path skips the Unlock. Add(0)
// leaves the mutex locked, and every later call blocks.

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
	if n == 0 {
		return // BUG: nothing to add, but the mutex stays locked
	}
	c.n += n
	c.mu.Unlock()
}

// Value returns the current count.
func (c *Counter) Value() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TryInc adds one to the count only if the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= limit {
		return false
	}
	c.n++
	return true
}
