// Mutant name-table-race: the reference solution with one mistake.
//
// Send, TrySend, Receive and TryReceive look the peer up in the table of
// processes before they take the lock ("only a read, and names are never
// removed"). But reading a map while Join adds to it is a data race: when
// processes join while others are sending and receiving, the race
// detector reports it (or the runtime stops with a concurrent map read and
// map write).

// Package direct is message passing with direct communication: processes
// that join a [Network] under a name and send each other messages by name.
//
// A process names the peer it talks to. p.Send("bob", msg) sends to the
// process called bob; p.Receive("alice") waits for a message from alice
// and from nobody else (symmetric addressing); p.ReceiveAny() takes a
// message from whoever sent one and says who that was (asymmetric
// addressing).
//
// Between two processes there is exactly one link. It is made the first
// time either of them sends to or receives from the other, and it carries
// messages both ways, each way in the order they were sent. How many
// messages a link holds each way is the network's capacity, chosen when
// the network is made with [New]:
//
//   - 0, a rendezvous: a link holds nothing; Send returns only once the
//     receiver has taken the message;
//   - n > 0, bounded: a link holds up to n messages each way; Send waits
//     while the link is full;
//   - [Unbounded]: a link holds any number of messages; Send never waits.
//
// Every operation comes in three forms: one that waits as long as it must
// (Send, Receive, ReceiveAny), one that never waits (TrySend, TryReceive,
// TryReceiveAny) and one that waits at most until a context is done
// (SendContext, ReceiveContext, ReceiveAnyContext). Messages are copied
// when they are sent: sender and receiver never share a buffer.
//
// The network is a monitor: one mutex guards the process table, the link
// table and every link, and one condition variable is where every waiting
// call sleeps until something changes.
package direct

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Unbounded is the capacity of a network whose links hold any number of
// messages: New(Unbounded).
const Unbounded = -1

// Errors returned by the operations of a Process. They may be wrapped with
// the name they are about: compare with errors.Is.
var (
	// ErrDuplicateName is returned by Join for a name that a process of
	// the network has, or had before it exited: names are never reused.
	ErrDuplicateName = errors.New("direct: name already taken")
	// ErrUnknownPeer means that no process of that name ever joined the
	// network, or that a process named itself.
	ErrUnknownPeer = errors.New("direct: no such process")
	// ErrPeerExited means that the peer has exited: it takes no more
	// messages, and (once the messages it sent before exiting have been
	// received) it sends none.
	ErrPeerExited = errors.New("direct: peer has exited")
	// ErrExited means that the process making the call has exited.
	ErrExited = errors.New("direct: process has exited")
	// ErrWouldBlock is returned by the Try forms when the operation cannot
	// be done without waiting.
	ErrWouldBlock = errors.New("direct: operation would block")
)

// rendezvous is the capacity of a network whose links hold nothing.
const rendezvous = 0

// A Network is a set of named processes and the links between them. Make
// one with [New]; the zero value is not usable. A Network and its
// processes may be used by any number of goroutines at the same time.
type Network struct {
	mu sync.Mutex
	// changed is where every waiting call sleeps. Every change of state is
	// followed by a Broadcast: senders and receivers of every link wait on
	// it, so a Signal could wake a goroutine that cannot go on.
	changed sync.Cond

	capacity int // a positive bound, Unbounded or rendezvous

	procs map[string]*Process // every process that ever joined, by name
	links map[pair]*link      // made on first use, never removed
	sent  uint64              // messages queued so far; stamps their age
}

// A pair names the two ends of a link, in order, so that alice–bob and
// bob–alice are the same key.
type pair struct{ lo, hi string }

func pairOf(a, b string) pair {
	if a > b {
		a, b = b, a
	}
	return pair{a, b}
}

// A link joins two processes. It carries messages both ways, each way in
// its own FIFO queue.
type link struct {
	ends pair
	// queue[0] holds the messages on their way to ends.lo, queue[1] those
	// on their way to ends.hi, oldest first. On a rendezvous network they
	// are the offers of Sends that wait for a receiver.
	queue [2][]*envelope
}

// inbound returns the queue of messages on their way to the process named
// to.
func (l *link) inbound(to string) *[]*envelope {
	if to == l.ends.lo {
		return &l.queue[0]
	}
	return &l.queue[1]
}

// An envelope is one message on its way.
type envelope struct {
	from  string
	data  []byte // the sender's own copy of the message
	seq   uint64 // when it was queued: ReceiveAny takes the oldest first
	taken bool   // a receiver has it; a rendezvous Send waits for this
}

