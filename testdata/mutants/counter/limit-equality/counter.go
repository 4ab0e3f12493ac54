package counter

import "sync"

// MUTANT limit-compare (limit-equality): TryInc refuses only when the count
// is exactly at the limit. Inc and Add may take the count past the limit,
// and from there TryInc(limit) goes on adding: the test must be count >=
// limit, not count == limit.

// A Counter is a count that many goroutines may update and read at the same
// time.
//
// The zero value is a counter at 0, ready to use: write var c Counter or
// new(Counter); there is no constructor. A Counter must not be copied once
// it has been used; share it through a pointer.
type Counter struct {
	mu sync.Mutex
	n  int // guarded by mu
}

// Inc adds one to the count.
func (c *Counter) Inc() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
}

// Add adds n to the count. n may be zero or negative.
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

// TryInc adds one to the count only if the count is below limit, and
// reports whether it did. The check and the increment happen under the
// same lock, so no other goroutine can change the count between them.
func (c *Counter) TryInc(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == limit { // BUG: a count already past the limit gets through
		return false
	}
	c.n++
	return true
}
