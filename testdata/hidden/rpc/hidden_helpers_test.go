package rpc_test

// Helpers for the hidden tests. They build on the helpers at the bottom of
// the visible tests (rpc_test.go), which the grader always compiles with
// these.

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// A frameTap watches a byte stream go by and reports every whole frame in
// it (length prefix included), however the stream was cut into reads or
// writes.
type frameTap struct {
	mu     sync.Mutex
	buf    []byte
	frames chan []byte
}

func newFrameTap() *frameTap { return &frameTap{frames: make(chan []byte, 256)} }

func (ft *frameTap) feed(b []byte) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.buf = append(ft.buf, b...)
	for len(ft.buf) >= 4 {
		n := int(binary.BigEndian.Uint32(ft.buf))
		if n > 1<<20 || len(ft.buf) < 4+n {
			return
		}
		frame := append([]byte(nil), ft.buf[:4+n]...)
		ft.buf = ft.buf[4+n:]
		select {
		case ft.frames <- frame:
		default: // nobody is watching that closely
		}
	}
}

// tapConn is a connection whose reads and writes are watched.
type tapConn struct {
	net.Conn
	reads, writes *frameTap
}

func newTapConn(c net.Conn) *tapConn {
	return &tapConn{Conn: c, reads: newFrameTap(), writes: newFrameTap()}
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.reads.feed(b[:n])
	return n, err
}

func (c *tapConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.writes.feed(b[:n])
	return n, err
}

// waitRequest waits for a request frame that satisfies ok to pass through
// ft, and returns it. what describes it for the failure message.
func waitRequest(t *testing.T, ft *frameTap, what string, ok func(rpc.Request) bool) rpc.Request {
	t.Helper()
	timeout := timerC(t)
	for {
		select {
		case f := <-ft.frames:
			r, err := decodeRequest(bytes.NewReader(f))
			if err == nil && ok(r) {
				return r
			}
		case <-timeout:
			t.Fatalf("%s did not happen within %v", what, testkit.Patience)
			return rpc.Request{}
		}
	}
}

// waitReply is waitRequest for reply frames.
func waitReply(t *testing.T, ft *frameTap, what string, ok func(rpc.Reply) bool) rpc.Reply {
	t.Helper()
	timeout := timerC(t)
	for {
		select {
		case f := <-ft.frames:
			r, err := decodeReply(bytes.NewReader(f))
			if err == nil && ok(r) {
				return r
			}
		case <-timeout:
			t.Fatalf("%s did not happen within %v", what, testkit.Patience)
			return rpc.Reply{}
		}
	}
}

// dropOnReply is a server's end of a connection that breaks when the server
// writes its first reply: the reply never reaches the client. dropped is
// closed then.
type dropOnReply struct {
	net.Conn
	once    sync.Once
	dropped chan struct{}
}

func newDropOnReply(c net.Conn) *dropOnReply {
	return &dropOnReply{Conn: c, dropped: make(chan struct{})}
}

func (d *dropOnReply) Write([]byte) (int, error) {
	d.once.Do(func() {
		close(d.dropped) // first, so that the test knows by the time the client does
		d.Conn.Close()
	})
	return 0, io.ErrClosedPipe
}

// holds is a handler whose calls each wait until the test releases them by
// name (their arguments), or the server closes.
type holds struct {
	arrived chan string
	mu      sync.Mutex
	gates   map[string]chan struct{}
}

func newHolds() *holds {
	return &holds{arrived: make(chan string, 100), gates: map[string]chan struct{}{}}
}

func (h *holds) gate(name string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.gates[name]
	if g == nil {
		g = make(chan struct{})
		h.gates[name] = g
	}
	return g
}

func (h *holds) release(name string) { close(h.gate(name)) }

func (h *holds) handler(ctx context.Context, args []byte) ([]byte, error) {
	name := string(args)
	h.arrived <- name
	select {
	case <-h.gate(name):
		return append([]byte(nil), args...), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// wait waits for the call named name to reach the handler.
func (h *holds) wait(t *testing.T, name string) {
	t.Helper()
	timeout := timerC(t)
	for {
		select {
		case got := <-h.arrived:
			if got == name {
				return
			}
		case <-timeout:
			t.Fatalf("the call hold(%q) did not reach its handler within %v", name, testkit.Patience)
		}
	}
}

// trackConn is a connection that remembers whether it was closed.
type trackConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *trackConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// trackListener is a listener that hands out trackConns and keeps them.
type trackListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*trackConn
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackConn{Conn: c}
	l.mu.Lock()
	l.conns = append(l.conns, tc)
	l.mu.Unlock()
	return tc, nil
}

func (l *trackListener) accepted() []*trackConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*trackConn(nil), l.conns...)
}

// listenTCP listens on a free loopback port and closes the listener when
// the test ends.
func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen(\"tcp\", \"127.0.0.1:0\") = %v (the tests need loopback TCP)", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// serve runs srv.Serve(l) on a goroutine of its own; the Op's error is
// what Serve returned.
func serve(srv *rpc.Server, l net.Listener) (*testkit.Op, *error) {
	err := new(error)
	return testkit.Go(func() { *err = srv.Serve(l) }), err
}
