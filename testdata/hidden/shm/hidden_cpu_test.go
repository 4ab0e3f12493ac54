//go:build unix

package shm

// Hidden test of waiting: a process that waits for another one must not
// keep a processor busy.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	childproc.Register("wait", waitRole)
	childproc.Register("spin", spinRole)
}

// Where TestWaitingUsesNoCPU keeps its rings and its Mutex.
const (
	waitSegSize   = 3 * 4096
	waitRecvOff   = 0
	waitSendOff   = 4096
	waitMutexOff  = 8192
	waitRingSize  = RingHeader + 256
	waitMessage   = "time to go"
	waitFillBytes = waitRingSize - RingHeader - RecordHeader
)

// waitRole: args what, name. The child waits in one call that only the
// test can end, and measures the CPU time its whole process uses
// meanwhile. what is
//
//	receive  r.Receive on the empty ring at waitRecvOff
//	send     r.Send on the ring at waitSendOff, after filling it up
//	lock     m.Lock on the Mutex at waitMutexOff, which the test holds
//
// It prints "waiting" just before the call and, once the call returns,
// "returned <cpu ns> <wall ns>".
func waitRole(args []string) int {
	what := args[0]
	seg, ok := openInChild(args[1])
	if !ok {
		return 1
	}
	var call func() error
	switch what {
	case "receive":
		r := RingAt(seg, waitRecvOff, waitRingSize)
		call = func() error {
			buf := make([]byte, 64)
			n, err := r.Receive(buf)
			if err != nil || string(buf[:n]) != waitMessage {
				return fmt.Errorf("r.Receive(buf) = %q, %s; want %q, nil", buf[:n], errName(err), waitMessage)
			}
			return nil
		}
	case "send":
		r := RingAt(seg, waitSendOff, waitRingSize)
		if err := r.Send(bytes.Repeat([]byte("f"), waitFillBytes)); err != nil {
			fmt.Printf("bad r.Send(%d bytes) = %s on an empty ring of %d, want nil\n", waitFillBytes, errName(err), waitRingSize-RingHeader)
			return 1
		}
		call = func() error {
			if err := r.Send([]byte(waitMessage)); err != nil {
				return fmt.Errorf("r.Send(%q) = %s, want nil", waitMessage, errName(err))
			}
			return nil
		}
	case "lock":
		m := MutexAt(seg, waitMutexOff)
		call = func() error {
			m.Lock()
			m.Unlock()
			return nil
		}
	}
	fmt.Println("waiting")
	cpu0, wall0 := testkit.CPUTime(), time.Now()
	err := call()
	cpu, wall := testkit.CPUTime()-cpu0, time.Since(wall0)
	if err != nil {
		fmt.Println("bad", err)
		return 1
	}
	fmt.Println("returned", int64(cpu), int64(wall))
	return 0
}

// spinRole: args d, a duration. The child keeps one goroutine busy for d,
// prints "spinning" when it starts, and then "spun <cpu ns> <wall ns>":
// the CPU time its process got meanwhile, which is what a waiter that
// spins gets on this machine at this moment.
func spinRole(args []string) int {
	d, err := time.ParseDuration(args[0])
	if err != nil {
		panic(err)
	}
	fmt.Println("spinning")
	cpu0, wall0 := testkit.CPUTime(), time.Now()
	for time.Since(wall0) < d {
	}
	fmt.Println("spun", int64(testkit.CPUTime()-cpu0), int64(time.Since(wall0)))
	return 0
}

// cpuReport parses a child's "<word> <cpu ns> <wall ns>" line.
func cpuReport(t *testing.T, c *child, line string) (cpu, wall time.Duration) {
	t.Helper()
	f := strings.Fields(line) // f[0] is the word waitLine found
	bad := fmt.Sprintf("%s printed %q, want \"%s <cpu ns> <wall ns>\"", c.name, line, f[0])
	require.Len(t, f, 3, bad)
	cpuNS, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err, bad)
	wallNS, err := strconv.ParseInt(f[2], 10, 64)
	require.NoError(t, err, bad)
	require.Positive(t, wallNS, bad)
	return time.Duration(cpuNS), time.Duration(wallNS)
}

