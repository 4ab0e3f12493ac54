//go:build unix

// The third file you edit: a queue of messages from one process to
// another. Keep the exported names, signatures and constants.

package shm

import "errors"

// RingHeader is the number of bytes at the start of a ring's region that
// are yours for its indices and its end-of-stream flag: three cache lines
// of 64 bytes, room to give each index a line of its own (the README says
// why that matters). The rest of the region, size-RingHeader bytes, is
// the ring's capacity: it holds the records.
const RingHeader = 192

// RecordHeader is the number of bytes in front of every message in the
// ring: the message's length, as a uint32. A message of n bytes takes
// RecordHeader+n bytes of the ring, and a record may wrap around the end
// of the ring like any other bytes.
const RecordHeader = 4

var (
	// ErrTooLarge is returned (wrapped) by Send for a message that could
	// never fit: RecordHeader+len(msg) > size-RingHeader.
	ErrTooLarge = errors.New("shm: message larger than the ring")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("shm: ring closed")
)

// A Ring is one end of a single-producer single-consumer queue of
// messages in a shared-memory segment. Each of the two processes (or
// goroutines) makes its own with RingAt on the same region: one only
// sends and closes, the other only receives.
type Ring struct {
	// TODO: where the indices, the flag and the data are
}

// RingAt returns the ring stored in seg.Bytes()[off:off+size]. off must
// be a multiple of 8, and the region must lie inside the segment with
// room for a record of at least one byte (size >= RingHeader+RecordHeader+1);
// RingAt panics otherwise. The region must be all zero when the ring is
// first used, as it is in a new segment: all zero is an empty, open ring.
func RingAt(seg *Segment, off, size int) *Ring {
	panic("TODO: implement RingAt")
}

// Send copies msg into the ring as one record, waiting while there is not
// enough room. It returns ErrTooLarge for a message that could never fit
// and ErrClosed after Close. The consumer must never see a part of a
// record: publish it only once it is all there.
func (r *Ring) Send(msg []byte) error {
	panic("TODO: implement Send")
}

// Receive waits for the next message and copies it into buf, returning
// its length. A message of length 0 is a message like any other. When the
// producer has closed the ring and every message has been received,
// Receive returns 0, io.EOF (every time it is called). When buf is too
// small for the next message, Receive returns 0, io.ErrShortBuffer and
// leaves the message in the ring.
func (r *Ring) Receive(buf []byte) (int, error) {
	panic("TODO: implement Receive")
}

// Close marks the end of the stream: messages already sent are still
// received, and after them Receive returns io.EOF, in whichever process
// it runs. Only the producer closes the ring. Closing a closed ring does
// nothing and returns nil.
func (r *Ring) Close() error {
	panic("TODO: implement Close")
}
