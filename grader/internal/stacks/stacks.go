// Package stacks turns the goroutine dumps in a test's output into a few
// lines a student can act on: where the goroutines of the student's code
// were, and what they waited on, when a test ran out of time.
//
// A test process prints every goroutine's stack in the cases that matter
// here: the testing package's alarm when a test outlives its -test.timeout
// ("panic: test timed out after …"), the Go runtime on the SIGQUIT the
// grader sends a process that outlived its limit without that alarm (it
// hangs before its first test), the runtime again when it finds every
// goroutine blocked, the tests' helpers (testkit) when a bounded wait
// gives up, and the leak check (goleak) for the goroutines a test left
// behind. A [Collector] reads the output line
// by line as it streams, so a dump far longer than the output the grader
// keeps is still counted in full, and keeps only counts: for each distinct
// place in the student's code, how many goroutines were there and in
// which state.
//
// Which code is the student's is decided from the frames alone: the
// innermost frame of a function whose import path names a host (it has a
// dot in its first element, so not the standard library), outside the
// course's own helpers and its test libraries, in a file that is not a
// _test.go file. A goroutine with no such frame (the test's own, the
// alarm, a helper's) is left out.
//
// The dump is untrusted, like all output of a test: a submission can print
// a fake one. That changes only the feedback it gets about itself.
package stacks

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A Kind is why the goroutines were dumped.
type Kind string

// Kinds of dump.
const (
	// TimedOut: the testing package's alarm, at the test's time limit.
	TimedOut Kind = "timed out"
	// GaveUp: a bounded wait of the tests gave up (testkit).
	GaveUp Kind = "gave up"
	// Leaked: goroutines still running after the test ended (goleak).
	Leaked Kind = "leaked"
	// Deadlocked: the runtime found every goroutine blocked, and ended
	// the process ("all goroutines are asleep"); before the testing
	// package starts (in an init function) nothing keeps that from being
	// seen.
	Deadlocked Kind = "deadlocked"
)

// DumpEnv is the environment variable under which the tests' helpers
// dump the goroutines when a bounded wait gives up (testkit.DumpEnv).
const DumpEnv = "IPCLAB_DUMP_GOROUTINES"

// GaveUpMarker is the line the tests' helpers print before the dump they
// make when a bounded wait gives up.
const GaveUpMarker = "testkit: the goroutines when the wait gave up:"

// A Place is a line of the student's code where goroutines were found in
// the same state.
type Place struct {
	// Goroutines is how many were there.
	Goroutines int `json:"goroutines"`
	// State is the runtime's word for what they were doing:
	// "sync.Mutex.Lock", "sync.Cond.Wait", "chan receive", "IO wait",
	// "running"…
	State string `json:"state"`
	// Call is the library function they were in, when the state does not
	// say what they wait for: "os.File.Read" for "IO wait", "os.OpenFile"
	// for "syscall" (empty otherwise).
	Call string `json:"call,omitempty"`
	// Function is the student's function: "Counter.TryInc".
	Function string `json:"function"`
	// At is the file and line in it: "counter.go:29".
	At string `json:"at"`
	// From is where the student's code called Function, when that is the
	// student's code too: "Counter.TryInc at counter.go:52". A method
	// that locks and then calls another that locks again shows here.
	From string `json:"from,omitempty"`
}

// String says it in a line: "47 goroutines wait in sync.Mutex.Lock at
// counter.go:29 (Counter.TryInc)".
func (p Place) String() string {
	one, many := p.doing()
	verb := many
	noun := "goroutines"
	if p.Goroutines == 1 {
		verb, noun = one, "goroutine"
	}
	from := ""
	if p.From != "" {
		from = ", called from " + p.From
	}
	return fmt.Sprintf("%d %s %s at %s (%s%s)", p.Goroutines, noun, verb, p.At, p.Function, from)
}