// A waiter is a receiving call that found nothing to take and waits. A
// Send hands its message straight to a waiter that will take it: that is
// how a rendezvous TrySend succeeds without waiting itself.
type waiter struct {
	from string // the sender it waits for, unless any
	any  bool   // ReceiveAny: waits for a message from anyone
	got  *envelope
}

// A Process is one member of a network, made by [Network.Join]. It sends
// messages to other processes of the same network and receives messages
// from them. Its methods may be called from several goroutines at the same
// time.
type Process struct {
	net  *Network
	name string

	// Guarded by net.mu.
	exited  bool
	links   []*link   // this process's links, in the order they were made
	waiting []*waiter // receiving calls of this process that wait
}

// New returns an empty network whose links hold capacity messages each
// way: 0 for a rendezvous, a positive number for a bound, or [Unbounded].
// New panics if capacity is less than Unbounded.
func New(capacity int) *Network {
	if capacity < Unbounded {
		panic(fmt.Sprintf("direct: New(%d): capacity must be 0, positive or Unbounded", capacity))
	}
	n := &Network{
		capacity: capacity,
		procs:    map[string]*Process{},
		links:    map[pair]*link{},
	}
	n.changed.L = &n.mu
	return n
}

// Join adds a process named name to the network and returns it. It
// returns ErrDuplicateName if a process of that name has already joined,
// even if it has exited since.
func (n *Network) Join(name string) (*Process, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.procs[name]; ok {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	p := &Process{net: n, name: name}
	n.procs[name] = p
	return p, nil
}

// Links returns the number of links the network has made so far: one for
// every pair of processes that has communicated.
func (n *Network) Links() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.links)
}

// Name returns the name the process joined under.
func (p *Process) Name() string {
	return p.name
}

// Send sends a copy of msg to the process named to, waiting while the link
// is full; on a rendezvous network it returns only once the receiver has
// taken the message. It returns ErrUnknownPeer if no process of that name
// joined the network, ErrPeerExited if the peer exits before it has taken
// the message (or before there is room in the link), and ErrExited if p
// has exited. When Send fails, the message was not sent.
func (p *Process) Send(to string, msg []byte) error {
	return p.SendContext(context.Background(), to, msg)
}

// SendContext is Send, but gives up when ctx is done first: it then
// returns ctx.Err() and the message was not sent.
func (p *Process) SendContext(ctx context.Context, to string, msg []byte) error {
	n := p.net
	peer := n.procs[to] // BUG: read without n.mu, while Join may write
	n.mu.Lock()
	defer n.mu.Unlock()
	stop := n.wakeOnDone(ctx)
	defer stop()

	q, l, err := p.linkTo(peer, to, true)
	if err != nil {
		return err
	}
	e := p.envelope(msg)
	for !n.deliver(q, l, e) {
		// The link is full: wait for room. Whoever exited while we slept
		// must be noticed before the next try, or e would be queued for
		// a process that will never take it.
		if err := ctx.Err(); err != nil {
			return err
		}
		n.changed.Wait()
		if err := p.exitedErr(q); err != nil {
			return err
		}
	}
	// On a rendezvous network e is either in a receiver's hands already
	// or queued as an offer: wait until a receiver takes it. On other
	// networks it is taken or queued, and Send is done.
	for n.capacity == rendezvous && !e.taken {
		err := p.exitedErr(q)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			l.withdraw(q.name, e)
			return err
		}
		n.changed.Wait()
	}
	return nil
}

// TrySend sends a copy of msg to the process named to if it can do so
// without waiting, and returns ErrWouldBlock if it cannot: the link is
// full, or, on a rendezvous network, the peer is not waiting in
// Receive(p.Name()) or ReceiveAny. It returns the errors of Send for
// unknown and exited processes.
func (p *Process) TrySend(to string, msg []byte) error {
	n := p.net
	peer := n.procs[to] // BUG: read without n.mu, while Join may write
	n.mu.Lock()
	defer n.mu.Unlock()

	q, l, err := p.linkTo(peer, to, true)
	if err != nil {
		return err
	}
	e := p.envelope(msg)
	if n.handOver(q, l, e) {
		return nil
	}
	if n.capacity == rendezvous || !n.deliver(q, l, e) {
		return ErrWouldBlock
	}
	return nil
}

// Receive waits for the next message from the process named from, and
// returns it: messages from other processes stay where they are. The
// message is the receiver's own copy. Receive returns ErrUnknownPeer if no
// process of that name joined the network, ErrPeerExited once the peer has
// exited and every message it sent before has been received, and
// ErrExited if p has exited.
func (p *Process) Receive(from string) ([]byte, error) {
	return p.ReceiveContext(context.Background(), from)
}

