package counter

import "sync"

// MUTANT check-then-act (check-then-act-locked): Value and Inc are each
// correctly locked, and TryInc is built from them. Each call is atomic on
// its own, but the lock is released between the check (Value) and the act
// (Inc), so two goroutines can both pass the check for the last place.

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
	if c.Value() < limit { // BUG: the lock is released here ...
		c.Inc() // ... and taken again here
		return true
	}
	return false
}