// doing phrases the state, for one goroutine and for several.
func (p Place) doing() (one, many string) {
	in := ""
	if p.Call != "" {
		in = " in " + p.Call
	}
	switch s := p.State; {
	case strings.HasPrefix(s, "sync."):
		return "waits in " + s, "wait in " + s
	case s == "chan receive":
		return "waits to receive from a channel", "wait to receive from a channel"
	case s == "chan send":
		return "waits to send on a channel", "wait to send on a channel"
	case s == "chan receive (nil chan)", s == "chan send (nil chan)":
		return "waits for ever on a nil channel", "wait for ever on a nil channel"
	case s == "select":
		return "waits in a select", "wait in a select"
	case s == "select (no cases)":
		return "waits for ever in an empty select", "wait for ever in an empty select"
	case s == "IO wait":
		return "waits for I/O" + in, "wait for I/O" + in
	case s == "syscall":
		return "is in a system call" + in, "are in a system call" + in
	case s == "sleep":
		return "sleeps" + in, "sleep" + in
	case s == "running", s == "runnable":
		return "is running (a loop that never waits?)", "are running (a loop that never waits?)"
	case s == "semacquire":
		return "waits for a semaphore" + in, "wait for a semaphore" + in
	}
	return "waits (" + p.State + ")" + in, "wait (" + p.State + ")" + in
}

// A Summary is one dump, summarised.
type Summary struct {
	Kind Kind `json:"kind"`
	// Places are the places in the student's code, the most crowded
	// first, at most MaxPlaces of them.
	Places []Place `json:"places"`
	// More counts the goroutines at places left out of Places.
	More int `json:"more,omitempty"`
}

// MaxPlaces bounds the places a summary lists.
const MaxPlaces = 6

// maxKeys bounds the distinct places a collector counts: a dump is
// untrusted output and may name a million made-up places.
const maxKeys = 256

// Lines says the summary in lines, with a heading: what the report of a
// test adds to its message.
func (s *Summary) Lines() []string {
	if s == nil || len(s.Places) == 0 {
		return nil
	}
	head := map[Kind]string{
		TimedOut:   "where your code's goroutines were when the time ran out:",
		GaveUp:     "where your code's goroutines were when the test stopped waiting:",
		Leaked:     "where the goroutines left running were:",
		Deadlocked: "where your code's goroutines were when every goroutine was blocked (a deadlock):",
	}[s.Kind]
	lines := []string{head}
	for _, p := range s.Places {
		lines = append(lines, "  "+p.String())
	}
	if s.More > 0 {
		lines = append(lines, fmt.Sprintf("  and %d more elsewhere", s.More))
	}
	return lines
}

var (
	// header is a goroutine's first line in a runtime dump:
	// "goroutine 7 [chan receive, 2 minutes]:"; in a crash's (SIGQUIT)
	// "goroutine 7 gp=0xc000 m=nil [chan receive]:".
	header = regexp.MustCompile(`^goroutine \d+ (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[([^\]]*)\]:$`)
	// goleakHeader is the same in goleak's report: "[Goroutine 7 in state
	// chan receive, with x.y on top of the stack:".
	goleakHeader = regexp.MustCompile(`Goroutine \d+ in state ([^,]*), with .* on top of the stack:$`)
	// fileLine is a frame's second line: "/x/counter.go:29 +0x9b", with
	// " fp=0xc0 sp=0xc0 pc=0x4a" after it in a crash's dump.
	// The runtime's own frames may be in assembly: "asm_amd64.s:496".
	fileLine = regexp.MustCompile(`^(\S*\.\w+):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=\S+ sp=\S+ pc=\S+)?$`)
	// timedOut is the testing package's alarm.
	timedOut = regexp.MustCompile(`^panic: test timed out after `)
)

