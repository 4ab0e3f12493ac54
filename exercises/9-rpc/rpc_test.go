package rpc_test

// These tests are the contract of the exercise. Run them with the race
// detector, as the grader does:
//
//	go test -race ./9-rpc/
//
// They go from the bottom up: the bytes of the wire format first (checked
// against golden frames written out by hand in README.md), then calls over
// a connection, then what happens when things go wrong. The grader also
// runs hidden tests that look harder at the same behaviours; README.md
// lists what they check.
//
// No test waits without a limit, and no test touches a real network: the
// client and the server talk through net.Pipe, an in-memory connection.
// The helpers at the bottom of this file build the pieces: a server with a
// few handlers (add, divide, echo, count, block), a "network" of pipes that
// counts the dials, and a fake server for the tests that need one to
// misbehave.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rpc "github.com/ipclab/ipclab/exercises/9-rpc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden frames of README.md, byte for byte, and the values in them
// (written out here rather than made by your AppendInt64, so that a frame
// test checks the frame alone).
var (
	args2and40 = unhex("00 00 00 00 00 00 00 02  00 00 00 00 00 00 00 28") // 2, 40 as int64
	int42      = unhex("00 00 00 00 00 00 00 2a")                          // 42 as int64

	// Request{Client: 7, ID: 42, Method: "add", Args: args2and40}
	goldenAdd = unhex(`
		00 00 00 29
		00 00 00 00 00 00 00 07
		00 00 00 00 00 00 00 2a
		00 03
		61 64 64
		00 00 00 10
		00 00 00 00 00 00 00 02
		00 00 00 00 00 00 00 28`)
	// Reply{ID: 42, Status: StatusOK, Payload: int42}
	goldenAddReply = unhex(`
		00 00 00 15
		00 00 00 00 00 00 00 2a
		00
		00 00 00 08
		00 00 00 00 00 00 00 2a`)
)

func TestRequestGoldenBytes(t *testing.T) {
	mul := unhex("3f f8 00 00 00 00 00 00  c0 02 00 00 00 00 00 00") // 1.5, -2.25 as float64
	cases := []struct {
		req    rpc.Request
		golden []byte
	}{
		{rpc.Request{Client: 7, ID: 42, Method: "add", Args: args2and40}, goldenAdd},
		{rpc.Request{Client: 0x0102030405060708, ID: 0x1112131415161718, Method: "Arith.Mul", Args: mul}, unhex(`
			00 00 00 2f
			01 02 03 04 05 06 07 08
			11 12 13 14 15 16 17 18
			00 09
			41 72 69 74 68 2e 4d 75 6c
			00 00 00 10
			3f f8 00 00 00 00 00 00
			c0 02 00 00 00 00 00 00`)},
		{rpc.Request{Client: 0, ID: 1, Method: "", Args: nil}, unhex(`
			00 00 00 16
			00 00 00 00 00 00 00 00
			00 00 00 00 00 00 00 01
			00 00
			00 00 00 00`)},
	}
	for _, tc := range cases {
		label := fmt.Sprintf("AppendRequest(nil, %s)", showRequest(tc.req))
		got, err := rpc.AppendRequest(nil, tc.req)
		if !assert.NoError(t, err, "%s = %v, want the frame", label, errText(err)) {
			continue
		}
		checkBytes(t, label, got, tc.golden, requestFields(len(tc.req.Method), len(tc.req.Args)))

		back, err := rpc.ReadRequest(bytes.NewReader(tc.golden))
		assert.True(t, err == nil && sameRequest(back, tc.req), "ReadRequest(the golden frame of %s) = %s, %v, want the request, nil\nthe golden frame:\n%s", showRequest(tc.req), showRequest(back), errText(err), dump(tc.golden, 0))
	}

	// AppendRequest appends: what b held stays in front.
	prefix := []byte("prefix")
	got, err := rpc.AppendRequest(prefix, cases[0].req)
	if assert.True(t, err == nil && bytes.HasPrefix(got, []byte("prefix")), "AppendRequest([]byte(\"prefix\"), ...) = %s, %v, want \"prefix\" followed by the frame", showBytes(got), errText(err)) {
		checkBytes(t, "AppendRequest([]byte(\"prefix\"), ...) after the prefix", got[len(prefix):], goldenAdd, requestFields(3, 16))
	}

	// Frames follow each other on a connection: ReadRequest must read one
	// frame and not a byte more.
	stream := bytes.NewReader(append(append([]byte(nil), goldenAdd...), cases[1].golden...))
	for i, want := range []rpc.Request{cases[0].req, cases[1].req} {
		got, err := rpc.ReadRequest(stream)
		require.True(t, err == nil && sameRequest(got, want), "ReadRequest(two frames back to back), call %d = %s, %v, want %s, nil (does it read exactly one frame?)", i+1, showRequest(got), errText(err), showRequest(want))
	}
	_, err = rpc.ReadRequest(stream)
	assert.True(t, err == io.EOF, "ReadRequest(a stream with nothing left) = %s, want io.EOF (the stream ended cleanly between frames)", errText(err))
}