// TestWaitingUsesNoCPU starts three processes that wait on the test: one
// in Receive on an empty ring, one in Send on a full ring, one in Lock on
// a Mutex the test holds. Each measures the CPU time its process uses
// while it waits. Nothing can wake a process that waits on plain memory,
// so it has to look again now and then; but a loop that looks again at
// once, or that only calls runtime.Gosched (which returns at once when no
// other goroutine wants to run), keeps a processor busy for as long as it
// waits.
//
// How much CPU time a spinning process gets depends on how busy the
// machine is, so a fourth process spins on purpose meanwhile, and a
// waiting process may use only a small part of what that one got.
func TestWaitingUsesNoCPU(t *testing.T) {
	const window = time.Second
	// Never ask for less than this share of a processor: a process that
	// looks again every millisecond or two, plus the runtime's
	// housekeeping and the race detector's, costs a little.
	const floor = 0.015

	name := newName(t)
	seg := create(t, name, waitSegSize)
	m := MutexAt(seg, waitMutexOff)
	m.Lock()
	kids := map[string]*child{}
	for _, what := range []string{"receive", "send", "lock"} {
		kids[what] = startChild(t, "the process waiting in "+what, "wait", what, name)
	}
	for _, what := range []string{"receive", "send", "lock"} {
		kids[what].waitLine(t, testkit.Patience, "waiting")
	}
	spinner := startChild(t, "the spinning process", "spin", window.String())
	spinner.waitLine(t, testkit.Patience, "spinning")
	spun := spinner.waitLine(t, testkit.Patience+window, "spun ")
	spinCPU, spinWall := cpuReport(t, spinner, spun)
	busy := spinCPU.Seconds() / spinWall.Seconds()
	limit := max(busy/3, floor)
	kids["receive"].quiet(t, time.Millisecond, "returned", "r.Receive(buf) on an empty ring")
	kids["send"].quiet(t, time.Millisecond, "returned", "r.Send(msg) on a full ring")
	kids["lock"].quiet(t, time.Millisecond, "returned", "m.Lock() on a Mutex the test holds")

	// Let them all go.
	p := RingAt(seg, waitRecvOff, waitRingSize)
	testkit.Within(t, testkit.Patience, "r.Send(msg) into an empty ring", func() {
		err := p.Send([]byte(waitMessage))
		assert.NoError(t, err, "r.Send(%q) = %s, want nil", waitMessage, errName(err))
	})
	c := RingAt(seg, waitSendOff, waitRingSize)
	testkit.Within(t, testkit.Patience, "r.Receive(buf) from a full ring", func() {
		n, err := c.Receive(make([]byte, waitFillBytes))
		if assert.NoError(t, err, "r.Receive(buf) = %d, %s from the full ring, want %d, nil", n, errName(err), waitFillBytes) {
			assert.Equal(t, waitFillBytes, n, "r.Receive(buf) = %d, %s from the full ring, want %d, nil", n, errName(err), waitFillBytes)
		}
	})
	m.Unlock()

	calls := map[string]string{
		"receive": "r.Receive(buf) on an empty ring",
		"send":    "r.Send(msg) on a full ring",
		"lock":    "m.Lock() on a Mutex held by another process",
	}
	for _, what := range []string{"receive", "send", "lock"} {
		k := kids[what]
		line := k.waitLine(t, testkit.Patience, "returned ")
		k.noProblems(t)
		cpu, wall := cpuReport(t, k, line)
		share := cpu.Seconds() / wall.Seconds()
		t.Logf("%s: waited %v and used %v of CPU time (%.1f%% of a processor); a process that spun meanwhile got %.1f%%; the limit was %.1f%%",
			calls[what], wall.Round(time.Millisecond), cpu, 100*share, 100*busy, 100*limit)
		assert.LessOrEqual(t, share, limit, "a process waiting in %s for %v used %v of CPU time, %.1f%% of a processor (a process that spun meanwhile got %.1f%% on this machine; the limit is %.1f%%): a waiting process must sleep between looks (time.Sleep, backing off to a millisecond or two), not spin or only call runtime.Gosched",
			calls[what], wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*share, 100*busy, 100*limit)
		k.wait(t, testkit.Patience)
	}
	spinner.wait(t, testkit.Patience)
}
