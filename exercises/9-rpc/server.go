package rpc

import (
	"context"
	"net"
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
	// TODO: add what a server needs: the handlers by name, the listeners
	// and connections it serves, the calls it remembers, ...
}

// NewServer returns a Server with no handlers.
func NewServer() *Server {
	panic("TODO: implement NewServer")
}

// Register makes h the handler of method. It may be called at any time,
// also while the Server serves. It panics if method is empty, longer than
// MaxMethod bytes, or registered already, or if h is nil.
func (s *Server) Register(method string, h Handler) {
	panic("TODO: implement Register")
}

// Serve accepts connections on l and serves each on a goroutine of its own,
// until Close. It returns ErrShutdown once the Server is closed, and the
// listener's error if Accept fails otherwise. Close closes l.
func (s *Server) Serve(l net.Listener) error {
	panic("TODO: implement Serve")
}

// ServeConn serves one connection until the client closes it (it then
// returns nil), a frame from the client is malformed or too large (it
// returns the error), or the Server is closed (it returns ErrShutdown). It
// closes conn before it returns. Each request runs on a goroutine of its
// own, so a slow call does not hold up the others; calls still running
// when ServeConn returns complete, and their results are remembered.
func (s *Server) ServeConn(conn net.Conn) error {
	panic("TODO: implement ServeConn")
}

// Close stops the Server: it closes every listener and connection, cancels
// the handlers' context, and waits until every call in progress and every
// goroutine the Server started has returned. Serve and ServeConn then
// return ErrShutdown. Closing a closed Server does nothing.
func (s *Server) Close() error {
	panic("TODO: implement Close")
}
