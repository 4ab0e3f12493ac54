// Mutant client-close-no-wait: the reference solution with one mistake.
//
// Close closes the connection and returns at once, without waiting for the
// reader goroutine: the reader ends soon after, since its connection is
// closed, but not before Close returns.

package rpc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
)

// MaxAttempts is how many times a Client sends one call, the first time
// included, before it gives up on a connection that keeps breaking. The
// tests rely on this value: do not change it.
const MaxAttempts = 3

// Errors of a Client. Compare with errors.Is.
var (
	// ErrShutdown means that the Client has been closed: by Close, before
	// or during the call.
	ErrShutdown = errors.New("rpc: client is shut down")
	// ErrConnLost means that the connection to the server broke (or could
	// not be made) and MaxAttempts attempts did not get a reply. The error
	// Call returns wraps the last cause too.
	ErrConnLost = errors.New("rpc: connection to the server lost")
	// ErrUnknownMethod means that the server has no handler for the method
	// called.
	ErrUnknownMethod = errors.New("rpc: unknown method")
)

// A RemoteError is the error a handler returned, as the caller gets it
// back: only its text crosses the wire.
type RemoteError struct {
	// Msg is the text of the handler's error.
	Msg string
}

// Error returns the handler's error text, marked as remote.
func (e *RemoteError) Error() string { return "rpc: remote error: " + e.Msg }

// A Client calls methods on a server. Many goroutines may call at once: all
// their calls share one connection. Make a Client with [NewClient].
type Client struct {
	dial func() (net.Conn, error)
	id   uint64        // this client's ID, sent with every call
	last atomic.Uint64 // the last call ID handed out

	mu      sync.Mutex
	cur     *clientConn // the live connection, nil when there is none
	closed  bool
	readers sync.WaitGroup // one per connection ever made
}

// A clientConn is one connection of a Client, with the calls waiting for a
// reply on it.
type clientConn struct {
	c    *Client
	conn net.Conn
	wmu  sync.Mutex // one frame is written at a time

	mu      sync.Mutex
	pending map[uint64]chan outcome // nil once the connection has failed
}

// An outcome is what a waiting call gets: a reply, or the error that ended
// its connection.
type outcome struct {
	reply Reply
	err   error
}

// NewClient returns a Client that connects with dial. It does not dial
// yet: the first call does, and so does the first call after a connection
// broke. The Client picks a random 64-bit ID for itself.
func NewClient(dial func() (net.Conn, error)) *Client {
	return &Client{dial: dial, id: rand.Uint64()}
}

// Call calls method on the server with args and returns the result. It
// returns *RemoteError when the handler returned an error, an error
// wrapping ErrUnknownMethod when the server has no such method, ctx.Err()
// when ctx is done before the reply arrives, ErrShutdown when the Client is
// closed, an error wrapping ErrFrameTooLarge when the request does not fit
// in a frame, and an error wrapping ErrConnLost when the connection breaks
// and MaxAttempts attempts do not get a reply.
func (c *Client) Call(ctx context.Context, method string, args []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := Request{Client: c.id, ID: c.last.Add(1), Method: method, Args: args}
	frame, err := AppendRequest(nil, req)
	if err != nil {
		return nil, err
	}
	var cause error
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		cc, err := c.connection()
		if errors.Is(err, ErrShutdown) {
			return nil, err
		}
		if err != nil {
			cause = err
			continue
		}
		ch, err := cc.send(req.ID, frame)
		if err != nil {
			cause = err
			continue
		}
		select {
		case o := <-ch:
			if o.err != nil {
				if errors.Is(o.err, ErrShutdown) {
					return nil, o.err
				}
				cause = o.err
				continue // the same request, same ID, on a new connection
			}
			return result(method, o.reply)
		case <-ctx.Done():
			cc.forget(req.ID)
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("%w after %d attempts: %w", ErrConnLost, MaxAttempts, cause)
}

// result turns a reply into what Call returns.
func result(method string, r Reply) ([]byte, error) {
	switch r.Status {
	case StatusOK:
		return r.Payload, nil
	case StatusUnknownMethod:
		return nil, fmt.Errorf("%w %q", ErrUnknownMethod, method)
	default:
		return nil, &RemoteError{Msg: string(r.Payload)}
	}
}

// connection returns the live connection, dialling a new one when there is
// none.
func (c *Client) connection() (*clientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrShutdown
	}
	if c.cur != nil {
		return c.cur, nil
	}
	conn, err := c.dial()
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	cc := &clientConn{c: c, conn: conn, pending: map[uint64]chan outcome{}}
	c.cur = cc
	c.readers.Add(1)
	go cc.read()
	return cc, nil
}

// send registers a call and writes its frame. The returned channel gets
// the call's outcome. If the write fails, the connection is closed, and
// the reader hands the failure to every call waiting on it, this one too.
func (cc *clientConn) send(id uint64, frame []byte) (<-chan outcome, error) {
	ch := make(chan outcome, 1) // the reader never waits for the caller
	cc.mu.Lock()
	if cc.pending == nil {
		cc.mu.Unlock()
		return nil, errors.New("connection already failed")
	}
	cc.pending[id] = ch
	cc.mu.Unlock()

	cc.wmu.Lock()
	_, err := cc.conn.Write(frame)
	cc.wmu.Unlock()
	if err != nil {
		cc.conn.Close()
	}
	return ch, nil
}

// forget drops a call that no longer waits; its reply, if one comes, is
// ignored.
func (cc *clientConn) forget(id uint64) {
	cc.mu.Lock()
	delete(cc.pending, id)
	cc.mu.Unlock()
}

// read hands every reply to the call with its ID, until the connection
// fails; then it wakes every call still waiting, with the error.
func (cc *clientConn) read() {
	defer cc.c.readers.Done()
	for {
		r, err := ReadReply(cc.conn)
		if err != nil {
			cc.fail(err)
			return
		}
		cc.mu.Lock()
		ch, ok := cc.pending[r.ID]
		delete(cc.pending, r.ID)
		cc.mu.Unlock()
		if ok {
			ch <- outcome{reply: r}
		}
		// A reply for a call nobody waits for (its context ended, or the
		// server is confused) is dropped.
	}
}

// fail closes the connection, makes the Client dial a new one for the next
// call, and wakes every call waiting on this one.
func (cc *clientConn) fail(err error) {
	cc.conn.Close()
	c := cc.c
	c.mu.Lock()
	if c.cur == cc {
		c.cur = nil
	}
	if c.closed {
		err = ErrShutdown
	}
	c.mu.Unlock()

	cc.mu.Lock()
	pending := cc.pending
	cc.pending = nil
	cc.mu.Unlock()
	for _, ch := range pending {
		ch <- outcome{err: err}
	}
}

// Close closes the Client and its connection. Calls waiting for a reply
// return ErrShutdown, and so does every later call. Close returns once
// everything the Client started has stopped. Closing a closed Client does
// nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cc := c.cur
	c.cur = nil
	c.mu.Unlock()
	if cc != nil {
		cc.conn.Close()
	}
	// BUG: no c.readers.Wait(): the reader may still run when Close returns.
	return nil
}
