package testkit

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// A Crowd is a group of calls, each running on a goroutine of its own,
// that are expected to wait. The test watches them as a group: that none
// returns for a while ([Crowd.Quiet]), which one returns next
// ([Crowd.Next]), or all of them ([Crowd.All]).
//
// C is what a call returned, with the label it was started under; it
// prints itself in call form ("q.Get() = 3, nil") for failure messages.
type Crowd[C fmt.Stringer] struct {
	returned chan C
	waiting  map[string]bool // labels of the calls that have not returned
	label    func(C) string
}

// NewCrowd returns an empty crowd; label reads a call's label.
func NewCrowd[C fmt.Stringer](label func(C) string) *Crowd[C] {
	// Large enough that no call ever blocks on reporting.
	return &Crowd[C]{returned: make(chan C, 256), waiting: map[string]bool{}, label: label}
}

// Start runs fn on a new goroutine as the call named label; fn returns
// what the call returned, labelled.
func (c *Crowd[C]) Start(label string, fn func() C) {
	if c.waiting[label] {
		panic("crowd: two calls named " + label)
	}
	c.waiting[label] = true
	go func() { c.returned <- fn() }()
}

// StillWaiting lists the calls that have not returned, sorted.
func (c *Crowd[C]) StillWaiting() string {
	var ls []string
	for l := range c.waiting {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return strings.Join(ls, ", ")
}

// Quiet watches the calls for d and fails the test if any of them
// returns. why says why they must all still be waiting.
func (c *Crowd[C]) Quiet(t testing.TB, d time.Duration, why string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-c.returned:
		delete(c.waiting, c.label(r))
		t.Fatalf("%v, but it should still be waiting (%s)", r, why)
	case <-timer.C:
	}
}

// Next waits up to Patience for one of the calls to return, and returns
// it. after says what happened that should make one return.
func (c *Crowd[C]) Next(t testing.TB, after string) C {
	t.Helper()
	timer := time.NewTimer(Patience)
	defer timer.Stop()
	select {
	case r := <-c.returned:
		delete(c.waiting, c.label(r))
		return r
	case <-timer.C:
		t.Fatalf("after %s, none of these calls returned within %v: %s (a lost wake-up?)", after, Patience, c.StillWaiting())
		var none C
		return none
	}
}

// All waits up to Patience for every call that has not returned yet, and
// returns them by label. after says what should have made them return.
func (c *Crowd[C]) All(t testing.TB, after string) map[string]C {
	t.Helper()
	got := map[string]C{}
	timer := time.NewTimer(Patience)
	defer timer.Stop()
	for len(c.waiting) > 0 {
		select {
		case r := <-c.returned:
			delete(c.waiting, c.label(r))
			got[c.label(r)] = r
		case <-timer.C:
			t.Fatalf("after %s, these calls had not returned within %v: %s (still blocked: were they ever woken?)", after, Patience, c.StillWaiting())
		}
	}
	return got
}