func TestReplyGoldenBytes(t *testing.T) {
	cases := []struct {
		reply  rpc.Reply
		golden []byte
	}{
		{rpc.Reply{ID: 42, Status: rpc.StatusOK, Payload: int42}, goldenAddReply},
		{rpc.Reply{ID: 0x0102030405060708, Status: rpc.StatusError, Payload: []byte("division by zero")}, unhex(`
			00 00 00 1d
			01 02 03 04 05 06 07 08
			01
			00 00 00 10
			64 69 76 69 73 69 6f 6e 20 62 79 20 7a 65 72 6f`)},
		{rpc.Reply{ID: 3, Status: rpc.StatusUnknownMethod, Payload: []byte("nope")}, unhex(`
			00 00 00 11
			00 00 00 00 00 00 00 03
			02
			00 00 00 04
			6e 6f 70 65`)},
		{rpc.Reply{ID: 9, Status: rpc.StatusOK, Payload: nil}, unhex(`
			00 00 00 0d
			00 00 00 00 00 00 00 09
			00
			00 00 00 00`)},
	}
	for _, tc := range cases {
		label := fmt.Sprintf("AppendReply(nil, %s)", showReply(tc.reply))
		got, err := rpc.AppendReply(nil, tc.reply)
		if !assert.NoError(t, err, "%s = %v, want the frame", label, errText(err)) {
			continue
		}
		checkBytes(t, label, got, tc.golden, replyFields(len(tc.reply.Payload)))

		back, err := rpc.ReadReply(bytes.NewReader(tc.golden))
		assert.True(t, err == nil && sameReply(back, tc.reply), "ReadReply(the golden frame of %s) = %s, %v, want the reply, nil\nthe golden frame:\n%s", showReply(tc.reply), showReply(back), errText(err), dump(tc.golden, 0))
	}
	_, err := rpc.ReadReply(bytes.NewReader(nil))
	assert.True(t, err == io.EOF, "ReadReply(an empty stream) = %s, want io.EOF", errText(err))
}

func TestValueGoldenBytes(t *testing.T) {
	ints := []struct {
		v      int64
		golden string
	}{
		{42, "00 00 00 00 00 00 00 2a"},
		{-2, "ff ff ff ff ff ff ff fe"},
		{0x0102030405060708, "01 02 03 04 05 06 07 08"},
		{math.MinInt64, "80 00 00 00 00 00 00 00"},
	}
	for _, tc := range ints {
		label := fmt.Sprintf("AppendInt64(nil, %d)", tc.v)
		checkBytes(t, label, rpc.AppendInt64(nil, tc.v), unhex(tc.golden), valueFields(1, "int64"))
		v, rest, err := rpc.ConsumeInt64(append(unhex(tc.golden), 0xee))
		assert.True(t, v == tc.v && err == nil && bytes.Equal(rest, []byte{0xee}), "ConsumeInt64([%s ee]) = %d, %s, %s, want %d, [ee], nil", tc.golden, v, showBytes(rest), errText(err), tc.v)
	}
	floats := []struct {
		v      float64
		golden string
	}{
		{1.5, "3f f8 00 00 00 00 00 00"},
		{-2.25, "c0 02 00 00 00 00 00 00"},
		{0.1, "3f b9 99 99 99 99 99 9a"},
	}
	for _, tc := range floats {
		label := fmt.Sprintf("AppendFloat64(nil, %g)", tc.v)
		checkBytes(t, label, rpc.AppendFloat64(nil, tc.v), unhex(tc.golden), valueFields(1, "float64"))
		v, rest, err := rpc.ConsumeFloat64(unhex(tc.golden))
		assert.True(t, v == tc.v && err == nil && len(rest) == 0, "ConsumeFloat64([%s]) = %g, %s, %s, want %g, [], nil", tc.golden, v, showBytes(rest), errText(err), tc.v)
	}

	// Values follow each other, and appending keeps what was there.
	b := rpc.AppendFloat64(rpc.AppendInt64([]byte{0xaa}, 1), 1.5)
	checkBytes(t, "AppendFloat64(AppendInt64([]byte{0xaa}, 1), 1.5)", b,
		unhex("aa 00 00 00 00 00 00 00 01 3f f8 00 00 00 00 00 00"),
		[]field{{"byte that was there before", 0, 1}, {"int64", 1, 8}, {"float64", 9, 8}})

	// Too few bytes is an error, not a panic and not a made-up number.
	for n := 0; n < 8; n++ {
		short := make([]byte, n)
		_, _, err := rpc.ConsumeInt64(short)
		testkit.ErrorIs(t, err, rpc.ErrBadFrame, "ConsumeInt64(%d bytes) = %s, want ErrBadFrame (an int64 needs 8 bytes)", n, errText(err))
		_, _, err = rpc.ConsumeFloat64(short)
		testkit.ErrorIs(t, err, rpc.ErrBadFrame, "ConsumeFloat64(%d bytes) = %s, want ErrBadFrame (a float64 needs 8 bytes)", n, errText(err))
	}
}

