package rpc_test

// Hidden tests: the wire format. Every field checked against golden bytes
// with values that show its byte order and width, frames read in pieces,
// and every kind of bad frame refused with the right error, without
// allocating what a hostile length asks for.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
)

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TestWireGoldenEveryField checks frames whose every length has more than
// one non-zero byte, a method name with letters of more than one byte, and
// the edge values of int64 and float64; and reads every golden frame one
// byte at a time, the way a slow connection delivers it.
func TestWireGoldenEveryField(t *testing.T) {
	method := strings.Repeat("m", 0x0102)
	args := bytes.Repeat([]byte{0x5a}, 0x010203)
	bigReq := rpc.Request{Client: 0xf1f2f3f4f5f6f7f8, ID: 0x0102030405060708, Method: method, Args: args}
	bigReqGolden := concat(unhex("00 01 03 1b  f1 f2 f3 f4 f5 f6 f7 f8  01 02 03 04 05 06 07 08  01 02"), []byte(method), unhex("00 01 02 03"), args)

	utf := rpc.Request{Client: 1, ID: 2, Method: "größe", Args: []byte{0xff}} // 5 letters, 7 bytes
	utfGolden := unhex(`
		00 00 00 1e
		00 00 00 00 00 00 00 01
		00 00 00 00 00 00 00 02
		00 07
		67 72 c3 b6 c3 9f 65
		00 00 00 01
		ff`)

	for _, tc := range []struct {
		req    rpc.Request
		golden []byte
		why    string
	}{
		{bigReq, bigReqGolden, "a method name of 0x0102 bytes and 0x010203 bytes of arguments"},
		{utf, utfGolden, "the method name \"größe\": 5 letters, 7 bytes in UTF-8; lengths count bytes"},
	} {
		label := fmt.Sprintf("AppendRequest(nil, %s) (%s)", showRequest(tc.req), tc.why)
		got, err := rpc.AppendRequest(nil, tc.req)
		if assert.NoError(t, err, "%s = %s, want the frame", label, errText(err)) {
			checkBytes(t, label, got, tc.golden, requestFields(len(tc.req.Method), len(tc.req.Args)))
		}
		back, err := rpc.ReadRequest(iotest.OneByteReader(bytes.NewReader(tc.golden)))
		assert.True(t, err == nil && sameRequest(back, tc.req), "ReadRequest(the golden frame of %s, delivered one byte per Read) = %s, %s, want the request, nil (a Read may return fewer bytes than asked for: io.ReadFull keeps reading)", showRequest(tc.req), showRequest(back), errText(err))
	}

	payload := bytes.Repeat([]byte{0x33}, 0x010203)
	bigReply := rpc.Reply{ID: 0xf1f2f3f4f5f6f7f8, Status: rpc.StatusError, Payload: payload}
	bigReplyGolden := concat(unhex("00 01 02 10  f1 f2 f3 f4 f5 f6 f7 f8  01  00 01 02 03"), payload)
	label := fmt.Sprintf("AppendReply(nil, %s)", showReply(bigReply))
	got, err := rpc.AppendReply(nil, bigReply)
	if assert.NoError(t, err, "%s = %s, want the frame", label, errText(err)) {
		checkBytes(t, label, got, bigReplyGolden, replyFields(len(payload)))
	}
	for _, tc := range []struct {
		reply  rpc.Reply
		golden []byte
	}{
		{bigReply, bigReplyGolden},
		{rpc.Reply{ID: 42, Status: rpc.StatusOK, Payload: int42}, goldenAddReply},
	} {
		back, err := rpc.ReadReply(iotest.OneByteReader(bytes.NewReader(tc.golden)))
		assert.True(t, err == nil && sameReply(back, tc.reply), "ReadReply(the golden frame of %s, delivered one byte per Read) = %s, %s, want the reply, nil (a Read may return fewer bytes than asked for: io.ReadFull keeps reading)", showReply(tc.reply), showReply(back), errText(err))
	}
	back, err := rpc.ReadRequest(iotest.OneByteReader(bytes.NewReader(goldenAdd)))
	want := rpc.Request{Client: 7, ID: 42, Method: "add", Args: args2and40}
	assert.True(t, err == nil && sameRequest(back, want), "ReadRequest(the golden frame of %s, delivered one byte per Read) = %s, %s, want the request, nil", showRequest(want), showRequest(back), errText(err))

	for _, tc := range []struct {
		v      int64
		golden string
	}{
		{0, "00 00 00 00 00 00 00 00"},
		{1, "00 00 00 00 00 00 00 01"},
		{-1, "ff ff ff ff ff ff ff ff"},
		{256, "00 00 00 00 00 00 01 00"},
		{math.MaxInt64, "7f ff ff ff ff ff ff ff"},
		{math.MinInt64 + 1, "80 00 00 00 00 00 00 01"},
		{-0x0102030405060708, "fe fd fc fb fa f9 f8 f8"},
	} {
		checkBytes(t, fmt.Sprintf("AppendInt64(nil, %d)", tc.v), rpc.AppendInt64(nil, tc.v), unhex(tc.golden), valueFields(1, "int64"))
		v, _, err := rpc.ConsumeInt64(unhex(tc.golden))
		assert.True(t, v == tc.v && err == nil, "ConsumeInt64([%s]) = %d, %s, want %d, nil", tc.golden, v, errText(err), tc.v)
	}
	for _, tc := range []struct {
		v      float64
		golden string
	}{
		{0, "00 00 00 00 00 00 00 00"},
		{math.Copysign(0, -1), "80 00 00 00 00 00 00 00"},
		{math.Inf(1), "7f f0 00 00 00 00 00 00"},
		{math.Inf(-1), "ff f0 00 00 00 00 00 00"},
		{math.SmallestNonzeroFloat64, "00 00 00 00 00 00 00 01"},
		{math.MaxFloat64, "7f ef ff ff ff ff ff ff"},
		{math.Float64frombits(0x7ff8000000000001), "7f f8 00 00 00 00 00 01"}, // a NaN
		{-1e300, "fe 37 e4 3c 88 00 75 9c"},
	} {
		checkBytes(t, fmt.Sprintf("AppendFloat64(nil, %v) (bits %#016x)", tc.v, math.Float64bits(tc.v)), rpc.AppendFloat64(nil, tc.v), unhex(tc.golden), valueFields(1, "float64"))
		v, _, err := rpc.ConsumeFloat64(unhex(tc.golden))
		assert.True(t, math.Float64bits(v) == math.Float64bits(tc.v) && err == nil, "ConsumeFloat64([%s]) = %v (bits %#016x), %s, want %v (bits %#016x), nil: every bit must survive the trip", tc.golden, v, math.Float64bits(v), errText(err), tc.v, math.Float64bits(tc.v))
	}
}

