//go:build unix

package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/ipclab/ipclab/exercises/shmview"
)

// RingHeader is the number of bytes at the start of a ring's region that
// hold its indices and its end-of-stream flag: three cache lines, so that
// the producer's index, the consumer's index and the flag each have one
// of their own. The rest of the region, size-RingHeader bytes, holds the
// messages.
const RingHeader = 192

// RecordHeader is the number of bytes in front of every message in the
// ring: its length, a little-endian uint32. A message of n bytes takes
// RecordHeader+n bytes of the ring.
const RecordHeader = 4

var (
	// ErrTooLarge is returned by Send for a message that could never fit
	// in the ring: RecordHeader+len(msg) > size-RingHeader.
	ErrTooLarge = errors.New("shm: message larger than the ring")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("shm: ring closed")
)

// A Ring is one end of a single-producer single-consumer queue of
// messages in a shared-memory segment. Make one with RingAt in each of
// the two processes (or goroutines): one only sends and closes, the other
// only receives.
//
// Layout of the region (offsets from off):
//
//	0    head    uint64  bytes the consumer has taken, ever (only the consumer writes it)
//	64   tail    uint64  bytes the producer has published, ever (only the producer writes it)
//	128  closed  uint32  1 once the producer has closed the ring
//	192  data    size-192 bytes, the records, wrapping around at the end
//
// Each index has a cache line of its own. A processor that writes a word
// takes the whole line from the other processors' caches; with both
// indices on one line, every store of one would take the line from the
// other side, which then has to fetch it back (false sharing), and each
// message would cost two trips of the line between the processors.
//
// head and tail only grow; a position in data is the count modulo the
// capacity, so tail-head is the number of bytes in use, and a full ring
// is never confused with an empty one. All zero is an empty open ring.
//
// Each index is written by one side only, always after the bytes it
// covers: the producer copies a record in and then stores tail, the
// consumer copies a record out and then stores head. The atomic store
// publishes the copy, and the other side's atomic load of the index
// makes the copy visible to it.
type Ring struct {
	head, tail *atomic.Uint64
	closed     *atomic.Uint32
	data       []byte

	// seenHead is the head as this end's Send last loaded it, and
	// seenTail the tail as its Receive did: hints, not state. An index
	// only grows, so an old hint only understates the room or what is
	// there to read, and the other side's index is loaded again only
	// when the hint is not enough. Loading it every time would pull its
	// cache line from the other processor for every message.
	seenHead, seenTail uint64
}

// RingAt returns the ring stored in seg.Bytes()[off:off+size]. off must
// be a multiple of 8, and the region must lie inside the segment with
// room for at least one byte of message; RingAt panics otherwise. The
// region must be all zero when the ring is first used, as it is in a new
// segment.
func RingAt(seg *Segment, off, size int) *Ring {
	b := seg.Bytes()
	if off < 0 || off%8 != 0 || size < RingHeader+RecordHeader+1 || off+size > len(b) {
		panic(fmt.Sprintf("shm: RingAt(seg, %d, %d): want off a multiple of 8 and %d <= size <= %d", off, size, RingHeader+RecordHeader+1, len(b)-off))
	}
	return &Ring{
		head:   shmview.Uint64(b, off),
		tail:   shmview.Uint64(b, off+64),
		closed: shmview.Uint32(b, off+128),
		data:   b[off+RingHeader : off+size],
	}
}

// Send copies msg into the ring, waiting while there is not enough room.
// It returns ErrTooLarge for a message that could never fit and ErrClosed
// after Close.
func (r *Ring) Send(msg []byte) error {
	need := uint64(RecordHeader + len(msg))
	if need > uint64(len(r.data)) {
		return fmt.Errorf("%w: %d bytes, the ring holds messages of at most %d", ErrTooLarge, len(msg), len(r.data)-RecordHeader)
	}
	if r.closed.Load() != 0 {
		return ErrClosed
	}
	tail := r.tail.Load() // only this side writes it
	// seenHead <= head <= tail, so tail-seenHead does not wrap around;
	// C-(tail-seenHead) would, for a Ring made anew (seenHead 0) after
	// the ring has gone round once.
	room := func() bool { return tail-r.seenHead <= uint64(len(r.data))-need }
	var b backoff
	for !room() {
		if r.seenHead = r.head.Load(); room() {
			break
		}
		b.wait()
	}
	var n [RecordHeader]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(msg)))
	r.put(tail, n[:])
	r.put(tail+RecordHeader, msg)
	r.tail.Store(tail + need) // publish: the record is complete
	return nil
}

// Receive waits for the next message and copies it into buf, returning
// its length. A message of length 0 is a message like any other. When
// the producer has closed the ring and every message has been received,
// Receive returns 0, io.EOF. When buf is too small for the next message,
// Receive returns 0, io.ErrShortBuffer and leaves the message in the ring.
func (r *Ring) Receive(buf []byte) (int, error) {
	head := r.head.Load() // only this side writes it
	var b backoff
	for r.seenTail <= head { // seenTail <= tail: maybe nothing to read
		if r.seenTail = r.tail.Load(); r.seenTail > head {
			break
		}
		// Load closed before tail: the producer stores its last tail
		// before closed, so if closed is set, that tail is final.
		if r.closed.Load() != 0 && r.tail.Load() == head {
			return 0, io.EOF
		}
		b.wait()
	}
	var hdr [RecordHeader]byte
	r.get(head, hdr[:])
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n > len(r.data)-RecordHeader {
		return 0, fmt.Errorf("shm: corrupt ring: a record of %d bytes in a ring of %d", n, len(r.data))
	}
	if n > len(buf) {
		return 0, io.ErrShortBuffer
	}
	r.get(head+RecordHeader, buf[:n])
	r.head.Store(head + uint64(RecordHeader+n)) // release the room
	return n, nil
}

// Close marks the end of the stream. Messages already sent are still
// received; after them, Receive returns io.EOF. Only the producer closes
// the ring. Closing a closed ring does nothing.
func (r *Ring) Close() error {
	r.closed.Store(1)
	return nil
}

// put copies p into the data area from stream position pos on, wrapping
// around at the end.
func (r *Ring) put(pos uint64, p []byte) {
	i := int(pos % uint64(len(r.data)))
	n := copy(r.data[i:], p)
	copy(r.data, p[n:])
}

// get copies len(p) bytes from stream position pos on into p, wrapping
// around at the end.
func (r *Ring) get(pos uint64, p []byte) {
	i := int(pos % uint64(len(r.data)))
	n := copy(p, r.data[i:])
	copy(p[n:], r.data)
}
