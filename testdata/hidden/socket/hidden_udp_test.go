package socket

// Hidden tests of part 3, the UDP client. They cover these entries of the
// bug catalogue:
//
//   - udp-never-gives-up: TestCallGivesUp drops every datagram and checks
//     that Call stops after Attempts tries, and as soon as its context is
//     cancelled or past its deadline.
//   - udp-stale-reply: TestCallIgnoresStaleReplies sends the client replies
//     to an earlier call before the right one.
//
// (udp-no-retry is caught by the visible TestCallRetriesAfterLoss.)
//
// In these tests the test goroutine itself plays the server, one datagram
// at a time, so that it decides exactly what the client gets and when.

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A datagram as the test's server received it.
type datagram struct {
	id      uint32
	payload string
	from    *net.UDPAddr
	at      time.Time
}

// nextDatagram reads the next request on srv, waiting at most wait. ok is
// false if none came.
func nextDatagram(t *testing.T, srv *net.UDPConn, wait time.Duration) (d datagram, ok bool) {
	t.Helper()
	buf := make([]byte, 64<<10)
	srv.SetReadDeadline(time.Now().Add(wait))
	n, from, err := srv.ReadFromUDP(buf)
	if isTimeout(err) {
		return d, false
	}
	require.NoError(t, err, "the test's server: reading a request")
	require.GreaterOrEqual(t, n, 4, "the test's server received a datagram of %d bytes [% x], want a 4-byte request ID and the request", n, buf[:n])
	return datagram{id: binary.BigEndian.Uint32(buf), payload: string(buf[4:n]), from: from, at: time.Now()}, true
}

// reply sends the datagram [id][payload] to addr.
func reply(t *testing.T, srv *net.UDPConn, addr *net.UDPAddr, id uint32, payload string) {
	t.Helper()
	msg := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(msg, id)
	copy(msg[4:], payload)
	_, err := srv.WriteToUDP(msg, addr)
	require.NoError(t, err, "the test's server: sending a reply")
}

func TestCallGivesUp(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	srv := listenUDP(t)
	addr := srv.LocalAddr()
	const timeout, attempts = 150 * time.Millisecond, 3

	// Every datagram is lost: Call sends the request 3 times, each after
	// the previous attempt timed out, then gives up.
	cl := &Client{Conn: listenUDP(t), Timeout: timeout, Attempts: attempts}
	var (
		err     error
		elapsed time.Duration
	)
	start := time.Now()
	op := testkit.Go(func() {
		_, err = cl.Call(context.Background(), addr, []byte("anyone?"))
		elapsed = time.Since(start)
	})
	var got []datagram
	for len(got) < attempts {
		d, ok := nextDatagram(t, srv, testkit.Patience)
		require.True(t, ok, "the server got %d datagram(s) from cl.Call(ctx, addr, \"anyone?\") in %v, want %d: with no reply, Call must send the request again after each Timeout (%v), %d times in all",
			len(got), testkit.Patience, attempts, timeout, attempts)
		got = append(got, d)
	}
	op.Finishes(t, testkit.Patience, fmt.Sprintf("cl.Call(ctx, addr, \"anyone?\") with every datagram lost (Attempts %d, Timeout %v; it must give up)", attempts, timeout))
	testkit.ErrorIs(t, err, ErrNoReply, "cl.Call(ctx, addr, \"anyone?\") = %s with every datagram lost, want ErrNoReply", errName(err))
	least := attempts*timeout - 10*time.Millisecond
	assert.GreaterOrEqual(t, elapsed, least, "cl.Call(ctx, addr, \"anyone?\") gave up after %v, want at least %v: each of the %d attempts waits Timeout (%v) for its reply",
		elapsed.Round(time.Millisecond), attempts*timeout, attempts, timeout)
	extra, sent := nextDatagram(t, srv, testkit.Grace)
	assert.False(t, sent, "the server got a datagram %q after the %d attempts, want none: Attempts (%d) is how many times a request is sent in all", extra.payload, attempts, attempts)
	for k, d := range got {
		assert.Equal(t, "anyone?", d.payload, "attempt %d carried the request %q, want \"anyone?\"", k+1, d.payload)
		assert.Equal(t, got[0].id, d.id, "attempt %d carried request ID %d, attempt 1 carried %d: every attempt of one call must carry the same ID, so that a late reply to an earlier attempt still counts",
			k+1, d.id, got[0].id)
	}

	// A cancelled context stops Call at once, however long Timeout is.
	cl = &Client{Conn: listenUDP(t), Timeout: time.Minute, Attempts: attempts}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	op = testkit.Go(func() { _, err = cl.Call(ctx, addr, []byte("cancel me")) })
	_, ok := nextDatagram(t, srv, testkit.Patience)
	require.True(t, ok, "the server got nothing from cl.Call(ctx, addr, \"cancel me\") within %v", testkit.Patience)
	cancel()
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, \"cancel me\") after ctx was cancelled (Timeout is a minute: Call must watch ctx while it waits)")
	testkit.ErrorIs(t, err, context.Canceled, "cl.Call(ctx, addr, \"cancel me\") = %v after ctx was cancelled, want context.Canceled", err)

	// A context deadline earlier than Timeout ends Call at the deadline.
	cl = &Client{Conn: listenUDP(t), Timeout: time.Minute, Attempts: attempts}
	const deadline = 200 * time.Millisecond
	op = testkit.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		_, err = cl.Call(ctx, addr, []byte("hurry"))
	})
	op.Finishes(t, testkit.Patience, fmt.Sprintf("cl.Call(ctx, addr, \"hurry\") with a %v deadline on ctx (Timeout is a minute)", deadline))
	testkit.ErrorIs(t, err, context.DeadlineExceeded, "cl.Call(ctx, addr, \"hurry\") = %v once ctx's deadline passed, want context.DeadlineExceeded", err)
}

