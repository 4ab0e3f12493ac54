// Package counter is a counter that many goroutines share.
//
// This is the reference solution. One sync.Mutex guards the count, and
// every method holds it for the whole of its work, so each method is one
// indivisible step as far as the other goroutines can tell.
//
// Atomics (sync/atomic) would also do: Inc, Add and Value map onto
// atomic.Int64's Add and Load, and TryInc becomes a compare-and-swap loop.
// The mutex is used here because it is the version a student can check by
// reading: the test of the limit and the increment sit inside one critical
// section, and defer releases the lock on every way out of the method.
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
// reports whether it did. The check and the increment happen under the
// same lock, so no other goroutine can change the count between them.
func (c *Counter) TryInc(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= limit {
		return false
	}
	c.n++
	return true
}
