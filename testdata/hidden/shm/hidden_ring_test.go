//go:build unix

package shm

// Hidden tests of the Ring: records that wrap around the end at every
// offset, a long stream between processes in both directions at once, and
// end-of-stream seen from another process.

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	childproc.Register("consume", consumeRole)
}

// consumeRole: args name, off, size, maxLen, first, verbose. The child
// prints "ready", receives from RingAt(seg, off, size) until io.EOF, and
// checks that the messages are numbers first, first+1, ... It prints
// "got <seq>" for every message when verbose is 1, "bad ..." for every
// wrong one (the first few), and at the end "eof <n>", n being the number
// of messages received. An error other than io.EOF is a "bad" line.
func consumeRole(args []string) int {
	name := args[0]
	n := ints(args[1:])
	off, size, maxLen, first, verbose := n[0], n[1], n[2], n[3], n[4] == 1
	seg, ok := openInChild(name)
	if !ok {
		return 1
	}
	r := RingAt(seg, off, size)
	buf := make([]byte, maxLen)
	fmt.Println("ready")
	bad := 0
	for seq := first; ; seq++ {
		n, err := r.Receive(buf)
		if errors.Is(err, io.EOF) {
			fmt.Println("eof", seq-first)
			return 0
		}
		if err != nil {
			fmt.Printf("bad r.Receive(buf) = %d, %s after %d messages, want the next message or io.EOF\n", n, errName(err), seq-first)
			return 1
		}
		if p := checkMessage(seq, maxLen, buf[:n]); p != "" {
			fmt.Println("bad", p)
			if bad++; bad == 10 {
				return 1
			}
		}
		if verbose {
			fmt.Println("got", seq)
		}
	}
}

// TestRingWrapEveryOffset sends and receives, in one process, messages of
// 0 to 57 bytes through a ring of 61 bytes, in batches of different sizes,
// until records have started at every one of its 61 offsets: so the
// length prefix and the message are split by the end of the ring in every
// possible way.
func TestRingWrapEveryOffset(t *testing.T) {
	const capacity = 61
	const maxLen = capacity - RecordHeader
	p, c := ringPair(t, capacity)
	var (
		problem string
		sent    int
		starts  [capacity]bool
		covered int
	)
	testkit.Within(t, 2*testkit.Patience, "sending and receiving 3000 messages in batches", func() {
		buf := make([]byte, maxLen)
		var pos, used int // where the next record starts, bytes in the ring
		next := 0         // next message to receive
		for round := 0; sent < 3000; round++ {
			// Fill the ring as far as the next message fits.
			for used+RecordHeader+msgLen(sent, maxLen) <= capacity {
				size := RecordHeader + msgLen(sent, maxLen)
				if err := p.Send(message(sent, maxLen)); err != nil {
					problem = fmt.Sprintf("r.Send(message %d, %d bytes) = %s with %d of %d bytes in use, want nil", sent, size-RecordHeader, errName(err), used, capacity)
					return
				}
				if !starts[pos] {
					starts[pos] = true
					covered++
				}
				pos = (pos + size) % capacity
				used += size
				sent++
			}
			// Then take one to three messages out, or all of them.
			take := round%3 + 1
			if round%5 == 0 {
				take = sent - next
			}
			for i := 0; i < take && next < sent; i++ {
				n, err := c.Receive(buf)
				if err != nil {
					problem = fmt.Sprintf("r.Receive(buf) = %d, %s with message %d due, want it and nil", n, errName(err), next)
					return
				}
				if pr := checkMessage(next, maxLen, buf[:n]); pr != "" {
					problem = pr
					return
				}
				used -= RecordHeader + n
				next++
			}
		}
	})
	if problem != "" { // the error says what went wrong
		require.FailNow(t, problem, "in a ring of %d bytes, after %d messages sent", capacity, sent)
	}
	require.Equal(t, capacity, covered, "test bug: records started at only %d of the %d offsets", covered, capacity)
}

