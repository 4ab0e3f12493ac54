package socket

import (
	"context"
	"errors"
	"net"
)

// DefaultQueueLen is the length of a client's outgoing queue when
// Server.QueueLen is zero.
const DefaultQueueLen = 64

// ErrServerClosed is what Serve returns once Shutdown or Close has been
// called.
var ErrServerClosed = errors.New("socket: server closed")

// A Server is a broadcast server: every frame that one client sends is
// delivered to every other connected client, each sender's frames in the
// order that sender sent them (one order across all senders is allowed,
// not required). The sender does not get its own frame back.
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

	// TODO: add the server's state: a mutex, the listeners, the connected
	// clients with their queues, a sync.WaitGroup for the goroutines, ...
}

// Serve accepts connections on l and serves each one until it ends or the
// server is shut down. It always returns a non-nil error and closes l:
// ErrServerClosed after Shutdown or Close, otherwise the error from
// l.Accept. Serve may be called for several listeners at once (a TCP and
// a Unix socket, say); their clients all hear each other.
func (s *Server) Serve(l net.Listener) error {
	panic("TODO: implement Serve")
}

// Clients reports how many clients are connected: the clients that the
// next frame will be delivered to (its sender aside).
func (s *Server) Clients() int {
	panic("TODO: implement Clients")
}

// Shutdown stops the server gracefully: it closes the listeners, stops
// reading from the clients (a frame not yet read in full is discarded),
// sends every client the frames already queued for it, closes the
// connections, and returns once every goroutine of the server has ended.
// If ctx is done first, Shutdown closes everything at once as Close does,
// waits for the goroutines all the same, and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	panic("TODO: implement Shutdown")
}

// Close stops the server at once: it closes the listeners and every
// connection, drops whatever is queued, and returns once every goroutine
// of the server has ended. The error, if any, is from closing a listener.
func (s *Server) Close() error {
	panic("TODO: implement Close")
}
