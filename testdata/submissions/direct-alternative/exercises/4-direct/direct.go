// Package direct is message passing with direct communication: processes
// that join a [Network] under a name and send each other messages by name.
//
// This is a correct submission written differently from the reference
// solution. The reference is a monitor: one mutex, one sync.Cond, and
// every waiting call woken by a Broadcast. Here a mutex guards the state
// but nobody waits on a condition variable: every waiting call waits on
// channels in a select, next to ctx.Done() and the exit channels of the
// processes involved, and whoever changes the state wakes exactly the
// calls concerned, by sending on or closing their channels.
//
//   - A receive that finds nothing registers a waiter with a channel of
//     its own; a Send hands its message over by sending it on that
//     channel.
//   - A Send that waits for room waits on its queue's "changed" channel,
//     which is closed (and replaced) whenever a message leaves the queue.
//   - A rendezvous Send whose message is queued as an offer waits on the
//     message's "taken" channel, closed by the receiver that takes it.
//   - Exit closes the process's "gone" channel, which every call waiting
//     on the process (its own and its peers') selects on.
//
// The link table is spread over the processes: each process keeps, for
// every peer it has a link with, the queue of messages on their way from
// that peer to it.
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

// A Network is a set of named processes and the links between them. Make
// one with [New]; the zero value is not usable. A Network and its
// processes may be used by any number of goroutines at the same time.
type Network struct {
	capacity int

	mu    sync.Mutex          // guards everything below, and the state of every process
	procs map[string]*Process // every process that ever joined
	links int                 // links made so far
}

// A queue holds the messages on their way from one process to another,
// oldest first: one direction of a link.
type queue struct {
	msgs []*message
	// changed is closed, and replaced by a new channel, whenever a message
	// leaves the queue: a Send waiting for room waits on it.
	changed chan struct{}
}

// A message is one message on its way.
type message struct {
	from  string
	data  []byte
	taken chan struct{} // closed once a receiver has the message
}

// A waiter is a receiving call that found nothing and waits.
type waiter struct {
	from string // the sender it waits for, unless any
	any  bool
	got  chan *message // buffered, so that a sender never waits to hand over
}

// A Process is one member of a network, made by [Network.Join]. It sends
// messages to other processes of the same network and receives messages
// from them. Its methods may be called from several goroutines at the same
// time.
type Process struct {
	net  *Network
	name string
	gone chan struct{} // closed by Exit

	// Guarded by net.mu.
	exited  bool
	inbound map[string]*queue // by peer: messages from that peer to this process
	waiters []*waiter
}

// New returns an empty network whose links hold capacity messages each
// way: 0 for a rendezvous, a positive number for a bound, or [Unbounded].
// New panics if capacity is less than Unbounded.
func New(capacity int) *Network {
	if capacity < Unbounded {
		panic(fmt.Sprintf("direct: New(%d): capacity must be 0, positive or Unbounded", capacity))
	}
	return &Network{capacity: capacity, procs: map[string]*Process{}}
}

// Join adds a process named name to the network and returns it. It
// returns ErrDuplicateName if a process of that name has already joined,
// even if it has exited since.
func (n *Network) Join(name string) (*Process, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[name] != nil {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	p := &Process{net: n, name: name, gone: make(chan struct{}), inbound: map[string]*queue{}}
	n.procs[name] = p
	return p, nil
}

// Links returns the number of links the network has made so far: one for
// every pair of processes that has communicated.
func (n *Network) Links() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links
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
	m := &message{from: p.name, data: append(make([]byte, 0, len(msg)), msg...), taken: make(chan struct{})}
	n.mu.Lock()
	q, err := p.peer(to, true)
	if err != nil {
		n.mu.Unlock()
		return err
	}
	for {
		if q.exited {
			n.mu.Unlock()
			return fmt.Errorf("%w: %q", ErrPeerExited, to)
		}
		if p.exited {
			n.mu.Unlock()
			return ErrExited
		}
		if n.handOver(p, q, m) {
			n.mu.Unlock()
			return nil
		}
		in := q.inbound[p.name]
		if n.capacity != 0 && (n.capacity == Unbounded || len(in.msgs) < n.capacity) {
			in.msgs = append(in.msgs, m)
			n.mu.Unlock()
			return nil
		}
		if n.capacity == 0 {
			in.msgs = append(in.msgs, m)
			n.mu.Unlock()
			return p.awaitTaken(ctx, q, in, m)
		}
		changed := in.changed
		n.mu.Unlock()
		select {
		case <-changed:
		case <-p.gone:
		case <-q.gone:
		case <-ctx.Done():
			return ctx.Err()
		}
		n.mu.Lock()
	}
}

// awaitTaken waits until a receiver has taken m, an offer on a rendezvous
// link, and withdraws the offer if p or q exits, or ctx is done, first.
func (p *Process) awaitTaken(ctx context.Context, q *Process, in *queue, m *message) error {
	var err error
	select {
	case <-m.taken:
		return nil
	case <-p.gone:
		err = ErrExited
	case <-q.gone:
		err = fmt.Errorf("%w: %q", ErrPeerExited, q.name)
	case <-ctx.Done():
		err = ctx.Err()
	}
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-m.taken: // taken after all, while we were giving up
		return nil
	default:
	}
	for i, x := range in.msgs {
		if x == m {
			in.msgs = append(in.msgs[:i], in.msgs[i+1:]...)
			break
		}
	}
	return err
}

