package buffer

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (buffer_test.go), which the grader always compiles with these.

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A crowd is a group of calls on queues, each running on a goroutine of its
// own, that are expected to wait. The test watches them as a group: that
// none returns for a while (quiet), then which one returns next (next).
type crowd struct {
	returned chan call
	waiting  map[string]bool // labels of the calls that have not returned
}

// A call is one call of a crowd, and what it returned.
type call struct {
	label string // the call as the test started it: "q.Get()", "full.Put(2)"
	v     int    // what a Get returned
	err   error
}

func (c call) String() string {
	if strings.Contains(c.label, "Get") {
		return fmt.Sprintf("%s = %d, %s", c.label, c.v, errName(c.err))
	}
	return fmt.Sprintf("%s = %s", c.label, errName(c.err))
}

func newCrowd() *crowd {
	// Large enough that no call ever blocks on reporting.
	return &crowd{returned: make(chan call, 100), waiting: map[string]bool{}}
}

// start runs fn on a new goroutine as the call named label.
func (c *crowd) start(label string, fn func() (int, error)) {
	if c.waiting[label] {
		panic("crowd: two calls named " + label)
	}
	c.waiting[label] = true
	go func() {
		v, err := fn()
		c.returned <- call{label: label, v: v, err: err}
	}()
}

// get starts q.Get() under the given label.
func (c *crowd) get(label string, q *Queue[int]) {
	c.start(label, q.Get)
}

// getContext starts q.GetContext(ctx).
func (c *crowd) getContext(label string, ctx context.Context, q *Queue[int]) {
	c.start(label, func() (int, error) { return q.GetContext(ctx) })
}

// put starts q.Put(v).
func (c *crowd) put(label string, q *Queue[int], v int) {
	c.start(label, func() (int, error) { return 0, q.Put(v) })
}

// putContext starts q.PutContext(ctx, v).
func (c *crowd) putContext(label string, ctx context.Context, q *Queue[int], v int) {
	c.start(label, func() (int, error) { return 0, q.PutContext(ctx, v) })
}

// stillWaiting lists the calls that have not returned, sorted.
func (c *crowd) stillWaiting() string {
	var ls []string
	for l := range c.waiting {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return strings.Join(ls, ", ")
}

// quiet watches the calls for d and fails the test if any of them returns.
// why says why they must all still be waiting.
func (c *crowd) quiet(t *testing.T, d time.Duration, why string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-c.returned:
		delete(c.waiting, r.label)
		t.Fatalf("%v, but it should still be waiting (%s)", r, why)
	case <-timer.C:
	}
}

// next waits up to testkit.Patience for one of the calls to return, and
// returns it. after says what happened that should make one return.
func (c *crowd) next(t *testing.T, after string) call {
	t.Helper()
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	select {
	case r := <-c.returned:
		delete(c.waiting, r.label)
		return r
	case <-timer.C:
		t.Fatalf("after %s, none of these calls returned within %v: %s (a lost wake-up?)", after, testkit.Patience, c.stillWaiting())
		return call{}
	}
}

// all waits for every call that has not returned yet and returns them by
// label. after says what should have made them return.
func (c *crowd) all(t *testing.T, after string) map[string]call {
	t.Helper()
	got := map[string]call{}
	for len(c.waiting) > 0 {
		r := c.next(t, after)
		got[r.label] = r
	}
	return got
}

