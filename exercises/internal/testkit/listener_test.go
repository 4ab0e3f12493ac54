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

// A TrackingListener keeps what it accepted, in order, after Setup, and
// counts the connections not closed yet.
func TestTrackingListener(t *testing.T) {
	l := NewTrackingListener(listenLoopback(t))
	t.Cleanup(func() {
		for _, c := range l.Accepted() {
			c.Close()
		}
	})
	var setups int
	l.Setup = func(net.Conn) { setups++ }
	var clients []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", l.Addr().String(), Patience)
		require.NoError(t, err, "net.Dial(the tracking listener)")
		defer c.Close()
		var conn net.Conn
		Within(t, Patience, "l.Accept() with a client dialled", func() { conn, err = l.Accept() })
		require.NoError(t, err, "l.Accept()")
		assert.Equal(t, c.LocalAddr().String(), conn.RemoteAddr().String(), "connection %d's address", i+1)
		clients = append(clients, c)
	}
	assert.Equal(t, 2, setups, "Setup calls after 2 Accepts")
	got := l.Accepted()
	require.Len(t, got, 2, "l.Accepted()")
	assert.Equal(t, clients[0].LocalAddr().String(), got[0].RemoteAddr().String(), "l.Accepted()[0] is the first connection")
	open, accepted := l.Open()
	assert.Equal(t, [2]int{2, 2}, [2]int{open, accepted}, "l.Open() before any Close")
	require.NoError(t, got[1].Close(), "closing the second connection")
	assert.True(t, got[1].Closed(), "Closed() after Close()")
	assert.False(t, got[0].Closed(), "Closed() of the other connection")
	open, accepted = l.Open()
	assert.Equal(t, [2]int{1, 2}, [2]int{open, accepted}, "l.Open() after one Close")
}
