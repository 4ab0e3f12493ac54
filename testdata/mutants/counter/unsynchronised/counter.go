package counter

// MUTANT unsynchronised: the logic is right for one goroutine, but nothing
// protects the count. n++ is a load, an add and a store; two goroutines
// interleave them and an update is lost, and the race detector reports the
// unprotected accesses. (TryInc here is even written with the right test,
// >= limit, yet the check and the increment are still separate steps.)

// A Counter is a count that many goroutines may update and read at the same
// time. The zero value is a counter at 0, ready to use.
type Counter struct {
	n int
}

// Inc adds one to the count.
func (c *Counter) Inc() { c.n++ }

// Add adds n to the count.
func (c *Counter) Add(n int) { c.n += n }

// Value returns the current count.
func (c *Counter) Value() int { return c.n }

// TryInc adds one to the count only if the count is below limit.
func (c *Counter) TryInc(limit int) bool {
	if c.n >= limit {
		return false
	}
	c.n++
	return true
}
