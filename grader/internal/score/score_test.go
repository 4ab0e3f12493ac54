package score

import (
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/testjson"
)

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
		{"fail without words", outcome(1, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Failed}), Fail, 0, "failed; to see why, run: RERUN"},
		{"pass event but exit 1", outcome(1, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Fail, 0, "did not confirm"},
		{"pass event, race after the test", outcome(66, true, false, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Fail, 0, "did not confirm"},
		{"no final package event", outcome(0, false, false, &testjson.Result{Name: "TestA", Outcome: testjson.Passed}), Fail, 0, "did not confirm"},
		{"skipped", outcome(0, true, true, &testjson.Result{Name: "TestA", Outcome: testjson.Skipped}), Fail, 0, "skipped"},
		{"exit in init", outcome(0, false, false), Error, 0, "exited before the test finished (does the code call os.Exit"},
		{"killed", outcome(-1, false, false), Error, 0, "killed before the test finished"},
		{"alarm", outcome(2, true, false, &testjson.Result{Name: "TestA", Output: "panic: test timed out after 30s\n"}), Error, 0, "did not finish within 30s"},
		{"timed out", &run.Outcome{ExitCode: -1, TimedOut: true, Report: &testjson.Report{}}, Error, 0, "did not finish within the time limit of 30s"},
		{"flooded", &run.Outcome{ExitCode: -1, OutputExceeded: true, Report: &testjson.Report{}}, Error, 0, "printed more output than the grader accepts"},
		{"not run", nil, Error, 0, "not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(test, tt.o, limit, "RERUN")
			if got.Status != tt.status || got.Score != tt.score || got.MaxScore != 5 {
				t.Errorf("Judge = %s %g/%g, want %s %g/5", got.Status, got.Score, got.MaxScore, tt.status, tt.score)
			}
			if tt.message == "" && got.Message != "" || !strings.Contains(got.Message, tt.message) {
				t.Errorf("Message = %q, want %q", got.Message, tt.message)
			}
		})
	}
}

func TestScoredAndUnrunnable(t *testing.T) {
	ex := &course.Exercise{ID: "demo", Title: "Demo", Timeout: course.Duration(time.Second),
		Tests: []course.Test{{Name: "TestA", Points: 40}, {Name: "TestB", Points: 60, Hidden: true}}}
	pass := outcome(0, true, true, &testjson.Result{Name: "TestA", Outcome: testjson.Passed})
	e := Scored(ex, ex.Tests, map[string]*run.Outcome{"TestA": pass}, "")
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
