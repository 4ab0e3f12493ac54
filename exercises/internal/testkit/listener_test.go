package testkit

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, `net.Listen("tcp", "127.0.0.1:0")`)
	t.Cleanup(func() { l.Close() })
	return l
}

// A LateListener holds the connection it accepted until it is closed,
// then hands it over; the inner listener is closed by then.
func TestLateListener(t *testing.T) {
	NoGoroutineLeaks(t)
	l := NewLateListener(listenLoopback(t))
	client, err := net.DialTimeout("tcp", l.Addr().String(), Patience)
	require.NoError(t, err, "net.Dial(the late listener)")
	defer client.Close()

	var (
		conn net.Conn
		aerr error
	)
	accept := Go(func() { conn, aerr = l.Accept() })
	Within(t, Patience, "l.Accept() getting the client's connection in hand", func() { <-l.Holding() })
	accept.StaysBlocked(t, Grace, "l.Accept() before l.Close()")
	require.NoError(t, l.Close(), "l.Close()")
	accept.Finishes(t, Patience, "l.Accept() after l.Close()")
	require.NoError(t, aerr, "l.Accept() after l.Close(), with a connection in hand")
	require.NotNil(t, conn, "l.Accept() after l.Close(), with a connection in hand")
	assert.Equal(t, client.LocalAddr().String(), conn.RemoteAddr().String(), "the address of the connection l.Accept() returned")
	conn.Close()

	Within(t, Patience, "l.Accept() on a closed listener", func() { _, aerr = l.Accept() })
	assert.Error(t, aerr, "l.Accept() on a closed listener")
	assert.NotPanics(t, func() { l.Close() }, "a second l.Close()")
}

func TestCloseWatcher(t *testing.T) {
	l := &CloseWatcher{Listener: listenLoopback(t)}
	assert.False(t, l.Closed(), "l.Closed() before l.Close()")
	require.NoError(t, l.Close(), "l.Close()")
	assert.True(t, l.Closed(), "l.Closed() after l.Close()")
	var err error
	Within(t, Patience, "l.Accept() after l.Close()", func() { _, err = l.Accept() })
	assert.Error(t, err, "l.Accept() after l.Close(): the inner listener must be closed")
}
