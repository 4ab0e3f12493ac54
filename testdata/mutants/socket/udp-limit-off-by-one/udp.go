// Mutant udp-limit-off-by-one: the reference solution with one mistake.
//
// Call refuses a request of exactly MaxDatagram-IDLen bytes, the largest
// that fits in a datagram with its ID: the limit is inclusive, and the
// comparison is off by one.

package socket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// Defaults of a Client whose fields are zero.
const (
	DefaultTimeout  = 250 * time.Millisecond
	DefaultAttempts = 3
)

// IDLen is the size of the request ID at the start of every request and
// reply datagram, in bytes.
const IDLen = 4

// MaxDatagram is the largest UDP payload over IPv4 (65535 bytes, less the
// IP and UDP headers). A request and its ID must fit in one datagram.
const MaxDatagram = 65507

// ErrNoReply is returned by Call when every attempt timed out.
var ErrNoReply = errors.New("socket: no reply")

// A Client sends requests over UDP and waits for their replies, sending a
// request again when its reply does not come in time.
//
// A request datagram is a 4-byte big-endian request ID followed by the
// request; a reply is the same ID followed by the response. Every attempt
// of one call carries the same ID, and every call a new one, so a late
// reply to an earlier attempt of the same call is accepted, and a reply to
// an earlier call is recognised and skipped.
//
// A Client is not safe for concurrent use: one call at a time.
type Client struct {
	// Conn is the socket the client sends from and reads replies on,
	// for example from net.ListenUDP("udp", nil).
	Conn net.PacketConn
	// Timeout is how long each attempt waits for its reply;
	// DefaultTimeout when zero.
	Timeout time.Duration
	// Attempts is how many times a request is sent at most;
	// DefaultAttempts when zero.
	Attempts int

	lastID uint32
}

// Call sends request to addr and returns the response from the reply. It
// sends the request up to Attempts times, waiting up to Timeout after each
// send; datagrams that are not a reply to this call (too short, or another
// request ID) are skipped. Call returns ErrNoReply (wrapped) if no reply
// came, ctx.Err() as soon as ctx is done, ErrFrameTooLarge if the request
// does not fit in a datagram, or the socket's error.
func (c *Client) Call(ctx context.Context, addr net.Addr, request []byte) ([]byte, error) {
	// BUG: >= refuses the largest request that fits.
	if len(request) >= MaxDatagram-IDLen {
		return nil, fmt.Errorf("%w: request of %d bytes, limit %d", ErrFrameTooLarge, len(request), MaxDatagram-IDLen)
	}
	timeout, attempts := c.Timeout, c.Attempts
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	c.lastID++
	id := c.lastID
	msg := make([]byte, IDLen+len(request))
	binary.BigEndian.PutUint32(msg, id)
	copy(msg[IDLen:], request)

	// A read blocked on the socket does not see ctx: when ctx is done,
	// a deadline in the past wakes it up.
	defer c.Conn.SetReadDeadline(time.Time{})
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.Conn.SetReadDeadline(aLongTimeAgo)
		close(woken)
	})
	defer func() {
		if !stop() {
			<-woken // it ran, or runs now: let it finish before the deferred reset
		}
	}()

	buf := make([]byte, MaxDatagram)
	for attempt := 1; attempt <= attempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := c.Conn.WriteTo(msg, addr); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if err := c.Conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		// ctx may have been done just before the deadline was set,
		// which would have undone the wake-up.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for {
			n, _, err := c.Conn.ReadFrom(buf)
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return nil, ctxErr
				}
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					return nil, err
				}
				if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
					// ctx's own deadline, not the attempt's: ctx is
					// done now or a moment from now.
					<-ctx.Done()
					return nil, ctx.Err()
				}
				break // this attempt is over: send again
			}
			if n < IDLen || binary.BigEndian.Uint32(buf) != id {
				continue // junk, or a late reply to an earlier call
			}
			return append([]byte(nil), buf[IDLen:n]...), nil
		}
	}
	return nil, fmt.Errorf("%w from %v after %d attempts, %v each", ErrNoReply, addr, attempts, timeout)
}
