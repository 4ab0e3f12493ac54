// Mutant delete-unlocked: the reference solution with one mistake.
//
// Delete ends the mailbox without taking the mailbox's own lock, only the
// post office's. Its writes race with the senders and receivers that use
// the mailbox at that moment, and its broadcast can fall between a
// waiter's check of the deleted flag and its call to Wait.

// Package mailbox is indirect communication: goroutines never name each
// other. A sender puts a message into a named mailbox, and whoever receives
// from that mailbox gets it. The mailboxes are kept by a [PostOffice], which
// creates them, hands out handles to them by name, and deletes them.
//
// A mailbox has one of three capacities, chosen when it is created:
//
//   - zero, a rendezvous: the mailbox holds nothing, and a sender waits
//     until a receiver has taken its message from its hands;
//   - bounded (n > 0): the mailbox holds up to n messages, and a sender
//     waits while it is full;
//   - [Unbounded]: the mailbox holds any number of messages, and a sender
//     never waits.
//
// Sending and receiving come in three forms: one that waits as long as it
// must (Send, Receive), one that never waits (TrySend, TryReceive) and one
// that waits at most until a context is done (SendContext, ReceiveContext).
//
// Each mailbox is a monitor: one mutex guards its state, and one condition
// variable is where senders and receivers wait for it to change. Waiting
// receivers queue up as takers, and a sender hands its message straight to
// the oldest of them; on a rendezvous mailbox, waiting senders queue up as
// offers, and a receiver takes the oldest one. Either way the hand-over
// happens under the lock, so a message has exactly one owner at any time.
package mailbox

import (
	"context"
	"errors"
	"sync"
)

// Unbounded is the capacity of a mailbox without a bound: Create(name,
// Unbounded) makes a mailbox whose senders never wait.
const Unbounded = -1

// A Message is what travels through a mailbox.
//
// From names the sender. The mailbox does not check it or use it: it is
// whatever the sender wrote there, delivered as it is, so that a receiver
// can tell who sent what. Body is the content.
//
// Sending copies the message: once Send (or TrySend, or SendContext) has
// returned, the sender may change or reuse the array behind Body, and the
// receiver still gets the bytes as they were when the message was sent.
type Message struct {
	From string
	Body []byte
}

// Errors returned by a PostOffice and its mailboxes. Compare with
// errors.Is. The context forms also return ctx.Err() when their context is
// done first.
var (
	// ErrExists is returned by Create when the post office already has a
	// mailbox of that name.
	ErrExists = errors.New("mailbox: a mailbox with that name exists already")
	// ErrNoMailbox is returned by Open and Delete when the post office
	// has no mailbox of that name (it never had one, or it was deleted).
	ErrNoMailbox = errors.New("mailbox: no mailbox with that name")
	// ErrBadCapacity is returned by Create for a capacity below
	// Unbounded.
	ErrBadCapacity = errors.New("mailbox: capacity must be Unbounded, 0 or positive")
	// ErrDeleted is returned by every operation on a mailbox that has been
	// deleted, and by the operations that were waiting on it when it was.
	ErrDeleted = errors.New("mailbox: the mailbox has been deleted")
	// ErrWouldBlock is returned by TrySend and TryReceive when they could
	// only succeed by waiting.
	ErrWouldBlock = errors.New("mailbox: the operation would have to wait")
)

// A PostOffice keeps named mailboxes. Make one with [New]; the zero value
// is not usable. Its methods may be called from many goroutines at once.
type PostOffice struct {
	mu    sync.Mutex
	boxes map[string]*Mailbox
}

// New returns a post office without any mailboxes.
func New() *PostOffice {
	return &PostOffice{boxes: map[string]*Mailbox{}}
}

// Create makes a new, empty mailbox called name, with the given capacity
// (0 for a rendezvous, n > 0 for a bound, or Unbounded), and returns a
// handle to it. It returns ErrExists if the post office has a mailbox of
// that name already, and ErrBadCapacity if capacity is below Unbounded.
// Any string is a valid name.
func (po *PostOffice) Create(name string, capacity int) (*Mailbox, error) {
	if capacity < Unbounded {
		return nil, ErrBadCapacity
	}
	po.mu.Lock()
	defer po.mu.Unlock()
	if _, ok := po.boxes[name]; ok {
		return nil, ErrExists
	}
	m := &Mailbox{capacity: capacity}
	m.changed.L = &m.mu
	po.boxes[name] = m
	return m, nil
}