// TrySend sends a copy of msg to the process named to if it can do so
// without waiting, and returns ErrWouldBlock if it cannot: the link is
// full, or, on a rendezvous network, the peer is not waiting in
// Receive(p.Name()) or ReceiveAny. It returns the errors of Send for
// unknown and exited processes.
func (p *Process) TrySend(to string, msg []byte) error {
	n := p.net
	m := &message{from: p.name, data: append(make([]byte, 0, len(msg)), msg...), taken: make(chan struct{})}
	n.mu.Lock()
	defer n.mu.Unlock()
	q, err := p.peer(to, true)
	if err != nil {
		return err
	}
	if n.handOver(p, q, m) {
		return nil
	}
	in := q.inbound[p.name]
	if n.capacity == 0 || n.capacity != Unbounded && len(in.msgs) >= n.capacity {
		return ErrWouldBlock
	}
	in.msgs = append(in.msgs, m)
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
	n.mu.Lock()
	q, err := p.peer(from, false)
	if err != nil {
		n.mu.Unlock()
		return nil, err
	}
	if m := take(p.inbound[from]); m != nil {
		n.mu.Unlock()
		return m.data, nil
	}
	if q.exited {
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrPeerExited, from)
	}
	w := &waiter{from: from, got: make(chan *message, 1)}
	p.waiters = append(p.waiters, w)
	n.mu.Unlock()

	var fail error
	select {
	case m := <-w.got:
		return m.data, nil
	case <-p.gone:
		fail = ErrExited
	case <-q.gone:
		fail = fmt.Errorf("%w: %q", ErrPeerExited, from)
	case <-ctx.Done():
		fail = ctx.Err()
	}
	if m := p.giveUp(w); m != nil {
		return m.data, nil
	}
	return nil, fail
}

// TryReceive returns the next message from the process named from if
// there is one, and ErrWouldBlock if there is none; on a rendezvous
// network there is one only when the peer is waiting in Send. It returns
// the errors of Receive for unknown and exited processes.
func (p *Process) TryReceive(from string) ([]byte, error) {
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	q, err := p.peer(from, false)
	if err != nil {
		return nil, err
	}
	if m := take(p.inbound[from]); m != nil {
		return m.data, nil
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
	if p.exited {
		n.mu.Unlock()
		return "", nil, ErrExited
	}
	if m := p.takeAny(); m != nil {
		n.mu.Unlock()
		return m.from, m.data, nil
	}
	w := &waiter{any: true, got: make(chan *message, 1)}
	p.waiters = append(p.waiters, w)
	n.mu.Unlock()

	var fail error
	select {
	case m := <-w.got:
		return m.from, m.data, nil
	case <-p.gone:
		fail = ErrExited
	case <-ctx.Done():
		fail = ctx.Err()
	}
	if m := p.giveUp(w); m != nil {
		return m.from, m.data, nil
	}
	return "", nil, fail
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
	if m := p.takeAny(); m != nil {
		return m.from, m.data, nil
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
	for _, in := range p.inbound {
		in.msgs = nil
	}
	close(p.gone)
}

// peer returns the process named name, making the link between p and it
// on first use. A Send (forSend) to an exited process fails at once; a
// Receive from one still gets what it sent before it exited. n.mu is held.
func (p *Process) peer(name string, forSend bool) (*Process, error) {
	n := p.net
	if p.exited {
		return nil, ErrExited
	}
	q := n.procs[name]
	if q == nil || q == p {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPeer, name)
	}
	if q.exited && (forSend || p.inbound[name] == nil) {
		return nil, fmt.Errorf("%w: %q", ErrPeerExited, name)
	}
	if p.inbound[name] == nil {
		p.inbound[name] = &queue{changed: make(chan struct{})}
		q.inbound[p.name] = &queue{changed: make(chan struct{})}
		n.links++
	}
	return q, nil
}

// handOver gives m straight to a receiving call of q that waits for p's
// messages, if there is one and no older message from p is queued for q.
// n.mu is held.
func (n *Network) handOver(p, q *Process, m *message) bool {
	if len(q.inbound[p.name].msgs) > 0 {
		return false
	}
	for i, w := range q.waiters {
		if w.any || w.from == p.name {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			close(m.taken)
			w.got <- m
			return true
		}
	}
	return false
}

// giveUp removes w from p's waiting calls. If a sender has handed w a
// message in the meantime, w is no longer registered and giveUp returns
// that message: it has been delivered and must not be lost.
func (p *Process) giveUp(w *waiter) *message {
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			return nil
		}
	}
	return <-w.got
}

// take removes the front message of a queue and returns it, or nil if the
// queue is empty. n.mu is held.
func take(in *queue) *message {
	if in == nil || len(in.msgs) == 0 {
		return nil
	}
	m := in.msgs[0]
	in.msgs[0] = nil
	in.msgs = in.msgs[1:]
	close(m.taken)
	close(in.changed)
	in.changed = make(chan struct{})
	return m
}

// takeAny takes the front message of any of p's inbound queues. Go's map
// order is random, so no sender is always served first. n.mu is held.
func (p *Process) takeAny() *message {
	for _, in := range p.inbound {
		if m := take(in); m != nil {
			return m
		}
	}
	return nil
}
