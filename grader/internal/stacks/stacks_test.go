package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The recordings in testdata are the output of a test binary built with
// -race and -trimpath from the course's module, with the "deadlock"
// fixture's counter (TryInc calls Inc, which locks the mutex TryInc
// holds) and a reader blocked on an empty pipe:
//
//   - gaveup.txt: testkit.Together giving up on 5 goroutines calling
//     TryInc, with the dump testkit prints under DumpEnv;
//   - alarm.txt: the testing package's alarm (-test.timeout=3s) with 4
//     goroutines calling TryInc, one on the test's own goroutine;
//   - leak.txt: testkit.NoGoroutineLeaks reporting the reader and two
//     goroutines calling TryInc, as goleak prints them inside t.Errorf;
//   - quit.txt: the "hang-in-init" fixture's test binary, whose init
//     blocks in select {}, given SIGQUIT as the grader does when a test
//     outlives its limit without the alarm (a crash's dump, with runtime
//     frames and fp=, sp=, pc= on every frame).
func TestRecordedDumps(t *testing.T) {
	inc := Place{State: "sync.Mutex.Lock", Function: "Counter.Inc", At: "counter.go:19", From: "Counter.TryInc at counter.go:49"}
	tryInc := func(n int) Place {
		return Place{Goroutines: n, State: "sync.Mutex.Lock", Function: "Counter.TryInc", At: "counter.go:44"}
	}
	withCount := func(p Place, n int) Place { p.Goroutines = n; return p }
	for _, tt := range []struct {
		file  string
		want  *Summary
		lines []string
	}{
		{"gaveup.txt", &Summary{Kind: GaveUp, Places: []Place{tryInc(4), withCount(inc, 1)}}, []string{
			"where your code's goroutines were when the test stopped waiting:",
			"  4 goroutines wait in sync.Mutex.Lock at counter.go:44 (Counter.TryInc)",
			"  1 goroutine waits in sync.Mutex.Lock at counter.go:19 (Counter.Inc, called from Counter.TryInc at counter.go:49)",
		}},
		{"alarm.txt", &Summary{Kind: TimedOut, Places: []Place{tryInc(3), withCount(inc, 1)}}, []string{
			"where your code's goroutines were when the time ran out:",
			"  3 goroutines wait in sync.Mutex.Lock at counter.go:44 (Counter.TryInc)",
			"  1 goroutine waits in sync.Mutex.Lock at counter.go:19 (Counter.Inc, called from Counter.TryInc at counter.go:49)",
		}},
		{"quit.txt", &Summary{Kind: TimedOut, Places: []Place{
			{Goroutines: 1, State: "select (no cases)", Function: "init.0", At: "counter.go:13"},
		}}, []string{
			"where your code's goroutines were when the time ran out:",
			"  1 goroutine waits for ever in an empty select at counter.go:13 (init.0)",
		}},
		{"leak.txt", &Summary{Kind: Leaked, Places: []Place{
			{Goroutines: 1, State: "IO wait", Call: "os.File.Read", Function: "readAll", At: "read.go:8"},
			withCount(inc, 1),
			tryInc(1),
		}}, []string{
			"where the goroutines left running were:",
			"  1 goroutine waits for I/O in os.File.Read at read.go:8 (readAll)",
			"  1 goroutine waits in sync.Mutex.Lock at counter.go:19 (Counter.Inc, called from Counter.TryInc at counter.go:49)",
			"  1 goroutine waits in sync.Mutex.Lock at counter.go:44 (Counter.TryInc)",
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			got := Summarise(string(out))
			require.NotNil(t, got, "Summarise(%s) = nil, want a summary", tt.file)
			assert.Equal(t, tt.want, got, "Summarise(%s)", tt.file)
			assert.Equal(t, tt.lines, got.Lines(), "Summarise(%s).Lines()", tt.file)
		})
	}
}

