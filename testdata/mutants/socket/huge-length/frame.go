// Mutant huge-length: the reference solution with one mistake.
//
// ReadFrame allocates and reads the payload first and checks it against max
// afterwards. The length prefix comes from the other end: one that claims
// 4 GiB makes ReadFrame allocate 4 GiB (or die trying) before it refuses the
// frame, and it reads on into data that is not a frame.

// Package socket is three small programs on sockets, the endpoints of
// communication between processes, on one machine or across a network:
//
//   - framing: messages sent over a TCP byte stream, each one a 4-byte
//     big-endian length and then the payload ([WriteFrame], [ReadFrame]);
//   - a broadcast server ([Server]) that serves any [net.Listener] (TCP or
//     Unix sockets) and hands every frame a client sends to every other
//     client;
//   - a UDP client ([Client]) that sends a request and waits for the
//     reply, sending the request again when a datagram is lost.
//
// README.md explains the ideas, the exact wire formats and the rules.
package socket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderLen is the size of a frame's length prefix, in bytes.
const HeaderLen = 4

// MaxFrame is the largest payload that WriteFrame sends, and the limit that
// ReadFrame applies when it is given none: 1 MiB.
const MaxFrame = 1 << 20

// ErrFrameTooLarge means that a frame or a datagram is over its size limit:
// a payload given to WriteFrame or Call is too long, or the length prefix
// that ReadFrame read announces more bytes than it accepts.
var ErrFrameTooLarge = errors.New("socket: frame too large")

// WriteFrame writes payload to w as one frame: its length as a 4-byte
// unsigned big-endian integer (network byte order), then the payload
// itself. It writes nothing and returns ErrFrameTooLarge if payload is
// longer than MaxFrame.
//
// WriteFrame writes the whole frame even when w takes fewer bytes per call
// than offered: it calls w.Write again with the rest. If w takes nothing
// and reports no error, WriteFrame returns io.ErrShortWrite.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) > MaxFrame {
		return fmt.Errorf("%w: payload of %d bytes, limit %d", ErrFrameTooLarge, len(payload), MaxFrame)
	}
	// One buffer and one Write: on a socket that is one system call, and
	// no other writer can slip its bytes between the prefix and the payload.
	frame := make([]byte, HeaderLen+len(payload))
	binary.BigEndian.PutUint32(frame, uint32(len(payload)))
	copy(frame[HeaderLen:], payload)
	return writeAll(w, frame)
}

// writeAll writes all of p to w, however few bytes each Write takes.
func writeAll(w io.Writer, p []byte) error {
	for len(p) > 0 {
		n, err := w.Write(p)
		if err != nil {
			return err
		}
		if n <= 0 || n > len(p) {
			// No progress (or a nonsensical count): calling again would
			// loop for ever.
			return io.ErrShortWrite
		}
		p = p[n:]
	}
	return nil
}

// ReadFrame reads one frame from r and returns its payload. max is the
// largest payload it accepts; max <= 0 means MaxFrame.
//
// Errors:
//   - io.EOF: r ended cleanly, before the first byte of a frame;
//   - io.ErrUnexpectedEOF: r ended in the middle of a frame (inside the
//     length prefix or inside the payload);
//   - ErrFrameTooLarge: the length prefix is over max. ReadFrame returns
//     as soon as it has read the prefix: it neither allocates the
//     announced size nor reads any further;
//   - any other error from r, as r returned it.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	if max <= 0 {
		max = MaxFrame
	}
	var header [HeaderLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		// io.ReadFull returns io.EOF when nothing was read, and
		// io.ErrUnexpectedEOF when the stream ended part-way.
		return nil, err
	}
	n := binary.BigEndian.Uint32(header[:])
	payload := make([]byte, n) // BUG: allocates whatever the prefix claims
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			// The prefix was there, so the stream did not end between
			// frames.
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if uint64(n) > uint64(max) { // BUG: checked too late
		return nil, fmt.Errorf("%w: length prefix %d, limit %d", ErrFrameTooLarge, n, max)
	}
	return payload, nil
}
