package socket

// Hidden tests of part 1, framing. They cover these entries of the bug
// catalogue:
//
//   - short-io: TestShortReadsAndWrites reads frames through readers that
//     return one byte (or half of what was asked) per call, and writes
//     them through a writer that takes at most 3 bytes per call.
//   - huge-length: TestHugeLengthRefusedBeforeAllocating gives ReadFrame a
//     prefix of 64 MiB, then of 4 GiB, and measures what it allocates and
//     how far it reads.
//
// The wire format itself (framing: byte order, off-by-one lengths, a
// truncated frame) is checked against golden bytes by the visible tests.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A trickleWriter takes at most max bytes per Write and reports no error,
// like a socket with little room in its buffer.
type trickleWriter struct {
	max   int
	buf   bytes.Buffer
	calls int
}

func (w *trickleWriter) Write(p []byte) (int, error) {
	w.calls++
	if len(p) > w.max {
		p = p[:w.max]
	}
	return w.buf.Write(p)
}

// A stuckWriter takes nothing and reports no error.
type stuckWriter struct{ calls int }

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.calls++
	return 0, nil
}

// A brokenWriter takes ok bytes, then fails.
type brokenWriter struct {
	ok      int
	written int
}

var errBroken = errors.New("test: the connection broke")

func (w *brokenWriter) Write(p []byte) (int, error) {
	if room := w.ok - w.written; len(p) > room {
		w.written += room
		return room, errBroken
	}
	w.written += len(p)
	return len(p), nil
}

func TestShortReadsAndWrites(t *testing.T) {
	var stream []byte
	for _, tc := range goldenFrames {
		stream = append(stream, tc.wire...)
	}
	// First with whole reads and writes: the wire format must be right
	// before short reads and writes tell anything.
	for _, tc := range goldenFrames {
		var buf bytes.Buffer
		err := writeFrameNow(t, &buf, tc.payload, "WriteFrame(&buf, "+tc.name+")")
		require.True(t, err == nil && bytes.Equal(buf.Bytes(), tc.wire), "WriteFrame(&buf, %s) = %s and wrote %s, want nil and %s: get the wire format right first (TestWriteFrameGoldenBytes)",
			tc.name, errName(err), hexStart(buf.Bytes()), hexStart(tc.wire))
		got, err := readFrameNow(t, bytes.NewReader(tc.wire), MaxFrame, "ReadFrame(r, MaxFrame) on "+tc.name)
		require.True(t, err == nil && bytes.Equal(got, tc.payload), "ReadFrame(r, MaxFrame) on %s = %s, %s, want %s, nil: get the wire format right first (TestReadFrameGoldenBytes)",
			hexStart(tc.wire), hexStart(got), errName(err), hexStart(tc.payload))
	}

	readers := []struct {
		name string
		r    io.Reader
	}{
		{"iotest.OneByteReader (one byte per Read)", iotest.OneByteReader(bytes.NewReader(stream))},
		{"iotest.HalfReader (half of what is asked per Read)", iotest.HalfReader(bytes.NewReader(stream))},
		{"iotest.DataErrReader (io.EOF together with the last bytes)", iotest.DataErrReader(bytes.NewReader(stream))},
	}
	for _, rd := range readers {
		for _, tc := range goldenFrames {
			got, err := readFrameNow(t, rd.r, MaxFrame, "ReadFrame(r, MaxFrame) through "+rd.name)
			require.NoError(t, err, "ReadFrame(r, MaxFrame) through %s = %s on the frame %s, want its payload: a Read may return fewer bytes than asked for, so keep reading (io.ReadFull)",
				rd.name, errName(err), hexStart(tc.wire))
			require.True(t, bytes.Equal(got, tc.payload), "ReadFrame(r, MaxFrame) through %s returned %s on the frame %s, want %s: a Read may return fewer bytes than asked for, so keep reading (io.ReadFull)",
				rd.name, hexStart(got), hexStart(tc.wire), hexStart(tc.payload))
		}
		_, err := readFrameNow(t, rd.r, MaxFrame, "ReadFrame(r, MaxFrame) at the end")
		testkit.ErrorIs(t, err, io.EOF, "ReadFrame(r, MaxFrame) through %s at the end of the stream = %s, want io.EOF", rd.name, errName(err))
	}

	for _, tc := range goldenFrames {
		w := &trickleWriter{max: 3}
		err := writeFrameNow(t, w, tc.payload, "WriteFrame(w, "+tc.name+") to a writer that takes 3 bytes per call")
		if !assert.NoError(t, err, "WriteFrame(w, %s) = %s, want nil (w takes at most 3 bytes per Write and never fails)", tc.name, errName(err)) {
			continue
		}
		got := w.buf.Bytes()
		assert.True(t, bytes.Equal(got, tc.wire), "WriteFrame(w, %s) to a writer that takes at most 3 bytes per Write (and says so in the count it returns) left %s written after %d Write calls, want %s: call Write again with what is left until the whole frame is written",
			tc.name, hexStart(got), w.calls, hexStart(tc.wire))
	}

	// A writer that takes nothing must not make WriteFrame loop for ever.
	stuck := &stuckWriter{}
	err := writeFrameNow(t, stuck, []byte("hello"), "WriteFrame(w, \"hello\") to a writer that takes nothing and reports no error")
	assert.Error(t, err, "WriteFrame(w, \"hello\") = nil after %d Write calls to a writer that took nothing, want an error (io.ErrShortWrite)", stuck.calls)

	// A writer's error comes back to the caller.
	broken := &brokenWriter{ok: 6}
	err = writeFrameNow(t, broken, []byte("hello, world"), "WriteFrame(w, \"hello, world\") to a writer that fails after 6 bytes")
	testkit.ErrorIs(t, err, errBroken, "WriteFrame(w, \"hello, world\") = %v to a writer that fails after 6 bytes, want its error (%v)", err, errBroken)
}

