package mailbox

// Helpers for the hidden tests. They build on the helpers of the visible
// tests (mailbox_test.go), which the grader always compiles with these.

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/exercises/internal/testkit"
	"github.com/stretchr/testify/require"
)

// A crowd is a group of calls on mailboxes, each running on a goroutine of
// its own, that are expected to wait. The test watches them as a group:
// that none returns for a while (Quiet), then which ones return (All):
// testkit.Calls does the watching. Its calls (testkit.Call) print
// themselves as "full.Send(msg) = ErrDeleted".
type crowd struct{ *testkit.Calls[Message] }

func newCrowd() *crowd {
	return &crowd{testkit.NewCalls(show, errName)}
}

// receive starts box.Receive(); label names the call.
func (c *crowd) receive(label string, box *Mailbox) {
	c.StartValue(label, box.Receive)
}

// receiveContext starts box.ReceiveContext(ctx).
func (c *crowd) receiveContext(label string, ctx context.Context, box *Mailbox) {
	c.StartValue(label, func() (Message, error) { return box.ReceiveContext(ctx) })
}

// send starts box.Send(msg).
func (c *crowd) send(label string, box *Mailbox, msg Message) {
	c.StartErr(label, func() error { return box.Send(msg) })
}

// sendContext starts box.SendContext(ctx, msg).
func (c *crowd) sendContext(label string, ctx context.Context, box *Mailbox, msg Message) {
	c.StartErr(label, func() error { return box.SendContext(ctx, msg) })
}

// A handle is a mailbox and the name the test gives it in messages.
type handle struct {
	label string
	box   *Mailbox
}

// receiveContexts starts, for each handle h in order, h.box.ReceiveContext(ctx),
// labelled "<h.label>.ReceiveContext(ctx)".
func (c *crowd) receiveContexts(ctx context.Context, hs ...handle) {
	for _, h := range hs {
		c.receiveContext(h.label+".ReceiveContext(ctx)", ctx, h.box)
	}
}

// sendContexts starts, for each handle h in order, h.box.SendContext(ctx,
// msg), labelled "<h.label>.SendContext(ctx, msg)".
func (c *crowd) sendContexts(ctx context.Context, msg Message, hs ...handle) {
	for _, h := range hs {
		c.sendContext(h.label+".SendContext(ctx, msg)", ctx, h.box, msg)
	}
}

// problemList keeps the first five problems that goroutines other than the
// test's found, so that the test goroutine can report them once those
// goroutines are done.
type problemList struct {
	mu   sync.Mutex
	list []string
}

// add records a problem, described as fmt.Sprintf(format, args...).
func (p *problemList) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) < 5 {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

// String lists the problems, one a line, or returns "" if there were none.
func (p *problemList) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.list, "\n")
}

// Stress runs: many senders and many receivers on one mailbox.

// A stressConfig says how to run a stress test on one mailbox.
type stressConfig struct {
	capacity  int
	senders   int
	perSender int // messages each sender sends
	receivers int
	// mixed makes senders and receivers use every form of Send and
	// Receive in turn, including SendContext with deadlines so short that
	// some sends give up; otherwise they use Send and Receive only.
	mixed bool
	// desc, when set, describes the run instead.
	desc string
}

func (cfg stressConfig) String() string {
	if cfg.desc != "" {
		return cfg.desc
	}
	forms := "Send and Receive"
	if cfg.mixed {
		forms = "every form of Send and Receive, some SendContext with a very short deadline"
	}
	return fmt.Sprintf("%d senders each sending %d messages to one mailbox of capacity %s, %d receivers, using %s",
		cfg.senders, cfg.perSender, capName(cfg.capacity), cfg.receivers, forms)
}

// A stressResult is what happened in a stress run.
type stressResult struct {
	cfg stressConfig
	// sent[s][i] reports whether the Send of message i of sender s returned
	// nil, so that the message must be received exactly once.
	sent [][]bool
	// got[r] lists what receiver r received, in order, sentinels left out.
	got [][]Message
}

// stopFrom is the From of the messages that tell a receiver to stop.
const stopFrom = "stop"

// senderName is the From of the messages of sender s.
func senderName(s int) string { return fmt.Sprint("sender ", s) }

