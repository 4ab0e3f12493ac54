package counter

import "sync"

// MUTANT unsynchronised (unlocked-fast-path): TryInc looks at the count
// before taking the lock, to skip the lock when the counter is already
// full. That early look is an unprotected read that races with the
// increments made under the lock.

// A Counter is a count that many goroutines may update and read at the same
// time. The zero value is a counter at 0, ready to use.
type Counter struct {
	mu sync.Mutex
	n  int
}

// Inc adds one to the count.
func (c *Counter) Inc() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
}

// Add adds n to the count.
func (c *Counter) Add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += n
}

// Value returns the current count.
func (c *Counter) Value() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TryInc adds one to the count only if the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	if c.n >= limit { // BUG: read without the lock, "to save time"
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= limit {
		return false
	}
	c.n++
	return true
}