// badFrame is a frame a reader must refuse, and the error it must give.
type badFrame struct {
	what  string
	frame []byte
	want  error
}

func checkRefused(t *testing.T, read func(io.Reader) error, fn string, cases []badFrame) {
	t.Helper()
	for _, tc := range cases {
		var err error
		testkit.Within(t, testkit.Patience, fmt.Sprintf("%s(%s)", fn, tc.what), func() { err = read(bytes.NewReader(tc.frame)) })
		testkit.ErrorIs(t, err, tc.want, "%s(%s) = %s, want an error wrapping %s\nthe frame:\n%s", fn, tc.what, errText(err), errText(tc.want), dump(tc.frame, 0))
	}
}

// TestReadRejectsBadFrames feeds the readers every kind of bad frame:
// frames cut short anywhere, lengths that do not add up, a status that does
// not exist, and lengths over the limit, which must be refused before
// anything is allocated for them. It also checks the limit exactly.
func TestReadRejectsBadFrames(t *testing.T) {
	readReq := func(r io.Reader) error { _, err := rpc.ReadRequest(r); return err }
	readRep := func(r io.Reader) error { _, err := rpc.ReadReply(r); return err }

	// Cut short anywhere but before the first byte.
	var cuts []badFrame
	for n := 1; n < len(goldenAdd); n++ {
		cuts = append(cuts, badFrame{fmt.Sprintf("the first %d of the %d bytes of a request frame", n, len(goldenAdd)), goldenAdd[:n], io.ErrUnexpectedEOF})
	}
	checkRefused(t, readReq, "ReadRequest", cuts)
	for i := range cuts {
		cuts[i].want = rpc.ErrBadFrame
	}
	checkRefused(t, readReq, "ReadRequest", cuts)
	cuts = nil
	for n := 1; n < len(goldenAddReply); n++ {
		cuts = append(cuts, badFrame{fmt.Sprintf("the first %d of the %d bytes of a reply frame", n, len(goldenAddReply)), goldenAddReply[:n], rpc.ErrBadFrame})
	}
	checkRefused(t, readRep, "ReadReply", cuts)
	if t.Failed() {
		t.Log("a frame cut short must give an error wrapping both ErrBadFrame and io.ErrUnexpectedEOF (fmt.Errorf with two %w verbs does that)")
	}

	// Lengths that do not add up, in frames whose frame length is right.
	patch := func(frame []byte, at int, b ...byte) []byte {
		f := append([]byte(nil), frame...)
		copy(f[at:], b)
		return f
	}
	checkRefused(t, readReq, "ReadRequest", []badFrame{
		{"a request frame whose method length (0x00ff) runs past its end", patch(goldenAdd, 20, 0x00, 0xff), rpc.ErrBadFrame},
		{"a request frame whose args length (17) is one more than the bytes left", patch(goldenAdd, 25, 0, 0, 0, 0x11), rpc.ErrBadFrame},
		{"a request frame whose args length (15) is one less than the bytes left", patch(goldenAdd, 25, 0, 0, 0, 0x0f), rpc.ErrBadFrame},
		{"a request frame whose args length is 0xffffffff", patch(goldenAdd, 25, 0xff, 0xff, 0xff, 0xff), rpc.ErrBadFrame},
		{"a request frame of length 21, too short for its fixed fields", concat(unhex("00 00 00 15"), make([]byte, 21)), rpc.ErrBadFrame},
		{"a request frame of length 0", unhex("00 00 00 00"), rpc.ErrBadFrame},
	})
	checkRefused(t, readRep, "ReadReply", []badFrame{
		{"a reply frame whose payload length (9) is one more than the bytes left", patch(goldenAddReply, 16, 0x09), rpc.ErrBadFrame},
		{"a reply frame whose payload length (7) is one less than the bytes left", patch(goldenAddReply, 16, 0x07), rpc.ErrBadFrame},
		{"a reply frame with status 3, which the format does not define", patch(goldenAddReply, 12, 3), rpc.ErrBadFrame},
		{"a reply frame with status 0xff", patch(goldenAddReply, 12, 0xff), rpc.ErrBadFrame},
		{"a reply frame of length 12, too short for its fixed fields", concat(unhex("00 00 00 0c"), make([]byte, 12)), rpc.ErrBadFrame},
	})

	// Over the limit: refused from the length alone.
	over := []badFrame{
		{"a frame length of MaxFrame+1 = 0x00100001, and nothing after it", unhex("00 10 00 01"), rpc.ErrFrameTooLarge},
		{"a frame length of 0xffffffff, and nothing after it", unhex("ff ff ff ff"), rpc.ErrFrameTooLarge},
		{"a frame length of 0x80000000, and nothing after it", unhex("80 00 00 00"), rpc.ErrFrameTooLarge},
	}
	for _, tc := range over {
		for _, r := range []struct {
			fn   string
			read func(io.Reader) error
		}{{"ReadRequest", readReq}, {"ReadReply", readRep}} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := r.read(bytes.NewReader(tc.frame))
			runtime.ReadMemStats(&after)
			testkit.RequireErrorIs(t, err, rpc.ErrFrameTooLarge, "%s(%s) = %s, want an error wrapping ErrFrameTooLarge (the limit is MaxFrame = %d bytes; check the length before you allocate or read the body)", r.fn, tc.what, errText(err), rpc.MaxFrame)
			grew := after.TotalAlloc - before.TotalAlloc
			assert.LessOrEqual(t, grew, uint64(64<<10), "%s(%s) allocated %d bytes before it refused the frame, want almost nothing: a length that came from the peer must be checked before anything is allocated for it", r.fn, tc.what, grew)
		}
	}

	// The limit itself: MaxFrame is allowed, MaxFrame+1 is not.
	fit := rpc.Request{Client: 1, ID: 1, Method: "echo", Args: make([]byte, rpc.MaxFrame-22-4)}
	frame, err := rpc.AppendRequest(nil, fit)
	if assert.NoError(t, err, "AppendRequest(a request whose frame length is exactly MaxFrame) = %s, want the frame (the limit is inclusive)", errText(err)) {
		got, err := rpc.ReadRequest(bytes.NewReader(frame))
		assert.True(t, err == nil && sameRequest(got, fit), "ReadRequest(a request frame whose length is exactly MaxFrame) = %s, %s, want the request (the limit is inclusive)", showRequest(got), errText(err))
	}
	fit.Args = append(fit.Args, 0)
	_, err = rpc.AppendRequest(nil, fit)
	testkit.ErrorIs(t, err, rpc.ErrFrameTooLarge, "AppendRequest(a request whose frame length would be MaxFrame+1) = %s, want an error wrapping ErrFrameTooLarge", errText(err))
	long := rpc.Request{Client: 1, ID: 1, Method: strings.Repeat("x", rpc.MaxMethod+1)}
	_, err = rpc.AppendRequest(nil, long)
	testkit.ErrorIs(t, err, rpc.ErrFrameTooLarge, "AppendRequest(a request with a method name of MaxMethod+1 = %d bytes) = %s, want an error wrapping ErrFrameTooLarge (its length would not fit in the u16)", rpc.MaxMethod+1, errText(err))
	long.Method = long.Method[1:]
	_, err = rpc.AppendRequest(nil, long)
	assert.NoError(t, err, "AppendRequest(a request with a method name of MaxMethod = %d bytes) = %s, want the frame", rpc.MaxMethod, errText(err))
	reply := rpc.Reply{ID: 1, Payload: make([]byte, rpc.MaxFrame-13)}
	frame, err = rpc.AppendReply(nil, reply)
	if assert.NoError(t, err, "AppendReply(a reply whose frame length is exactly MaxFrame) = %s, want the frame", errText(err)) {
		got, err := rpc.ReadReply(bytes.NewReader(frame))
		assert.True(t, err == nil && sameReply(got, reply), "ReadReply(a reply frame whose length is exactly MaxFrame) = %s, %s, want the reply", showReply(got), errText(err))
	}
	reply.Payload = append(reply.Payload, 0)
	_, err = rpc.AppendReply(nil, reply)
	testkit.ErrorIs(t, err, rpc.ErrFrameTooLarge, "AppendReply(a reply whose frame length would be MaxFrame+1) = %s, want an error wrapping ErrFrameTooLarge", errText(err))
	_, err = rpc.AppendReply(nil, rpc.Reply{ID: 1, Status: 3})
	testkit.ErrorIs(t, err, rpc.ErrBadFrame, "AppendReply(a reply with status 3) = %s, want an error wrapping ErrBadFrame (the format defines statuses 0, 1 and 2)", errText(err))
}