func TestCallRoundTrip(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	_, pn, c := setup(t)

	v := callInt(t, c, "add", ints(2, 40), "add(2, 40)")
	assert.Equal(t, int64(42), v, "add(2, 40) = %d, want 42", v)
	v = callInt(t, c, "add", ints(-7, 3), "add(-7, 3)")
	assert.Equal(t, int64(-4), v, "add(-7, 3) = %d, want -4", v)
	v = callInt(t, c, "divide", ints(-9, 2), "divide(-9, 2)")
	assert.Equal(t, int64(-4), v, "divide(-9, 2) = %d, want -4", v)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB, larger than any single read
	got := call(t, c, "echo", big, "echo of 64 KiB")
	assert.True(t, bytes.Equal(got, big), "echo(64 KiB) = %s, want the same 64 KiB back", showBytes(got))
	got = call(t, c, "echo", nil, "echo of no arguments")
	assert.Empty(t, got, "echo(no arguments) = %s, want an empty result", showBytes(got))
	n := pn.dialCount()
	assert.Equal(t, 1, n, "the client dialled %d times for 5 calls, want once (its calls share one connection, made by the first call)", n)
}

func TestRemoteErrors(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	_, _, c := setup(t)

	err := callErr(t, context.Background(), c, "divide", ints(1, 0), "the handler returns an error for a division by zero")
	var re *rpc.RemoteError
	if assert.ErrorAs(t, err, &re, "divide(1, 0) = %s, want a *RemoteError (the handler returned an error)", errText(err)) {
		assert.Equal(t, "division by zero", re.Msg, "divide(1, 0) = &RemoteError{Msg: %q}, want Msg %q (the text of the handler's error)", re.Msg, "division by zero")
	}

	err = callErr(t, context.Background(), c, "no.such.method", nil, "the server has no such method")
	testkit.ErrorIs(t, err, rpc.ErrUnknownMethod, "c.Call(ctx, \"no.such.method\", nil) = %s, want an error wrapping ErrUnknownMethod", errText(err))

	// A remote error does not harm the connection.
	got := callInt(t, c, "add", ints(20, 22), "after two calls that failed on the server")
	assert.Equal(t, int64(42), got, "add(20, 22) = %d, want 42", got)
}

func TestConcurrentCalls(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	testkit.AtLeastProcs(t, 2)
	_, pn, c := setup(t)

	const callers, calls = 16, 25
	problems := make([]error, callers)
	testkit.Together(t, callers, testkit.Patience, fmt.Sprintf("%d goroutines making %d calls each on one client", callers, calls), func(g int) {
		for i := 0; i < calls; i++ {
			args := []byte(fmt.Sprintf("caller %d, call %d", g, i))
			got, err := c.Call(context.Background(), "echo", args)
			if err != nil || !bytes.Equal(got, args) {
				problems[g] = fmt.Errorf("c.Call(ctx, \"echo\", %q) = %q, %s, want %q, nil (did a reply reach the wrong caller?)", args, got, errText(err), args)
				return
			}
			sum, err := c.Call(context.Background(), "add", ints(int64(g), int64(1000*i)))
			if want := ints(int64(g + 1000*i)); err != nil || !bytes.Equal(sum, want) {
				problems[g] = fmt.Errorf("add(%d, %d) = %s, %s, want %s, nil (did a reply reach the wrong caller?)", g, 1000*i, showBytes(sum), errText(err), showBytes(want))
				return
			}
		}
	})
	for g, err := range problems {
		assert.NoError(t, err, "caller %d: %v", g, err)
	}
	n := pn.dialCount()
	assert.Equal(t, 1, n, "the client dialled %d times, want once (concurrent calls share one connection)", n)
}

func TestCallDeadline(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts, _, c := setup(t)

	const wait = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	slow := goCall(ctx, c, "block", []byte("slow"))
	ts.gate.wait(t, "after a call of block")
	slow.Finishes(t, testkit.Patience, fmt.Sprintf("%s, with a deadline %v away and a handler that does not return,", slow.label, wait))
	testkit.RequireErrorIs(t, slow.err, context.DeadlineExceeded, "%s = %s, %s, want context.DeadlineExceeded (the reply had not come when the deadline passed)", slow.label, showBytes(slow.result), errText(slow.err))

	// The client still works, and the late reply (which comes once the
	// handler returns) goes nowhere.
	sum := callInt(t, c, "add", ints(1, 2), "after a call that gave up at its deadline")
	assert.Equal(t, int64(3), sum, "add(1, 2) = %d, want 3", sum)
	ts.gate.release()
	got := call(t, c, "echo", []byte("fresh"), "after the handler of the abandoned call returned")
	assert.Equal(t, "fresh", string(got), "echo(\"fresh\") = %q, want \"fresh\" (was it handed the late reply of the call that gave up?)", got)

	// A context that is done before the call: nothing to wait for.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	err := callErr(t, done, c, "add", ints(1, 1), "ctx was cancelled before the call")
	testkit.ErrorIs(t, err, context.Canceled, "c.Call(ctx, \"add\", ...) with ctx cancelled already = %s, want context.Canceled", errText(err))
}