// Open returns a handle to the mailbox called name, or ErrNoMailbox if
// there is none. Every handle to a mailbox reaches the same mailbox: what
// is sent through one may be received through another.
func (po *PostOffice) Open(name string) (*Mailbox, error) {
	po.mu.Lock()
	defer po.mu.Unlock()
	m, ok := po.boxes[name]
	if !ok {
		return nil, ErrNoMailbox
	}
	return m, nil
}

// Delete deletes the mailbox called name, or returns ErrNoMailbox if there
// is none. Once Delete has returned:
//
//   - the name is free: Open(name) returns ErrNoMailbox, and Create(name,
//     …) makes a new mailbox that has nothing to do with the deleted one;
//   - every Send and Receive, in any form, that was waiting on the deleted
//     mailbox has returned ErrDeleted, or is about to (a waiting sender's
//     message is not delivered);
//   - the messages still in the mailbox are dropped: nobody receives them;
//   - every later call on any handle to the deleted mailbox returns
//     ErrDeleted at once.
func (po *PostOffice) Delete(name string) error {
	po.mu.Lock()
	defer po.mu.Unlock()
	m, ok := po.boxes[name]
	if !ok {
		return ErrNoMailbox
	}
	delete(po.boxes, name)
	// Still under po.mu, so that nobody can Open the mailbox between its
	// removal from the map and its end. (The lock order is always po.mu,
	// then a mailbox's mu.)
	m.delete()
	return nil
}

// A Mailbox is a handle to a mailbox of a PostOffice, returned by Create
// and Open. Many goroutines may send through and receive from the same
// mailbox at the same time. Each message sent is received by exactly one
// receiver (unless the mailbox is deleted first, which drops it), and
// messages leave the mailbox in the order they were accepted: in
// particular, the messages of one sender arrive in the order it sent them.
type Mailbox struct {
	capacity int // 0 (rendezvous), a positive bound, or Unbounded

	mu sync.Mutex
	// changed is where senders and receivers wait for the state to change.
	// Every change is followed by a Broadcast: both kinds wait on the same
	// condition variable, so a Signal could wake the wrong one.
	changed sync.Cond

	deleted bool
	// held are the messages in a bounded or unbounded mailbox, oldest
	// first. It is empty whenever takers is not.
	held []Message
	// offers are the senders waiting on a rendezvous mailbox, oldest
	// first. It is empty whenever takers is not.
	offers []*offer
	// takers are the receivers waiting for a message, oldest first.
	takers []*taker
}

// An offer is a rendezvous sender waiting for a receiver to take its
// message.
type offer struct {
	msg   Message
	taken bool // set by the receiver that took msg
}

// A taker is a receiver waiting for a message.
type taker struct {
	msg    Message
	served bool // set by the sender that handed over msg
}

// Send puts msg into the mailbox, waiting while a bounded mailbox is full.
// On a rendezvous mailbox (capacity 0) it returns only once a receiver has
// taken msg. It returns ErrDeleted, without delivering msg, if the mailbox
// is deleted before then (or was deleted already).
func (m *Mailbox) Send(msg Message) error {
	return m.send(context.Background(), msg, true)
}

// TrySend puts msg into the mailbox if it can do so without waiting, and
// returns ErrWouldBlock if it cannot: a bounded mailbox is full, or, on a
// rendezvous mailbox, no receiver is waiting. On a rendezvous mailbox it
// hands msg to a receiver that is waiting, which then returns msg. It
// returns ErrDeleted if the mailbox has been deleted.
func (m *Mailbox) TrySend(msg Message) error {
	return m.send(context.Background(), msg, false)
}

// SendContext is Send, but gives up when ctx is done before msg was put
// into the mailbox (on a rendezvous mailbox: before a receiver took it).
// It then returns ctx.Err(), and msg is not delivered. Whenever it returns
// nil, msg is delivered.
func (m *Mailbox) SendContext(ctx context.Context, msg Message) error {
	return m.send(ctx, msg, true)
}

// Receive takes the oldest message out of the mailbox and returns it,
// waiting while there is none. On a rendezvous mailbox it takes the
// message of a waiting sender, or waits for one. It returns ErrDeleted if
// the mailbox is deleted while it waits (or was deleted already).
func (m *Mailbox) Receive() (Message, error) {
	return m.receive(context.Background(), true)
}

// TryReceive takes the oldest message out of the mailbox if there is one,
// and returns ErrWouldBlock if there is none. On a rendezvous mailbox it
// succeeds only when a sender is waiting, and takes that sender's message.
// It returns ErrDeleted if the mailbox has been deleted.
func (m *Mailbox) TryReceive() (Message, error) {
	return m.receive(context.Background(), false)
}

