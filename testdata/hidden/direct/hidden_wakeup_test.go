package direct

// Hidden tests: wake-ups. A network has many calls waiting at once, for
// different reasons; whatever changes the state must wake the call that
// can now go on, even when an unrelated call has been waiting longer, and
// the cancelling of a context must reach its call even when it comes at
// the worst moment. The link table may be read while links are made.

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A watchedCtx is a context the test cancels, which tells the test when a
// call first asks it for Err. A call that keeps its waiters on a condition
// variable asks just before it waits, holding the lock: once it has asked,
// any call the test starts next gets the lock only after this one sleeps,
// so the test knows who waits longest.
type watchedCtx struct {
	context.Context
	asked chan struct{} // closed at the first call of Err
	once  sync.Once
}

func newWatchedCtx() (*watchedCtx, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return &watchedCtx{Context: ctx, asked: make(chan struct{})}, cancel
}

func (c *watchedCtx) Err() error {
	c.once.Do(func() { close(c.asked) })
	return c.Context.Err()
}

// parked waits until the call that got ctx has asked it for Err (it is
// about to sleep), or for testkit.Grace if it never asks: a design that
// waits in a select on ctx.Done() need not, and for it the order of the
// waiters does not matter.
func parked(ctx *watchedCtx) {
	timer := time.NewTimer(testkit.Grace)
	defer timer.Stop()
	select {
	case <-ctx.asked:
	case <-timer.C:
	}
}

// A trapCtx is a context that is cancelled at the worst moment for a call
// that waits on a condition variable: between its check of ctx.Err() and
// its Wait. The first call of Err after a callback has been registered
// with context.AfterFunc cancels the context and runs the callbacks, lets
// them run as far as they can (until they end or block, on the lock the
// caller holds, say), and only then returns nil, the answer of a check made
// just before the cancel. A callback that broadcasts without taking the
// lock has then broadcast before the caller sleeps, and the caller never
// hears of the cancel; one that takes the lock wakes it once it sleeps.
type trapCtx struct {
	mu        sync.Mutex
	done      chan struct{}
	err       error
	callbacks map[int]func()
	next      int
	sprung    chan struct{} // closed when Err cancelled the context
}

func newTrapCtx() *trapCtx {
	return &trapCtx{done: make(chan struct{}), callbacks: map[int]func(){}, sprung: make(chan struct{})}
}

func (c *trapCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *trapCtx) Done() <-chan struct{}       { return c.done }
func (c *trapCtx) Value(key any) any           { return nil }

// AfterFunc is what context.AfterFunc(c, f) calls: it registers f to run
// when c is cancelled.
func (c *trapCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	id := c.next
	c.next++
	c.callbacks[id] = f
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.callbacks[id]
		delete(c.callbacks, id)
		return ok
	}
}

func (c *trapCtx) Err() error {
	c.mu.Lock()
	if c.err != nil || len(c.callbacks) == 0 {
		err := c.err
		c.mu.Unlock()
		return err
	}
	fs := c.cancelLocked()
	close(c.sprung)
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
	settleAfterFuncs()
	return nil
}

// cancel cancels c, unless Err has done it already. The test calls it
// once a call has been given time to wait.
func (c *trapCtx) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	fs := c.cancelLocked()
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// cancelLocked marks c cancelled and returns the callbacks to run. c.mu is
// held.
func (c *trapCtx) cancelLocked() []func() {
	c.err = context.Canceled
	close(c.done)
	var fs []func()
	for _, f := range c.callbacks {
		fs = append(fs, f)
	}
	clear(c.callbacks)
	return fs
}

