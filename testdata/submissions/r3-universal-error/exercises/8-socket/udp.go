package socket

import (
	"context"
	"errors"
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

	// TODO: add what a Client must remember between calls (the last
	// request ID it used).
}

// Call sends request to addr and returns the response from the reply. It
// sends the request up to Attempts times, waiting up to Timeout after each
// send; datagrams that are not a reply to this call (too short, or another
// request ID) are skipped. Call returns ErrNoReply (wrapped) if no reply
// came, ctx.Err() as soon as ctx is done, ErrFrameTooLarge if the request
// does not fit in a datagram, or the socket's error.
func (c *Client) Call(ctx context.Context, addr net.Addr, request []byte) ([]byte, error) {
	panic("TODO: implement Call")
}
