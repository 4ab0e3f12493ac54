package testkit

// A context of the test's own, which can cancel exactly between a
// waiter's check of ctx.Err() and its Wait, and calls that are known to
// wait: the tests of the monitors (buffer, mailbox) catch with them the
// lost wake-up of a cancel callback that broadcasts without the lock.

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A Ctx is a context.Context of the test's own. It shows the test
// when the code under test first looks at it (touched), and it can be
// armed as a trap for the lost wake-up of a cancel callback that does not
// take the lock (see NewTrap). Cancel it with cancel.
//
// It has an AfterFunc method, so context.AfterFunc registers its
// callbacks with it (the context package documents that it does so), and
// cancel runs them, which starts each callback of the code under test on
// a goroutine of its own, as context.AfterFunc always does.
type Ctx struct {
	done    chan struct{}
	touched chan struct{} // closed on the first call of Done, Err or AfterFunc
	touch   sync.Once
	sprung  chan struct{} // closed once the trap has sprung

	mu         sync.Mutex
	err        error
	funcs      map[int]func() // callbacks registered with AfterFunc, not yet run or stopped
	nextFunc   int
	registered bool // AfterFunc has been called
	armed      bool
	problem    string // what went wrong inside the trap
}

// NewCtx returns a Ctx that is not a trap: its Err always tells
// the truth.
func NewCtx() *Ctx {
	return &Ctx{
		done:    make(chan struct{}),
		touched: make(chan struct{}),
		sprung:  make(chan struct{}),
		funcs:   map[int]func(){},
	}
}

// NewTrap returns a Ctx armed as a trap. The first call of Err
// made after a callback was registered with context.AfterFunc, while ctx
// is not cancelled yet, springs it: that call cancels ctx, which starts
// the callbacks, waits until each of them has either finished or is
// blocked (on the lock the caller of Err holds, in a correct monitor),
// and only then returns nil, as if the cancel had come just after the
// check. A waiter that checks ctx.Err() with its lock held and then
// calls Wait is thus cancelled exactly between the check and the Wait: a
// callback that broadcasts without taking the lock has broadcast to
// nobody by then, and the waiter sleeps on; a callback that takes the
// lock first broadcasts once the waiter is in Wait, and wakes it.
//
// Every later call of Err tells the truth. Code that never calls Err
// after registering a callback (it selects on ctx.Done(), or checks Err
// before it registers) never springs the trap; the test then disarms it
// and cancels ctx itself.
func NewTrap() *Ctx {
	c := NewCtx()
	c.armed = true
	return c
}

func (c *Ctx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *Ctx) Value(any) any { return nil }

func (c *Ctx) Done() <-chan struct{} {
	c.touch.Do(func() { close(c.touched) })
	return c.done
}

func (c *Ctx) Err() error {
	c.touch.Do(func() { close(c.touched) })
	c.mu.Lock()
	spring := c.armed && c.registered && c.err == nil
	if spring {
		c.armed = false
	}
	err := c.err
	c.mu.Unlock()
	if !spring {
		return err
	}
	newest := newestGoroutine()
	c.Cancel()
	if !callbacksSettled(newest, Patience) {
		c.mu.Lock()
		c.problem = fmt.Sprintf("the callbacks started when ctx was cancelled were still running %v later", Patience)
		c.mu.Unlock()
	}
	close(c.sprung)
	return nil
}

// Touched returns a channel that is closed once the code under test has
// first called Done, Err or AfterFunc.
func (c *Ctx) Touched() <-chan struct{} { return c.touched }

// Problem says what went wrong inside the trap, or "".
func (c *Ctx) Problem() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.problem
}

// AfterFunc is what context.AfterFunc calls to register f.
func (c *Ctx) AfterFunc(f func()) (stop func() bool) {
	c.touch.Do(func() { close(c.touched) })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.registered = true
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	id := c.nextFunc
	c.nextFunc++
	c.funcs[id] = f
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.funcs[id]
		delete(c.funcs, id)
		return ok
	}
}

// Disarm makes sure that the trap will not spring any more, and reports
// whether it had sprung.
func (c *Ctx) Disarm() (sprung bool) {
	c.mu.Lock()
	c.armed = false
	c.mu.Unlock()
	select {
	case <-c.sprung:
		return true
	default:
		return false
	}
}

// Cancel cancels ctx and runs the callbacks registered with AfterFunc, in
// the order they were registered. Cancelling twice does nothing.
func (c *Ctx) Cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	close(c.done)
	ids := make([]int, 0, len(c.funcs))
	for id := range c.funcs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	funcs := make([]func(), len(ids))
	for i, id := range ids {
		funcs[i] = c.funcs[id]
	}
	c.funcs = map[int]func(){}
	c.mu.Unlock()
	for _, f := range funcs {
		f()
	}
}

