//go:build unix

package shm

// Hidden tests of order and of error paths. The ring's two indices
// publish what is in the data area: the producer must write a record
// completely before it moves the tail, and the consumer must copy a
// record out completely before it moves the head. These tests stop one
// side in the middle of its copy, for as long as they like, by taking
// away its access to a page of the data area (mprotect on that side's
// own mapping): the copy faults there, the call ends with a panic that
// the test recovers, and whatever the call had published before its copy
// was done shows. A Create or Open that fails must close what it opened
// and remove what it made.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// protect sets the access of the pages b covers (b starts on a page
// boundary) in this mapping only: the other mappings of the segment keep
// theirs. The pages are made readable and writable again when the test
// ends, before its segments are closed.
func protect(t *testing.T, b []byte, prot int) {
	t.Helper()
	require.NoError(t, unix.Mprotect(b, prot), "unix.Mprotect(%d bytes, %#x)", len(b), prot)
	t.Cleanup(func() { unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE) })
}

// unprotect makes the pages b covers readable and writable again.
func unprotect(t *testing.T, b []byte) {
	t.Helper()
	require.NoError(t, unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE), "unix.Mprotect(%d bytes, PROT_READ|PROT_WRITE)", len(b))
}

// faulting runs call on a goroutine on which a memory fault is a panic,
// and returns what the panic was (nil if call returned).
func faulting(t *testing.T, what string, call func()) (fault any) {
	t.Helper()
	testkit.Within(t, testkit.Patience, what, func() {
		defer func() { fault = recover() }()
		debug.SetPanicOnFault(true)
		call()
	})
	return fault
}

// TestRecordPublishedWhole stops the producer in the middle of a Send: the
// data area of the ring lies on a page of its own, which the producer's
// mapping may only read, so the Send faults as soon as it writes the
// record. The consumer, on its own mapping, must see nothing of that
// record: a tail moved before the record was written would hand it a
// record of stale bytes.
func TestRecordPublishedWhole(t *testing.T) {
	pg := os.Getpagesize()
	name := newName(t)
	cons := create(t, name, 3*pg)
	prod := open(t, name)
	off, size := pg-RingHeader, RingHeader+pg // the data area is page 1
	p, c := RingAt(prod, off, size), RingAt(cons, off, size)
	send(t, p, []byte("before"), "the ring was empty")
	receive(t, c, 64, []byte("before"), "\"before\" was sent")

	protect(t, prod.Bytes()[pg:2*pg], unix.PROT_READ)
	msg := []byte("never complete")
	var err error
	fault := faulting(t, fmt.Sprintf("r.Send(%q) with the data area read-only for the producer", msg), func() { err = p.Send(msg) })
	require.NotNil(t, fault, "r.Send(%q) = %s without writing to the data area (it was read-only in the producer's mapping, and the call did not fault): where did the record go?", msg, errName(err))

	var n int
	buf := make([]byte, 64)
	op := testkit.Go(func() { n, err = c.Receive(buf) })
	op.StaysBlocked(t, testkit.Grace, fmt.Sprintf(
		"r.Receive(buf), after the producer was stopped in r.Send(%q) before it could write the record (the tail must move only once the record is in the ring: publishing it first hands the consumer stale bytes),", msg))
	unprotect(t, prod.Bytes()[pg:2*pg])
	closeErr := p.Close()
	require.NoError(t, closeErr, "r.Close() = %s, want nil", errName(closeErr))
	op.Finishes(t, testkit.Patience, "r.Receive(buf), waiting on an empty ring, after the producer's r.Close()")
	require.Zero(t, n, "r.Receive(buf) = %s, %s after the producer's Send stopped half-way and it closed the ring, want 0, io.EOF (the half-written record was never published)", show(buf[:n]), errName(err))
	testkit.RequireErrorIs(t, err, io.EOF, "r.Receive(buf) = %s, %s after the producer's Send stopped half-way and it closed the ring, want 0, io.EOF (the half-written record was never published)", show(buf[:n]), errName(err))
}