func TestServerRemembersCalls(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	rc := newRawConn(t, ts.Server)

	// The same call twice, as a client sends it when it retries: the
	// handler runs once, and the retry gets the same reply.
	req := rpc.Request{Client: 5, ID: 1, Method: "count"}
	rc.send(t, encodeRequest(req), showRequest(req))
	first := rc.receive(t, "the reply to "+showRequest(req))
	rc.send(t, encodeRequest(req), showRequest(req)+" again")
	again := rc.receive(t, "the reply to "+showRequest(req)+", sent again")
	want := rpc.Reply{ID: 1, Status: rpc.StatusOK, Payload: ints(1)}
	require.True(t, sameReply(first, want), "the reply to %s = %s, want %s (the first run of count)", showRequest(req), showReply(first), showReply(want))
	assert.True(t, sameReply(again, want), "the reply to %s sent a second time = %s, want %s: the server must remember that client 5 made call 1 already, and answer with the first run's result, not run the handler again", showRequest(req), showReply(again), showReply(want))

	// A new call ID is a new call; the same call ID from another client is
	// another call too.
	for i, r := range []rpc.Request{{Client: 5, ID: 2, Method: "count"}, {Client: 6, ID: 1, Method: "count"}} {
		rc.send(t, encodeRequest(r), showRequest(r))
		got := rc.receive(t, "the reply to "+showRequest(r))
		want := rpc.Reply{ID: r.ID, Status: rpc.StatusOK, Payload: ints(int64(i + 2))}
		assert.True(t, sameReply(got, want), "the reply to %s = %s, want %s (a call the server had not seen: the handler must run; calls are known by client ID and call ID together)", showRequest(r), showReply(got), showReply(want))
	}
	n := ts.counted.Load()
	assert.Equal(t, int64(3), n, "the count handler ran %d times, want 3 (for three different calls, one of them sent twice)", n)
}

func TestRetryOnNewConnection(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	ts := newTestServer(t)
	firsts := make(chan rpc.Request, 1)
	pn := newPipeNet(t, func(n int, conn net.Conn) {
		if n == 1 {
			// The first connection breaks as soon as the request is
			// across, before the server has seen it.
			r, _ := decodeRequest(conn)
			firsts <- r
			conn.Close()
			return
		}
		ts.ServeConn(conn)
	})
	c := newClient(t, pn.dial)

	got := callInt(t, c, "count", nil, "its first connection broke, and a second one works")
	assert.Equal(t, int64(1), got, "count() = %d, want 1 (the handler had not run before)", got)
	select {
	case first := <-firsts:
		assert.Equal(t, "count", first.Method, "the first connection received %s, want the request of count()", showRequest(first))
	default:
		assert.Fail(t, "the first connection never received a request, want the request of count()")
	}
	n := pn.dialCount()
	assert.Equal(t, 2, n, "the client dialled %d times, want 2 (the first connection broke before the reply came; the call is sent again on a new one)", n)
}

func TestDeadServerWakesCalls(t *testing.T) {
	testkit.NoGoroutineLeaks(t)
	arrived := make(chan rpc.Request, 10)
	pn := newPipeNet(t, func(_ int, conn net.Conn) {
		// A server that reads requests and never answers.
		for {
			r, err := decodeRequest(conn)
			if err != nil {
				return
			}
			arrived <- r
		}
	})
	c := newClient(t, pn.dial)

	const n = 4
	var calls []*pendingCall
	for i := 0; i < n; i++ {
		calls = append(calls, goCall(context.Background(), c, "add", ints(int64(i), 1)))
	}
	for i := 0; i < n; i++ {
		select {
		case <-arrived:
		case <-timerC(t):
			require.FailNow(t, fmt.Sprintf("only %d of the %d calls reached the server within %v", i, n, testkit.Patience))
		}
	}
	pn.takeDown(true) // the server dies: its connections close, and dials fail
	for _, pc := range calls {
		pc.Finishes(t, testkit.Patience, pc.label+", waiting when the server died,")
		testkit.ErrorIs(t, pc.err, rpc.ErrConnLost, "%s = %s, %s, want an error wrapping ErrConnLost (the connection closed, and no new one could be made)", pc.label, showBytes(pc.result), errText(pc.err))
	}

	// A server that cannot be reached at all: MaxAttempts dials, then an
	// error.
	down := newPipeNet(t, nil)
	down.takeDown(false)
	c2 := newClient(t, down.dial)
	err := callErr(t, context.Background(), c2, "add", ints(1, 1), "the server is down")
	testkit.ErrorIs(t, err, rpc.ErrConnLost, "c.Call(ctx, \"add\", ...) with the server down = %s, want an error wrapping ErrConnLost", errText(err))
	dials := down.dialCount()
	assert.Equal(t, rpc.MaxAttempts, dials, "the client dialled %d times for one call to a server that is down, want MaxAttempts = %d", dials, rpc.MaxAttempts)
}

// ---------------------------------------------------------------------
// Helpers. The hidden tests use them too.

// ---------------------------------------------------------------------
// Bytes: golden frames and readable differences.

