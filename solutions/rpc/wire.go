// Package rpc calls functions that live in another process, or on another
// machine, as if they were local: a [Client] sends a request naming a
// method and carrying its arguments over a connection, a [Server] runs the
// handler registered under that name and sends the result back.
//
// # The wire format
//
// Both sides speak a fixed, architecture-neutral format, so that a client
// and a server need not agree on byte order or word size: every number is
// a fixed-width unsigned integer in big-endian order (network byte order),
// and every variable-length field is preceded by its length. A request
// frame ([AppendRequest], [ReadRequest]) is
//
//	u32 frame length | u64 client ID | u64 call ID | u16 method length | method | u32 args length | args
//
// and a reply frame ([AppendReply], [ReadReply]) is
//
//	u32 frame length | u64 call ID | u8 status | u32 payload length | payload
//
// where the frame length counts the bytes after itself and may not exceed
// [MaxFrame]. Arguments and results are opaque bytes to the RPC layer;
// [AppendInt64] and [AppendFloat64] encode typed values in the same
// neutral way, and [ConsumeInt64] and [ConsumeFloat64] decode them.
//
// # Calls
//
// A Client multiplexes any number of concurrent calls over one connection
// and matches each reply to its call by call ID. A call gives up when its
// context is done. When the connection breaks before the reply arrives, the
// client dials a new one and sends the same request again, with the same
// client ID and call ID; the server remembers the results of the calls it
// has completed and answers such a retry from memory, so that a handler
// runs at most once per call.
package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits of the wire format. The tests rely on these values: do not change
// them.
const (
	// MaxFrame is the largest frame length, in bytes: the largest number a
	// frame's first field may hold. A reader refuses a larger frame before
	// it allocates anything for it.
	MaxFrame = 1 << 20
	// MaxMethod is the longest method name, in bytes: its length travels as
	// a u16.
	MaxMethod = 1<<16 - 1
)

// Sizes of the fixed fields that follow the frame length.
const (
	requestFixed = 8 + 8 + 2 + 4 // client ID, call ID, method length, args length
	replyFixed   = 8 + 1 + 4     // call ID, status, payload length
)

// Errors about frames and values. Compare with errors.Is.
var (
	// ErrFrameTooLarge means that a frame's length is over MaxFrame, or that
	// a frame to be written would be, or that a method name is longer than
	// MaxMethod.
	ErrFrameTooLarge = errors.New("rpc: frame too large")
	// ErrBadFrame means that a frame or a value is malformed: it is cut
	// short, its lengths do not add up, or a field holds a value the format
	// does not define.
	ErrBadFrame = errors.New("rpc: malformed frame")
)

// A Status says how a call ended. It travels as one byte.
type Status uint8

// The statuses a reply can carry.
const (
	// StatusOK: the handler returned normally; the payload is its result.
	StatusOK Status = 0
	// StatusError: the handler returned an error; the payload is the
	// error's text.
	StatusError Status = 1
	// StatusUnknownMethod: no handler is registered under the method name;
	// the payload is the name.
	StatusUnknownMethod Status = 2
)

// A Request is one call as it travels from a client to a server.
type Request struct {
	// Client identifies the client that made the call; together with ID it
	// names the call, on every connection the client uses.
	Client uint64
	// ID numbers the call among the client's calls. A retry of a call
	// carries the same ID.
	ID uint64
	// Method names the handler to run.
	Method string
	// Args are the arguments, encoded by the caller.
	Args []byte
}

// A Reply is the answer to one call, as it travels from the server back to
// the client.
type Reply struct {
	// ID is the ID of the call being answered.
	ID uint64
	// Status says how the call ended.
	Status Status
	// Payload is the result (StatusOK), the error text (StatusError) or the
	// method name (StatusUnknownMethod).
	Payload []byte
}

// AppendRequest appends r's frame to b and returns the extended slice. It
// returns b unchanged and an error wrapping ErrFrameTooLarge if the method
// name is longer than MaxMethod or the frame length would be over
// MaxFrame.
func AppendRequest(b []byte, r Request) ([]byte, error) {
	if len(r.Method) > MaxMethod {
		return b, fmt.Errorf("%w: method name of %d bytes, the limit is %d", ErrFrameTooLarge, len(r.Method), MaxMethod)
	}
	n := requestFixed + len(r.Method) + len(r.Args)
	if n > MaxFrame {
		return b, fmt.Errorf("%w: request frame of %d bytes, the limit is %d", ErrFrameTooLarge, n, MaxFrame)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint64(b, r.Client)
	b = binary.BigEndian.AppendUint64(b, r.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Method)))
	b = append(b, r.Method...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Args)))
	b = append(b, r.Args...)
	return b, nil
}