// encode writes sender s's message number i into body, which has 8 bytes.
func encode(body []byte, s, i int) {
	binary.BigEndian.PutUint32(body[0:4], uint32(s))
	binary.BigEndian.PutUint32(body[4:8], uint32(i))
}

// decode returns the sender and the number of a message of a stress run,
// or ok == false if msg is not one that any sender of cfg sent.
func (cfg stressConfig) decode(msg Message) (s, i int, ok bool) {
	if len(msg.Body) != 8 {
		return 0, 0, false
	}
	s = int(binary.BigEndian.Uint32(msg.Body[0:4]))
	i = int(binary.BigEndian.Uint32(msg.Body[4:8]))
	if s >= cfg.senders || i >= cfg.perSender || msg.From != senderName(s) {
		return 0, 0, false
	}
	return s, i, true
}

// describe prints a message of a stress run for failure messages.
func (cfg stressConfig) describe(msg Message) string {
	if s, i, ok := cfg.decode(msg); ok {
		return fmt.Sprintf("message %d of sender %d", i, s)
	}
	return fmt.Sprintf("%s, which no sender sent", show(msg))
}

// stress runs cfg and returns what every sender sent and every receiver
// received. It fails the test if a call returns an error it should not,
// or if the messages do not all arrive.
//
// Each sender reuses one buffer for all its messages, writing the next
// message into it as soon as a Send returns. Each receiver opens its own
// handle. Once every sender has finished, and the receivers have received
// as many messages as the senders delivered, the test sends one "stop"
// message for each receiver.
func stress(t *testing.T, cfg stressConfig) *stressResult {
	t.Helper()
	testkit.AtLeastProcs(t, 4)
	po := newOffice(t)
	create(t, po, "stress", cfg.capacity)
	total := cfg.senders * cfg.perSender
	res := &stressResult{cfg: cfg, sent: make([][]bool, cfg.senders), got: make([][]Message, cfg.receivers)}
	for s := range res.sent {
		res.sent[s] = make([]bool, cfg.perSender)
	}

	// live is the context of the context forms that must not give up.
	live, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Receivers. Each reports every message it receives on progress, and
	// its problems in found.
	var found problemList
	progress := make(chan struct{}, 2*total+cfg.receivers)
	ops := make([]*testkit.Op, cfg.receivers)
	for r := range ops {
		r := r
		ops[r] = testkit.Go(func() {
			box, err := po.Open("stress")
			if err != nil {
				found.add("receiver %d: po.Open(%q) = %s, want nil", r, "stress", errName(err))
				return
			}
			for call := 0; call < 2*total+cfg.receivers; call++ {
				var msg Message
				var err error
				form := "box.Receive()"
				switch {
				case cfg.mixed && call%3 == 1:
					form = "box.TryReceive()"
					msg, err = box.TryReceive()
					if testkit.Is(err, ErrWouldBlock) {
						form = "box.Receive(), after TryReceive found nothing,"
						msg, err = box.Receive()
					}
				case cfg.mixed && call%3 == 2:
					form = "box.ReceiveContext(ctx)"
					msg, err = box.ReceiveContext(live)
				default:
					msg, err = box.Receive()
				}
				if err != nil {
					found.add("receiver %d: %s = %s, want nil (the mailbox was never deleted, and ctx never cancelled)", r, form, errName(err))
					continue
				}
				if msg.From == stopFrom {
					return
				}
				res.got[r] = append(res.got[r], msg)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
			found.add("receiver %d received more than twice as many messages as were sent", r)
		})
	}

	// Senders.
	testkit.Together(t, cfg.senders, testkit.Patience, cfg.String(), func(s int) {
		box, err := po.Open("stress")
		if err != nil {
			found.add("sender %d: po.Open(%q) = %s, want nil", s, "stress", errName(err))
			return
		}
		msg := Message{From: senderName(s), Body: make([]byte, 8)}
		for i := 0; i < cfg.perSender; i++ {
			encode(msg.Body, s, i)
			var err error
			form := "box.Send"
			switch {
			case cfg.mixed && i%5 == 1:
				form = "box.TrySend"
				err = box.TrySend(msg)
				if testkit.Is(err, ErrWouldBlock) {
					form = "box.Send, after TrySend found no room,"
					err = box.Send(msg)
				}
			case cfg.mixed && i%5 == 2:
				form = "box.SendContext"
				err = box.SendContext(live, msg)
			case cfg.mixed && i%5 == 3:
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
				err = box.SendContext(ctx, msg)
				cancel()
				if testkit.Is(err, context.DeadlineExceeded) {
					continue // given up: the message must not be delivered
				}
				form = "box.SendContext, with a very short deadline,"
			default:
				err = box.Send(msg)
			}
			if err != nil {
				found.add("sender %d: %s(message %d) = %s, want nil", s, form, i, errName(err))
				continue
			}
			res.sent[s][i] = true
		}
	})
	if p := found.String(); p != "" {
		require.FailNow(t, "a sender or a receiver went wrong", "%s:\n%s", cfg, p)
	}

	delivered := 0
	for s := range res.sent {
		for _, ok := range res.sent[s] {
			if ok {
				delivered++
			}
		}
	}
	timer := time.NewTimer(testkit.Patience)
	defer timer.Stop()
	for n := 0; n < delivered; n++ {
		select {
		case <-progress:
		case <-timer.C:
			require.FailNow(t, "messages lost", "%s: the senders delivered %d messages, but the receivers had received only %d of them %v later (lost messages?)\n%s",
				cfg, delivered, n, testkit.Patience, found.String())
		}
	}
	for r := 0; r < cfg.receivers; r++ {
		send(t, open(t, po, "stress"), "box", Message{From: stopFrom}, "a message telling one receiver to stop, with every receiver waiting for more")
	}
	for r, op := range ops {
		op.Finishes(t, testkit.Patience, fmt.Sprintf("receiver %d, after one stop message for each receiver was sent (was a stop message lost, or received by two receivers?),", r))
	}
	if p := found.String(); p != "" {
		require.FailNow(t, "a sender or a receiver went wrong", "%s:\n%s", cfg, p)
	}
	return res
}

// checkExactlyOnce fails the test unless every message whose Send returned
// nil was received exactly once, and no other message was received.
func (res *stressResult) checkExactlyOnce(t *testing.T) {
	t.Helper()
	cfg := res.cfg
	count := make([][]int, cfg.senders)
	for s := range count {
		count[s] = make([]int, cfg.perSender)
	}
	var wrong []string
	for r, msgs := range res.got {
		for _, msg := range msgs {
			s, i, ok := cfg.decode(msg)
			if !ok {
				wrong = append(wrong, fmt.Sprintf("receiver %d received %s, which no sender sent", r, show(msg)))
				continue
			}
			count[s][i]++
		}
	}
	for s := range count {
		for i, n := range count[s] {
			switch {
			case res.sent[s][i] && n != 1:
				wrong = append(wrong, fmt.Sprintf("message %d of sender %d was received %d times, want exactly once (its Send returned nil)", i, s, n))
			case !res.sent[s][i] && n != 0:
				wrong = append(wrong, fmt.Sprintf("message %d of sender %d was received %d times, want never (its SendContext gave up with context.DeadlineExceeded)", i, s, n))
			}
		}
	}
	if len(wrong) > 0 {
		more := ""
		if len(wrong) > 5 {
			more = fmt.Sprintf("\n… and %d more", len(wrong)-5)
			wrong = wrong[:5]
		}
		require.FailNow(t, "messages not received exactly once", "%s:\n%s%s\n(each sender reuses one buffer for all its messages: a mailbox that does not copy a message on Send delivers whatever the buffer holds later)",
			cfg, strings.Join(wrong, "\n"), more)
	}
}

// checkOrder fails the test unless each receiver received the messages of
// each sender in the order they were sent.
func (res *stressResult) checkOrder(t *testing.T) {
	t.Helper()
	cfg := res.cfg
	for r, msgs := range res.got {
		last := make([]int, cfg.senders)
		for s := range last {
			last[s] = -1
		}
		for _, msg := range msgs {
			s, i, ok := cfg.decode(msg)
			if !ok {
				require.FailNow(t, "a message that no sender sent", "%s: receiver %d received %s, which no sender sent", cfg, r, show(msg))
			}
			if i <= last[s] {
				require.FailNow(t, "a sender's messages out of order", "%s: receiver %d received message %d of sender %d after message %d of the same sender, want them in the order they were sent",
					cfg, r, i, s, last[s])
			}
			last[s] = i
		}
	}
}
