package mailbox

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (mailbox_test.go), which the grader always compiles with these.

import (
	"context"
	"encoding/binary"
	"errors"
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

// A crowd is a group of calls on mailboxes, each running on a goroutine of
// its own, that are expected to wait. The test watches them as a group:
// that none returns for a while (quiet), then which ones return (all).
type crowd struct {
	returned chan call
	waiting  map[string]bool // labels of the calls that have not returned
}

// A call is one call of a crowd, and what it returned.
type call struct {
	label string // the call as the test started it: "full.Send(msg)"
	msg   Message
	err   error
}

func (c call) String() string {
	if strings.Contains(c.label, "Receive") {
		return fmt.Sprintf("%s = %s, %s", c.label, show(c.msg), errName(c.err))
	}
	return fmt.Sprintf("%s = %s", c.label, errName(c.err))
}

func newCrowd() *crowd {
	// Large enough that no call ever blocks on reporting.
	return &crowd{returned: make(chan call, 200), waiting: map[string]bool{}}
}

// start runs fn on a new goroutine as the call named label.
func (c *crowd) start(label string, fn func() (Message, error)) {
	if c.waiting[label] {
		panic("crowd: two calls named " + label)
	}
	c.waiting[label] = true
	go func() {
		msg, err := fn()
		c.returned <- call{label: label, msg: msg, err: err}
	}()
}

// receive starts box.Receive(); label names the call.
func (c *crowd) receive(label string, box *Mailbox) {
	c.start(label, box.Receive)
}

// receiveContext starts box.ReceiveContext(ctx).
func (c *crowd) receiveContext(label string, ctx context.Context, box *Mailbox) {
	c.start(label, func() (Message, error) { return box.ReceiveContext(ctx) })
}

// send starts box.Send(msg).
func (c *crowd) send(label string, box *Mailbox, msg Message) {
	c.start(label, func() (Message, error) { return Message{}, box.Send(msg) })
}

// sendContext starts box.SendContext(ctx, msg).
func (c *crowd) sendContext(label string, ctx context.Context, box *Mailbox, msg Message) {
	c.start(label, func() (Message, error) { return Message{}, box.SendContext(ctx, msg) })
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

// all waits up to testkit.Patience for every call that has not returned
// yet, and returns them by label. after says what should have made them
// return.
func (c *crowd) all(t *testing.T, after string) map[string]call {
	t.Helper()
	got := map[string]call{}
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	for len(c.waiting) > 0 {
		select {
		case r := <-c.returned:
			delete(c.waiting, r.label)
			got[r.label] = r
		case <-timer.C:
			t.Fatalf("after %s, these calls had not returned within %v: %s (still blocked: were they ever woken?)", after, testkit.Patience, c.stillWaiting())
		}
	}
	return got
}

// Stress runs: many senders and many receivers on one mailbox.

// A stressConfig says how to run a stress test on one mailbox.
type stressConfig struct {
	capacity  int
	senders   int
	perSender int // messages each sender sends
	receivers int
	// mixed makes senders and receivers use every form of Send and
	// Receive in turn, including SendContext with deadlines so short that
	// some sends give up; otherwise they use Send and Receive only.
	mixed bool
	// desc, when set, describes the run instead.
	desc string
}

func (cfg stressConfig) String() string {
	if cfg.desc != "" {
		return cfg.desc
	}
	forms := "Send and Receive"
	if cfg.mixed {
		forms = "every form of Send and Receive, some SendContext with a very short deadline"
	}
	return fmt.Sprintf("%d senders each sending %d messages to one mailbox of capacity %s, %d receivers, using %s",
		cfg.senders, cfg.perSender, capName(cfg.capacity), cfg.receivers, forms)
}

// A stressResult is what happened in a stress run.
type stressResult struct {
	cfg stressConfig
	// sent[s][i] reports whether the Send of message i of sender s returned
	// nil, so that the message must be received exactly once.
	sent [][]bool
	// got[r] lists what receiver r received, in order, sentinels left out.
	got [][]Message
}

// stopFrom is the From of the messages that tell a receiver to stop.
const stopFrom = "stop"

// senderName is the From of the messages of sender s.
func senderName(s int) string { return fmt.Sprint("sender ", s) }

// encode writes sender s's message number i into body, which has 8 bytes.
func encode(body []byte, s, i int) {
	binary.BigEndian.PutUint32(body[0:4], uint32(s))
	binary.BigEndian.PutUint32(body[4:8], uint32(i))
}

// decode returns the sender and the number of a message of a stress run,
// or ok == false if msg is not one that any sender of cfg sent.
func (cfg stressConfig) decode(msg Message) (s, i int, ok bool) {
	if len(msg.Body) != 8 {
		return 0, 0, false
	}
	s = int(binary.BigEndian.Uint32(msg.Body[0:4]))
	i = int(binary.BigEndian.Uint32(msg.Body[4:8]))
	if s >= cfg.senders || i >= cfg.perSender || msg.From != senderName(s) {
		return 0, 0, false
	}
	return s, i, true
}

// describe prints a message of a stress run for failure messages.
func (cfg stressConfig) describe(msg Message) string {
	if s, i, ok := cfg.decode(msg); ok {
		return fmt.Sprintf("message %d of sender %d", i, s)
	}
	return fmt.Sprintf("%s, which no sender sent", show(msg))
}

// stress runs cfg and returns what every sender sent and every receiver
// received. It fails the test if a call returns an error it should not,
// or if the messages do not all arrive.
//
// Each sender reuses one buffer for all its messages, writing the next
// message into it as soon as a Send returns. Each receiver opens its own
// handle. Once every sender has finished, and the receivers have received
// as many messages as the senders delivered, the test sends one "stop"
// message for each receiver.
func stress(t *testing.T, cfg stressConfig) *stressResult {
	t.Helper()
	testkit.AtLeastProcs(t, 4)
	po := newOffice(t)
	create(t, po, "stress", cfg.capacity)
	total := cfg.senders * cfg.perSender
	res := &stressResult{cfg: cfg, sent: make([][]bool, cfg.senders), got: make([][]Message, cfg.receivers)}
	for s := range res.sent {
		res.sent[s] = make([]bool, cfg.perSender)
	}

	// live is the context of the context forms that must not give up.
	live, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Receivers. Each reports every message it receives on progress, and
	// its first problem in problems.
	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	report := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(problems, "\n")
	}
	progress := make(chan struct{}, 2*total+cfg.receivers)
	ops := make([]*testkit.Op, cfg.receivers)
	for r := range ops {
		r := r
		ops[r] = testkit.Go(func() {
			box, err := po.Open("stress")
			if err != nil {
				problem("receiver %d: po.Open(%q) = %s, want nil", r, "stress", errName(err))
				return
			}
			for call := 0; call < 2*total+cfg.receivers; call++ {
				var msg Message
				var err error
				form := "box.Receive()"
				switch {
				case cfg.mixed && call%3 == 1:
					form = "box.TryReceive()"
					msg, err = box.TryReceive()
					if errors.Is(err, ErrWouldBlock) {
						form = "box.Receive(), after TryReceive found nothing,"
						msg, err = box.Receive()
					}
				case cfg.mixed && call%3 == 2:
					form = "box.ReceiveContext(ctx)"
					msg, err = box.ReceiveContext(live)
				default:
					msg, err = box.Receive()
				}
				if err != nil {
					problem("receiver %d: %s = %s, want nil (the mailbox was never deleted, and ctx never cancelled)", r, form, errName(err))
					continue
				}
				if msg.From == stopFrom {
					return
				}
				res.got[r] = append(res.got[r], msg)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
			problem("receiver %d received more than twice as many messages as were sent", r)
		})
	}

	// Senders.
	testkit.Together(t, cfg.senders, testkit.Patience, cfg.String(), func(s int) {
		box, err := po.Open("stress")
		if err != nil {
			problem("sender %d: po.Open(%q) = %s, want nil", s, "stress", errName(err))
			return
		}
		msg := Message{From: senderName(s), Body: make([]byte, 8)}
		for i := 0; i < cfg.perSender; i++ {
			encode(msg.Body, s, i)
			var err error
			form := "box.Send"
			switch {
			case cfg.mixed && i%5 == 1:
				form = "box.TrySend"
				err = box.TrySend(msg)
				if errors.Is(err, ErrWouldBlock) {
					form = "box.Send, after TrySend found no room,"
					err = box.Send(msg)
				}
			case cfg.mixed && i%5 == 2:
				form = "box.SendContext"
				err = box.SendContext(live, msg)
			case cfg.mixed && i%5 == 3:
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
				err = box.SendContext(ctx, msg)
				cancel()
				if errors.Is(err, context.DeadlineExceeded) {
					continue // given up: the message must not be delivered
				}
				form = "box.SendContext, with a very short deadline,"
			default:
				err = box.Send(msg)
			}
			if err != nil {
				problem("sender %d: %s(message %d) = %s, want nil", s, form, i, errName(err))
				continue
			}
			res.sent[s][i] = true
		}
	})
	if p := report(); p != "" {
		t.Fatalf("%s:\n%s", cfg, p)
	}

	delivered := 0
	for s := range res.sent {
		for _, ok := range res.sent[s] {
			if ok {
				delivered++
			}
		}
	}
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	for n := 0; n < delivered; n++ {
		select {
		case <-progress:
		case <-timer.C:
			t.Fatalf("%s: the senders delivered %d messages, but the receivers had received only %d of them %v later (lost messages?)\n%s",
				cfg, delivered, n, testkit.Patience, report())
		}
	}
	for r := 0; r < cfg.receivers; r++ {
		send(t, open(t, po, "stress"), "box", Message{From: stopFrom}, "a message telling one receiver to stop, with every receiver waiting for more")
	}
	for r, op := range ops {
		op.Finishes(t, testkit.Patience, fmt.Sprintf("receiver %d, after one stop message for each receiver was sent (was a stop message lost, or received by two receivers?),", r))
	}
	if p := report(); p != "" {
		t.Fatalf("%s:\n%s", cfg, p)
	}
	return res
}

// checkExactlyOnce fails the test unless every message whose Send returned
// nil was received exactly once, and no other message was received.
func (res *stressResult) checkExactlyOnce(t *testing.T) {
	t.Helper()
	cfg := res.cfg
	count := make([][]int, cfg.senders)
	for s := range count {
		count[s] = make([]int, cfg.perSender)
	}
	var wrong []string
	for r, msgs := range res.got {
		for _, msg := range msgs {
			s, i, ok := cfg.decode(msg)
			if !ok {
				wrong = append(wrong, fmt.Sprintf("receiver %d received %s, which no sender sent", r, show(msg)))
				continue
			}
			count[s][i]++
		}
	}
	for s := range count {
		for i, n := range count[s] {
			switch {
			case res.sent[s][i] && n != 1:
				wrong = append(wrong, fmt.Sprintf("message %d of sender %d was received %d times, want exactly once (its Send returned nil)", i, s, n))
			case !res.sent[s][i] && n != 0:
				wrong = append(wrong, fmt.Sprintf("message %d of sender %d was received %d times, want never (its SendContext gave up with context.DeadlineExceeded)", i, s, n))
			}
		}
	}
	if len(wrong) > 0 {
		more := ""
		if len(wrong) > 5 {
			more = fmt.Sprintf("\n… and %d more", len(wrong)-5)
			wrong = wrong[:5]
		}
		t.Fatalf("%s:\n%s%s\n(each sender reuses one buffer for all its messages: a mailbox that does not copy a message on Send delivers whatever the buffer holds later)",
			cfg, strings.Join(wrong, "\n"), more)
	}
}

// checkOrder fails the test unless each receiver received the messages of
// each sender in the order they were sent.
func (res *stressResult) checkOrder(t *testing.T) {
	t.Helper()
	cfg := res.cfg
	for r, msgs := range res.got {
		last := make([]int, cfg.senders)
		for s := range last {
			last[s] = -1
		}
		for _, msg := range msgs {
			s, i, ok := cfg.decode(msg)
			if !ok {
				t.Fatalf("%s: receiver %d received %s, which no sender sent", cfg, r, show(msg))
			}
			if i <= last[s] {
				t.Fatalf("%s: receiver %d received message %d of sender %d after message %d of the same sender, want them in the order they were sent",
					cfg, r, i, s, last[s])
			}
			last[s] = i
		}
	}
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
// The probe is a Try form on the same mailbox: it needs the lock, which a
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