// ReceiveContext is Receive, but gives up when ctx is done before a
// message is there: it then returns ctx.Err() and takes nothing.
func (p *Process) ReceiveContext(ctx context.Context, from string) ([]byte, error) {
	n := p.net
	peer := n.procs[from] // BUG: read without n.mu, while Join may write
	n.mu.Lock()
	defer n.mu.Unlock()
	stop := n.wakeOnDone(ctx)
	defer stop()

	q, l, err := p.linkTo(peer, from, false)
	if err != nil {
		return nil, err
	}
	if e := n.take(l.inbound(p.name)); e != nil {
		return e.data, nil
	}
	w := &waiter{from: from}
	if err := p.wait(w, q, ctx); err != nil {
		return nil, err
	}
	return w.got.data, nil
}

// TryReceive returns the next message from the process named from if
// there is one, and ErrWouldBlock if there is none; on a rendezvous
// network there is one only when the peer is waiting in Send. It returns
// the errors of Receive for unknown and exited processes.
func (p *Process) TryReceive(from string) ([]byte, error) {
	n := p.net
	peer := n.procs[from] // BUG: read without n.mu, while Join may write
	n.mu.Lock()
	defer n.mu.Unlock()

	q, l, err := p.linkTo(peer, from, false)
	if err != nil {
		return nil, err
	}
	if e := n.take(l.inbound(p.name)); e != nil {
		return e.data, nil
	}
	if q.exited {
		return nil, fmt.Errorf("%w: %q", ErrPeerExited, from)
	}
	return nil, ErrWouldBlock
}

// ReceiveAny waits for a message from any process, and returns the name of
// its sender and the message. Messages from one sender arrive in the order
// they were sent; nothing is promised about the order of messages from
// different senders. It returns ErrExited if p has exited; exited peers do
// not end it, since another process may still send.
func (p *Process) ReceiveAny() (from string, msg []byte, err error) {
	return p.ReceiveAnyContext(context.Background())
}

// ReceiveAnyContext is ReceiveAny, but gives up when ctx is done before a
// message is there: it then returns ctx.Err() and takes nothing.
func (p *Process) ReceiveAnyContext(ctx context.Context) (from string, msg []byte, err error) {
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	stop := n.wakeOnDone(ctx)
	defer stop()

	if p.exited {
		return "", nil, ErrExited
	}
	if e := n.takeOldest(p); e != nil {
		return e.from, e.data, nil
	}
	w := &waiter{any: true}
	if err := p.wait(w, nil, ctx); err != nil {
		return "", nil, err
	}
	return w.got.from, w.got.data, nil
}

// TryReceiveAny returns a message from any process, and its sender, if
// there is one, and ErrWouldBlock if there is none.
func (p *Process) TryReceiveAny() (from string, msg []byte, err error) {
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if p.exited {
		return "", nil, ErrExited
	}
	if e := n.takeOldest(p); e != nil {
		return e.from, e.data, nil
	}
	return "", nil, ErrWouldBlock
}

// Exit takes p out of the network and wakes every call that waits on it.
// From then on p's own calls fail with ErrExited; its peers' Sends to it,
// and their Receives from it once they have received what p sent before,
// fail with ErrPeerExited. Messages sent to p that it has not received are
// dropped. Exiting twice does nothing.
func (p *Process) Exit() {
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if p.exited {
		return
	}
	p.exited = true
	for _, l := range p.links {
		q := l.inbound(p.name)
		clear(*q)
		*q = nil
	}
	n.changed.Broadcast()
}

// linkTo finds the process named name and the link between p and it,
// making the link on first use. forSend says whether p sends: a Send to an
// exited peer fails at once, while a Receive from it still gets what the
// peer sent before it exited. n.mu is held.
//
// q is the process named name as the caller found it, before it took the
// lock: nil if there was none.
func (p *Process) linkTo(q *Process, name string, forSend bool) (*Process, *link, error) {
	n := p.net
	if p.exited {
		return nil, nil, ErrExited
	}
	if q == nil || q == p {
		return nil, nil, fmt.Errorf("%w: %q", ErrUnknownPeer, name)
	}
	key := pairOf(p.name, q.name)
	l, ok := n.links[key]
	if !ok {
		if q.exited {
			// Nothing was ever sent on this link, and nothing will be.
			return nil, nil, fmt.Errorf("%w: %q", ErrPeerExited, name)
		}
		l = &link{ends: key}
		n.links[key] = l
		p.links = append(p.links, l)
		q.links = append(q.links, l)
	}
	if forSend && q.exited {
		return nil, nil, fmt.Errorf("%w: %q", ErrPeerExited, name)
	}
	return q, l, nil
}