// unhex turns "00 0a ff" (spaces and newlines allowed) into bytes.
func unhex(s string) []byte {
	s = strings.Join(strings.Fields(s), "")
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case '0' <= c && c <= '9':
				v |= byte(c - '0')
			case 'a' <= c && c <= 'f':
				v |= byte(c - 'a' + 10)
			default:
				panic("unhex: bad digit in " + s)
			}
		}
		b[i] = v
	}
	return b
}

// A field is a named run of bytes in a frame, for failure messages.
type field struct {
	name      string
	off, size int
}

// requestFields lays out a request frame with a method name of m bytes and
// a bytes of arguments.
func requestFields(m, a int) []field {
	return []field{
		{"frame length (u32)", 0, 4},
		{"client ID (u64)", 4, 8},
		{"call ID (u64)", 12, 8},
		{"method length (u16)", 20, 2},
		{"method name", 22, m},
		{"args length (u32)", 22 + m, 4},
		{"args", 26 + m, a},
	}
}

// replyFields lays out a reply frame with p bytes of payload.
func replyFields(p int) []field {
	return []field{
		{"frame length (u32)", 0, 4},
		{"call ID (u64)", 4, 8},
		{"status (u8)", 12, 1},
		{"payload length (u32)", 13, 4},
		{"payload", 17, p},
	}
}

// valueFields lays out n values of 8 bytes each.
func valueFields(n int, kind string) []field {
	var fs []field
	for i := 0; i < n; i++ {
		fs = append(fs, field{fmt.Sprintf("%s number %d", kind, i+1), 8 * i, 8})
	}
	return fs
}

// dump shows b in hex, 16 bytes a line with their offsets, like hexdump -C.
// Long inputs are cut to the lines around offset at.
func dump(b []byte, at int) string {
	const width, keep = 16, 6 // bytes a line; lines kept either side of at
	first, last := 0, (len(b)+width-1)/width
	if last > 2*keep+1 {
		first = max(0, at/width-keep)
		last = min(last, first+2*keep+1)
	}
	var sb strings.Builder
	if first > 0 {
		fmt.Fprintf(&sb, "  ... %d bytes before\n", first*width)
	}
	for line := first; line < last; line++ {
		lo, hi := line*width, min(len(b), (line+1)*width)
		fmt.Fprintf(&sb, "  %08x ", lo)
		for i := lo; i < lo+width; i++ {
			if i == lo+width/2 {
				sb.WriteByte(' ')
			}
			if i < hi {
				fmt.Fprintf(&sb, " %02x", b[i])
			} else {
				sb.WriteString("   ")
			}
		}
		sb.WriteString("  |")
		for _, c := range b[lo:hi] {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			sb.WriteByte(c)
		}
		sb.WriteString("|\n")
	}
	if rest := len(b) - last*width; rest > 0 {
		fmt.Fprintf(&sb, "  ... %d bytes after\n", rest)
	}
	return sb.String()
}

// checkBytes fails the test, showing both byte strings in hex and naming the
// first field that differs, unless got equals want. call is what produced
// got, in call form.
func checkBytes(t *testing.T, call string, got, want []byte, fields []field) bool {
	t.Helper()
	if bytes.Equal(got, want) {
		return true
	}
	at := 0
	for at < len(got) && at < len(want) && got[at] == want[at] {
		at++
	}
	var sb strings.Builder
	if len(got) == len(want) {
		fmt.Fprintf(&sb, "%s returned the wrong %d bytes", call, len(got))
	} else {
		fmt.Fprintf(&sb, "%s returned %d bytes, want %d", call, len(got), len(want))
	}
	if at < len(want) {
		f := field{"bytes past the end of the frame", len(want), 0}
		for _, g := range fields {
			if g.off <= at && at < g.off+g.size {
				f = g
			}
		}
		fmt.Fprintf(&sb, "; the first difference is at byte %d, in the %s (bytes %d to %d)", at, f.name, f.off, f.off+f.size-1)
		if at < len(got) {
			fmt.Fprintf(&sb, ": got %#02x, want %#02x", got[at], want[at])
		}
		sb.WriteString(hint(got, want, f))
	} else {
		fmt.Fprintf(&sb, "; the first %d bytes are right, and then come %d bytes too many", len(want), len(got)-len(want))
	}
	fmt.Fprintf(&sb, "\nwant:\n%sgot:\n%s", dump(want, at), dump(got, at))
	return assert.Fail(t, "the bytes are not the golden ones", sb.String())
}

// hint guesses the mistake behind a wrong fixed-width field.
func hint(got, want []byte, f field) string {
	if f.size != 2 && f.size != 4 && f.size != 8 || len(got) < f.off+f.size || len(want) < f.off+f.size {
		return ""
	}
	g, w := got[f.off:f.off+f.size], want[f.off:f.off+f.size]
	reversed := true
	for i := range g {
		reversed = reversed && g[i] == w[len(w)-1-i]
	}
	if reversed {
		return " (the bytes are in reverse order: that is little-endian, least significant byte first, the way the host's memory holds it; the wire format is big-endian, most significant byte first: use binary.BigEndian)"
	}
	if strings.Contains(f.name, "length") {
		gv, wv := beUint(g), beUint(w)
		msg := fmt.Sprintf(" (the length says %d, want %d", gv, wv)
		if f.off == 0 {
			msg += ": the frame length counts the bytes after the length field, not the field itself"
		}
		return msg + ")"
	}
	return ""
}

