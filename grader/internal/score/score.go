// Package score turns what the tests did into points, and holds the result
// model that every output format prints.
//
// The rules are few. A test earns its points only if it passed: a pass
// event, the package's final pass, exit status 0 (see package run). A
// test that failed is "fail"; a test that never finished (time limit,
// crash, output limit, a process that exited early) is "error". An
// exercise whose files are missing, break a static check or do not compile
// is "error" as a whole, and each of its tests is "error" with no points.
//
// Two things stop a test from starting at all, and each is "error" with no
// points: the submission's time budget ran out (see [BudgetSpent]), or
// another test of the exercise showed that its test binary hangs before
// its first test (see [HungBeforeFirstTest]), so that every test would
// only wait out its time limit.
package score

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/stacks"
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
	Schema     string  `json:"schema"`
	Submission string  `json:"submission,omitempty"`
	Score      float64 `json:"score"`
	MaxScore   float64 `json:"max_score"`
	// Isolation is how the tests were fenced off, and so whether the
	// score can be trusted when the submission is hostile.
	Isolation Isolation `json:"isolation"`
	// BudgetSpent is true when the submission's time budget ran out
	// before every test had run to its end: some scored nothing because
	// they were not run or were stopped early (their messages say so).
	BudgetSpent bool        `json:"budget_spent,omitempty"`
	Exercises   []*Exercise `json:"exercises"`
}

// Isolation says how far the tests of a result were fenced off from the
// machine (see run.Isolation), in words every report prints.
type Isolation struct {
	// Level is "namespaces", "limits" or "none".
	Level string `json:"level"`
	// TamperProof is true only for namespaces: nothing the code under
	// test does can reach the grader's files or processes. Under the
	// lower levels it can, so a hostile submission could forge its
	// score.
	TamperProof bool `json:"tamper_proof"`
	// Note says, below namespaces, what that means and where to read how
	// to grade with namespaces; "" at namespaces.
	Note string `json:"note"`
}

// SecuritySection is the README section that explains the isolation
// levels and how to get namespaces.
const SecuritySection = `"Security: isolation levels" in the README`

