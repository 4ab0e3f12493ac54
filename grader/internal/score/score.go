// Package score turns what the tests did into points, and holds the result
// model that every output format prints.
//
// The rules are few. A test earns its points only if it passed: a pass
// event, the package's final pass, exit status 0 (see package run). A
// test that failed is "fail"; a test that never finished (time limit,
// crash, output limit, a process that exited early) is "error". An
// exercise whose files are missing, break a static check or do not compile
// is "error" as a whole, and each of its tests is "error" with no points.
package score

import (
	"fmt"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/testjson"
)

// Schema names the version of the result model, printed in every JSON
// result. Adding a field keeps the version; removing or changing the
// meaning of one bumps it.
const Schema = "ipclab-result/v1"

// Status is the verdict on a test or an exercise.
type Status string

// Statuses.
const (
	// Pass: every point earned.
	Pass Status = "pass"
	// Fail: the code ran and got something wrong.
	Fail Status = "fail"
	// Error: the code could not be tested (missing, rejected by a static
	// check, does not compile) or the test never finished.
	Error Status = "error"
)

// A Result is a whole grading run.
type Result struct {
	Schema     string      `json:"schema"`
	Submission string      `json:"submission,omitempty"`
	Score      float64     `json:"score"`
	MaxScore   float64     `json:"max_score"`
	Exercises  []*Exercise `json:"exercises"`
}

// An Exercise is one exercise's result.
type Exercise struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Score    float64 `json:"score"`
	MaxScore float64 `json:"max_score"`
	Status   Status  `json:"status"`
	// Message explains an error, and notes anything the grader ignored.
	Message string  `json:"message"`
	Tests   []*Test `json:"tests"`
}

// A Test is one test's result.
type Test struct {
	Name     string  `json:"name"`
	Score    float64 `json:"score"`
	MaxScore float64 `json:"max_score"`
	Status   Status  `json:"status"`
	// Message says what went wrong, in the test's own words when it
	// failed an assertion; "" when the test passed.
	Message string `json:"message"`
	Hidden  bool   `json:"hidden"`
	// Seconds is the wall time of the test process.
	Seconds float64 `json:"seconds"`
}

// Total adds up the exercises into r.Score and r.MaxScore.
func (r *Result) Total() {
	r.Score, r.MaxScore = 0, 0
	for _, e := range r.Exercises {
		r.Score += e.Score
		r.MaxScore += e.MaxScore
	}
}

// NotRun is the message of each test of an exercise that could not be
// tested; the exercise's own message says why.
const NotRun = "not run: the exercise could not be tested (its message says why)"

// Unrunnable is the result of an exercise that could not be tested at all:
// every test is an error, worth nothing.
func Unrunnable(ex *course.Exercise, tests []course.Test, message string) *Exercise {
	e := &Exercise{ID: ex.ID, Title: ex.Title, Status: Error, Message: message}
	for _, t := range tests {
		e.MaxScore += t.Points
		e.Tests = append(e.Tests, &Test{Name: t.Name, MaxScore: t.Points, Status: Error, Message: NotRun, Hidden: t.Hidden})
	}
	return e
}

// Scored is the result of an exercise whose tests ran; outcomes maps each
// test's name to its run. A test missing from outcomes is an error.
func Scored(ex *course.Exercise, tests []course.Test, outcomes map[string]*run.Outcome, rerun string) *Exercise {
	e := &Exercise{ID: ex.ID, Title: ex.Title}
	for _, t := range tests {
		res := Judge(t, outcomes[t.Name], ex.TimeoutOf(t), rerun)
		e.Tests = append(e.Tests, res)
		e.Score += res.Score
		e.MaxScore += res.MaxScore
	}
	e.Status = Pass
	for _, t := range e.Tests {
		if t.Status != Pass {
			e.Status = Fail
		}
	}
	return e
}

// Judge scores one test from its run. rerun is the command a student can
// type to see the whole output, for messages that have nothing better.
func Judge(t course.Test, o *run.Outcome, limit fmt.Stringer, rerun string) *Test {
	res := &Test{Name: t.Name, MaxScore: t.Points, Hidden: t.Hidden}
	if o == nil {
		res.Status, res.Message = Error, "not run"
		return res
	}
	res.Seconds = o.Elapsed.Seconds()
	if o.Passed(t.Name) {
		res.Status, res.Score = Pass, t.Points
		return res
	}
	r := o.Report.Test(t.Name)
	var output string
	if r != nil {
		output = r.Output
	}
	msg := testjson.Failure(output)
	switch {
	case o.OutputExceeded:
		res.Status, msg = Error, "stopped: the test printed more output than the grader accepts (a print in a loop?)"
	case o.TimedOut:
		res.Status, msg = Error, fmt.Sprintf("stopped: did not finish within the time limit of %v (a deadlock, a lost wake-up or an endless loop?)", limit)
	case r == nil || r.Outcome == testjson.NoResult:
		res.Status = Error
		if msg == "" {
			msg = testjson.Failure(o.Report.Output)
		}
		if msg == "" {
			msg = noResultMessage(o)
		}
	case r.Outcome == testjson.Skipped:
		res.Status, msg = Fail, "the test was skipped, which earns no points"
	default:
		res.Status = Fail
		if msg == "" {
			// A data race found after the test returned, in a goroutine
			// it left running, is reported outside the test.
			msg = testjson.Failure(o.Report.Output)
		}
		if msg == "" && (o.ExitCode == 0 || r.Outcome == testjson.Passed) {
			// The events and the exit status disagree: something printed
			// lines that look like the testing package's own.
			msg = "the test reported a pass that the test process did not confirm (does the code print testing output or end the process itself?)"
		}
	}
	if msg == "" {
		msg = "failed; to see why, run: " + rerun
	}
	res.Message = msg
	return res
}

func noResultMessage(o *run.Outcome) string {
	if o.ExitCode == 0 {
		return "the test process exited before the test finished (does the code call os.Exit, perhaps in an init function?)"
	}
	if o.ExitCode < 0 {
		return "the test process was killed before the test finished"
	}
	return fmt.Sprintf("the test process ended with status %d before the test finished", o.ExitCode)
}