func TestCallIgnoresStaleReplies(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	srv := listenUDP(t)
	addr := srv.LocalAddr()
	cl := &Client{Conn: listenUDP(t), Timeout: 150 * time.Millisecond, Attempts: 2}

	// Call 1 gets no reply in time.
	var (
		resp []byte
		err  error
	)
	op := testkit.Go(func() { resp, err = cl.Call(context.Background(), addr, []byte("first")) })
	var first datagram
	for k := 0; k < 2; k++ {
		d, ok := nextDatagram(t, srv, testkit.Patience)
		require.True(t, ok, "the server got %d datagram(s) from cl.Call(ctx, addr, \"first\") (Attempts 2, no reply), want 2", k)
		first = d
	}
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, \"first\") with no reply")
	testkit.RequireErrorIs(t, err, ErrNoReply, "cl.Call(ctx, addr, \"first\") = %q, %s with no reply, want ErrNoReply", resp, errName(err))

	// Call 2: before its own reply, the late replies to call 1 arrive,
	// and a datagram too short to hold an ID.
	cl.Timeout = time.Second // its own reply comes at once; no need to hurry
	op = testkit.Go(func() { resp, err = cl.Call(context.Background(), addr, []byte("second")) })
	second, ok := nextDatagram(t, srv, testkit.Patience)
	require.True(t, ok, "the server got nothing from cl.Call(ctx, addr, \"second\") within %v", testkit.Patience)
	require.NotEqual(t, first.id, second.id, "cl.Call(ctx, addr, \"second\") used request ID %d, the same as the call before it: every call needs a new ID, or a late reply to the earlier call is taken for its own", second.id)
	reply(t, srv, second.from, first.id, "re:first")
	reply(t, srv, second.from, first.id, "re:first")
	_, werr := srv.WriteToUDP([]byte{0x01, 0x02}, second.from)
	require.NoError(t, werr, "the test's server: sending a short datagram")
	reply(t, srv, second.from, second.id, "re:second")
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, \"second\")")
	msg := fmt.Sprintf("cl.Call(ctx, addr, \"second\") = %q, %v, want \"re:second\", nil: the replies to the earlier call (ID %d) and the 2-byte datagram came first, and must be skipped (this call's ID is %d)",
		resp, err, first.id, second.id)
	require.NoError(t, err, msg)
	require.Equal(t, "re:second", string(resp), msg)

	// Call 3: the reply to its first attempt comes late, after the second
	// attempt was sent. It carries this call's ID, so it is the answer.
	cl.Timeout = 150 * time.Millisecond
	cl.Attempts = 10 // spare attempts, in case the reply is slow to come
	op = testkit.Go(func() { resp, err = cl.Call(context.Background(), addr, []byte("third")) })
	a1, ok1 := nextDatagram(t, srv, testkit.Patience)
	a2, ok2 := nextDatagram(t, srv, testkit.Patience)
	require.True(t, ok1 && ok2, "the server did not get two attempts of cl.Call(ctx, addr, \"third\") (Timeout 150ms, no reply yet) within %v", testkit.Patience)
	assert.Equal(t, a1.id, a2.id, "the two attempts of cl.Call(ctx, addr, \"third\") carried the IDs %d and %d, want the same ID on every attempt of a call", a1.id, a2.id)
	reply(t, srv, a1.from, a1.id, "re:third")
	op.Finishes(t, testkit.Patience, "cl.Call(ctx, addr, \"third\") after the late reply to its first attempt")
	msg = fmt.Sprintf("cl.Call(ctx, addr, \"third\") = %q, %v, want \"re:third\", nil: the reply to its first attempt came while its second attempt was waiting, and it answers the call", resp, err)
	if assert.NoError(t, err, msg) {
		assert.Equal(t, "re:third", string(resp), msg)
	}
}