// TestRoomReleasedAfterCopy stops the consumer in the middle of a
// Receive: the next record starts on one page of the data area and ends
// on the next, which the consumer's mapping may not read, so the Receive
// faults half-way through the copy. The ring is full, and the producer
// waits for the room of that record: it must go on waiting, since the
// consumer has not got the record out. A head moved before the copy lets
// the producer overwrite a record that is still being read.
func TestRoomReleasedAfterCopy(t *testing.T) {
	pg := os.Getpagesize()
	name := newName(t)
	prod := create(t, name, 4*pg)
	cons := open(t, name)
	off, capacity := pg-RingHeader, 2*pg // the data area is pages 1 and 2
	p, c := RingAt(prod, off, RingHeader+capacity), RingAt(cons, off, RingHeader+capacity)

	// Move both indices to 8 bytes before the end of page 1.
	filler := bytes.Repeat([]byte("f"), pg-8-RecordHeader)
	send(t, p, filler, "the ring was empty")
	receive(t, c, len(filler), filler, "the filler was sent")
	first := bytes.Repeat([]byte("0123456789"), 10) // from page 1 into page 2
	rest := bytes.Repeat([]byte("r"), capacity-2*RecordHeader-len(first))
	send(t, p, first, "the ring was empty")
	send(t, p, rest, "the ring had room for exactly this message")

	protect(t, cons.Bytes()[2*pg:3*pg], unix.PROT_NONE)
	buf := make([]byte, capacity)
	var n int
	var err error
	fault := faulting(t, "r.Receive(buf) with page 2 of the data area unreadable for the consumer", func() { n, err = c.Receive(buf) })
	require.NotNil(t, fault, "r.Receive(buf) = %s, %s without reading the end of the message (page 2 of the data area was unreadable in the consumer's mapping, and the call did not fault)", show(buf[:n]), errName(err))

	late := []byte("late")
	op := testkit.Go(func() { err = p.Send(late) })
	op.StaysBlocked(t, testkit.Grace, fmt.Sprintf(
		"r.Send(%q) on a full ring, after the consumer was stopped half-way through copying the first message out (the head must move only once the record is copied out: releasing its room first lets the producer overwrite it),", late))
	unprotect(t, cons.Bytes()[2*pg:3*pg])
	receive(t, c, capacity, first, "the consumer's first Receive stopped half-way, so the first message was still in the ring")
	op.Finishes(t, testkit.Patience, fmt.Sprintf("r.Send(%q), after the consumer received the first message", late))
	require.NoError(t, err, "r.Send(%q) = %s, want nil (the consumer made room)", late, errName(err))
	receive(t, c, capacity, rest, "the second message was sent")
	receive(t, c, capacity, late, "the third message was sent")
}

// TestFailedCreateOrOpenLeavesNothing makes Create and Open fail after
// they have opened the file: a Create of a segment far larger than any
// address space (sizing or mapping it fails), and an Open of a segment
// whose creator has not sized it yet (there is nothing to map). A
// failing call must close the descriptor it opened, and a failing Create
// must remove the file it made.
func TestFailedCreateOrOpenLeavesNothing(t *testing.T) {
	before, err := childproc.OpenFDs()
	require.NoError(t, err, "childproc.OpenFDs()")

	const huge = 1 << 52
	for i := 0; i < 3; i++ {
		name := newName(t)
		var seg *Segment
		testkit.Within(t, testkit.Patience, fmt.Sprintf("Create(%q, 1<<52)", name), func() { seg, err = Create(name, huge) })
		if err == nil {
			seg.Close()
		}
		require.Error(t, err, "Create(%q, 1<<52) = nil error, want an error: 4 PiB cannot be mapped", name)
		require.False(t, exists(t, name), "Create(%q, 1<<52) = %s, but left %s behind: a Create that fails after making the file must remove it", name, errName(err), filepath.Join(segmentDir(), name))
	}

	for i := 0; i < 3; i++ {
		name := newName(t)
		f, err := os.OpenFile(filepath.Join(segmentDir(), name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		require.NoError(t, err, "making a segment of size 0 by hand")
		f.Close()
		var seg *Segment
		testkit.Within(t, testkit.Patience, fmt.Sprintf("Open(%q)", name), func() { seg, err = Open(name) })
		if err == nil && seg != nil {
			seg.Close() // an empty mapping is a choice; the descriptor is what counts here
		}
	}

	leaked, err := childproc.LeakedFDs(before)
	require.NoError(t, err, "childproc.LeakedFDs(before)")
	assert.Empty(t, leaked, "after Create and Open failed (a segment too large to map, a segment of size 0), these file descriptors are still open: %v\nclose the file on every path out of Create and Open, the error paths too (a defer right after the open does it)", leaked)
}