// envelope wraps a copy of msg: the sender may reuse its buffer as soon as
// Send returns, and the receiver may change what it got.
func (p *Process) envelope(msg []byte) *envelope {
	data := make([]byte, len(msg))
	copy(data, msg)
	return &envelope{from: p.name, data: data}
}

// exitedErr returns why p cannot go on sending to q: p or q has exited.
// It returns nil when both are still in the network. n.mu is held.
func (p *Process) exitedErr(q *Process) error {
	switch {
	case p.exited:
		return ErrExited
	case q.exited:
		return fmt.Errorf("%w: %q", ErrPeerExited, q.name)
	}
	return nil
}

// wait registers w as a waiting receive of p and sleeps until a Send has
// handed it a message. It gives up when p exits, when q (the peer w waits
// for, nil for ReceiveAny) exits, or when ctx is done. n.mu is held.
//
// The message is checked first: a call that has been handed a message
// returns it, even if p exited or ctx was cancelled in the meantime, since
// the sender has already returned.
func (p *Process) wait(w *waiter, q *Process, ctx context.Context) error {
	n := p.net
	p.waiting = append(p.waiting, w)
	for w.got == nil {
		err := ctx.Err()
		switch {
		case p.exited:
			err = ErrExited
		case q != nil && q.exited:
			err = fmt.Errorf("%w: %q", ErrPeerExited, q.name)
		}
		if err != nil {
			p.stopWaiting(w)
			return err
		}
		n.changed.Wait()
	}
	return nil
}

// stopWaiting removes w from the waiting receives of p. n.mu is held.
func (p *Process) stopWaiting(w *waiter) {
	for i, x := range p.waiting {
		if x == w {
			p.waiting = append(p.waiting[:i], p.waiting[i+1:]...)
			return
		}
	}
}

// deliver puts e on its way to q, if it can without waiting: into the
// hands of a waiting receive, or at the back of the link's queue if the
// link has room (a rendezvous link always takes an offer). It reports
// whether it did. n.mu is held.
func (n *Network) deliver(q *Process, l *link, e *envelope) bool {
	if n.handOver(q, l, e) {
		return true
	}
	queue := l.inbound(q.name)
	if n.capacity != Unbounded && n.capacity != rendezvous && len(*queue) >= n.capacity {
		return false
	}
	n.sent++
	e.seq = n.sent
	*queue = append(*queue, e)
	n.changed.Broadcast()
	return true
}

// handOver gives e to a receive of q that waits for a message from e's
// sender, if there is one, and reports whether it did. It never jumps the
// queue: while older messages are on their way, e must wait its turn.
// n.mu is held.
func (n *Network) handOver(q *Process, l *link, e *envelope) bool {
	if len(*l.inbound(q.name)) > 0 {
		return false
	}
	for i, w := range q.waiting {
		if w.any || w.from == e.from {
			w.got = e
			e.taken = true
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			n.changed.Broadcast()
			return true
		}
	}
	return false
}

// take removes the message at the front of a queue and returns it, or
// returns nil if the queue is empty. n.mu is held.
func (n *Network) take(queue *[]*envelope) *envelope {
	if len(*queue) == 0 {
		return nil
	}
	e := (*queue)[0]
	(*queue)[0] = nil // let the garbage collector have it
	*queue = (*queue)[1:]
	e.taken = true
	n.changed.Broadcast() // room in the link, or a rendezvous Send may return
	return e
}

// takeOldest takes the oldest message on its way to p, from any link, or
// returns nil if there is none. Taking the oldest keeps every link's order
// and lets no sender starve the others. n.mu is held.
func (n *Network) takeOldest(p *Process) *envelope {
	var oldest *[]*envelope
	for _, l := range p.links {
		q := l.inbound(p.name)
		if len(*q) > 0 && (oldest == nil || (*q)[0].seq < (*oldest)[0].seq) {
			oldest = q
		}
	}
	if oldest == nil {
		return nil
	}
	return n.take(oldest)
}

// withdraw removes e, an offer that no receiver took, from the queue of
// messages on their way to the process named to. n.mu is held.
func (l *link) withdraw(to string, e *envelope) {
	queue := l.inbound(to)
	for i, x := range *queue {
		if x == e {
			*queue = append((*queue)[:i], (*queue)[i+1:]...)
			return
		}
	}
}

// wakeOnDone arranges for every waiter to be woken when ctx is done, so
// that the ones waiting with ctx see ctx.Err() and give up. The caller must
// call stop when it no longer waits.
//
// The callback takes the lock before it broadcasts. Without the lock, the
// broadcast could fall between a waiter's check of ctx.Err() and its call
// to Wait, and that waiter would sleep on.
func (n *Network) wakeOnDone(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.changed.Broadcast()
	})
}
