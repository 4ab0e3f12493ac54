package rpc_test

// Helpers for the hidden tests. They build on the helpers at the bottom of
// the visible tests (rpc_test.go), which the grader always compiles with
// these.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// waitFrame waits for a frame to pass through ft that decode (the tests'
// decodeRequest or decodeReply) reads and that satisfies ok, and returns
// what decode made of it. what describes it for the failure message.
func waitFrame[F any](t *testing.T, ft *frameTap, what string, decode func(io.Reader) (F, error), ok func(F) bool) F {
	t.Helper()
	timeout := timerC(t)
	for {
		select {
		case f := <-ft.frames:
			r, err := decode(bytes.NewReader(f))
			if err == nil && ok(r) {
				return r
			}
		case <-timeout:
			require.FailNow(t, fmt.Sprintf("%s did not happen within %v", what, testkit.Patience))
			var none F
			return none
		}
	}
}

// returned checks that the call, which has finished, returned want and no
// error; why says why it must.
func (pc *pendingCall) returned(t *testing.T, want, why string) {
	t.Helper()
	msg := fmt.Sprintf("%s = %q, %s, want %q, nil (%s)", pc.label, pc.result, errText(pc.err), want, why)
	if assert.NoError(t, pc.err, msg) {
		assert.Equal(t, want, string(pc.result), msg)
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
			require.FailNow(t, fmt.Sprintf("the call hold(%q) did not reach its handler within %v", name, testkit.Patience))
		}
	}
}

// listenTCP listens on a free loopback port and closes the listener when
// the test ends.
func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, `net.Listen("tcp", "127.0.0.1:0") (the tests need loopback TCP)`)
	t.Cleanup(func() { l.Close() })
	return l
}

// serving is srv.Serve(l) running on a goroutine of its own.
type serving struct {
	*testkit.Op
	err error // what Serve returned, once the Op has finished
}

// serve runs srv.Serve(l) on a goroutine of its own.
func serve(srv *rpc.Server, l net.Listener) *serving {
	s := &serving{}
	s.Op = testkit.Go(func() { s.err = srv.Serve(l) })
	return s
}

// returnsShutdown checks that Serve returns ErrShutdown, within testkit.Patience,
// once srv.Close() has been called.
func (s *serving) returnsShutdown(t *testing.T) {
	t.Helper()
	s.Finishes(t, testkit.Patience, "srv.Serve(l), after srv.Close(),")
	testkit.ErrorIs(t, s.err, rpc.ErrShutdown, "srv.Serve(l) = %s after srv.Close(), want ErrShutdown", errText(s.err))
}