// ReadRequest reads one request frame from rd. It returns io.EOF if rd
// ends cleanly before the frame's first byte; an error wrapping
// ErrFrameTooLarge if the frame length is over MaxFrame (without reading
// or allocating the frame's body); an error wrapping ErrBadFrame (and
// io.ErrUnexpectedEOF) if rd ends inside the frame; an error wrapping
// ErrBadFrame if the lengths inside the frame do not add up to the frame
// length; and rd's own error if reading fails otherwise.
func ReadRequest(rd io.Reader) (Request, error) {
	body, err := readFrame(rd, requestFixed, "request")
	if err != nil {
		return Request{}, err
	}
	var r Request
	r.Client = binary.BigEndian.Uint64(body[0:8])
	r.ID = binary.BigEndian.Uint64(body[8:16])
	m := int(binary.BigEndian.Uint16(body[16:18]))
	if 18+m+4 > len(body) {
		return Request{}, fmt.Errorf("%w: method length %d runs past the end of a request frame of %d bytes", ErrBadFrame, m, len(body))
	}
	r.Method = string(body[18 : 18+m])
	a := int64(binary.BigEndian.Uint32(body[18+m : 22+m]))
	if left := int64(len(body) - 22 - m); a != left {
		return Request{}, fmt.Errorf("%w: args length %d, but the request frame has %d bytes left for them", ErrBadFrame, a, left)
	}
	r.Args = body[22+m:]
	return r, nil
}

// AppendReply appends r's frame to b and returns the extended slice. It
// returns b unchanged and an error wrapping ErrFrameTooLarge if the frame
// length would be over MaxFrame, or wrapping ErrBadFrame if r.Status is
// not one of the statuses defined above.
func AppendReply(b []byte, r Reply) ([]byte, error) {
	if r.Status > StatusUnknownMethod {
		return b, fmt.Errorf("%w: status %d is not defined", ErrBadFrame, r.Status)
	}
	n := replyFixed + len(r.Payload)
	if n > MaxFrame {
		return b, fmt.Errorf("%w: reply frame of %d bytes, the limit is %d", ErrFrameTooLarge, n, MaxFrame)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint64(b, r.ID)
	b = append(b, byte(r.Status))
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Payload)))
	b = append(b, r.Payload...)
	return b, nil
}

// ReadReply reads one reply frame from rd, with the same errors as
// [ReadRequest]; a status that is not defined is ErrBadFrame too.
func ReadReply(rd io.Reader) (Reply, error) {
	body, err := readFrame(rd, replyFixed, "reply")
	if err != nil {
		return Reply{}, err
	}
	var r Reply
	r.ID = binary.BigEndian.Uint64(body[0:8])
	r.Status = Status(body[8])
	if r.Status > StatusUnknownMethod {
		return Reply{}, fmt.Errorf("%w: reply status %d is not defined", ErrBadFrame, r.Status)
	}
	p := int64(binary.BigEndian.Uint32(body[9:13]))
	if left := int64(len(body) - replyFixed); p != left {
		return Reply{}, fmt.Errorf("%w: payload length %d, but the reply frame has %d bytes left for it", ErrBadFrame, p, left)
	}
	r.Payload = body[replyFixed:]
	return r, nil
}

// readFrame reads a frame length and then that many bytes, the frame's
// body, which must hold at least fixed bytes. kind names the frame in
// errors.
func readFrame(rd io.Reader, fixed int, kind string) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF // a clean end between frames
		}
		return nil, cutShort(err, kind+" frame length")
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrame {
		// Refused before allocating: the length came from the peer.
		return nil, fmt.Errorf("%w: %s frame length %d, the limit is %d", ErrFrameTooLarge, kind, n, MaxFrame)
	}
	if int(n) < fixed {
		return nil, fmt.Errorf("%w: %s frame length %d, shorter than its %d bytes of fixed fields", ErrBadFrame, kind, n, fixed)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, cutShort(err, kind+" frame")
	}
	return body, nil
}

// cutShort turns the end of the input inside a frame into ErrBadFrame and
// io.ErrUnexpectedEOF; other read errors are returned as they are.
func cutShort(err error, where string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the input ended inside the %s: %w", ErrBadFrame, where, io.ErrUnexpectedEOF)
	}
	return err
}

// AppendInt64 appends v to b as 8 bytes, big-endian, two's complement, and
// returns the extended slice.
func AppendInt64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

// AppendFloat64 appends v to b as the 8 bytes of its IEEE 754 binary64
// representation, big-endian, and returns the extended slice.
func AppendFloat64(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

// ConsumeInt64 decodes an int64 written by AppendInt64 from the front of b
// and returns it with the rest of b. It returns an error wrapping
// ErrBadFrame if b holds fewer than 8 bytes.
func ConsumeInt64(b []byte) (int64, []byte, error) {
	if len(b) < 8 {
		return 0, b, fmt.Errorf("%w: an int64 needs 8 bytes, %d left", ErrBadFrame, len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), b[8:], nil
}

// ConsumeFloat64 decodes a float64 written by AppendFloat64 from the front
// of b and returns it with the rest of b. It returns an error wrapping
// ErrBadFrame if b holds fewer than 8 bytes.
func ConsumeFloat64(b []byte) (float64, []byte, error) {
	if len(b) < 8 {
		return 0, b, fmt.Errorf("%w: a float64 needs 8 bytes, %d left", ErrBadFrame, len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), b[8:], nil
}
