// Package testjson reads the event streams that `go test -json` and
// `go tool test2json` print, and turns them into one outcome per top-level
// test.
//
// The stream is untrusted: it carries whatever the code under test printed.
// A test counts as passed only on a "pass" event for that test; a test
// whose stream ends without a final event (the process was killed, crashed
// or exited early) has [NoResult], which the grader scores as a failure.
// A submission cannot forge a pass by printing: see the grader's run
// package for the exit-status check that backs this up.
package testjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/ipclab/ipclab/grader/internal/stacks"
)

// An Event is one line of a test2json stream. See `go doc test2json`.
type Event struct {
	Time    time.Time `json:",omitempty"`
	Action  string
	Package string  `json:",omitempty"`
	Test    string  `json:",omitempty"`
	Elapsed float64 `json:",omitempty"`
	Output  string  `json:",omitempty"`
	// ImportPath and FailedBuild tie build failures to a package
	// (go test -json, Go 1.24 and later).
	ImportPath  string `json:",omitempty"`
	FailedBuild string `json:",omitempty"`
}

// Actions that end a test.
const (
	ActionPass = "pass"
	ActionFail = "fail"
	ActionSkip = "skip"
)

// An Outcome is how a test ended.
type Outcome int

// Outcomes, from best to worst.
const (
	// NoResult: the stream holds no final event for the test.
	NoResult Outcome = iota
	Passed
	Failed
	Skipped
)

func (o Outcome) String() string {
	switch o {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return "no result"
}

// A Result is what the stream says about one top-level test.
type Result struct {
	Name    string
	Outcome Outcome
	Elapsed time.Duration
	// Output is everything the test and its subtests printed, in order,
	// with the "=== RUN" and "--- PASS" framing lines left out.
	Output string
	// Stacks summarises the last goroutine dump in the test's output
	// (the alarm of a time-out, a bounded wait that gave up, the leak
	// check), read from all of it, not only from what Output kept; nil
	// when there is none.
	Stacks *stacks.Summary
}

// A Report is a whole stream, read.
type Report struct {
	// Tests holds the top-level tests, in the order they started.
	Tests []*Result
	// Output is what was printed outside any test: build errors, a panic
	// in init, the final PASS/FAIL line, the race detector's summary.
	Output string
	// Malformed counts lines that were not JSON events (a stream cut off
	// by the output limit ends with one).
	Malformed int
	// Finished reports whether the stream holds the package's final
	// pass or fail event, that is, whether the test binary ran to its end.
	Finished bool
	// Passed reports whether that final event was a pass.
	Passed bool
	// Stacks summarises the last goroutine dump printed outside any test.
	Stacks *stacks.Summary
}

// Test returns the result of the named top-level test, or nil.
func (r *Report) Test(name string) *Result {
	for _, t := range r.Tests {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// maxOutput bounds the output kept per test and for the package: a test
// that prints without end must not exhaust the grader's memory.
const maxOutput = 64 << 10

// Read parses a stream. It never fails on bad input: lines that are not
// events are counted in Malformed and otherwise ignored.
func Read(r io.Reader) (*Report, error) {
	rep := &Report{}
	outputs := map[string]*limitedBuffer{}
	dumps := map[string]*stacks.Collector{}
	var pkgOut limitedBuffer
	var pkgDump stacks.Collector
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			rep.Malformed++
			continue
		}
		top, _, _ := strings.Cut(ev.Test, "/")
		if top == "" {
			switch ev.Action {
			case "output", "build-output":
				pkgOut.WriteString(ev.Output)
				pkgDump.Line(ev.Output)
			case ActionPass, ActionFail:
				rep.Finished = true
				rep.Passed = ev.Action == ActionPass
			}
			continue
		}
		res := rep.Test(top)
		if res == nil {
			res = &Result{Name: top}
			rep.Tests = append(rep.Tests, res)
			outputs[top] = &limitedBuffer{}
			dumps[top] = &stacks.Collector{}
		}
		switch ev.Action {
		case "output":
			if !isFraming(ev.Output) {
				outputs[top].WriteString(ev.Output)
				dumps[top].Line(ev.Output)
			}
		case ActionPass, ActionFail, ActionSkip:
			if ev.Test != top {
				continue // a subtest; its parent's event decides
			}
			res.Outcome = map[string]Outcome{ActionPass: Passed, ActionFail: Failed, ActionSkip: Skipped}[ev.Action]
			res.Elapsed = time.Duration(ev.Elapsed * float64(time.Second))
		}
	}
	if err := sc.Err(); err != nil && err != bufio.ErrTooLong {
		return nil, err
	}
	for _, t := range rep.Tests {
		t.Output = outputs[t.Name].String()
		t.Stacks = dumps[t.Name].Summary()
	}
	rep.Output = pkgOut.String()
	rep.Stacks = pkgDump.Summary()
	return rep, nil
}

// isFraming reports whether a line of output is one of the testing
// package's own status lines, which say nothing a reader needs.
func isFraming(line string) bool {
	s := strings.TrimLeft(line, " ")
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// limitedBuffer keeps the first maxOutput bytes written to it and notes
// that it dropped the rest.
type limitedBuffer struct {
	buf       strings.Builder
	truncated bool
}

func (b *limitedBuffer) WriteString(s string) {
	if room := maxOutput - b.buf.Len(); len(s) > room {
		s = s[:max(room, 0)]
		b.truncated = true
	}
	b.buf.WriteString(s)
}

func (b *limitedBuffer) String() string {
	if b.truncated {
		return b.buf.String() + "\n[output truncated]\n"
	}
	return b.buf.String()
}