func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// showBytes abbreviates a byte slice for messages.
func showBytes(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) <= 24 {
		return fmt.Sprintf("[% x]", b)
	}
	return fmt.Sprintf("[% x ...] (%d bytes)", b[:16], len(b))
}

// showText quotes a short string and abbreviates a long one: a method
// name can be MaxMethod bytes long, and an error may quote it, but a
// failure message must stay short enough to read (testify drops a line of
// over 64 KiB from its output altogether).
func showText(s string) string {
	const show = 200
	if len(s) <= show {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:show], len(s))
}

func showRequest(r rpc.Request) string {
	return fmt.Sprintf("Request{Client: %#x, ID: %d, Method: %s, Args: %s}", r.Client, r.ID, showText(r.Method), showBytes(r.Args))
}

func showReply(r rpc.Reply) string {
	return fmt.Sprintf("Reply{ID: %d, Status: %d, Payload: %s}", r.ID, r.Status, showBytes(r.Payload))
}

func sameRequest(a, b rpc.Request) bool {
	return a.Client == b.Client && a.ID == b.ID && a.Method == b.Method && bytes.Equal(a.Args, b.Args)
}

func sameReply(a, b rpc.Reply) bool {
	return a.ID == b.ID && a.Status == b.Status && bytes.Equal(a.Payload, b.Payload)
}

// ---------------------------------------------------------------------
// The tests' own encoder and decoder, written independently of yours, so
// that a fake server or a raw client in a test speaks the format of the
// README whatever your code does.

func encodeRequest(r rpc.Request) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(22+len(r.Method)+len(r.Args)))
	b = binary.BigEndian.AppendUint64(b, r.Client)
	b = binary.BigEndian.AppendUint64(b, r.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Method)))
	b = append(b, r.Method...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Args)))
	return append(b, r.Args...)
}

func encodeReply(r rpc.Reply) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(13+len(r.Payload)))
	b = binary.BigEndian.AppendUint64(b, r.ID)
	b = append(b, byte(r.Status))
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Payload)))
	return append(b, r.Payload...)
}

// errTestFrame is what the tests' decoder returns for a frame it cannot
// make sense of.
var errTestFrame = errors.New("the test could not decode the frame")

func decodeRequest(rd io.Reader) (rpc.Request, error) {
	body, err := testFrame(rd, 22)
	if err != nil {
		return rpc.Request{}, err
	}
	m := int(binary.BigEndian.Uint16(body[16:]))
	if 22+m > len(body) || int(binary.BigEndian.Uint32(body[18+m:])) != len(body)-22-m {
		return rpc.Request{}, fmt.Errorf("%w: request lengths do not add up: %s", errTestFrame, showBytes(body))
	}
	return rpc.Request{
		Client: binary.BigEndian.Uint64(body),
		ID:     binary.BigEndian.Uint64(body[8:]),
		Method: string(body[18 : 18+m]),
		Args:   body[22+m:],
	}, nil
}

func decodeReply(rd io.Reader) (rpc.Reply, error) {
	body, err := testFrame(rd, 13)
	if err != nil {
		return rpc.Reply{}, err
	}
	if int(binary.BigEndian.Uint32(body[9:])) != len(body)-13 {
		return rpc.Reply{}, fmt.Errorf("%w: reply lengths do not add up: %s", errTestFrame, showBytes(body))
	}
	return rpc.Reply{ID: binary.BigEndian.Uint64(body), Status: rpc.Status(body[8]), Payload: body[13:]}, nil
}

