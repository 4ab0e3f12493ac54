// Package counter is a counter that many goroutines share.
//
// THIS CODE IS BROKEN. It is correct as long as a single goroutine uses a
// Counter, and it goes wrong as soon as several goroutines use the same one
// at the same time: increments get lost, the race detector reports data
// races, and TryInc can push the count past its limit. Your job is to
// repair it without changing the API (the names and signatures below) and
// without changing what each method means. README.md explains why the code
// is broken and what you may use to fix it.
package counter

// A Counter is a count that many goroutines may update and read at the same
// time.
//
// The zero value is a counter at 0, ready to use: write var c Counter or
// new(Counter); there is no constructor. A Counter must not be copied once
// it has been used; share it through a pointer.
type Counter struct {
	n int
}

// Inc adds one to the count.
func (c *Counter) Inc() {
	c.n++
}

// Add adds n to the count. n may be zero or negative.
func (c *Counter) Add(n int) {
	c.n += n
}

// Value returns the current count.
func (c *Counter) Value() int {
	return c.n
}

// TryInc adds one to the count only if the count is below limit, and
// reports whether it did. TryInc never takes the count past limit, however
// many goroutines call it at the same time: when they race for the last
// place below the limit, exactly one of them gets it. (Inc and Add may
// still push the count past limit; TryInc then returns false.)
func (c *Counter) TryInc(limit int) bool {
	if c.n < limit {
		c.n++
		return true
	}
	return false
}
