// Mutant goroutine-per-send: a channel-based solution with one mistake.
//
// an unbounded mailbox is an unbuffered channel, and Send starts a
// goroutine to push each message into it, so that Send never waits. The
// goroutines run in any order, so one sender's messages arrive in any
// order too.

// Package mailbox is indirect communication: goroutines never name each
// other. A sender puts a message into a named mailbox, and whoever receives
// from that mailbox gets it. The mailboxes are kept by a [PostOffice], which
// creates them, hands out handles to them by name, and deletes them.
//
// This version is built from channels, not from a monitor. A rendezvous or
// bounded mailbox is simply a Go channel of the same capacity (an
// unbuffered channel is a rendezvous), and a deleted mailbox is one whose
// gone channel is closed, which wakes every select waiting on it. Only the
// unbounded mailbox needs a lock: its messages are in a slice, and a
// one-slot channel wakes a waiting receiver.
package mailbox

import (
	"context"
	"errors"
	"sync"
)

// Unbounded is the capacity of a mailbox without a bound: Create(name,
// Unbounded) makes a mailbox whose senders never wait.
const Unbounded = -1

// A Message is what travels through a mailbox. From names the sender, Body
// is the content; sending copies Body.
type Message struct {
	From string
	Body []byte
}

// Errors returned by a PostOffice and its mailboxes. Compare with
// errors.Is.
var (
	// ErrExists is returned by Create when the name is taken.
	ErrExists = errors.New("mailbox: a mailbox with that name exists already")
	// ErrNoMailbox is returned by Open and Delete for an unknown name.
	ErrNoMailbox = errors.New("mailbox: no mailbox with that name")
	// ErrBadCapacity is returned by Create for a capacity below Unbounded.
	ErrBadCapacity = errors.New("mailbox: capacity must be Unbounded, 0 or positive")
	// ErrDeleted is returned by every operation on a deleted mailbox.
	ErrDeleted = errors.New("mailbox: the mailbox has been deleted")
	// ErrWouldBlock is returned by TrySend and TryReceive when they could
	// only succeed by waiting.
	ErrWouldBlock = errors.New("mailbox: the operation would have to wait")
)

// A PostOffice keeps named mailboxes. Make one with [New].
type PostOffice struct {
	mu    sync.Mutex
	boxes map[string]*Mailbox
}

// New returns a post office without any mailboxes.
func New() *PostOffice {
	return &PostOffice{boxes: make(map[string]*Mailbox)}
}

// Create makes a new, empty mailbox called name with the given capacity.
func (po *PostOffice) Create(name string, capacity int) (*Mailbox, error) {
	if capacity < Unbounded {
		return nil, ErrBadCapacity
	}
	po.mu.Lock()
	defer po.mu.Unlock()
	if po.boxes[name] != nil {
		return nil, ErrExists
	}
	m := &Mailbox{gone: make(chan struct{}), unbounded: capacity == Unbounded}
	if capacity == Unbounded {
		capacity = 0
	}
	m.slots = make(chan Message, capacity)
	po.boxes[name] = m
	return m, nil
}

// Open returns a handle to the mailbox called name.
func (po *PostOffice) Open(name string) (*Mailbox, error) {
	po.mu.Lock()
	defer po.mu.Unlock()
	if m := po.boxes[name]; m != nil {
		return m, nil
	}
	return nil, ErrNoMailbox
}

// Delete deletes the mailbox called name: waiting senders and receivers
// return ErrDeleted, the messages in it are dropped, and every later call
// on it fails with ErrDeleted.
func (po *PostOffice) Delete(name string) error {
	po.mu.Lock()
	defer po.mu.Unlock()
	m := po.boxes[name]
	if m == nil {
		return ErrNoMailbox
	}
	delete(po.boxes, name)
	// Only Delete closes gone, and only once: the mailbox has just left
	// the map, so no other Delete can find it.
	close(m.gone)
	return nil
}

