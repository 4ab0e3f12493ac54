package testkit

// Listeners that the socket and rpc tests wrap around a real one, to put a
// server in the awkward spots that a real network produces only by chance.

import (
	"net"
	"sync"
	"sync/atomic"
)

// A LateListener hands the code under test the connection its inner
// listener accepted only once the LateListener is being closed: a client
// that connects just as the server closes. A server must close such a
// connection (nobody will serve it), release its locks and let Serve
// return.
//
// Wait for [LateListener.Holding] before closing the server, so that
// Accept has the connection in hand when Close comes.
type LateListener struct {
	net.Listener
	holding chan struct{} // a value each time Accept has a connection in hand
	closing chan struct{} // closed by the first Close
	once    sync.Once
}

// NewLateListener wraps l; the tests usually pass a listener that keeps
// track of the connections it accepted, to check afterwards that they
// were closed.
func NewLateListener(l net.Listener) *LateListener {
	return &LateListener{Listener: l, holding: make(chan struct{}, 1), closing: make(chan struct{})}
}

// Accept accepts a connection from the inner listener, announces it on
// Holding, and returns it once Close has been called.
func (l *LateListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.holding <- struct{}{}
	<-l.closing
	return c, nil
}

// Close lets a held Accept return its connection, and closes the inner
// listener.
func (l *LateListener) Close() error {
	l.once.Do(func() { close(l.closing) })
	return l.Listener.Close()
}

// Holding returns a channel that gets a value once Accept has a
// connection in hand, which it will return only after Close.
func (l *LateListener) Holding() <-chan struct{} { return l.holding }

// A CloseWatcher is a listener that records whether it was closed: Serve
// must close the listener it was given on every return, also when it
// refuses to serve at all.
type CloseWatcher struct {
	net.Listener
	closeMark
}

// Close records the call and closes the inner listener.
func (l *CloseWatcher) Close() error {
	l.closed.Store(true)
	return l.Listener.Close()
}

// closeMark is what CloseWatcher and TrackedConn keep of their Close
// calls: whether there was one.
type closeMark struct{ closed atomic.Bool }

// Closed reports whether Close has been called.
func (m *closeMark) Closed() bool { return m.closed.Load() }

// A TrackedConn is a connection that records whether it was closed: the
// code under test must close every connection it is done with.
type TrackedConn struct {
	net.Conn
	closeMark
}

// Track wraps c.
func Track(c net.Conn) *TrackedConn { return &TrackedConn{Conn: c} }

// Close records the call and closes the inner connection.
func (c *TrackedConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// A TrackingListener hands out the connections its inner listener accepts
// as TrackedConns, and keeps them, to check afterwards that the server
// closed each one.
type TrackingListener struct {
	net.Listener
	// Setup, when set, is applied to every accepted connection before
	// the server gets it.
	Setup func(net.Conn)

	mu    sync.Mutex
	conns []*TrackedConn
}

// NewTrackingListener wraps l.
func NewTrackingListener(l net.Listener) *TrackingListener { return &TrackingListener{Listener: l} }

// Accept accepts a connection from the inner listener and keeps it.
func (l *TrackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.Setup != nil {
		l.Setup(c)
	}
	tc := Track(c)
	l.mu.Lock()
	l.conns = append(l.conns, tc)
	l.mu.Unlock()
	return tc, nil
}

// Accepted returns the connections accepted so far, oldest first.
func (l *TrackingListener) Accepted() []*TrackedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*TrackedConn(nil), l.conns...)
}

// Open returns how many of the accepted connections are not closed, and
// how many were accepted in all.
func (l *TrackingListener) Open() (open, accepted int) {
	conns := l.Accepted()
	for _, c := range conns {
		if !c.Closed() {
			open++
		}
	}
	return open, len(conns)
}