// IsolationOf describes the isolation level tests ran with. A level that
// is not one of the three (a negative one means "the best available", not
// yet probed) is "unknown", and not tamper-proof.
func IsolationOf(level run.Isolation) Isolation {
	const howTo = "; see " + SecuritySection + " for how to grade with namespaces"
	switch level {
	case run.IsolateNamespaces:
		return Isolation{Level: level.String(), TamperProof: true}
	case run.IsolateLimits:
		return Isolation{Level: level.String(), Note: "tests ran under resource limits only, without Linux namespaces, so a hostile submission could have forged its score" + howTo}
	case run.IsolateNone:
		return Isolation{Level: level.String(), Note: "tests ran without Linux namespaces or resource limits, so a hostile submission could have forged its score" + howTo}
	}
	return Isolation{Level: "unknown", Note: "the grader did not record how tests were isolated, so a hostile submission could have forged its score" + howTo}
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
	// Race is true when the race detector reported a data race in the
	// test's process: the code has one, whatever else the test checked.
	Race bool `json:"race,omitempty"`
	// Stacks says where the goroutines of the student's code were when
	// the test ran out of time, gave up waiting, or left goroutines
	// running (the message says it too, in words).
	Stacks *stacks.Summary `json:"stacks,omitempty"`
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

// NotStarted says why a test was not started.
type NotStarted int

const (
	// Started: the test was started (the zero value).
	Started NotStarted = iota
	// BudgetSpent: the submission's time budget ran out before the
	// test's turn came.
	BudgetSpent
	// HungBeforeFirstTest: another test of the exercise showed that the
	// test binary hangs before its first test; this one would only have
	// waited out its time limit in the same way.
	HungBeforeFirstTest
)

// An Attempt is what grading knows of one test: how its process ran, or
// why it was not started, and the limits it ran under.
type Attempt struct {
	// Outcome is what the test process did; nil when it did not run.
	Outcome *run.Outcome
	// NotStarted says why the test was not started.
	NotStarted NotStarted
	// HungIn names the test whose process showed that the binary hangs
	// before its first test, when NotStarted is HungBeforeFirstTest.
	HungIn string
	// Limit is the test's own time limit (the manifest's).
	Limit time.Duration
	// Capped, when not zero, is the shorter time limit the test ran
	// under instead: what was left of the submission's time budget when
	// it started.
	Capped time.Duration
	// Budget is the submission's time budget (zero: none), for messages.
	Budget time.Duration
	// Memory is the memory limit of the test process in bytes (zero:
	// unknown), for messages.
	Memory int64
}

// HangsBeforeFirstTest reports whether the attempt shows the test binary
// hanging before its first test: the process was killed at its own time
// limit (not one shortened by the budget) without having started any
// test. The testing package prints "=== RUN" as it starts a test, so a
// correct exercise whose first test is merely slow never matches; nor does
// a process that crashed or exited in an init function, which costs no
// time.
func (a Attempt) HangsBeforeFirstTest() bool {
	return a.Capped == 0 && a.Outcome != nil && a.Outcome.TimedOut && noTestStarted(a.Outcome)
}

// noTestStarted reports whether a test process's output holds no sign of
// any test having started.
func noTestStarted(o *run.Outcome) bool {
	return o.Report != nil && len(o.Report.Tests) == 0 && !strings.Contains(o.Report.Output, "=== RUN")
}

// StoppedByBudget reports whether the submission's time budget cost the
// test its chance: it was not started, or it ran under a limit shortened
// by the budget and did not finish within it.
func (a Attempt) StoppedByBudget() bool {
	if a.NotStarted == BudgetSpent {
		return true
	}
	o := a.Outcome
	return o != nil && a.Capped > 0 && (o.TimedOut || o.Elapsed >= a.Capped)
}

// Scored is the result of an exercise whose tests ran; attempts maps each
// test's name to its attempt. A test missing from attempts is an error.
// An attempt without a Limit gets the exercise's limit for the test.
func Scored(ex *course.Exercise, tests []course.Test, attempts map[string]Attempt) *Exercise {
	e := &Exercise{ID: ex.ID, Title: ex.Title}
	for _, t := range tests {
		a := attempts[t.Name]
		if a.Limit == 0 {
			a.Limit = ex.TimeoutOf(t)
		}
		res := Judge(ex, t, a)
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

// raceExit is the exit status of a process the race detector ended.
const raceExit = 66

// Judge scores one test of ex from its attempt.
func Judge(ex *course.Exercise, t course.Test, a Attempt) *Test {
	res := &Test{Name: t.Name, MaxScore: t.Points, Hidden: t.Hidden}
	switch a.NotStarted {
	case BudgetSpent:
		res.Status, res.Message = Error, fmt.Sprintf("not run: the submission's time budget%s ran out before this test's turn (tests that hang use it up: see the messages of the tests that were stopped)", ofBudget(a.Budget))
		return res
	case HungBeforeFirstTest:
		res.Status, res.Message = Error, fmt.Sprintf("not run: the test binary hung before its first test (in an init function or a package-level variable?) when %s ran, so the other tests of this exercise were not run", a.HungIn)
		return res
	}
	o := a.Outcome
	if o == nil {
		res.Status, res.Message = Error, "not run"
		return res
	}
	res.Seconds = o.Elapsed.Seconds()
	res.Race = o.RaceReported
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
	case o.Tampered != "":
		res.Status, msg = Error, "not run: "+o.Tampered+"; a submission may not change the grader's files"
	case o.OutputExceeded:
		res.Status, msg = Error, "stopped: the test printed more output than the grader accepts (a print in a loop?)"
	case o.MemoryExceeded:
		res.Status, msg = Error, "stopped: the test used more memory than the grader allows"+ofMiB(a.Memory)+" (something that grows without bound: a queue nobody drains, a leak, a loop that allocates?)"
	case a.StoppedByBudget():
		res.Status, msg = Error, fmt.Sprintf("stopped: the submission's time budget%s ran out while this test ran: it had %v left of it when it started, less than its own time limit of %v", ofBudget(a.Budget), roughly(a.Capped), a.Limit)
		if noTestStarted(o) {
			msg += "; by then the test binary had not even started its first test (an init function or a package-level variable that blocks?)"
		} else {
			msg += " (tests that hang or run long use the budget up)"
		}
	case a.HangsBeforeFirstTest():
		res.Status, msg = Error, fmt.Sprintf("stopped: the test binary hung before its first test: nothing had started within the time limit of %v (an init function or a package-level variable that blocks or loops for ever?); the exercise's tests not yet started were not run", a.Limit)
	case o.TimedOut:
		res.Status, msg = Error, fmt.Sprintf("stopped: did not finish within the time limit of %v (a deadlock, a lost wake-up or an endless loop?)", a.Limit)
	case o.Signal != "" && (r == nil || r.Outcome == testjson.NoResult):
		res.Status = Error
		if msg == "" {
			msg = testjson.Failure(o.Report.Output)
		}
		if msg != "" {
			msg = "\nwhat it printed before:\n" + msg
		}
		msg = signalMessage(o.Signal) + msg
	case (r == nil || r.Outcome == testjson.NoResult) && o.ExitCode == raceExit && o.RaceReported:
		// The race detector ends the process at its first report (the
		// grader runs with GORACE=halt_on_error=1): the code ran and got
		// something wrong, as with an assertion.
		res.Status = Fail
		if msg == "" {
			msg = testjson.Failure(o.Report.Output)
		}
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
		msg = "failed; to see why, run: " + Rerun(ex, t)
	}
	res.Stacks = o.Report.Stacks
	if r != nil && r.Stacks != nil {
		res.Stacks = r.Stacks
	}
	if lines := res.Stacks.Lines(); len(lines) > 0 {
		msg += "\n" + strings.Join(lines, "\n")
	}
	res.Message = msg
	return res
}

// Rerun is the command that shows a test's whole output to a student: a
// message that has nothing better to say points there.
func Rerun(ex *course.Exercise, t course.Test) string {
	if t.Hidden {
		return "(a hidden test: read its message, and the exercise's README)"
	}
	return fmt.Sprintf("cd %s && go test -race -run '^%s$' ./%s/", course.ExercisesDir, t.Name, ex.PackageDir())
}

// signalMessage says that a signal the grader did not send ended the test
// process. The Go runtime turns the signals a program's own faults raise
// (SIGSEGV, SIGBUS, SIGFPE) into panics, so in practice this is a signal
// from outside: SIGKILL from the kernel's out-of-memory killer, or one the
// code sent itself.
func signalMessage(sig string) string {
	msg := "the test process was killed by " + sig + " before the test finished"
	if sig == "SIGKILL" {
		msg += " (not sent by the grader: the system's out-of-memory killer, or the code killing its own process?)"
	}
	return msg
}

// roughly rounds d to a tenth of a second, or to a millisecond below one
// second.
func roughly(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// ofBudget is " of 8m0s", or "" when the budget is unknown.
func ofBudget(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " of " + d.String()
}

// ofMiB is " (2048 MiB)", or "" when the limit is unknown.
func ofMiB(bytes int64) string {
	if bytes <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d MiB)", bytes>>20)
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
