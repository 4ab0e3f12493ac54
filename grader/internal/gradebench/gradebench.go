// Package gradebench times grading against plain go test on the same
// files, the comparison behind `go run ./grader bench -grading`.
//
// Two figures matter to the people who wait for a score:
//
//   - Grading speed: `grade` of the reference solutions, every exercise
//     with its hidden tests, against `go test -race -count=1 ./...` on a
//     module assembled from the very same files. A class of 300 waits for
//     the first 300 times; a Classroom runner for it on every push.
//   - Student latency: a student edits the exercise's file and asks for a
//     score on the visible tests, `grader test EX`, against
//     `go test -race ./N-EX/` after the same edit.
//
// Both start from a warm build cache (a round of each is run first and not
// counted), alternate the two commands round after round so that a
// machine that gets busier slows both alike, and keep each one's fastest
// round. The grading rounds also say where grade's time went: builds,
// and test processes against the tests' own reported time.
package gradebench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ipclab/ipclab/grader/internal/build"
	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/gocmd"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

// Targets, from the course's performance issue: grading at most this many
// times plain go test's wall time, and a student's edit-to-score at most
// this many times go test's.
const (
	GradingTarget = 0.75
	LatencyTarget = 1.25
)

// Options say what to time.
type Options struct {
	// Exercises are graded in the grading comparison (all of them in the
	// course's order when empty).
	Exercises []*course.Exercise
	// Latency is the exercise of the student-latency comparison; nil
	// leaves that comparison out.
	Latency *course.Exercise
	// Rounds is how many timed rounds each comparison runs (1 when
	// zero), after one untimed warm-up round.
	Rounds int
	// Jobs is grade's -jobs; grading.DefaultJobs() when zero.
	Jobs int
	// SkipGrading leaves the grading comparison out.
	SkipGrading bool
	// Progress, when set, gets a line as each run starts.
	Progress io.Writer
}

// A Round is one timed run of both commands.
type Round struct {
	// GoTest is plain go test's wall time, Grade the grader's.
	GoTest, Grade time.Duration
	// GoTestTests is the time go test's tests reported, added up, and
	// GoTestCount how many tests reported one.
	GoTestTests time.Duration
	GoTestCount int
	// Slowest are go test's slowest tests, slowest first.
	Slowest []TestTime
	// Timings are where grade's time went.
	Timings grading.Sums
}

// A TestTime is one test's reported time in go test.
type TestTime struct {
	Package, Test string
	Elapsed       time.Duration
}

// slowest is how many of go test's slowest tests a Round keeps.
const slowest = 8

// Ratio is Grade over GoTest.
func (r Round) Ratio() float64 { return r.Grade.Seconds() / r.GoTest.Seconds() }

// A Comparison is the rounds of one comparison.
type Comparison struct {
	// What names it ("grading 9 exercises", "latency counter").
	What   string
	Rounds []Round
}

// Best returns the round with each command's fastest time: GoTest and
// its tests from go test's fastest round, Grade and Timings from grade's.
func (c *Comparison) Best() Round {
	var b Round
	for i, r := range c.Rounds {
		if i == 0 || r.GoTest < b.GoTest {
			b.GoTest, b.GoTestTests, b.GoTestCount, b.Slowest = r.GoTest, r.GoTestTests, r.GoTestCount, r.Slowest
		}
		if i == 0 || r.Grade < b.Grade {
			b.Grade, b.Timings = r.Grade, r.Timings
		}
	}
	return b
}

// Results are both comparisons; either may be nil when left out.
type Results struct {
	Grading *Comparison
	Latency *Comparison
	Jobs    int
}