func testFrame(rd io.Reader, fixed int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < uint32(fixed) || n > 1<<20 {
		return nil, fmt.Errorf("%w: frame length %d", errTestFrame, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return body, nil
}

// ---------------------------------------------------------------------
// Connections: a network of pipes between clients and a server.

// errServerDown is what a pipeNet's dial returns once the test has taken
// the server down.
var errServerDown = errors.New("connection refused (the test has taken the server down)")

// A pipeNet connects clients to a server through net.Pipe: every dial
// makes a new pipe and runs serve on a goroutine of its own with the pipe's
// server end. n counts the dials from 1.
type pipeNet struct {
	serve func(n int, conn net.Conn)

	mu      sync.Mutex
	dials   int
	down    bool
	ends    []net.Conn // both ends of every pipe
	serving sync.WaitGroup
}

// newPipeNet makes a pipeNet and, when the test ends, closes every pipe and
// waits for every serve to return.
func newPipeNet(t *testing.T, serve func(n int, conn net.Conn)) *pipeNet {
	pn := &pipeNet{serve: serve}
	t.Cleanup(func() {
		pn.closeAll()
		cleanUp(t, "the test's servers, after every pipe was closed,", pn.serving.Wait)
	})
	return pn
}

// serverNet makes a pipeNet whose every connection srv.ServeConn serves.
func serverNet(t *testing.T, srv *rpc.Server) *pipeNet {
	return newPipeNet(t, func(_ int, conn net.Conn) { srv.ServeConn(conn) })
}

func (pn *pipeNet) dial() (net.Conn, error) {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	pn.dials++
	if pn.down {
		return nil, errServerDown
	}
	c, s := net.Pipe()
	pn.ends = append(pn.ends, c, s)
	pn.serving.Add(1)
	n := pn.dials
	go func() {
		defer pn.serving.Done()
		pn.serve(n, s)
	}()
	return c, nil
}

// dialCount says how many times dial was called.
func (pn *pipeNet) dialCount() int {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	return pn.dials
}

// takeDown makes every later dial fail, and closes every pipe when kill is
// true: the server has died.
func (pn *pipeNet) takeDown(kill bool) {
	pn.mu.Lock()
	pn.down = true
	pn.mu.Unlock()
	if kill {
		pn.closeAll()
	}
}

func (pn *pipeNet) closeAll() {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	for _, c := range pn.ends {
		c.Close()
	}
}

// ---------------------------------------------------------------------
// A server with handlers for the tests, and clients of it.

// A testServer is a Server with the handlers every test may call:
//
//	add(a, b int64) int64        the sum
//	divide(a, b int64) int64     the quotient; the error "division by zero"
//	echo(args) args              its arguments, unchanged
//	count() int64                how many times count has run, this one included
//	block(args) args             waits until the test opens the gate (or the
//	                             server closes), then echoes its arguments
type testServer struct {
	*rpc.Server
	counted atomic.Int64
	gate    *gate
}

// A gate holds the calls of block until the test opens it. Each call that
// arrives is announced on arrived, with its arguments.
type gate struct {
	arrived chan string
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{arrived: make(chan string, 100), open: make(chan struct{})}
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// wait waits for the next call of block to arrive and returns its
// arguments. why says what the test did to make one arrive.
func (g *gate) wait(t *testing.T, why string) string {
	t.Helper()
	select {
	case a := <-g.arrived:
		return a
	case <-timerC(t):
		require.FailNow(t, fmt.Sprintf("no call of the block method reached its handler within %v, %s", testkit.Patience, why))
		return ""
	}
}

// timerC is a channel that fires after testkit.Patience; the timer is
// stopped when the test ends.
func timerC(t *testing.T) <-chan struct{} {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Patience)
	t.Cleanup(cancel)
	return ctx.Done()
}

// newTestServer starts a Server with the handlers above and closes it
// (within testkit.Patience) when the test ends.
func newTestServer(t *testing.T) *testServer {
	ts := &testServer{Server: rpc.NewServer(), gate: newGate()}
	ts.Register("add", func(_ context.Context, args []byte) ([]byte, error) {
		a, b, err := twoInts(args)
		if err != nil {
			return nil, err
		}
		return rpc.AppendInt64(nil, a+b), nil
	})
	ts.Register("divide", func(_ context.Context, args []byte) ([]byte, error) {
		a, b, err := twoInts(args)
		if err != nil {
			return nil, err
		}
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		return rpc.AppendInt64(nil, a/b), nil
	})
	ts.Register("echo", func(_ context.Context, args []byte) ([]byte, error) {
		return append([]byte(nil), args...), nil
	})
	ts.Register("count", func(context.Context, []byte) ([]byte, error) {
		return rpc.AppendInt64(nil, ts.counted.Add(1)), nil
	})
	ts.Register("block", func(ctx context.Context, args []byte) ([]byte, error) {
		ts.gate.arrived <- string(args)
		select {
		case <-ts.gate.open:
			return append([]byte(nil), args...), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	t.Cleanup(func() {
		ts.gate.release()
		cleanUp(t, "srv.Close()", func() { ts.Close() })
	})
	return ts
}

func twoInts(args []byte) (int64, int64, error) {
	a, rest, err := rpc.ConsumeInt64(args)
	if err != nil {
		return 0, 0, err
	}
	b, rest, err := rpc.ConsumeInt64(rest)
	if err != nil {
		return 0, 0, err
	}
	if len(rest) != 0 {
		return 0, 0, fmt.Errorf("%d bytes too many", len(rest))
	}
	return a, b, nil
}

func ints(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = rpc.AppendInt64(b, v)
	}
	return b
}

// newClient makes a Client that dials with dial and closes it (within
// testkit.Patience) when the test ends.
func newClient(t *testing.T, dial func() (net.Conn, error)) *rpc.Client {
	c := rpc.NewClient(dial)
	t.Cleanup(func() { cleanUp(t, "c.Close()", func() { c.Close() }) })
	return c
}

// cleanUp runs fn, a step of a test's clean-up, and fails the test if fn
// has not returned within testkit.Patience. When the test has failed
// already, fn only starts: its verdict is in, and a wrong implementation
// that hangs in Close would just make every failure slower.
func cleanUp(t *testing.T, what string, fn func()) {
	t.Helper()
	if t.Failed() {
		go fn()
		return
	}
	testkit.Within(t, testkit.Patience, what, fn)
}

// setup starts a test server, a pipeNet to it and a client on the pipeNet.
func setup(t *testing.T) (*testServer, *pipeNet, *rpc.Client) {
	ts := newTestServer(t)
	pn := serverNet(t, ts.Server)
	return ts, pn, newClient(t, pn.dial)
}

// ---------------------------------------------------------------------
// Calls.

// A pendingCall is a Call running on a goroutine of its own.
type pendingCall struct {
	*testkit.Op
	label  string
	result []byte
	err    error
}

// goCall starts c.Call(ctx, method, args) on a new goroutine. Read result
// and err only once the Op has finished.
func goCall(ctx context.Context, c *rpc.Client, method string, args []byte) *pendingCall {
	pc := &pendingCall{label: fmt.Sprintf("c.Call(ctx, %s, %s)", showText(method), showBytes(args))}
	pc.Op = testkit.Go(func() { pc.result, pc.err = c.Call(ctx, method, args) })
	return pc
}

// call makes a call that must succeed within testkit.Patience, and returns
// its result. why says why it must succeed.
func call(t *testing.T, c *rpc.Client, method string, args []byte, why string) []byte {
	t.Helper()
	pc := goCall(context.Background(), c, method, args)
	pc.Finishes(t, testkit.Patience, pc.label+" ("+why+")")
	require.NoError(t, pc.err, "%s = %v, want a result (%s)", pc.label, errText(pc.err), why)
	return pc.result
}

// callInt makes a call that must succeed and return one int64.
func callInt(t *testing.T, c *rpc.Client, method string, args []byte, why string) int64 {
	t.Helper()
	res := call(t, c, method, args, why)
	v, rest, err := rpc.ConsumeInt64(res)
	require.True(t, err == nil && len(rest) == 0, "c.Call(ctx, %q, %s) = %s, want the 8 bytes of one int64 (%s)", method, showBytes(args), showBytes(res), why)
	return v
}

// callErr makes a call that must fail within testkit.Patience, and returns
// its error.
func callErr(t *testing.T, ctx context.Context, c *rpc.Client, method string, args []byte, why string) error {
	t.Helper()
	pc := goCall(ctx, c, method, args)
	pc.Finishes(t, testkit.Patience, pc.label+" ("+why+")")
	require.Error(t, pc.err, "%s = %s, nil, want an error (%s)", pc.label, showBytes(pc.result), why)
	return pc.err
}

// errText names an error the way a student writes it.
func errText(err error) string {
	var re *rpc.RemoteError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &re):
		return fmt.Sprintf("&RemoteError{Msg: %s}", showText(re.Msg))
	case errors.Is(err, rpc.ErrUnknownMethod):
		return fmt.Sprintf("ErrUnknownMethod (%s)", showText(err.Error()))
	case errors.Is(err, rpc.ErrShutdown):
		return fmt.Sprintf("ErrShutdown (%s)", showText(err.Error()))
	case errors.Is(err, rpc.ErrConnLost):
		return fmt.Sprintf("ErrConnLost (%s)", showText(err.Error()))
	case errors.Is(err, rpc.ErrFrameTooLarge):
		return fmt.Sprintf("ErrFrameTooLarge (%s)", showText(err.Error()))
	case errors.Is(err, rpc.ErrBadFrame):
		return fmt.Sprintf("ErrBadFrame (%s)", showText(err.Error()))
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case err == io.EOF:
		return "io.EOF"
	}
	return fmt.Sprintf("error %s", showText(err.Error()))
}

// rawConn connects to srv.ServeConn through a pipe and lets the test write
// request frames and read reply frames itself. The pipe is closed, and
// ServeConn waited for, when the test ends.
type rawConn struct {
	conn   net.Conn
	served *testkit.Op
	err    error // what ServeConn returned
}

func newRawConn(t *testing.T, srv *rpc.Server) *rawConn {
	c, s := net.Pipe()
	rc := &rawConn{conn: c}
	rc.served = testkit.Go(func() { rc.err = srv.ServeConn(s) })
	t.Cleanup(func() {
		c.Close()
		cleanUp(t, "srv.ServeConn(conn), after the client closed conn,", func() { <-rc.served.Finished() })
	})
	return rc
}

// send writes frame within testkit.Patience.
func (rc *rawConn) send(t *testing.T, frame []byte, what string) {
	t.Helper()
	var err error
	testkit.Within(t, testkit.Patience, "writing "+what+" to the server (is ServeConn reading?)", func() { _, err = rc.conn.Write(frame) })
	require.NoError(t, err, "writing %s to the server", what)
}

// receive reads one reply frame within testkit.Patience.
func (rc *rawConn) receive(t *testing.T, what string) rpc.Reply {
	t.Helper()
	var r rpc.Reply
	var err error
	testkit.Within(t, testkit.Patience, "reading "+what+" from the server", func() { r, err = decodeReply(rc.conn) })
	require.NoError(t, err, "reading %s from the server", what)
	return r
}
