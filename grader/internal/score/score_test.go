package score

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/testjson"
)

// demo is the exercise the judged tests belong to.
var demo = &course.Exercise{ID: "demo", Dir: "exercises/0-demo"}

func outcome(exit int, finished, passed bool, results ...*testjson.Result) *run.Outcome {
	return &run.Outcome{ExitCode: exit, Report: &testjson.Report{Tests: results, Finished: finished, Passed: passed}}
}

func TestJudge(t *testing.T) {
	test := course.Test{Name: "TestA", Points: 5}
	limit := 30 * time.Second
	tests := []struct {
		name    string
		o       *run.Outcome
		status  Status
		score   float64
		message string
	}{
		{"pass", outcome(0, true, true, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Pass, 5, ""},
		{"fail with assertion", outcome(1, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Failed, Output: "    a_test.go:9: q.Get() = 2, want 1\n"}), Fail, 0, "a_test.go:9: q.Get() = 2, want 1"},
		{"fail without words", outcome(1, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Failed}), Fail, 0, "failed; to see why, run: cd exercises && go test -race -run '^TestA$' ./0-demo/"},
		{"pass event but exit 1", outcome(1, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Fail, 0, "did not confirm"},
		{"pass event, race after the test", outcome(66, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Fail, 0, "did not confirm"},
		{"no final package event", outcome(0, false, false, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Fail, 0, "did not confirm"},
		{"skipped", outcome(0, true, true, &testjson.Result{Name: "TestA", Outcome: testjson.Skipped}), Fail, 0, "skipped"},
		{"exit in init", outcome(0, false, false), Error, 0, "exited before the test finished (does the code call os.Exit"},
		{"killed", outcome(-1, false, false), Error, 0, "killed before the test finished"},
		{"alarm", outcome(2, true, false, &testjson.Result{Name: "TestA", Output: "panic: test timed out after 30s\n"}), Error, 0, "did not finish within 30s"},
		{"timed out", &run.Outcome{ExitCode: -1, TimedOut: true, Report: &testjson.Report{Tests: []*testjson.Result{{Name: "TestA"}}}}, Error, 0, "did not finish within the time limit of 30s"},
		{"flooded", &run.Outcome{ExitCode: -1, OutputExceeded: true, Report: &testjson.Report{}}, Error, 0, "printed more output than the grader accepts"},
		{"binary changed", tampered(outcome(0, true, true, &testjson.Result{Name: "TestA", Outcome: testjson.Passed})), Error, 0, "not run: the test binary was changed after it was built"},
		{"ended by the race detector", raced(outcome(66, false, false, &testjson.Result{Name: "TestA", Outcome: testjson.NoResult, Output: "==================\nWARNING: DATA RACE\nWrite at 0x00c000012345 by goroutine 8:\n  example.com/counter.(*Counter).Inc()\n      /tmp/m/counter.go:24 +0x44\n\nPrevious read at 0x00c000012345 by goroutine 7:\n  example.com/counter.(*Counter).Inc()\n      /tmp/m/counter.go:24 +0x30\n==================\n"})), Fail, 0, "data race"},
		{"exit 66 without a race report", outcome(66, false, false, &testjson.Result{Name: "TestA", Outcome: testjson.NoResult}), Error, 0, "status 66"},
		{"not run", nil, Error, 0, "not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(demo, test, Attempt{Outcome: tt.o, Limit: limit})
			if got.Status != tt.status || got.Score != tt.score || got.MaxScore != 5 {
				t.Errorf("Judge = %s %g/%g, want %s %g/5", got.Status, got.Score, got.MaxScore, tt.status, tt.score)
			}
			if tt.message == "" && got.Message != "" || !strings.Contains(got.Message, tt.message) {
				t.Errorf("Message = %q, want %q", got.Message, tt.message)
			}
		})
	}
}

// recorded reads a recorded test2json stream: testjson's recordings, or
// this package's own under testdata. hung-in-init.jsonl is what
// test2json made of a counter test binary whose init function blocks on
// select {}, killed after two seconds: it never printed a byte.
func recorded(t *testing.T, path string) *testjson.Report {
	t.Helper()
	f, err := os.Open(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := testjson.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestJudgeStoppedOrNotStarted covers the tests that the grader stopped or
// never started: memory, a signal from outside, the submission's time
// budget, and a test binary that hangs before its first test.
func TestJudgeStoppedOrNotStarted(t *testing.T) {
	const (
		killed  = "../testjson/testdata/killed.jsonl"  // TestDeadlock started, then SIGKILL
		alarm   = "../testjson/testdata/timeout.jsonl" // TestDeadlock ended by the testing package's alarm at 2s
		hung    = "testdata/hung-in-init.jsonl"        // nothing: the binary hung in init
		started = "TestDeadlock"
	)
	test := course.Test{Name: started, Points: 5}
	budget := 8 * time.Minute
	tests := []struct {
		name    string
		a       Attempt
		message string
		hangs   bool // what HangsBeforeFirstTest must say
	}{
		{"memory", Attempt{Limit: 30 * time.Second, Memory: 2 << 30, Outcome: &run.Outcome{ExitCode: -1, MemoryExceeded: true, Report: recorded(t, killed)}},
			"stopped: the test used more memory than the grader allows (2048 MiB)", false},
		{"memory, limit unknown", Attempt{Limit: 30 * time.Second, Outcome: &run.Outcome{ExitCode: -1, MemoryExceeded: true, Report: recorded(t, killed)}},
			"stopped: the test used more memory than the grader allows (something", false},
		{"SIGSEGV", Attempt{Limit: 30 * time.Second, Outcome: &run.Outcome{ExitCode: -1, Signal: "SIGSEGV", Report: recorded(t, killed)}},
			"the test process was killed by SIGSEGV before the test finished", false},
		{"SIGKILL from outside", Attempt{Limit: 30 * time.Second, Outcome: &run.Outcome{ExitCode: -1, Signal: "SIGKILL", Report: recorded(t, killed)}},
			"killed by SIGKILL before the test finished (not sent by the grader: the system's out-of-memory killer", false},
		{"budget spent before the test's turn", Attempt{NotStarted: BudgetSpent, Budget: budget, Limit: 30 * time.Second},
			"not run: the submission's time budget of 8m0s ran out before this test's turn", false},
		{"not run after a hang before the first test", Attempt{NotStarted: HungBeforeFirstTest, HungIn: "TestFirst", Limit: 30 * time.Second},
			"not run: the test binary hung before its first test (in an init function or a package-level variable?) when TestFirst ran, so the other tests of this exercise were not run", false},
		{"hung before the first test", Attempt{Limit: 30 * time.Second, Outcome: &run.Outcome{ExitCode: -1, TimedOut: true, Elapsed: 35 * time.Second, Report: recorded(t, hung)}},
			"stopped: the test binary hung before its first test: nothing had started within the time limit of 30s (an init function", true},
		// A correct exercise whose first test is slow has printed its
		// "=== RUN" line: a time-out, not a hang before the first test.
		{"first test merely slow", Attempt{Limit: 30 * time.Second, Outcome: &run.Outcome{ExitCode: -1, TimedOut: true, Elapsed: 35 * time.Second, Report: recorded(t, killed)}},
			"stopped: did not finish within the time limit of 30s (a deadlock", false},
		// Crashing in init costs no time: no reason to stop the others.
		{"ended in init without a time-out", Attempt{Limit: 30 * time.Second, Outcome: &run.Outcome{ExitCode: -1, Signal: "SIGKILL", Elapsed: time.Second, Report: recorded(t, hung)}},
			"killed by SIGKILL", false},
		{"killed at the budget's cap", Attempt{Limit: 30 * time.Second, Capped: 12 * time.Second, Budget: budget, Outcome: &run.Outcome{ExitCode: -1, TimedOut: true, Elapsed: 17 * time.Second, Report: recorded(t, killed)}},
			"stopped: the submission's time budget of 8m0s ran out while this test ran: it had 12s left of it when it started, less than its own time limit of 30s", false},
		{"alarm at the budget's cap", Attempt{Limit: 30 * time.Second, Capped: 2 * time.Second, Budget: budget, Outcome: &run.Outcome{ExitCode: 2, Elapsed: 2100 * time.Millisecond, Report: recorded(t, alarm)}},
			"stopped: the submission's time budget of 8m0s ran out while this test ran: it had 2s left", false},
		// Killed by the cap before it could start a test: that may be
		// the cap's doing, so it is not taken for a hang.
		{"hung in init, killed at the budget's cap", Attempt{Limit: 30 * time.Second, Capped: 3 * time.Second, Budget: budget, Outcome: &run.Outcome{ExitCode: -1, TimedOut: true, Elapsed: 8 * time.Second, Report: recorded(t, hung)}},
			"ran out while this test ran: it had 3s left of it when it started, less than its own time limit of 30s; by then the test binary had not even started its first test", false},
		{"time-out under its own limit, capped", Attempt{Limit: 30 * time.Second, Capped: 29 * time.Second, Budget: budget, Outcome: &run.Outcome{ExitCode: 2, Elapsed: 2100 * time.Millisecond, Report: recorded(t, alarm)}},
			"did not finish within 2s", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(demo, test, tt.a)
			if got.Status != Error || got.Score != 0 || got.MaxScore != 5 {
				t.Errorf("Judge = %s %g/%g, want error 0/5", got.Status, got.Score, got.MaxScore)
			}
			if !strings.Contains(got.Message, tt.message) {
				t.Errorf("Message = %q, want it to contain %q", got.Message, tt.message)
			}
			if h := tt.a.HangsBeforeFirstTest(); h != tt.hangs {
				t.Errorf("HangsBeforeFirstTest() = %v, want %v", h, tt.hangs)
			}
		})
	}
}

func TestScoredAndUnrunnable(t *testing.T) {
	ex := &course.Exercise{ID: "demo", Title: "Demo", Timeout: course.Duration(time.Second),
		Tests: []course.Test{{Name: "TestA", Points: 40}, {Name: "TestB", Points: 60, Hidden: true}}}
	pass := outcome(0, true, true, &testjson.Result{Name: "TestA", Outcome: testjson.Passed})
	e := Scored(ex, ex.Tests, map[string]Attempt{"TestA": {Outcome: pass}})
	if e.Score != 40 || e.MaxScore != 100 || e.Status != Fail {
		t.Errorf("Scored = %g/%g %s, want 40/100 fail (TestB never ran)", e.Score, e.MaxScore, e.Status)
	}
	u := Unrunnable(ex, ex.Tests, "does not compile")
	if u.Score != 0 || u.MaxScore != 100 || u.Status != Error || u.Message != "does not compile" {
		t.Errorf("Unrunnable = %+v", u)
	}
	for _, tt := range u.Tests {
		if tt.Status != Error || tt.Message != NotRun {
			t.Errorf("test %s = %s %q, want error %q", tt.Name, tt.Status, tt.Message, NotRun)
		}
	}
	r := &Result{Exercises: []*Exercise{e, u}}
	r.Total()
	if r.Score != 40 || r.MaxScore != 200 {
		t.Errorf("Total = %g/%g, want 40/200", r.Score, r.MaxScore)
	}
}

// tampered is o as the run package reports a binary changed after the
// build: the events and the exit status may say anything.
func tampered(o *run.Outcome) *run.Outcome {
	o.Tampered = "the test binary was changed after it was built (by code that ran in an earlier test)"
	return o
}

// raced is o as the run package reports a race detector's report in the
// output.
func raced(o *run.Outcome) *run.Outcome {
	o.RaceReported = true
	return o
}