// A Mailbox is a handle to a mailbox of a PostOffice.
type Mailbox struct {
	gone      chan struct{} // closed when the mailbox is deleted
	unbounded bool

	// slots is the mailbox when its capacity is 0 or a bound, nil when it
	// is unbounded.
	slots chan Message

	// The unbounded mailbox: queue, guarded by mu, holds the messages.
	// wake holds a token whenever a waiting receiver may find a message;
	// a receiver that takes a message and leaves more behind passes the
	// token on, so that no receiver sleeps while messages wait.
	mu    sync.Mutex
	queue []Message
	wake  chan struct{}
}

// Send puts msg into the mailbox, waiting while it is full (on a
// rendezvous mailbox, until a receiver takes msg).
func (m *Mailbox) Send(msg Message) error {
	return m.send(context.Background(), msg, true)
}

// TrySend puts msg into the mailbox if it can do so without waiting.
func (m *Mailbox) TrySend(msg Message) error {
	return m.send(context.Background(), msg, false)
}

// SendContext is Send, but gives up when ctx is done first.
func (m *Mailbox) SendContext(ctx context.Context, msg Message) error {
	return m.send(ctx, msg, true)
}

// Receive takes the oldest message out of the mailbox, waiting while there
// is none.
func (m *Mailbox) Receive() (Message, error) {
	return m.receive(context.Background(), true)
}

// TryReceive takes the oldest message out of the mailbox if there is one.
func (m *Mailbox) TryReceive() (Message, error) {
	return m.receive(context.Background(), false)
}

// ReceiveContext is Receive, but gives up when ctx is done first.
func (m *Mailbox) ReceiveContext(ctx context.Context) (Message, error) {
	return m.receive(ctx, true)
}

// deleted reports whether the mailbox has been deleted.
func (m *Mailbox) deleted() bool {
	select {
	case <-m.gone:
		return true
	default:
		return false
	}
}

func (m *Mailbox) send(ctx context.Context, msg Message, wait bool) error {
	msg.Body = append([]byte(nil), msg.Body...)
	if m.deleted() {
		return ErrDeleted
	}
	if m.unbounded {
		// Never wait: let a goroutine of its own deliver the message.
		go func() {
			select {
			case m.slots <- msg:
			case <-m.gone:
			}
		}()
		return nil
	}
	if !wait {
		select {
		case m.slots <- msg:
			return nil
		default:
			return ErrWouldBlock
		}
	}
	select {
	case m.slots <- msg:
		return nil
	case <-m.gone:
		return ErrDeleted
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Mailbox) receive(ctx context.Context, wait bool) (Message, error) {
	if m.deleted() {
		return Message{}, ErrDeleted
	}
	if !wait {
		select {
		case msg := <-m.slots:
			return msg, nil
		default:
			return Message{}, ErrWouldBlock
		}
	}
	select {
	case msg := <-m.slots:
		return msg, nil
	case <-m.gone:
		return Message{}, ErrDeleted
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// push adds msg to an unbounded mailbox.
func (m *Mailbox) push(msg Message) error {
	m.mu.Lock()
	if m.deleted() {
		m.mu.Unlock()
		return ErrDeleted
	}
	m.queue = append(m.queue, msg)
	m.mu.Unlock()
	m.signal()
	return nil
}

// pull takes the oldest message out of an unbounded mailbox.
func (m *Mailbox) pull(ctx context.Context, wait bool) (Message, error) {
	for {
		m.mu.Lock()
		if m.deleted() {
			m.mu.Unlock()
			return Message{}, ErrDeleted
		}
		if len(m.queue) > 0 {
			msg := m.queue[0]
			m.queue[0] = Message{}
			m.queue = m.queue[1:]
			more := len(m.queue) > 0
			m.mu.Unlock()
			if more {
				m.signal()
			}
			return msg, nil
		}
		m.mu.Unlock()
		if !wait {
			return Message{}, ErrWouldBlock
		}
		select {
		case <-m.wake:
		case <-m.gone:
			return Message{}, ErrDeleted
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// signal leaves a wake-up token, unless one is there already.
func (m *Mailbox) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}
