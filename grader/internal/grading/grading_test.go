package grading

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

func openCourse(t *testing.T) *course.Repo {
	t.Helper()
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// counterWithLimit is the counter exercise with every test's time limit
// set to limit, so that a hang is quick to observe.
func counterWithLimit(t *testing.T, repo *course.Repo, limit time.Duration) *course.Exercise {
	t.Helper()
	orig, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	ex := *orig
	ex.Timeout = course.Duration(limit)
	ex.Tests = nil
	for _, tt := range orig.Tests {
		tt.Timeout = 0
		ex.Tests = append(ex.Tests, tt)
	}
	return &ex
}

// buildFixture builds the fixture submission named sub for ex.
func buildFixture(t *testing.T, g *Grader, ex *course.Exercise, sub string) *Built {
	t.Helper()
	col, err := submission.Collect(g.Repo.Path("testdata", "submissions", sub), g.Repo.Root, ex)
	if err != nil || len(col.Problems) > 0 {
		t.Fatalf("collect %s: %v %v", sub, err, col.Problems)
	}
	b, err := g.Build(context.Background(), ex, col.Files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if b.Failure != "" {
		t.Fatalf("%s cannot be tested: %s", sub, b.Failure)
	}
	return b
}

// byStatus checks that every test of res is an error worth nothing, and
// splits them into those stopped while running and those not run.
func byStatus(t *testing.T, res *score.Exercise) (stopped, notRun []*score.Test) {
	t.Helper()
	for _, tt := range res.Tests {
		if tt.Status != score.Error || tt.Score != 0 {
			t.Errorf("%s = %s %g/%g, want error 0", tt.Name, tt.Status, tt.Score, tt.MaxScore)
		}
		if strings.HasPrefix(tt.Message, "not run: ") {
			notRun = append(notRun, tt)
		} else {
			stopped = append(stopped, tt)
		}
	}
	return stopped, notRun
}

// A test binary that hangs in init costs the tests that were already
// running one time limit, and the exercise's other tests nothing.
func TestHangBeforeFirstTest(t *testing.T) {
	t.Parallel()
	repo := openCourse(t)
	const jobs = 2
	g := New(repo, Options{Hidden: true, Jobs: jobs, Isolation: -1})
	ex := counterWithLimit(t, repo, 2*time.Second)
	b := buildFixture(t, g, ex, "hang-in-init")

	start := time.Now()
	res, err := g.Score(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	// Each of the first tests is killed at its limit plus the grace
	// period and the wait for its stacks; nothing else may wait.
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("Score took %v, want the time of one test killed at its 2s limit", took.Round(time.Second))
	}
	stopped, notRun := byStatus(t, res)
	if len(stopped) != jobs || len(notRun) != len(ex.Tests)-jobs {
		t.Fatalf("%d tests stopped and %d not run, want the %d that started at once stopped and the other %d not run", len(stopped), len(notRun), jobs, len(ex.Tests)-jobs)
	}
	for _, tt := range stopped {
		if want := "stopped: the test binary hung before its first test: nothing had started within the time limit of 2s"; !strings.HasPrefix(tt.Message, want) {
			t.Errorf("%s: message %q, want %q…", tt.Name, tt.Message, want)
		}
		// The process got SIGQUIT before it was killed, and its stacks
		// say where the init function waits.
		if want := "\n  1 goroutine waits for ever in an empty select at counter.go:13 (init.0)"; !strings.HasSuffix(tt.Message, want) {
			t.Errorf("%s: message %q, want it to end with %q", tt.Name, tt.Message, want)
		}
	}
	for _, tt := range notRun {
		want := "not run: the test binary hung before its first test (in an init function or a package-level variable?) when " + stopped[0].Name + " ran"
		if alt := strings.Replace(want, stopped[0].Name, stopped[1].Name, 1); !strings.HasPrefix(tt.Message, want) && !strings.HasPrefix(tt.Message, alt) {
			t.Errorf("%s: message %q, want %q…", tt.Name, tt.Message, want)
		}
	}
}

// A test that starts with less of the budget left than its own limit runs
// under what is left; the tests after it do not run. A test binary killed
// by that shorter limit is not taken for one that hangs before its first
// test: it may simply have had too little time.
func TestBudgetCapsAndStops(t *testing.T) {
	t.Parallel()
	repo := openCourse(t)
	const jobs = 2
	limit := 3 * time.Second
	g := New(repo, Options{Hidden: true, Jobs: jobs, Isolation: -1, Budget: limit})
	ex := counterWithLimit(t, repo, 30*time.Second)
	b := buildFixture(t, g, ex, "hang-in-init")

	start := time.Now()
	bud := &budget{deadline: start.Add(limit)}
	res, err := g.score(context.Background(), b, bud)
	if err != nil {
		t.Fatal(err)
	}
	if !bud.spent.Load() {
		t.Errorf("the budget ran out, but was not recorded as spent")
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("score took %v, want about the 3s budget and the grace period", took.Round(time.Second))
	}
	stopped, notRun := byStatus(t, res)
	if len(stopped) != jobs || len(notRun) != len(ex.Tests)-jobs {
		t.Fatalf("%d tests stopped and %d not run, want %d stopped at the budget and %d not run", len(stopped), len(notRun), jobs, len(ex.Tests)-jobs)
	}
	for _, tt := range stopped {
		if want := "stopped: the submission's time budget of 3s ran out while this test ran"; !strings.HasPrefix(tt.Message, want) || !strings.Contains(tt.Message, "less than its own time limit of 30s") {
			t.Errorf("%s: message %q, want %q…", tt.Name, tt.Message, want)
		}
	}
	for _, tt := range notRun {
		if want := "not run: the submission's time budget of 3s ran out before this test's turn"; !strings.HasPrefix(tt.Message, want) {
			t.Errorf("%s: message %q, want %q…", tt.Name, tt.Message, want)
		}
	}
}

// A budget spent before an exercise's turn costs that exercise its tests,
// not the grading run: the result comes back whole, with no error.
func TestBudgetSpentBeforeTurn(t *testing.T) {
	t.Parallel()
	repo := openCourse(t)
	g := New(repo, Options{Hidden: true, Isolation: -1, Budget: time.Nanosecond})
	var exs []*course.Exercise
	for _, id := range []string{"counter", "buffer"} {
		ex, err := repo.Exercise(id)
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	res, err := g.Submission(context.Background(), repo.Path("testdata", "submissions", "good-atomic"), exs)
	if err != nil {
		t.Fatalf("Submission with its budget spent: %v, want a result", err)
	}
	if len(res.Exercises) != 2 || res.MaxScore != exs[0].MaxScore(true)+exs[1].MaxScore(true) || res.Score != 0 {
		t.Fatalf("result = %g/%g over %d exercises, want 0/%g over 2", res.Score, res.MaxScore, len(res.Exercises), exs[0].MaxScore(true)+exs[1].MaxScore(true))
	}
	// Every result names the isolation its tests had.
	if want := score.IsolationOf(g.Opts.Isolation); res.Isolation != want || want.Level != g.Opts.Isolation.String() {
		t.Errorf("result isolation = %+v, want %+v", res.Isolation, want)
	}
	counter := res.Exercises[0]
	if counter.Status != score.Error || !strings.Contains(counter.Message, "time budget of 1ns ran out before this exercise's turn") {
		t.Errorf("counter = %s %q, want error: the budget ran out", counter.Status, counter.Message)
	}
	for _, tt := range counter.Tests {
		if !strings.HasPrefix(tt.Message, "not run: the submission's time budget") {
			t.Errorf("%s: message %q, want not run for the budget", tt.Name, tt.Message)
		}
	}
	// The buffer is missing from this submission, and says so.
	if buffer := res.Exercises[1]; buffer.Status != score.Error || !strings.Contains(buffer.Message, "file is missing") {
		t.Errorf("buffer = %s %q, want error: file is missing", buffer.Status, buffer.Message)
	}
}