// A Collector reads a test's output, a line at a time, and summarises the
// last dump in it that followed one of the three triggers.
type Collector struct {
	pending Kind // a trigger seen, its dump not yet begun
	kind    Kind // the kind of the dump being read, "" when none
	inDump  bool
	counts  map[Place]int
	order   []Place
	dropped int

	// The goroutine being read.
	g         bool // a goroutine is being read
	state     string
	fn        string // a frame's function line, waiting for its file line
	prevFn    string // the frame above, for Call
	found     bool   // the student's frame was found
	cur       *Place // that frame's place, until its caller is known
	createdBy bool
}

// Line feeds one line of output, with or without its newline.
func (c *Collector) Line(line string) {
	line = strings.TrimRight(line, "\r\n")
	t := strings.TrimSpace(line)
	switch {
	case timedOut.MatchString(t), t == "SIGQUIT: quit":
		// The testing package's alarm, or the grader's SIGQUIT to a
		// test process that outlived its limit without the alarm.
		c.trigger(TimedOut)
		return
	case t == "fatal error: all goroutines are asleep - deadlock!":
		c.trigger(Deadlocked)
		return
	case strings.HasSuffix(t, GaveUpMarker):
		c.trigger(GaveUp)
		return
	case strings.Contains(t, "found unexpected goroutines:"):
		c.trigger(Leaked)
		return
	}
	if m := header.FindStringSubmatch(t); m != nil {
		c.begin(m[1])
		return
	}
	if m := goleakHeader.FindStringSubmatch(t); m != nil {
		c.begin(m[1])
		return
	}
	if !c.inDump {
		return
	}
	switch {
	case t == "" || t == "]" || strings.HasPrefix(t, "...") || strings.HasPrefix(t, "[originating from"):
		// Between goroutines, the end of goleak's list, elided frames.
	case fileLine.MatchString(t):
		c.frame(t)
	case strings.HasPrefix(t, "created by "):
		c.commit()
		c.createdBy = true
	case c.g && c.fn == "" && !c.createdBy:
		c.fn = t
	default:
		// Something else: the dump has ended.
		c.end()
		c.inDump = false
	}
}

func (c *Collector) trigger(k Kind) {
	c.end()
	c.inDump = false
	c.pending = k
}

// begin starts a goroutine, and a new dump if this is the first goroutine
// after a trigger.
func (c *Collector) begin(state string) {
	c.end()
	if c.pending != "" {
		c.kind, c.pending = c.pending, ""
		c.inDump = true
		c.counts, c.order, c.dropped = map[Place]int{}, nil, 0
	}
	if !c.inDump {
		// A goroutine outside a dump of interest: a panic's trace.
		return
	}
	state, _, _ = strings.Cut(state, ",")
	c.g, c.state, c.fn, c.prevFn, c.found, c.createdBy = true, state, "", "", false, false
	c.cur = nil
}

// frame takes a frame's file line, the function line being in c.fn.
func (c *Collector) frame(fileAndLine string) {
	if !c.g || c.found || c.createdBy || c.fn == "" {
		c.fn = ""
		return
	}
	fn := c.fn
	c.fn = ""
	m := fileLine.FindStringSubmatch(fileAndLine)
	file, line := m[1], m[2]
	student := isStudent(fn, file)
	if c.cur != nil {
		// The caller of the student's frame.
		if student {
			c.cur.From = shortFunc(fn) + " at " + baseName(file) + ":" + line
		}
		c.commit()
		return
	}
	if !student {
		c.prevFn = fn
		return
	}
	c.cur = &Place{State: c.state, Function: shortFunc(fn), At: baseName(file) + ":" + line}
	if namesCall(c.state) && c.prevFn != "" {
		c.cur.Call = libraryCall(c.prevFn)
	}
}

// namesCall reports whether a state leaves the call a goroutine waits in
// unsaid ("IO wait": reading what?). A running goroutine's frame above
// the student's is wherever it was preempted, which says nothing and
// changes from one dump to the next.
func namesCall(state string) bool {
	switch {
	case strings.HasPrefix(state, "sync."), strings.HasPrefix(state, "chan "), strings.HasPrefix(state, "select"),
		state == "running", state == "runnable":
		return false
	}
	return true
}

