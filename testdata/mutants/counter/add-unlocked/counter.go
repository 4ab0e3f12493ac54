package counter

import "sync"

// MUTANT unsynchronised (add-unlocked): Inc, Value and TryInc take the
// lock, but Add was forgotten. Two goroutines in Add, or one in Add and one
// in Inc, update the count at the same time and one update is lost.

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
	c.n += n // BUG: no lock
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