// TestServerRefusesBadFrames sends bad frames to ServeConn: it must return
// the error and close the connection, promptly, and go on serving others.
func TestServerRefusesBadFrames(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)

	for _, tc := range []struct {
		what   string
		frame  []byte
		hangUp bool // the client closes its end after the frame
		want   error
	}{
		{"a frame length of MaxFrame+1", unhex("00 10 00 01"), false, rpc.ErrFrameTooLarge},
		{"a frame length of 0xffffffff", unhex("ff ff ff ff"), false, rpc.ErrFrameTooLarge},
		{"a request frame whose args length is one more than the bytes left", concat(goldenAdd[:25], unhex("00 00 00 11"), goldenAdd[29:]), false, rpc.ErrBadFrame},
		{"the first 20 bytes of a request frame, and then the client hangs up", goldenAdd[:20], true, rpc.ErrBadFrame},
	} {
		rc := newRawConn(t, ts.Server)
		rc.send(t, tc.frame, tc.what)
		if tc.hangUp {
			rc.conn.Close()
		}
		rc.served.Finishes(t, testkit.Patience, fmt.Sprintf("srv.ServeConn(conn), after it read %s,", tc.what))
		testkit.ErrorIs(t, rc.err, tc.want, "srv.ServeConn(conn) = %s, after it read %s; want an error wrapping %s", errText(rc.err), tc.what, errText(tc.want))
		if !tc.hangUp {
			var err error
			testkit.Within(t, testkit.Patience, "reading from a connection that ServeConn gave up on", func() { _, err = rc.conn.Read(make([]byte, 1)) })
			assert.Error(t, err, "the client could still read from the connection after ServeConn refused %s, want it closed", tc.what)
		}
	}

	rc := newRawConn(t, ts.Server)
	rc.send(t, goldenAdd, "the golden request add(2, 40)")
	got := rc.receive(t, "the reply to add(2, 40)")
	assert.True(t, sameReply(got, rpc.Reply{ID: 42, Status: rpc.StatusOK, Payload: int42}), "the reply to the golden request add(2, 40) on a new connection = %s, want %s (one bad connection must not harm the server)", showReply(got), showReply(rpc.Reply{ID: 42, Payload: int42}))
}

