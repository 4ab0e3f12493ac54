package testjson

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Limits on a failure message: enough to act on, short enough for a
// gradebook cell and the Classroom reporter.
const (
	maxMessageLines = 12
	maxMessageBytes = 1500
)

var (
	// assertion matches what t.Errorf and t.Fatalf print: "    file_test.go:42: message".
	assertion = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: `)
	// timedOut matches the testing package's alarm.
	timedOut = regexp.MustCompile(`^panic: test timed out after (\S+)`)
)

// Failure distils a failed test's output into a short message a student
// can act on: the race detector's verdict, a panic, a time-out, or the
// test's own assertion messages. It returns "" when the output holds
// nothing recognisable.
func Failure(output string) string {
	lines := strings.Split(strings.ReplaceAll(output, "\r\n", "\n"), "\n")
	var msg []string
	add := func(s string) {
		if len(msg) < maxMessageLines {
			msg = append(msg, s)
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case line == "WARNING: DATA RACE":
			if r := "data race: " + raceSummary(lines[i+1:]); !slices.Contains(msg, r) {
				add(r)
			}
			// Skip the rest of this report.
			for i+1 < len(lines) && lines[i+1] != "==================" {
				i++
			}
		case strings.Contains(line, "race detected during execution of test"):
			// Already said by the report above, or said here if not.
			if !hasPrefix(msg, "data race: ") {
				add("data race detected (go test -race shows where)")
			}
		case timedOut.MatchString(line):
			add(fmt.Sprintf("did not finish within %s (a deadlock, a lost wake-up or an endless loop?)", timedOut.FindStringSubmatch(line)[1]))
			return finish(msg)
		case strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: "):
			// testkit panics again with the value of a panic in a
			// helper goroutine, so that it crashes the binary as it
			// would have without the helper; that is not the student's
			// doing.
			add(strings.TrimSuffix(line, " [recovered, repanicked]"))
			if at := firstFrame(lines[i+1:]); at != "" {
				add("  at " + at)
			}
			return finish(msg)
		case assertion.MatchString(line):
			// Continuation lines of a multi-line message are indented deeper.
			var more []string
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "        ") && !assertion.MatchString(lines[i+1]) {
				i++
				more = append(more, lines[i])
			}
			if head, detail, ok := testify(line, more); ok {
				add(head)
				for _, d := range detail {
					add("  " + d)
				}
				continue
			}
			add(strings.TrimSpace(line))
			// goleak's list of goroutines is left out: the report
			// summarises it (the stacks package) instead.
			for _, l := range more {
				if strings.TrimSpace(l) == "found unexpected goroutines:" {
					break
				}
				add("  " + strings.TrimSpace(l))
			}
		}
	}
	return finish(msg)
}

func finish(msg []string) string {
	s := strings.Join(msg, "\n")
	if len(s) > maxMessageBytes {
		s = s[:maxMessageBytes] + "…"
	}
	return s
}

func hasPrefix(lines []string, p string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// raceSummary names the two conflicting accesses of a race report:
// "Write at … by goroutine 8: pkg.(*Counter).Inc() counter.go:12".
func raceSummary(lines []string) string {
	var parts []string
	for i := 0; i < len(lines) && len(parts) < 2; i++ {
		l := lines[i]
		if l == "==================" {
			break
		}
		if strings.HasSuffix(l, ":") && (strings.Contains(l, " at 0x") || strings.HasPrefix(l, "Previous ")) {
			kind, _, _ := strings.Cut(l, " at ")
			where := ""
			if i+2 < len(lines) {
				where = shortFunc(strings.TrimSpace(lines[i+1])) + " (" + shortPath(strings.TrimSpace(lines[i+2])) + ")"
			}
			parts = append(parts, strings.ToLower(kind)+" in "+where)
		}
	}
	if len(parts) == 0 {
		return "two goroutines used the same memory without synchronisation"
	}
	return strings.Join(parts, "; ")
}

// testkitPkg is the path of the tests' helper package, followed by the
// dot of a function name: its frames are the course's, never where a
// student's code went wrong.
const testkitPkg = "/exercises/internal/testkit."

// firstFrame returns the location of the first stack frame outside the
// runtime, the testing package and the tests' helpers.
func firstFrame(lines []string) string {
	for i := 0; i+1 < len(lines); i++ {
		fn := lines[i]
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || strings.HasPrefix(fn, "\t") || strings.HasPrefix(fn, "[") {
			continue
		}
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "testing.") || strings.HasPrefix(fn, "panic(") || strings.Contains(fn, testkitPkg) {
			continue
		}
		return strings.TrimSpace(fn) + " " + shortPath(strings.TrimSpace(lines[i+1]))
	}
	return ""
}

// shortPath turns "/tmp/x/1-counter/counter.go:12 +0x9b" into "counter.go:12".
func shortPath(frame string) string {
	frame, _, _ = strings.Cut(frame, " +0x")
	if i := strings.LastIndexAny(frame, `/\`); i >= 0 {
		frame = frame[i+1:]
	}
	return frame
}

// shortFunc turns "github.com/x/exercises/1-counter.(*Counter).Inc()" into
// "(*Counter).Inc".
func shortFunc(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		fn = fn[i+1:]
	}
	if _, rest, ok := strings.Cut(fn, "."); ok {
		fn = rest
	}
	return strings.TrimSuffix(fn, "()")
}

// testify reads a failed testify assertion: the file:line header that
// t.Errorf printed and the labelled block below it,
//
//	q_test.go:17:
//	    	Error Trace:	/build/q_test.go:17
//	    	Error:      	Not equal:
//	    	            	expected: 5
//	    	            	actual  : 4
//	    	Test:       	TestEqual
//	    	Messages:   	c.Value() = 4 after 5 Inc, want 5
//
// and returns it as a student reads it best: the header with the test's
// own message (the call and what was wanted), then what testify found
// ("expected: 5", "actual  : 4"). The trace, a path in the grader's build
// folder, and the test's name, said elsewhere, are left out, and so is a
// diff, whose expected and actual lines come first anyway. ok is false
// when more is not such a block.
func testify(header string, more []string) (head string, detail []string, ok bool) {
	if len(more) == 0 || !strings.HasPrefix(strings.TrimLeft(more[0], " "), "\tError Trace:\t") {
		return "", nil, false
	}
	labels := map[string][]string{}
	label := ""
	for _, l := range more {
		// "        \tLabel:   \tvalue", or "        \t         \tvalue"
		// for a value's next line.
		parts := strings.SplitN(strings.TrimLeft(l, " "), "\t", 3)
		if len(parts) != 3 || parts[0] != "" {
			continue
		}
		if name := strings.TrimSpace(parts[1]); name != "" {
			label = strings.TrimSuffix(name, ":")
		}
		labels[label] = append(labels[label], strings.TrimRight(parts[2], " "))
	}
	errLines := labels["Error"]
	for i, l := range errLines {
		if l == "Diff:" {
			errLines = errLines[:i]
			break
		}
	}
	errLines = slices.DeleteFunc(slices.Clone(errLines), func(l string) bool { return l == "" })
	msg := strings.Join(slices.DeleteFunc(labels["Messages"], func(l string) bool { return l == "" }), " ")
	head = strings.TrimSpace(header)
	switch {
	case msg != "":
		head += " " + msg
		// "Should be true" says nothing the message does not.
		if len(errLines) == 1 && strings.HasPrefix(errLines[0], "Should be ") {
			errLines = nil
		}
	case len(errLines) > 0:
		head += " " + errLines[0]
		errLines = errLines[1:]
	}
	return head, errLines, true
}
