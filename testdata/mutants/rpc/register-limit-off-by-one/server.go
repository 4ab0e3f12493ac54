// Mutant register-limit-off-by-one: the reference solution with one
// mistake.
//
// Register refuses a method name of exactly MaxMethod bytes, which the
// wire format carries (its length fits in the u16): the limit is
// inclusive, and the comparison is off by one.

package rpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
)

// RememberedCalls is how many completed calls a Server remembers, to answer
// a retried call without running its handler again. The oldest completed
// call is forgotten first. The tests rely on this value: do not change it.
const RememberedCalls = 256

// A Handler runs one call: it gets the call's encoded arguments and returns
// its encoded result, or an error whose text goes back to the caller. ctx
// is cancelled when the Server is closed.
type Handler func(ctx context.Context, args []byte) ([]byte, error)

// A Server runs the handlers registered with it for the clients connected
// to it. Make one with [NewServer].
type Server struct {
	mu        sync.Mutex
	handlers  map[string]Handler
	closed    bool
	listeners map[net.Listener]bool
	conns     map[net.Conn]bool

	// calls holds the calls that are running or that have completed
	// recently, by client ID and call ID. completed lists the keys of
	// the completed ones in the order they completed, as a ring, so that
	// the oldest can be forgotten.
	calls     map[callKey]*call
	completed [RememberedCalls]callKey
	ncomplete int

	ctx    context.Context // handlers' context, cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // connection loops and calls in progress
}

// A callKey names a call among all the calls of all clients.
type callKey struct{ client, id uint64 }

// A call is a call the server has started. done is closed once reply is
// set.
type call struct {
	done  chan struct{}
	reply Reply
}

// NewServer returns a Server with no handlers.
func NewServer() *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		handlers:  map[string]Handler{},
		listeners: map[net.Listener]bool{},
		conns:     map[net.Conn]bool{},
		calls:     map[callKey]*call{},
		ctx:       ctx,
		cancel:    cancel,
	}
}

// Register makes h the handler of method. It may be called at any time,
// also while the Server serves. It panics if method is empty, longer than
// MaxMethod bytes, or registered already, or if h is nil.
func (s *Server) Register(method string, h Handler) {
	// BUG: >= refuses a name of exactly MaxMethod bytes.
	if method == "" || len(method) >= MaxMethod || h == nil {
		panic(fmt.Sprintf("rpc: Register(%q, h): the name must have 1 to %d bytes and h must not be nil", method, MaxMethod))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handlers[method] != nil {
		panic(fmt.Sprintf("rpc: Register(%q, h): registered twice", method))
	}
	s.handlers[method] = h
}

// Serve accepts connections on l and serves each on a goroutine of its own,
// until Close. It returns ErrShutdown once the Server is closed, and the
// listener's error if Accept fails otherwise. Close closes l.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrShutdown
	}
	s.listeners[l] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrShutdown
			}
			return err
		}
		if !s.goCall(func() { s.ServeConn(conn) }) {
			conn.Close()
			return ErrShutdown
		}
	}
}

// ServeConn serves one connection until the client closes it (it then
// returns nil), a frame from the client is malformed or too large (it
// returns the error), or the Server is closed (it returns ErrShutdown). It
// closes conn before it returns. Each request runs on a goroutine of its
// own, so a slow call does not hold up the others; calls still running
// when ServeConn returns complete, and their results are remembered.
func (s *Server) ServeConn(conn net.Conn) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return ErrShutdown
	}
	s.conns[conn] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		s.wg.Done()
	}()

	sc := &serverConn{conn: conn}
	for {
		req, err := ReadRequest(conn)
		if err != nil {
			switch {
			case s.isClosed():
				return ErrShutdown
			case err == io.EOF:
				return nil
			}
			return err
		}
		if !s.goCall(func() { s.handle(sc, req) }) {
			return ErrShutdown
		}
	}
}

// goCall runs fn on a new goroutine that Close waits for, unless the
// Server is closed.
func (s *Server) goCall(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// A serverConn is a connection being served; replies are written to it one
// at a time.
type serverConn struct {
	conn net.Conn
	wmu  sync.Mutex
}

// send writes a reply. A failure is not an error of the call: the client
// is gone, and will get the remembered reply when it retries.
func (sc *serverConn) send(r Reply) {
	frame, err := AppendReply(nil, r)
	if err != nil {
		frame, _ = AppendReply(nil, Reply{ID: r.ID, Status: StatusError, Payload: []byte(err.Error())})
	}
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	sc.conn.Write(frame)
}

// handle runs one request, or answers it from memory when it is a retry of
// a call the server has started already.
func (s *Server) handle(sc *serverConn, req Request) {
	key := callKey{req.Client, req.ID}
	s.mu.Lock()
	h := s.handlers[req.Method]
	if h == nil {
		s.mu.Unlock()
		sc.send(Reply{ID: req.ID, Status: StatusUnknownMethod, Payload: []byte(req.Method)})
		return
	}
	if c, ok := s.calls[key]; ok {
		// A retry: the first attempt is running or has completed. Never
		// run the handler twice; wait for the first attempt's reply.
		s.mu.Unlock()
		select {
		case <-c.done:
			sc.send(c.reply)
		case <-s.ctx.Done():
		}
		return
	}
	c := &call{done: make(chan struct{})}
	s.calls[key] = c // before the handler runs, so a retry finds it
	s.mu.Unlock()

	c.reply = Reply{ID: req.ID, Status: StatusOK}
	result, err := h(s.ctx, req.Args)
	if err != nil {
		c.reply.Status, c.reply.Payload = StatusError, []byte(err.Error())
	} else if n := replyFixed + len(result); n > MaxFrame {
		c.reply.Status = StatusError
		c.reply.Payload = []byte(fmt.Sprintf("result of %d bytes does not fit in a reply frame (limit %d)", len(result), MaxFrame))
	} else {
		c.reply.Payload = result
	}
	close(c.done)
	s.remember(key)
	sc.send(c.reply)
}

// remember records that the call key has completed, and forgets the oldest
// completed call once more than RememberedCalls have.
func (s *Server) remember(key callKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := s.ncomplete % RememberedCalls
	if s.ncomplete >= RememberedCalls {
		delete(s.calls, s.completed[slot])
	}
	s.completed[slot] = key
	s.ncomplete++
}

// Close stops the Server: it closes every listener and connection, cancels
// the handlers' context, and waits until every call in progress and every
// goroutine the Server started has returned. Serve and ServeConn then
// return ErrShutdown. Closing a closed Server does nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for conn := range s.conns {
		conn.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}