// A goroutine trace that no trigger announced (a panic's) is no dump of
// interest, and a dump in which no goroutine is in the student's code
// says nothing.
func TestNothingToSay(t *testing.T) {
	panicTrace := `panic: boom

goroutine 7 [running]:
github.com/ipclab/ipclab/exercises/1-counter.(*Counter).Inc(0xc000094340)
	github.com/ipclab/ipclab/exercises/1-counter/counter.go:19 +0x31
created by github.com/ipclab/ipclab/exercises/1-counter.TestX in goroutine 6
	github.com/ipclab/ipclab/exercises/1-counter/counter_test.go:30 +0x1a5
`
	assert.Nil(t, Summarise(panicTrace), "a panic's trace")

	testOnly := `panic: test timed out after 3s
	running tests:
		TestX (3s)

goroutine 6 [chan receive]:
github.com/ipclab/ipclab/exercises/1-counter.TestX(0xc0000ea248)
	github.com/ipclab/ipclab/exercises/1-counter/counter_test.go:13 +0xdd
testing.tRunner(0xc0000ea248, 0x65e8d0)
	testing/testing.go:2036 +0x21d
created by testing.(*T).Run in goroutine 1
	testing/testing.go:2101 +0xb13
`
	assert.Nil(t, Summarise(testOnly), "a dump with only the test's goroutines")
	assert.Nil(t, (*Summary)(nil).Lines(), "a nil summary's lines")
}

// The last dump wins: a test that gave up once, recovered and gave up
// again reports the second.
func TestLastDumpWins(t *testing.T) {
	dump := func(state, fn string) string {
		return fmt.Sprintf(`%s
goroutine 9 [%s]:
github.com/ipclab/ipclab/exercises/3-buffer.%s(0xc000094340)
	github.com/ipclab/ipclab/exercises/3-buffer/buffer.go:19 +0x31
created by github.com/ipclab/ipclab/exercises/internal/testkit.Go in goroutine 6
	github.com/ipclab/ipclab/exercises/internal/testkit/testkit.go:80 +0x1a5

`, GaveUpMarker, state, fn)
	}
	got := Summarise(dump("sync.Cond.Wait", "(*Queue[...]).Put") + "    buffer_test.go:12: q.Put(1) did not return\n" + dump("chan receive", "(*Queue[...]).Get"))
	require.NotNil(t, got)
	assert.Equal(t, []Place{{Goroutines: 1, State: "chan receive", Function: "Queue[...].Get", At: "buffer.go:19"}}, got.Places)
}

// Which frames are the student's.
func TestIsStudent(t *testing.T) {
	for _, tt := range []struct {
		fn, file string
		want     bool
	}{
		{"github.com/ipclab/ipclab/exercises/1-counter.(*Counter).Inc(0xc0)", "github.com/ipclab/ipclab/exercises/1-counter/counter.go", true},
		{"github.com/ipclab/ipclab/exercises/1-counter.TestX(0xc0)", "github.com/ipclab/ipclab/exercises/1-counter/counter_test.go", false},
		{"github.com/ipclab/ipclab/exercises/internal/testkit.Go.func1()", "github.com/ipclab/ipclab/exercises/internal/testkit/testkit.go", false},
		{"github.com/ipclab/ipclab/exercises/shmview.(*View).Load(0x1)", "github.com/ipclab/ipclab/exercises/shmview/view.go", false},
		{"sync.(*Mutex).Lock(0x0?)", "sync/mutex.go", false},
		{"internal/sync.(*Mutex).lockSlow(0xc0)", "internal/sync/mutex.go", false},
		{"os.(*File).Read(0xc0, {0xc0, 0xa, 0xa})", "os/file.go", false},
		{"golang.org/x/sys/unix.Read(0x3, {0xc0, 0xa, 0xa})", "golang.org/x/sys/unix/syscall_unix.go", false},
		{"go.uber.org/goleak.Find({0x0, 0x0, 0x0})", "go.uber.org/goleak/leaks.go", false},
		{"main.main()", "_testmain.go", false},
	} {
		assert.Equal(t, tt.want, isStudent(tt.fn, tt.file), "isStudent(%q, %q)", tt.fn, tt.file)
	}
}