// A prefixThenTrap reader returns a length prefix, then records any
// attempt to read further and fails it.
type prefixThenTrap struct {
	prefix     []byte
	readBeyond bool
}

var errReadBeyond = errors.New("test: ReadFrame read past the length prefix")

func (r *prefixThenTrap) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	if len(p) > 0 {
		r.readBeyond = true
	}
	return 0, errReadBeyond
}

func TestHugeLengthRefusedBeforeAllocating(t *testing.T) {
	cases := []struct {
		name   string
		prefix []byte
		max    int
	}{
		// Checked first: a solution that allocates first allocates 64
		// MiB here and fails, before the 4 GiB case is tried.
		{"a prefix of 64 MiB ([04 00 00 00]) with max 1024", []byte{0x04, 0x00, 0x00, 0x00}, 1024},
		{"the prefix [ff ff ff ff] (4 GiB) with max MaxFrame", []byte{0xff, 0xff, 0xff, 0xff}, MaxFrame},
	}
	const allowance = 1 << 20 // far more than a correct ReadFrame allocates
	for _, tc := range cases {
		r := &prefixThenTrap{prefix: append([]byte(nil), tc.prefix...)}
		var (
			got    []byte
			err    error
			before runtime.MemStats
			after  runtime.MemStats
		)
		what := fmt.Sprintf("ReadFrame(r, %d) on %s", tc.max, tc.name)
		runtime.ReadMemStats(&before)
		testkit.Within(t, testkit.Patience, what, func() { got, err = ReadFrame(r, tc.max) })
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc

		testkit.ErrorIs(t, err, ErrFrameTooLarge, "%s = %s, %s, want ErrFrameTooLarge", what, show(got), errName(err))
		assert.False(t, r.readBeyond, "%s read past the prefix, want it to stop there: the prefix alone shows the frame is too large", what)
		require.LessOrEqual(t, allocated, uint64(allowance), "%s allocated %d bytes, want well under %d: check the length against max before allocating the payload, since the prefix comes from the other end and can claim up to 4 GiB",
			what, allocated, allowance)
		if t.Failed() {
			return
		}
	}
}