// Run times the comparisons opts asks for, on the course's reference
// solutions.
func Run(ctx context.Context, repo *course.Repo, opts Options) (*Results, error) {
	if !repo.HasSolutions() {
		return nil, fmt.Errorf("%s has no reference solutions to time", repo.Root)
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 1
	}
	if len(opts.Exercises) == 0 {
		opts.Exercises = repo.Exercises
	}
	if err := build.Prefetch(ctx, repo); err != nil {
		return nil, err
	}
	res := &Results{Jobs: opts.Jobs}
	if res.Jobs <= 0 {
		res.Jobs = grading.DefaultJobs()
	}
	if !opts.SkipGrading {
		c, err := compareGrading(ctx, repo, opts)
		if err != nil {
			return nil, err
		}
		res.Grading = c
	}
	if opts.Latency != nil {
		c, err := compareLatency(ctx, repo, opts)
		if err != nil {
			return nil, err
		}
		res.Latency = c
	}
	return res, nil
}

// A setup is the files both commands run on: a submission holding the
// reference's editable files, as grade reads one, and the module go test
// runs in, assembled as the grader assembles it.
type setup struct {
	repo   *course.Repo
	exs    []*course.Exercise
	hidden bool
	sub    string // the submission's root
	mod    string // the module for go test
	code   map[string][]submission.File
}

