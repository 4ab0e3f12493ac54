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
// YOUR TASK: implement Network and Process. You may build them as a
// monitor (a sync.Mutex and a sync.Cond, as in exercise 3), from channels,
// or from both. README.md explains the idea, the rules and what every
// method must do; the tests in direct_test.go are the contract. Keep every
// exported name and signature as it is: add fields to Network and
// Process, write the bodies, and add any unexported types and helpers you
// like.
package direct

import (
	"context"
	"errors"
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
	// TODO: add the network's state: the capacity, the processes by name,
	// the table of links, and whatever guards them.
}

// A Process is one member of a network, made by [Network.Join]. It sends
// messages to other processes of the same network and receives messages
// from them. Its methods may be called from several goroutines at the same
// time.
type Process struct {
	// TODO: add the process's state: its name, its network, whether it
	// has exited, ...
}

// New returns an empty network whose links hold capacity messages each
// way: 0 for a rendezvous, a positive number for a bound, or [Unbounded].
// New panics if capacity is less than Unbounded.
func New(capacity int) *Network {
	panic("TODO: implement New")
}

// Join adds a process named name to the network and returns it. It
// returns ErrDuplicateName if a process of that name has already joined,
// even if it has exited since.
func (n *Network) Join(name string) (*Process, error) {
	panic("TODO: implement Join")
}

// Links returns the number of links the network has made so far: one for
// every pair of processes that has communicated.
func (n *Network) Links() int {
	panic("TODO: implement Links")
}

// Name returns the name the process joined under.
func (p *Process) Name() string {
	panic("TODO: implement Name")
}

// Send sends a copy of msg to the process named to, waiting while the link
// is full; on a rendezvous network it returns only once the receiver has
// taken the message. It returns ErrUnknownPeer if no process of that name
// joined the network, ErrPeerExited if the peer exits before it has taken
// the message (or before there is room in the link), and ErrExited if p
// has exited. When Send fails, the message was not sent.
func (p *Process) Send(to string, msg []byte) error {
	panic("TODO: implement Send")
}

// SendContext is Send, but gives up when ctx is done first: it then
// returns ctx.Err() and the message was not sent.
func (p *Process) SendContext(ctx context.Context, to string, msg []byte) error {
	panic("TODO: implement SendContext")
}

// TrySend sends a copy of msg to the process named to if it can do so
// without waiting, and returns ErrWouldBlock if it cannot: the link is
// full, or, on a rendezvous network, the peer is not waiting in
// Receive(p.Name()) or ReceiveAny. It returns the errors of Send for
// unknown and exited processes.
func (p *Process) TrySend(to string, msg []byte) error {
	panic("TODO: implement TrySend")
}

// Receive waits for the next message from the process named from, and
// returns it: messages from other processes stay where they are. The
// message is the receiver's own copy. Receive returns ErrUnknownPeer if no
// process of that name joined the network, ErrPeerExited once the peer has
// exited and every message it sent before has been received, and
// ErrExited if p has exited.
func (p *Process) Receive(from string) ([]byte, error) {
	panic("TODO: implement Receive")
}

// ReceiveContext is Receive, but gives up when ctx is done before a
// message is there: it then returns ctx.Err() and takes nothing.
func (p *Process) ReceiveContext(ctx context.Context, from string) ([]byte, error) {
	panic("TODO: implement ReceiveContext")
}

// TryReceive returns the next message from the process named from if
// there is one, and ErrWouldBlock if there is none; on a rendezvous
// network there is one only when the peer is waiting in Send. It returns
// the errors of Receive for unknown and exited processes.
func (p *Process) TryReceive(from string) ([]byte, error) {
	panic("TODO: implement TryReceive")
}

// ReceiveAny waits for a message from any process, and returns the name of
// its sender and the message. Messages from one sender arrive in the order
// they were sent; nothing is promised about the order of messages from
// different senders. It returns ErrExited if p has exited; exited peers do
// not end it, since another process may still send.
func (p *Process) ReceiveAny() (from string, msg []byte, err error) {
	panic("TODO: implement ReceiveAny")
}

// ReceiveAnyContext is ReceiveAny, but gives up when ctx is done before a
// message is there: it then returns ctx.Err() and takes nothing.
func (p *Process) ReceiveAnyContext(ctx context.Context) (from string, msg []byte, err error) {
	panic("TODO: implement ReceiveAnyContext")
}

// TryReceiveAny returns a message from any process, and its sender, if
// there is one, and ErrWouldBlock if there is none.
func (p *Process) TryReceiveAny() (from string, msg []byte, err error) {
	panic("TODO: implement TryReceiveAny")
}

// Exit takes p out of the network and wakes every call that waits on it.
// From then on p's own calls fail with ErrExited; its peers' Sends to it,
// and their Receives from it once they have received what p sent before,
// fail with ErrPeerExited. Messages sent to p that it has not received are
// dropped. Exiting twice does nothing.
func (p *Process) Exit() {
	panic("TODO: implement Exit")
}