// TestCallRefusesOversizedArgs checks that Call refuses a request that does
// not fit in a frame, without harming the connection, and that the largest
// request that fits goes through.
func TestCallRefusesOversizedArgs(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	_, _, c := setup(t)

	err := callErr(t, context.Background(), c, "echo", make([]byte, rpc.MaxFrame), "the arguments alone are MaxFrame bytes")
	testkit.ErrorIs(t, err, rpc.ErrFrameTooLarge, "c.Call(ctx, \"echo\", MaxFrame bytes) = %s, want an error wrapping ErrFrameTooLarge", errText(err))
	err = callErr(t, context.Background(), c, strings.Repeat("x", rpc.MaxMethod+1), nil, "the method name is MaxMethod+1 bytes long")
	testkit.ErrorIs(t, err, rpc.ErrFrameTooLarge, "c.Call(ctx, a method name of MaxMethod+1 bytes, nil) = %s, want an error wrapping ErrFrameTooLarge", errText(err))
	largest := bytes.Repeat([]byte{7}, rpc.MaxFrame-22-len("echo"))
	got := call(t, c, "echo", largest, "the largest arguments that fit in a frame")
	assert.True(t, bytes.Equal(got, largest), "echo(the largest arguments that fit, %d bytes) = %s, want them back", len(largest), showBytes(got))
	sum := callInt(t, c, "add", ints(40, 2), "after calls that were refused")
	assert.Equal(t, int64(42), sum, "add(40, 2) = %d, want 42", sum)
}
