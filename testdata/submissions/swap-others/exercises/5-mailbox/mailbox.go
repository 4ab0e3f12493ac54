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
// YOUR TASK: write the bodies below. You may build a mailbox as a monitor
// (a sync.Mutex and a sync.Cond, as in exercise 3) or from channels; both
// are allowed here. README.md explains the idea, the rules and what every
// method must do; the tests in mailbox_test.go are the contract. Keep every
// exported name and signature as it is: add fields to PostOffice and
// Mailbox, write the bodies, and add any unexported helpers you like.
package mailbox

import (
	"context"
	"errors"
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
	// TODO: add the fields you need: the mailboxes by name, and a lock
	// that guards them.
}

// New returns a post office without any mailboxes.
func New() *PostOffice {
	panic("TODO: implement New")
}

// Create makes a new, empty mailbox called name, with the given capacity
// (0 for a rendezvous, n > 0 for a bound, or Unbounded), and returns a
// handle to it. It returns ErrExists if the post office has a mailbox of
// that name already, and ErrBadCapacity if capacity is below Unbounded.
// Any string is a valid name.
func (po *PostOffice) Create(name string, capacity int) (*Mailbox, error) {
	panic("TODO: implement Create")
}

// Open returns a handle to the mailbox called name, or ErrNoMailbox if
// there is none. Every handle to a mailbox reaches the same mailbox: what
// is sent through one may be received through another.
func (po *PostOffice) Open(name string) (*Mailbox, error) {
	panic("TODO: implement Open")
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
	panic("TODO: implement Delete")
}

// A Mailbox is a handle to a mailbox of a PostOffice, returned by Create
// and Open. Many goroutines may send through and receive from the same
// mailbox at the same time. Each message sent is received by exactly one
// receiver (unless the mailbox is deleted first, which drops it), and
// messages leave the mailbox in the order they were accepted: in
// particular, the messages of one sender arrive in the order it sent them.
type Mailbox struct {
	// TODO: add the mailbox's state.
}

// Send puts msg into the mailbox, waiting while a bounded mailbox is full.
// On a rendezvous mailbox (capacity 0) it returns only once a receiver has
// taken msg. It returns ErrDeleted, without delivering msg, if the mailbox
// is deleted before then (or was deleted already).
func (m *Mailbox) Send(msg Message) error {
	panic("TODO: implement Send")
}

// TrySend puts msg into the mailbox if it can do so without waiting, and
// returns ErrWouldBlock if it cannot: a bounded mailbox is full, or, on a
// rendezvous mailbox, no receiver is waiting. On a rendezvous mailbox it
// hands msg to a receiver that is waiting, which then returns msg. It
// returns ErrDeleted if the mailbox has been deleted.
func (m *Mailbox) TrySend(msg Message) error {
	panic("TODO: implement TrySend")
}

// SendContext is Send, but gives up when ctx is done before msg was put
// into the mailbox (on a rendezvous mailbox: before a receiver took it).
// It then returns ctx.Err(), and msg is not delivered. Whenever it returns
// nil, msg is delivered.
func (m *Mailbox) SendContext(ctx context.Context, msg Message) error {
	panic("TODO: implement SendContext")
}

// Receive takes the oldest message out of the mailbox and returns it,
// waiting while there is none. On a rendezvous mailbox it takes the
// message of a waiting sender, or waits for one. It returns ErrDeleted if
// the mailbox is deleted while it waits (or was deleted already).
func (m *Mailbox) Receive() (Message, error) {
	panic("TODO: implement Receive")
}

// TryReceive takes the oldest message out of the mailbox if there is one,
// and returns ErrWouldBlock if there is none. On a rendezvous mailbox it
// succeeds only when a sender is waiting, and takes that sender's message.
// It returns ErrDeleted if the mailbox has been deleted.
func (m *Mailbox) TryReceive() (Message, error) {
	panic("TODO: implement TryReceive")
}

// ReceiveContext is Receive, but gives up when ctx is done before a
// message arrives. It then returns ctx.Err() and takes nothing: the next
// message goes to another receiver.
func (m *Mailbox) ReceiveContext(ctx context.Context) (Message, error) {
	panic("TODO: implement ReceiveContext")
}