// A testCtx is a context.Context of the test's own. It shows the test
// when the code under test first looks at it (touched), and it can be
// armed as a trap for the lost wake-up of a cancel callback that does not
// take the lock (see newTrapCtx). Cancel it with cancel.
//
// It has an AfterFunc method, so context.AfterFunc registers its
// callbacks with it (the context package documents that it does so), and
// cancel runs them, which starts each callback of the code under test on
// a goroutine of its own, as context.AfterFunc always does.
type testCtx struct {
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

// newTestCtx returns a testCtx that is not a trap: its Err always tells
// the truth.
func newTestCtx() *testCtx {
	return &testCtx{
		done:    make(chan struct{}),
		touched: make(chan struct{}),
		sprung:  make(chan struct{}),
		funcs:   map[int]func(){},
	}
}

// newTrapCtx returns a testCtx armed as a trap. The first call of Err
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
func newTrapCtx() *testCtx {
	c := newTestCtx()
	c.armed = true
	return c
}

func (c *testCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *testCtx) Value(any) any { return nil }

func (c *testCtx) Done() <-chan struct{} {
	c.touch.Do(func() { close(c.touched) })
	return c.done
}

func (c *testCtx) Err() error {
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
	c.cancel()
	if !callbacksSettled(newest, testkit.Patience) {
		c.mu.Lock()
		c.problem = fmt.Sprintf("the callbacks started when ctx was cancelled were still running %v later", testkit.Patience)
		c.mu.Unlock()
	}
	close(c.sprung)
	return nil
}

// AfterFunc is what context.AfterFunc calls to register f.
func (c *testCtx) AfterFunc(f func()) (stop func() bool) {
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

// disarm makes sure that the trap will not spring any more, and reports
// whether it had sprung.
func (c *testCtx) disarm() (sprung bool) {
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

// cancel cancels ctx and runs the callbacks registered with AfterFunc, in
// the order they were registered. Cancelling twice does nothing.
func (c *testCtx) cancel() {
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

// A waiter is a call that waits, on a goroutine of its own, with a
// testCtx.
type waiter struct {
	what string // the call, as in "q.GetContext(ctx)"
	ctx  *testCtx
	op   *testkit.Op
	err  error // what the call returned, once op has finished
}

// startWaiting runs call(ctx) on a new goroutine as the call named what,
// and returns once the call waits: once it has looked at ctx, and a call
// that never waits, probe (named probeWhat), has then returned probeWant.
// why says why the call must wait.
//
// The probe is a Try form on the same queue: it needs the lock, which a
// monitor holds from the moment it looks at ctx until it waits, so the
// probe returns only once the call is in Wait (or has returned).
func startWaiting(t *testing.T, what, why string, ctx *testCtx, call func(context.Context) error, probeWhat string, probe func() error, probeWant error) *waiter {
	t.Helper()
	w := &waiter{what: what, ctx: ctx}
	w.op = testkit.Go(func() { w.err = call(ctx) })
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	select {
	case <-ctx.touched:
	case <-w.op.Finished():
		t.Fatalf("%s = %s, but it should be waiting (%s)", what, errName(w.err), why)
	case <-timer.C:
		t.Fatalf("%s had not looked at ctx %v after it was called (%s): a call that waits must watch its context, with context.AfterFunc for instance, so that it can give up when ctx is cancelled",
			what, testkit.Patience, why)
	}
	var err error
	testkit.Within(t, testkit.Patience, fmt.Sprintf("%s, with %s waiting (it must never wait),", probeWhat, what), func() { err = probe() })
	if !sameErr(err, probeWant) {
		t.Fatalf("%s = %s, want %s (%s was waiting: %s)", probeWhat, errName(err), errName(probeWant), what, why)
	}
	return w
}

// cancelJustBeforeWait runs call(ctx) with a trap (newTrapCtx) and checks
// that it returns context.Canceled. The other arguments are those of
// startWaiting.
func cancelJustBeforeWait(t *testing.T, what, why string, call func(context.Context) error, probeWhat string, probe func() error, probeWant error) {
	t.Helper()
	ctx := newTrapCtx()
	w := startWaiting(t, what, why, ctx, call, probeWhat, probe, probeWant)
	sprung := ctx.disarm()
	ctx.cancel()
	ctx.mu.Lock()
	problem := ctx.problem
	ctx.mu.Unlock()
	if problem != "" {
		t.Fatalf("%s: %s", what, problem)
	}
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	select {
	case <-w.op.Finished():
	case <-timer.C:
		if sprung {
			t.Fatalf("%s did not return within %v after ctx was cancelled (%s). ctx was cancelled, and the callback the call had registered with context.AfterFunc was run, just after the call had checked ctx.Err() and before it called Wait: a callback that wakes the waiters without taking the lock first wakes nobody then, and the call sleeps on (a lost wake-up)",
				what, testkit.Patience, why)
		}
		t.Fatalf("%s did not return within %v after ctx was cancelled (%s): is a waiter woken when its context is cancelled?", what, testkit.Patience, why)
	}
	if !testkit.Is(w.err, context.Canceled) {
		t.Fatalf("%s = %s, want context.Canceled (ctx was cancelled while it waited: %s)", what, errName(w.err), why)
	}
}