// ReceiveContext is Receive, but gives up when ctx is done before a
// message arrives. It then returns ctx.Err() and takes nothing: the next
// message goes to another receiver.
func (m *Mailbox) ReceiveContext(ctx context.Context) (Message, error) {
	return m.receive(ctx, true)
}

// send is every form of Send; wait is false for TrySend.
func (m *Mailbox) send(ctx context.Context, msg Message, wait bool) error {
	// Copy first: from here on the message belongs to the mailbox, and
	// the sender may reuse its buffer as soon as we return.
	msg.Body = append([]byte(nil), msg.Body...)

	m.mu.Lock()
	defer m.mu.Unlock()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	// A for and not an if: being woken only means that something changed,
	// not that there is room now. Another sender may have taken it.
	for {
		switch {
		case m.deleted:
			return ErrDeleted
		case len(m.takers) > 0:
			// A receiver is waiting (so nothing is held): hand msg over.
			t := m.takers[0]
			m.takers[0] = nil
			m.takers = m.takers[1:]
			t.msg, t.served = msg, true
			m.changed.Broadcast()
			return nil
		case m.capacity == Unbounded || len(m.held) < m.capacity:
			m.held = append(m.held, msg)
			m.changed.Broadcast()
			return nil
		case !wait:
			return ErrWouldBlock
		case m.capacity == 0:
			return m.offer(ctx, msg)
		}
		// A full bounded mailbox: wait for room.
		if err := ctx.Err(); err != nil {
			return err
		}
		if stop == nil {
			stop = m.wakeOnDone(ctx)
		}
		m.changed.Wait()
	}
}

// offer puts msg on offer on a rendezvous mailbox and waits until a
// receiver takes it, the mailbox is deleted, or ctx is done. m.mu is held,
// and no receiver is waiting.
func (m *Mailbox) offer(ctx context.Context, msg Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &offer{msg: msg}
	m.offers = append(m.offers, o)
	stop := m.wakeOnDone(ctx)
	defer stop()
	for !o.taken && !m.deleted && ctx.Err() == nil {
		m.changed.Wait()
	}
	// Taken first: once a receiver has msg, the send has succeeded, even if
	// ctx is done or the mailbox deleted by the time we look.
	if o.taken {
		return nil
	}
	m.offers = without(m.offers, o)
	if m.deleted {
		return ErrDeleted
	}
	return ctx.Err()
}

// receive is every form of Receive; wait is false for TryReceive.
func (m *Mailbox) receive(ctx context.Context, wait bool) (Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.deleted:
		return Message{}, ErrDeleted
	case len(m.held) > 0:
		msg := m.held[0]
		m.held[0] = Message{} // let the garbage collector have it
		m.held = m.held[1:]
		m.changed.Broadcast() // room for a waiting sender
		return msg, nil
	case len(m.offers) > 0:
		o := m.offers[0]
		m.offers[0] = nil
		m.offers = m.offers[1:]
		o.taken = true
		m.changed.Broadcast() // wake the sender of o
		return o.msg, nil
	case !wait:
		return Message{}, ErrWouldBlock
	}
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}

	// Nothing to take: queue up and wait to be handed a message.
	t := &taker{}
	m.takers = append(m.takers, t)
	stop := m.wakeOnDone(ctx)
	defer stop()
	for !t.served && !m.deleted && ctx.Err() == nil {
		m.changed.Wait()
	}
	// Served first: a sender that handed us a message has returned nil,
	// so the message is ours whatever happened since.
	if t.served {
		return t.msg, nil
	}
	m.takers = without(m.takers, t)
	if m.deleted {
		return Message{}, ErrDeleted
	}
	return Message{}, ctx.Err()
}

// delete ends the mailbox: it drops what it holds and wakes everyone who
// waits on it.
func (m *Mailbox) delete() {
	// BUG: no lock: po.mu is held, but the mailbox's state is guarded by
	// m.mu, which the senders and receivers hold while they use it.
	m.deleted = true
	m.held, m.offers, m.takers = nil, nil, nil
	m.changed.Broadcast()
}

// wakeOnDone arranges for every waiter to be woken when ctx is done, so
// that the ones waiting with ctx see ctx.Err() and give up. The caller
// must call stop once it no longer waits, so that nothing is left watching
// ctx.
//
// The callback takes the lock before it broadcasts. Without the lock, the
// broadcast could fall between a waiter's check of ctx.Err() and its call
// to Wait, and that waiter would sleep on.
func (m *Mailbox) wakeOnDone(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.changed.Broadcast()
	})
}

// without returns list without x (which appears in it at most once),
// keeping the order of the others.
func without[T comparable](list []T, x T) []T {
	for i, y := range list {
		if y == x {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}