// goroutineHeader matches the first line of a goroutine in a stack dump,
// and captures its number and its state ("runnable", "sync.Mutex.Lock").
// With GOTRACEBACK=system the number is followed by "gp=… m=…".
var goroutineHeader = regexp.MustCompile(`(?m)^goroutine (\d+)(?: [^\[\n]*)? \[([^,\]]+)`)

// goroutineStates returns the state of every goroutine, by number.
func goroutineStates() map[int64]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	states := map[int64]string{}
	for _, m := range goroutineHeader.FindAllSubmatch(buf, -1) {
		id, _ := strconv.ParseInt(string(m[1]), 10, 64)
		states[id] = string(m[2])
	}
	return states
}

// newestGoroutine returns the highest goroutine number in use: goroutines
// started later have higher numbers.
func newestGoroutine() int64 {
	var newest int64
	for id := range goroutineStates() {
		newest = max(newest, id)
	}
	return newest
}

// callbacksSettled waits up to d until every goroutine numbered above
// newest has either ended or is blocked (waiting for a lock, a channel, a
// condition variable), and reports whether that happened.
func callbacksSettled(newest int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		settled := true
		for id, state := range goroutineStates() {
			switch state {
			case "running", "runnable", "syscall", "preempted":
				if id > newest {
					settled = false
				}
			}
		}
		if settled {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		runtime.Gosched()
		if i >= 100 {
			time.Sleep(time.Millisecond)
		}
	}
}

// A Waiter is a call that waits, on a goroutine of its own, with a
// Ctx.
type Waiter struct {
	What string // the call, as in "q.GetContext(ctx)"
	Ctx  *Ctx
	Op   *Op
	Err  error // what the call returned, once Op has finished
}

// StartWaiting runs call(ctx) on a new goroutine as the call named what,
// and returns once the call waits: once it has looked at ctx, and a call
// that never waits, probe (named probeWhat), has then returned probeWant.
// why says why the call must wait.
//
// The probe is a Try form on the same queue or mailbox: it needs the
// lock, which a monitor holds from the moment it looks at ctx until it waits, so the
// probe returns only once the call is in Wait (or has returned).
func StartWaiting(t testing.TB, what, why string, ctx *Ctx, call func(context.Context) error, probeWhat string, probe func() error, probeWant error, errName func(error) string) *Waiter {
	t.Helper()
	w := &Waiter{What: what, Ctx: ctx}
	w.Op = Go(func() { w.Err = call(ctx) })
	timer := time.NewTimer(Patience)
	defer timer.Stop()
	select {
	case <-ctx.Touched():
	case <-w.Op.Finished():
		// A trap that sprang cancelled ctx just before the call's Wait,
		// and a right call was then woken and returned: it did go to
		// wait. Both channels are ready then, and select picks either
		// when this goroutine comes to it late (a loaded machine).
		select {
		case <-ctx.sprung:
		default:
			t.Fatalf("%s = %s, but it should be waiting (%s)", what, errName(w.Err), why)
		}
	case <-timer.C:
		t.Fatalf("%s had not looked at ctx %v after it was called (%s): a call that waits must watch its context, with context.AfterFunc for instance, so that it can give up when ctx is cancelled",
			what, Patience, why)
	}
	var err error
	Within(t, Patience, fmt.Sprintf("%s, with %s waiting (it must never wait),", probeWhat, what), func() { err = probe() })
	if probeWant == nil && err != nil || probeWant != nil && !Is(err, probeWant) {
		t.Fatalf("%s = %s, want %s (%s was waiting: %s)", probeWhat, errName(err), errName(probeWant), what, why)
	}
	return w
}

// CancelJustBeforeWait runs call(ctx) with a trap (NewTrap) and checks
// that it returns context.Canceled. The other arguments are those of
// StartWaiting.
func CancelJustBeforeWait(t testing.TB, what, why string, call func(context.Context) error, probeWhat string, probe func() error, probeWant error, errName func(error) string) {
	t.Helper()
	ctx := NewTrap()
	w := StartWaiting(t, what, why, ctx, call, probeWhat, probe, probeWant, errName)
	sprung := ctx.Disarm()
	ctx.Cancel()
	problem := ctx.Problem()
	if problem != "" {
		t.Fatalf("%s: %s", what, problem)
	}
	timer := time.NewTimer(Patience)
	defer timer.Stop()
	select {
	case <-w.Op.Finished():
	case <-timer.C:
		if sprung {
			t.Fatalf("%s did not return within %v after ctx was cancelled (%s). ctx was cancelled, and the callback the call had registered with context.AfterFunc was run, just after the call had checked ctx.Err() and before it called Wait: a callback that wakes the waiters without taking the lock first wakes nobody then, and the call sleeps on (a lost wake-up)",
				what, Patience, why)
		}
		t.Fatalf("%s did not return within %v after ctx was cancelled (%s): is a waiter woken when its context is cancelled?", what, Patience, why)
	}
	if !Is(w.Err, context.Canceled) {
		t.Fatalf("%s = %s, want context.Canceled (ctx was cancelled while it waited: %s)", what, errName(w.Err), why)
	}
}
