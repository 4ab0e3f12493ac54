// Mutant shutdown-returns-early: the reference solution with one mistake.
//
// Shutdown closes the listeners and stops the readers, then returns nil at
// once, without waiting for the writers to send what is queued and for the
// goroutines to end: they finish after Shutdown has returned.

package socket

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// DefaultQueueLen is the length of a client's outgoing queue when
// Server.QueueLen is zero.
const DefaultQueueLen = 64

// ErrServerClosed is what Serve returns once Shutdown or Close has been
// called.
var ErrServerClosed = errors.New("socket: server closed")

// A Server is a broadcast server: every frame that one client sends is
// delivered to every other connected client, in the order the server read
// the frames. The sender does not get its own frame back.
//
// Each client has an outgoing queue of QueueLen frames. A frame for a
// client whose queue is full is not waited for: that client is dropped
// (its connection is closed), so one client that does not read cannot
// hold up the others.
//
// The zero value is ready to use. Set QueueLen and MaxFrame, if at all,
// before the first call to Serve.
type Server struct {
	// QueueLen is how many frames may wait to be sent to one client;
	// DefaultQueueLen when zero.
	QueueLen int
	// MaxFrame is the largest payload accepted from a client; the
	// package's MaxFrame when zero. A client that announces a larger
	// frame is disconnected.
	MaxFrame int

	mu        sync.Mutex
	closed    bool // Shutdown or Close has been called
	listeners map[net.Listener]struct{}
	clients   map[*client]struct{}  // the clients that receive broadcasts
	conns     map[net.Conn]struct{} // every connection not yet closed
	// wg counts every goroutine of the server: the Serve loops, and a
	// receiver and a sender per connection.
	wg sync.WaitGroup
}

// A client is one connection and its outgoing queue. The queue is closed,
// under Server.mu, when the client leaves the set of clients; nothing is
// sent on it after that.
type client struct {
	conn  net.Conn
	queue chan []byte
}

// aLongTimeAgo is a deadline in the past: setting it makes a blocked Read
// return at once.
var aLongTimeAgo = time.Unix(1, 0)

func (s *Server) initLocked() {
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.clients = map[*client]struct{}{}
		s.conns = map[net.Conn]struct{}{}
	}
}

func (s *Server) queueLen() int {
	if s.QueueLen > 0 {
		return s.QueueLen
	}
	return DefaultQueueLen
}

func (s *Server) maxFrame() int {
	if s.MaxFrame > 0 {
		return s.MaxFrame
	}
	return MaxFrame
}

// Serve accepts connections on l and serves each one until it ends or the
// server is shut down. It always returns a non-nil error and closes l:
// ErrServerClosed after Shutdown or Close, otherwise the error from
// l.Accept. Serve may be called for several listeners at once (a TCP and
// a Unix socket, say); their clients all hear each other.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.initLocked()
	s.listeners[l] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	for {
		conn, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.listeners, l)
			s.mu.Unlock()
			l.Close()
			if closed {
				return ErrServerClosed
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			// Accepted just as the server was closing: the next Accept
			// fails, since the listener is closed by now.
			s.mu.Unlock()
			conn.Close()
			continue
		}
		c := &client{conn: conn, queue: make(chan []byte, s.queueLen())}
		s.clients[c] = struct{}{}
		s.conns[conn] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		go s.receive(c)
		go s.send(c)
	}
}

// receive reads c's frames and broadcasts them, until the connection
// fails, the client sends a frame that is too large, or Shutdown stops it.
func (s *Server) receive(c *client) {
	defer s.wg.Done()
	max := s.maxFrame()
	for {
		frame, err := ReadFrame(c.conn, max)
		if err != nil {
			// The client leaves; its sender sends what is already queued
			// and closes the connection.
			s.mu.Lock()
			s.leaveLocked(c)
			s.mu.Unlock()
			return
		}
		s.publish(c, frame)
	}
}

// publish queues frame for every client but its sender. It never waits:
// a client whose queue is full is dropped.
func (s *Server) publish(from *client, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[from]; !ok {
		return // dropped meanwhile: its frames no longer count
	}
	for c := range s.clients {
		if c == from {
			continue
		}
		select {
		case c.queue <- frame: // shared, never modified: no copy needed
		default:
			s.leaveLocked(c)
			c.conn.Close()
		}
	}
}

// leaveLocked takes c out of the set of clients and closes its queue. It
// does nothing if c has already left.
func (s *Server) leaveLocked(c *client) {
	if _, ok := s.clients[c]; !ok {
		return
	}
	delete(s.clients, c)
	close(c.queue)
}

// send writes c's queued frames to its connection until the queue is
// closed and empty, then closes the connection.
func (s *Server) send(c *client) {
	defer s.wg.Done()
	defer func() {
		c.conn.Close()
		s.mu.Lock()
		delete(s.conns, c.conn)
		s.mu.Unlock()
	}()
	for frame := range c.queue {
		if err := WriteFrame(c.conn, frame); err != nil {
			s.mu.Lock()
			s.leaveLocked(c)
			s.mu.Unlock()
			return
		}
	}
}

// Clients reports how many clients are connected: the clients that the
// next frame will be delivered to (its sender aside).
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Shutdown stops the server gracefully: it closes the listeners, stops
// reading from the clients (a frame not yet read in full is discarded),
// sends every client the frames already queued for it, closes the
// connections, and returns once every goroutine of the server has ended.
// If ctx is done first, Shutdown closes everything at once as Close does,
// waits for the goroutines all the same, and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.closeListenersLocked()
	for c := range s.clients {
		// The receiver's next read fails at once; it then makes the
		// client leave, and the sender flushes the queue and closes.
		c.conn.SetReadDeadline(aLongTimeAgo)
	}
	s.mu.Unlock()

	// BUG: no waiting: the writers are still sending what was queued, and
	// the goroutines still running, when Shutdown returns.
	if err := ctx.Err(); err != nil {
		s.Close()
		return err
	}
	return nil
}

// Close stops the server at once: it closes the listeners and every
// connection, drops whatever is queued, and returns once every goroutine
// of the server has ended. The error, if any, is from closing a listener.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.closeListenersLocked()
	for c := range s.clients {
		s.leaveLocked(c)
	}
	for conn := range s.conns {
		conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) closeListenersLocked() error {
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
		delete(s.listeners, l)
	}
	return errors.Join(errs...)
}
