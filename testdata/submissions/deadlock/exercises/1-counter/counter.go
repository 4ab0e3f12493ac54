// Package counter is a counter that many goroutines share.
package counter

import "sync"

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
// reports whether it did. (The student reused Value to read the count:
// but TryInc already holds the lock, Value locks it again, and a
// sync.Mutex is not reentrant, so the first TryInc waits for ever, and
// every later call waits behind it.)
func (c *Counter) TryInc(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Value() >= limit {
		return false
	}
	c.n++
	return true
}