// commit counts the place of the goroutine being read, once found.
func (c *Collector) commit() {
	if c.cur == nil || c.found {
		return
	}
	p := *c.cur
	c.cur, c.found = nil, true
	if _, ok := c.counts[p]; !ok {
		if len(c.counts) >= maxKeys {
			c.dropped++
			return
		}
		c.order = append(c.order, p)
	}
	c.counts[p]++
}

// end closes the goroutine being read.
func (c *Collector) end() {
	c.commit()
	c.g = false
}

// Summary returns the last dump's summary, or nil when no dump followed a
// trigger or none of its goroutines was in the student's code.
func (c *Collector) Summary() *Summary {
	c.end()
	if c.kind == "" || len(c.order) == 0 {
		return nil
	}
	places := make([]Place, 0, len(c.order))
	for _, p := range c.order {
		p.Goroutines = c.counts[p]
		places = append(places, p)
	}
	// The most crowded first; a stable order otherwise, the dump's.
	slices.SortStableFunc(places, func(a, b Place) int { return cmp.Compare(b.Goroutines, a.Goroutines) })
	s := &Summary{Kind: c.kind, More: c.dropped}
	if len(places) > MaxPlaces {
		for _, p := range places[MaxPlaces:] {
			s.More += p.Goroutines
		}
		places = places[:MaxPlaces]
	}
	s.Places = places
	return s
}

// Summarise reads a whole output at once.
func Summarise(output string) *Summary {
	var c Collector
	for _, line := range strings.Split(output, "\n") {
		c.Line(line)
	}
	return c.Summary()
}

// notStudent lists the import paths whose code is never the student's:
// the course's helpers and trusted packages, and the libraries the tests
// and solutions use.
var notStudent = []string{
	"github.com/ipclab/ipclab/exercises/internal/",
	"github.com/ipclab/ipclab/exercises/shmview",
	"go.uber.org/",
	"golang.org/x/",
	"github.com/stretchr/",
	"github.com/rogpeppe/",
}

// isStudent reports whether a frame is in the student's code.
func isStudent(fn, file string) bool {
	if strings.HasSuffix(file, "_test.go") || strings.HasSuffix(file, "_testmain.go") {
		return false
	}
	first, _, slash := strings.Cut(fn, "/")
	if !slash || !strings.Contains(first, ".") {
		return false // the standard library, or the test's main
	}
	for _, p := range notStudent {
		if strings.HasPrefix(fn, p) {
			return false
		}
	}
	return true
}

// funcName drops a frame's arguments: "x.(*C).Spin(0xc0, 0x3)" becomes
// "x.(*C).Spin".
func funcName(fn string) string {
	if i := strings.LastIndex(fn, "("); i > 0 && strings.HasSuffix(fn, ")") {
		fn = fn[:i]
	}
	return fn
}

// shortFunc names a student's function without its package path and
// pointer syntax: "github.com/x/exercises/1-counter.(*Counter).TryInc(…)"
// becomes "Counter.TryInc".
func shortFunc(fn string) string {
	fn = funcName(fn)
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		fn = fn[i+1:]
	}
	if _, rest, ok := strings.Cut(fn, "."); ok {
		fn = rest
	}
	return strings.NewReplacer("(*", "", ")", "").Replace(fn)
}

// libraryCall names the library function a goroutine was in: "os.(*File).Read(…)"
// becomes "os.File.Read", "internal/poll.(*FD).Read" becomes "poll.FD.Read".
func libraryCall(fn string) string {
	fn = funcName(fn)
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		fn = fn[i+1:]
	}
	return strings.NewReplacer("(*", "", ")", "").Replace(fn)
}

// baseName is the last element of a path, either separator.
func baseName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}