// A dump is untrusted output: a forged one with a million distinct places
// costs a bounded amount of memory, and the summary lists at most
// MaxPlaces places and counts the rest.
func TestForgedDumpIsBounded(t *testing.T) {
	var c Collector
	c.Line(GaveUpMarker)
	const n = 10000
	for i := 0; i < n; i++ {
		c.Line(fmt.Sprintf("goroutine %d [select]:", i))
		c.Line(fmt.Sprintf("github.com/x/y.F%d()", i))
		c.Line(fmt.Sprintf("\tgithub.com/x/y/y.go:%d +0x1", i))
		c.Line("")
	}
	assert.LessOrEqual(t, len(c.counts), maxKeys, "distinct places kept")
	s := c.Summary()
	require.NotNil(t, s)
	assert.Len(t, s.Places, MaxPlaces)
	total := s.More
	for _, p := range s.Places {
		total += p.Goroutines
	}
	assert.Equal(t, n, total, "goroutines listed plus those counted in More")
	assert.Equal(t, fmt.Sprintf("  and %d more elsewhere", n-MaxPlaces), s.Lines()[len(s.Lines())-1])
}

// The phrases for each state, singular and plural.
func TestPlaceString(t *testing.T) {
	for _, tt := range []struct {
		p    Place
		want string
	}{
		{Place{Goroutines: 47, State: "sync.Mutex.Lock", Function: "Counter.TryInc", At: "counter.go:29"}, "47 goroutines wait in sync.Mutex.Lock at counter.go:29 (Counter.TryInc)"},
		{Place{Goroutines: 1, State: "running", Function: "Counter.TryInc", At: "counter.go:31"}, "1 goroutine is running (a loop that never waits?) at counter.go:31 (Counter.TryInc)"},
		{Place{Goroutines: 2, State: "sync.Cond.Wait", Function: "Queue[...].Put", At: "buffer.go:40"}, "2 goroutines wait in sync.Cond.Wait at buffer.go:40 (Queue[...].Put)"},
		{Place{Goroutines: 1, State: "chan send", Function: "Network.Send", At: "direct.go:12"}, "1 goroutine waits to send on a channel at direct.go:12 (Network.Send)"},
		{Place{Goroutines: 3, State: "syscall", Call: "os.OpenFile", Function: "Request", At: "fifo.go:80"}, "3 goroutines are in a system call in os.OpenFile at fifo.go:80 (Request)"},
		{Place{Goroutines: 1, State: "select (no cases)", Function: "init.0", At: "x.go:3"}, "1 goroutine waits for ever in an empty select at x.go:3 (init.0)"},
		{Place{Goroutines: 2, State: "GC assist wait", Function: "F", At: "x.go:3"}, "2 goroutines wait (GC assist wait) at x.go:3 (F)"},
	} {
		assert.Equal(t, tt.want, tt.p.String())
	}
}

// testkit prints the dump under the variable and with the marker this
// package looks for; the two live in different modules, so this test keeps
// them in step.
func TestTestkitAgrees(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "exercises", "internal", "testkit", "testkit.go"))
	require.NoError(t, err)
	for _, s := range []string{`DumpEnv = "` + DumpEnv + `"`, `dumpMarker = "` + GaveUpMarker + `"`} {
		assert.True(t, strings.Contains(string(src), s), "testkit.go does not declare %s", s)
	}
}

// The runtime's own verdict, when every goroutine is blocked (possible
// before the testing package's alarm exists: in an init function).
func TestAllAsleep(t *testing.T) {
	out := `fatal error: all goroutines are asleep - deadlock!

goroutine 1 [sync.Mutex.Lock, locked to thread]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	runtime/sema.go:95 +0x25
sync.(*Mutex).Lock(...)
	sync/mutex.go:46
github.com/ipclab/ipclab/exercises/1-counter.init.0()
	github.com/ipclab/ipclab/exercises/1-counter/counter.go:9 +0x6c
`
	got := Summarise(out)
	require.NotNil(t, got)
	assert.Equal(t, []string{
		"where your code's goroutines were when every goroutine was blocked (a deadlock):",
		"  1 goroutine waits in sync.Mutex.Lock at counter.go:9 (init.0)",
	}, got.Lines())
}