// settleAfterFuncs waits (up to testkit.Patience) until every function
// that context.AfterFunc started has returned or is blocked: none of them
// is running or ready to run.
func settleAfterFuncs() {
	deadline := time.Now().Add(testkit.Patience)
	buf := make([]byte, 1<<20)
	for time.Now().Before(deadline) {
		n := runtime.Stack(buf, true)
		if !afterFuncRunning(string(buf[:n])) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// afterFuncRunning reports whether the goroutine dump shows a goroutine
// started by context.AfterFunc that is running or ready to run.
func afterFuncRunning(dump string) bool {
	for _, g := range strings.Split(dump, "\n\n") {
		if !strings.Contains(g, "created by context.(*afterFuncCtx)") {
			continue
		}
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[running") || strings.Contains(header, "[runnable") {
			return true
		}
	}
	return false
}

// TestWakeUpReachesTheRightWaiter parks an unrelated call first, waits
// until it really sleeps, and only then parks the call that the test is
// about, and makes the change that lets that one go on: a message handed
// to a waiting receive, room made in a full link, a rendezvous message
// taken, a context cancelled. The call must return. Waking just one
// waiter (Signal) is not enough on a network where everybody waits in the
// same place: the one woken is the one waiting longest, the unrelated
// call, which goes back to sleep.
func TestWakeUpReachesTheRightWaiter(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	type setup struct {
		n                       *Network
		alice, bob, carol, dave *Process
		c                       *crowd
		unrelated               string // the label of carol's call
		stopUnrelated           context.CancelFunc
		target                  *watchedCtx
		cancelTarget            context.CancelFunc
	}
	// start makes a network, runs prepare, and then parks
	// carol.ReceiveContext(first, "dave"), which nothing in the test
	// serves, as the call waiting longest. What prepare sends comes before
	// carol waits: a wake-up it causes must not put her behind the call
	// the test is about.
	start := func(capacity int, prepare func(s *setup)) *setup {
		s := &setup{n: New(capacity), c: newCrowd()}
		ps := joinAll(t, s.n, "alice", "bob", "carol", "dave")
		s.alice, s.bob, s.carol, s.dave = ps[0], ps[1], ps[2], ps[3]
		if prepare != nil {
			prepare(s)
		}
		first, stop := newWatchedCtx()
		s.stopUnrelated = stop
		s.unrelated = s.c.receiveContext(first, "first", s.carol, "dave")
		parked(first)
		s.target, s.cancelTarget = newWatchedCtx()
		return s
	}
	// finish ends the unrelated call, which must still be waiting.
	finish := func(s *setup, on string) {
		t.Helper()
		s.stopUnrelated()
		r := s.c.Next(t, "the context first was cancelled")
		require.Equal(t, s.unrelated, r.label, "%v, want %s = nil, context.Canceled (%s)", r, s.unrelated, on)
		testkit.RequireErrorIs(t, r.err, context.Canceled, "%v, want %s = nil, context.Canceled (%s)", r, s.unrelated, on)
		s.cancelTarget()
	}

	// A message handed over to a waiting receive.
	{
		s := start(Unbounded, nil)
		on := "on a network made by New(Unbounded), with carol waiting in ReceiveContext(first, \"dave\") since before"
		label := s.c.receiveContext(s.target, "ctx", s.bob, "alice")
		parked(s.target)
		send(t, s.alice, "bob", "for bob", "the link from alice to bob had room, "+on)
		r := s.c.Next(t, `alice.Send("bob", "for bob") (was bob woken, or only carol, who was waiting longer?)`)
		require.Equal(t, label, r.label, `%v, want %s = "for bob", nil (alice sent bob a message while he waited, %s)`, r, label, on)
		requireMessage(t, r.msg, r.err, "for bob", `%v, want %s = "for bob", nil (alice sent bob a message while he waited, %s)`, r, label, on)
		finish(s, on)
	}

	// Room made in a full link.
	{
		on := "on a network made by New(1), with carol waiting in ReceiveContext(first, \"dave\") since before"
		s := start(1, func(s *setup) {
			send(t, s.alice, "bob", "1", "the link from alice to bob was empty, on a network made by New(1)")
		})
		label := s.c.sendContext(s.target, "ctx", s.alice, "bob", "2")
		parked(s.target)
		s.c.Quiet(t, testkit.Grace, "the link from alice to bob was full, "+on)
		receive(t, s.bob, "alice", "1", "alice had sent 1, "+on)
		r := s.c.Next(t, `bob.Receive("alice") made room in the link (was alice woken, or only carol, who was waiting longer?)`)
		require.Equal(t, label, r.label, "%v, want %s = nil (bob received 1 and made room for 2, %s)", r, label, on)
		require.NoError(t, r.err, "%v, want %s = nil (bob received 1 and made room for 2, %s)", r, label, on)
		receive(t, s.bob, "alice", "2", "alice had sent 2, "+on)
		finish(s, on)
	}

	// A rendezvous message taken. (A design that wakes everybody when a
	// rendezvous offer is made puts carol behind alice here; the room made
	// in a full link above is the case that shows a Signal on taking.)
	{
		s := start(0, nil)
		on := "on a network made by New(0), with carol waiting in ReceiveContext(first, \"dave\") since before"
		label := s.c.sendContext(s.target, "ctx", s.alice, "bob", "hello")
		parked(s.target)
		s.c.Quiet(t, testkit.Grace, "on a rendezvous network a Send waits for its receiver, "+on)
		receive(t, s.bob, "alice", "hello", "alice was waiting in Send, "+on)
		r := s.c.Next(t, `bob.Receive("alice") took alice's message (was alice woken, or only carol, who was waiting longer?)`)
		require.Equal(t, label, r.label, "%v, want %s = nil (bob took the message, %s)", r, label, on)
		require.NoError(t, r.err, "%v, want %s = nil (bob took the message, %s)", r, label, on)
		finish(s, on)
	}

	// A context cancelled.
	{
		s := start(Unbounded, nil)
		on := "on a network made by New(Unbounded), with carol waiting in ReceiveContext(first, \"dave\") since before"
		label := s.c.receiveContext(s.target, "ctx", s.bob, "alice")
		parked(s.target)
		s.c.Quiet(t, testkit.Grace, "alice sent nothing to bob, "+on)
		s.cancelTarget()
		r := s.c.Next(t, "ctx was cancelled (was bob woken, or only carol, who was waiting longer?)")
		require.Equal(t, label, r.label, "%v, want %s = nil, context.Canceled (ctx was cancelled while bob waited, %s)", r, label, on)
		testkit.RequireErrorIs(t, r.err, context.Canceled, "%v, want %s = nil, context.Canceled (ctx was cancelled while bob waited, %s)", r, label, on)
		finish(s, on)
	}
}

// TestCancelBetweenCheckAndWait cancels the context of a waiting call at
// the worst moment: right after the call has checked ctx.Err() and found
// nothing, before it sleeps (see trapCtx). A callback registered with
// context.AfterFunc that broadcasts without taking the lock wakes nobody
// then, and the call sleeps on; one that takes the lock first waits until
// the call sleeps, and wakes it. Designs that never ask ctx.Err() before
// they sleep have their context cancelled by the test a moment later.
func TestCancelBetweenCheckAndWait(t *testing.T) {
	type form struct {
		capacity int
		what     string
		prepare  func(alice, bob *Process) // fills the link, if the call needs that to wait
		call     func(ctx context.Context, alice, bob *Process) error
	}
	forms := []form{
		{Unbounded, `bob.ReceiveContext(ctx, "alice")`, nil, func(ctx context.Context, alice, bob *Process) error {
			_, err := bob.ReceiveContext(ctx, "alice")
			return err
		}},
		{Unbounded, `bob.ReceiveAnyContext(ctx)`, nil, func(ctx context.Context, alice, bob *Process) error {
			_, _, err := bob.ReceiveAnyContext(ctx)
			return err
		}},
		{1, `alice.SendContext(ctx, "bob", "2")`, func(alice, bob *Process) {
			send(t, alice, "bob", "1", "the link from alice to bob was empty, on a network made by New(1)")
		}, func(ctx context.Context, alice, bob *Process) error {
			return alice.SendContext(ctx, "bob", []byte("2"))
		}},
		{0, `alice.SendContext(ctx, "bob", "2")`, nil, func(ctx context.Context, alice, bob *Process) error {
			return alice.SendContext(ctx, "bob", []byte("2"))
		}},
	}
	for _, f := range forms {
		on := "on a network made by " + capName(f.capacity)
		n := New(f.capacity)
		ps := joinAll(t, n, "alice", "bob")
		alice, bob := ps[0], ps[1]
		if f.prepare != nil {
			f.prepare(alice, bob)
		}
		ctx := newTrapCtx()
		var err error
		op := testkit.Go(func() { err = f.call(ctx, alice, bob) })
		timer := time.NewTimer(testkit.Grace)
		select {
		case <-op.Finished():
		case <-ctx.sprung:
		case <-timer.C:
		}
		timer.Stop()
		ctx.cancel()
		op.Finishes(t, testkit.Patience, fmt.Sprintf(
			"%s, whose ctx was cancelled right after the call checked ctx.Err() and before it slept (%s; does the context.AfterFunc callback take the lock before it wakes the waiters?),",
			f.what, on))
		testkit.RequireErrorIs(t, err, context.Canceled, "%s = %s, want context.Canceled (ctx was cancelled while the call waited, %s)", f.what, errName(err), on)
	}
}

// TestLinksWhileLinksAreMade calls n.Links() over and over while eight
// processes make first contact with each other: Links reads the link
// table, which the others are adding to, so it must take the lock too (the
// race detector is watching). The count it reports may only grow, and
// ends at one link for every pair.
func TestLinksWhileLinksAreMade(t *testing.T) {
	testkit.AtLeastProcs(t, 4)
	const (
		procs    = 8
		watchers = 4
		want     = procs * (procs - 1) / 2
	)
	for round := 0; round < 5; round++ {
		n := New(Unbounded)
		names := make([]string, procs)
		for i := range names {
			names[i] = fmt.Sprintf("p%d", i)
		}
		ps := joinAll(t, n, names...)
		var sent atomic.Int64 // senders that have sent all their messages
		problems := make([]string, procs+watchers)
		testkit.Together(t, procs+watchers, testkit.Patience,
			fmt.Sprintf("%d processes each sending to every other while %d goroutines call n.Links()", procs, watchers),
			func(g int) {
				if g < procs {
					defer sent.Add(1)
					for j := range names {
						if j == g {
							continue
						}
						if err := ps[g].Send(names[j], []byte("hello")); err != nil {
							problems[g] = fmt.Sprintf("%s.Send(%q, \"hello\") = %s, want nil (an unbounded link always has room)", names[g], names[j], errName(err))
							return
						}
					}
					return
				}
				last := 0
				for {
					done := sent.Load() == procs
					k := n.Links()
					if k < last || k > want {
						problems[g] = fmt.Sprintf("n.Links() = %d, after it had returned %d, want a count that only grows, up to %d", k, last, want)
						return
					}
					last = k
					if done || k == want {
						return
					}
				}
			})
		for _, p := range problems {
			if p != "" {
				require.FailNow(t, p)
			}
		}
		var got int
		testkit.Within(t, testkit.Patience, "n.Links()", func() { got = n.Links() })
		require.Equal(t, want, got, "n.Links() = %d, want %d (each of the %d pairs of %d processes has exactly one link)", got, want, want, procs)
	}
}

// A gateCtx is a context whose Done method, the first time it is called,
// tells the test and then waits until the test opens the gate. A call
// that registers its context (context.AfterFunc asks for Done) while it
// holds the network's lock holds that lock until the gate opens: the test
// can line other calls up behind it.
type gateCtx struct {
	context.Context
	entered chan struct{} // closed when Done is first called
	gate    chan struct{} // closed by the test: Done returns
	once    sync.Once
}

func newGateCtx(t *testing.T) (*gateCtx, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &gateCtx{Context: ctx, entered: make(chan struct{}), gate: make(chan struct{})}
	t.Cleanup(func() { c.open(); cancel() })
	return c, cancel
}

func (c *gateCtx) Done() <-chan struct{} {
	c.once.Do(func() {
		close(c.entered)
		<-c.gate
	})
	return c.Context.Done()
}

// open opens the gate; opening it twice does nothing.
func (c *gateCtx) open() {
	select {
	case <-c.gate:
	default:
		close(c.gate)
	}
}

// blockedIn waits (up to testkit.Patience) until op has returned or the
// goroutine whose stack shows the function fn is blocked (waiting for a
// lock, say) rather than running.
func blockedIn(op *testkit.Op, fn string) {
	deadline := time.Now().Add(testkit.Patience)
	buf := make([]byte, 1<<20)
	for time.Now().Before(deadline) && !op.Done() {
		dump := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(dump, "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(g, fn) && !strings.Contains(header, "[running") && !strings.Contains(header, "[runnable") {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// TestJoinWhileOthersTalk has a process join the network while another
// sends: every Send looks its peer up in the table of processes that Join
// adds to, so the lookup must take the lock too (the race detector is
// watching). To make the two meet for certain, a third call holds the
// network's lock (its context's Done method waits for the test, see
// gateCtx), Join waits for the lock, then Send, and the test lets the lock
// go: Join adds erin to the table after Send started, and nothing orders
// the two unless Send looked its peer up under the lock.
func TestJoinWhileOthersTalk(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	n := New(Unbounded)
	ps := joinAll(t, n, "alice", "bob", "carol")
	alice, bob, carol := ps[0], ps[1], ps[2]

	ctx, cancel := newGateCtx(t)
	var holdErr error
	holder := testkit.Go(func() { _, holdErr = carol.ReceiveContext(ctx, "alice") })
	timer := time.NewTimer(testkit.Grace)
	select {
	case <-ctx.entered:
	case <-holder.Finished():
	case <-timer.C:
	}
	timer.Stop()

	var erin *Process
	var joinErr error
	join := testkit.Go(func() { erin, joinErr = n.Join("erin") })
	blockedIn(join, ".(*Network).Join(")
	var sendErr error
	sending := testkit.Go(func() { sendErr = alice.Send("bob", []byte("hello")) })
	blockedIn(sending, ".(*Process).Send")

	ctx.open()
	join.Finishes(t, testkit.Patience, `n.Join("erin"), while alice sent to bob,`)
	require.NoError(t, joinErr, `n.Join("erin") = %v, %s, want a process, nil (nobody had that name)`, erin, errName(joinErr))
	require.NotNil(t, erin, `n.Join("erin") = %v, %s, want a process, nil (nobody had that name)`, erin, errName(joinErr))
	sending.Finishes(t, testkit.Patience, `alice.Send("bob", "hello") on a network made by New(Unbounded), while erin joined,`)
	require.NoError(t, sendErr, `alice.Send("bob", "hello") = %s, want nil (an unbounded link always has room)`, errName(sendErr))
	receive(t, bob, "alice", "hello", "alice had sent hello")
	cancel()
	holder.Finishes(t, testkit.Patience, `carol.ReceiveContext(ctx, "alice"), after ctx was cancelled,`)
	testkit.RequireErrorIs(t, holdErr, context.Canceled, `carol.ReceiveContext(ctx, "alice") = %s, want context.Canceled (ctx was cancelled while it waited)`, errName(holdErr))
	send(t, erin, "alice", "hi", "erin had joined, and an unbounded link always has room")
	receive(t, alice, "erin", "hi", "erin had sent hi")
}