// TestRingStressAcrossProcesses runs two streams of 10000 messages at
// once: from a child process to the test, and from the test to another
// child process, each through a ring of about a kilobyte in one segment.
// Messages of 0 to 300 bytes wrap around the ends at every offset; each
// must arrive whole, once, and in order. A producer that publishes a
// record before it has written all of it, or a consumer that gives the
// room back before it has read it, tears messages now and then.
func TestRingStressAcrossProcesses(t *testing.T) {
	const (
		count        = 10000
		maxLen       = 300
		inOff, inSz  = 0, RingHeader + 1021
		outOff, outS = 4096, RingHeader + 1019
	)
	name := newName(t)
	seg := create(t, name, 8192)
	producer := startChild(t, "the producer process", "produce", name, strconv.Itoa(inOff), strconv.Itoa(inSz), strconv.Itoa(maxLen), "0", strconv.Itoa(count), "1")
	consumer := startChild(t, "the consumer process", "consume", name, strconv.Itoa(outOff), strconv.Itoa(outS), strconv.Itoa(maxLen), "0", "0")
	defer func() { // also when the test stops early: what the children found explains it
		producer.noProblems(t)
		consumer.noProblems(t)
	}()

	var sendErr error
	sending := testkit.Go(func() { sendErr = sendAll(RingAt(seg, outOff, outS), 0, count, maxLen, true) })
	receiveChecked(t, 3*testkit.Patience, RingAt(seg, inOff, inSz), 0, count, maxLen, "the producer process")
	sending.Finishes(t, testkit.Patience, fmt.Sprintf("sending %d messages to the consumer process", count))
	assert.NoError(t, sendErr, "sending to the consumer process")
	line := consumer.waitLine(t, testkit.Patience, "eof ")
	got := line[len("eof "):]
	assert.Equal(t, strconv.Itoa(count), got, "the consumer process received %s messages and then io.EOF, want %d", got, count)
	producer.wait(t, testkit.Patience)
	consumer.wait(t, testkit.Patience)
}

// TestEndOfStreamAcrossProcesses: a consumer in another process sees the
// end of the stream when the producer closes the ring while it waits, and
// a producer process that sent its messages, closed the ring and exited
// leaves them all to be received, followed by io.EOF.
func TestEndOfStreamAcrossProcesses(t *testing.T) {
	const size, maxLen = RingHeader + 256, 50
	name := newName(t)
	seg := create(t, name, 8192)

	// The consumer is another process, and waits when Close comes.
	c := startChild(t, "the consumer process", "consume", name, "0", strconv.Itoa(size), strconv.Itoa(maxLen), "0", "1")
	c.waitLine(t, testkit.Patience, "ready")
	p := RingAt(seg, 0, size)
	for seq := 0; seq < 3; seq++ {
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("r.Send(message %d)", seq), func() { err = p.Send(message(seq, maxLen)) })
		require.NoError(t, err, "r.Send(message %d) = %s, want nil", seq, errName(err))
		c.waitLine(t, testkit.Patience, "got "+strconv.Itoa(seq))
	}
	c.quiet(t, 2*testkit.Grace, "eof", "its r.Receive(buf) on the empty, open ring")
	closeErr := p.Close()
	require.NoError(t, closeErr, "r.Close() = %s, want nil", errName(closeErr))
	line := c.waitLine(t, testkit.Patience, "eof")
	assert.Equal(t, "eof 3", line, "the consumer process printed %q, want \"eof 3\" (3 messages, then io.EOF)", line)
	c.wait(t, testkit.Patience)
	c.noProblems(t)

	// The producer is another process, and has exited before the consumer
	// starts: what it sent, and its Close, are in the segment. (40
	// messages of at most 50 bytes fit in 40*(4+50) bytes.)
	const off2, size2, off3 = 1024, RingHeader + 40*(RecordHeader+maxLen), 4096
	pp := startChild(t, "the producer process", "produce", name, strconv.Itoa(off2), strconv.Itoa(size2), strconv.Itoa(maxLen), "0", "40", "1")
	pp.waitLine(t, testkit.Patience, "sent")
	pp.wait(t, testkit.Patience)
	receiveChecked(t, testkit.Patience, RingAt(seg, off2, size2), 0, 40, maxLen, "a producer process that has exited")

	// A producer process that closed the ring without sending anything.
	pe := startChild(t, "the producer process", "produce", name, strconv.Itoa(off3), strconv.Itoa(size), strconv.Itoa(maxLen), "0", "0", "1")
	pe.waitLine(t, testkit.Patience, "sent")
	pe.wait(t, testkit.Patience)
	var n int
	var err error
	r := RingAt(seg, off3, size)
	testkit.Within(t, testkit.Patience, "r.Receive(buf) (the producer process closed the ring and sent nothing)", func() { n, err = r.Receive(make([]byte, maxLen)) })
	if assert.Zero(t, n, "r.Receive(buf) = %d, %s on a ring that a producer process closed without sending, want 0, io.EOF", n, errName(err)) {
		testkit.ErrorIs(t, err, io.EOF, "r.Receive(buf) = %d, %s on a ring that a producer process closed without sending, want 0, io.EOF", n, errName(err))
	}
}
