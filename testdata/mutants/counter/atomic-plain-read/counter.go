package counter

import "sync/atomic"

// MUTANT unsynchronised (atomic-plain-read): the updates use sync/atomic,
// but Value reads the field directly. Mixing atomic and ordinary accesses
// to the same variable is a data race; every access must go through
// sync/atomic.

// A Counter is a count that many goroutines may update and read at the same
// time. The zero value is a counter at 0, ready to use.
type Counter struct {
	n int64
}

// Inc adds one to the count.
func (c *Counter) Inc() { atomic.AddInt64(&c.n, 1) }

// Add adds n to the count.
func (c *Counter) Add(n int) { atomic.AddInt64(&c.n, int64(n)) }

// Value returns the current count.
func (c *Counter) Value() int {
	return int(c.n) // BUG: a plain read of a variable others update atomically
}

// TryInc adds one to the count only if the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	for {
		v := atomic.LoadInt64(&c.n)
		if v >= int64(limit) {
			return false
		}
		if atomic.CompareAndSwapInt64(&c.n, v, v+1) {
			return true
		}
	}
}