func newSetup(repo *course.Repo, exs []*course.Exercise, hidden bool, work string) (*setup, error) {
	s := &setup{repo: repo, exs: exs, hidden: hidden, sub: filepath.Join(work, "submission"), mod: filepath.Join(work, "module"), code: map[string][]submission.File{}}
	for _, ex := range exs {
		sol, err := submission.ReadDir(repo.Path(course.SolutionsDir, ex.ID), ex)
		if err != nil {
			return nil, err
		}
		s.code[ex.ID] = sol
		if err := s.write(ex, sol); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// write lays code, the editable files of ex, into both the submission
// and the module.
func (s *setup) write(ex *course.Exercise, code []submission.File) error {
	dir := filepath.Join(s.sub, filepath.FromSlash(ex.Dir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range code {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	_, err := build.Assemble(build.Request{Repo: s.repo, Exercise: ex, Layers: [][]submission.File{code}, Hidden: s.hidden, Race: true}, s.mod)
	return err
}

// edit changes ex's first editable file as a student's edit would (a
// comment that differs on every call), so that nothing of it is cached.
func (s *setup) edit(ex *course.Exercise, n int) error {
	code := append([]submission.File(nil), s.code[ex.ID]...)
	code[0].Data = append(bytes.Clone(code[0].Data), fmt.Sprintf("\n// edit %d at %s\n", n, time.Now().Format(time.RFC3339Nano))...)
	return s.write(ex, code)
}

// goTest runs plain go test on the packages and returns its wall time
// and its tests' reported time. Every test must pass: the reference
// passes them all, and a failure means the two commands did not do the
// same work.
func (s *setup) goTest(ctx context.Context, r *Round, run string) error {
	// -count=1: after an edit nothing is cached anyway, and the hidden
	// tests' packages are not edited between rounds.
	args := []string{"test", "-race", "-json", "-count=1"}
	if run != "" {
		args = append(args, "-run", run)
	}
	for _, ex := range s.exs {
		args = append(args, "./"+ex.PackageDir()+"/")
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.mod
	cmd.Env = gocmd.OfflineEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s%s", strings.Join(args, " "), err, lastLines(string(out), 20), stderr.Bytes())
	}
	if r != nil {
		r.GoTest = elapsed
		var times []TestTime
		times, err = testTimes(out)
		for _, t := range times {
			r.GoTestTests += t.Elapsed
		}
		r.GoTestCount = len(times)
		slices.SortStableFunc(times, func(a, b TestTime) int { return cmp.Compare(b.Elapsed, a.Elapsed) })
		r.Slowest = times[:min(slowest, len(times))]
	}
	return err
}

// testTimes returns the elapsed times of the top-level tests in a go test
// -json stream, and fails on any test that did not pass.
func testTimes(stream []byte) ([]TestTime, error) {
	var times []TestTime
	dec := json.NewDecoder(bytes.NewReader(stream))
	for dec.More() {
		var e struct {
			Action, Package, Test string
			Elapsed               float64
		}
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("go test -json: %w", err)
		}
		if e.Test == "" || strings.Contains(e.Test, "/") {
			continue
		}
		switch e.Action {
		case "pass":
			times = append(times, TestTime{Package: e.Package, Test: e.Test, Elapsed: time.Duration(e.Elapsed * float64(time.Second))})
		case "fail":
			return nil, fmt.Errorf("go test: the reference failed %s in %s", e.Test, e.Package)
		}
	}
	return times, nil
}

// grade grades the submission as the grade command (hidden) or the test
// command (visible only) does, and checks that it earned full marks.
func (s *setup) grade(ctx context.Context, jobs int, r *Round) error {
	var tm grading.Timings
	opts := grading.Options{Hidden: s.hidden, Jobs: jobs, Isolation: -1, Timings: &tm}
	if !s.hidden {
		opts.FallBackToNoRace = true
	}
	g := grading.New(s.repo, opts)
	start := time.Now()
	res, err := g.Submission(ctx, s.sub, s.exs)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	for _, e := range res.Exercises {
		if e.Score != e.MaxScore {
			return fmt.Errorf("grade: the reference scored %g/%g in %s: %s", e.Score, e.MaxScore, e.ID, e.Message)
		}
	}
	if r != nil {
		r.Grade = elapsed
		r.Timings = tm.Sums()
	}
	return nil
}

func compareGrading(ctx context.Context, repo *course.Repo, opts Options) (*Comparison, error) {
	c := &Comparison{What: fmt.Sprintf("grading %d exercises", len(opts.Exercises))}
	err := compare(ctx, repo, opts, opts.Exercises, true, c, func(s *setup, i int, r *Round) (goTest, grade func() error) {
		goTest = func() error {
			progress(opts, "round %d: go test -race -count=1", i+1)
			return s.goTest(ctx, r, "")
		}
		grade = func() error {
			progress(opts, "round %d: grade", i+1)
			return s.grade(ctx, opts.Jobs, r)
		}
		return goTest, grade
	})
	return c, err
}

func compareLatency(ctx context.Context, repo *course.Repo, opts Options) (*Comparison, error) {
	ex := opts.Latency
	c := &Comparison{What: "latency " + ex.ID}
	edits := 0
	edit := func(s *setup) error {
		edits++
		return s.edit(ex, edits)
	}
	err := compare(ctx, repo, opts, []*course.Exercise{ex}, false, c, func(s *setup, i int, r *Round) (goTest, grade func() error) {
		goTest = func() error {
			progress(opts, "round %d: edit, then go test -race ./%s/", i+1, ex.PackageDir())
			if err := edit(s); err != nil {
				return err
			}
			return s.goTest(ctx, r, "")
		}
		grade = func() error {
			progress(opts, "round %d: edit, then grader test %s", i+1, ex.ID)
			if err := edit(s); err != nil {
				return err
			}
			return s.grade(ctx, opts.Jobs, r)
		}
		return goTest, grade
	})
	return c, err
}

// compare lays out exs (with the hidden tests or not), warms the build
// cache with one untimed run of each command, and then times opts.Rounds
// rounds into c. steps gives round i's two timed steps, which record into
// r; the order alternates from round to round, so that neither always
// meets a machine the other has just warmed or tired.
func compare(ctx context.Context, repo *course.Repo, opts Options, exs []*course.Exercise, hidden bool, c *Comparison,
	steps func(s *setup, i int, r *Round) (goTest, grade func() error)) error {
	work, err := os.MkdirTemp("", "ipclab-gradebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	s, err := newSetup(repo, exs, hidden, work)
	if err != nil {
		return err
	}
	progress(opts, "warming the build cache: go test -race and one grade of the reference")
	if err := s.goTest(ctx, nil, "^$"); err != nil {
		return err
	}
	if err := s.grade(ctx, opts.Jobs, nil); err != nil {
		return err
	}
	for i := 0; i < opts.Rounds; i++ {
		var r Round
		first, second := steps(s, i, &r)
		if i%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		c.Rounds = append(c.Rounds, r)
	}
	return nil
}

func progress(opts Options, format string, args ...any) {
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "bench: "+format+"\n", args...)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}
