// Package verify proves that the course's tests mean something: every
// reference solution earns full marks, every stub earns nothing, and every
// mutant (a known-wrong implementation, one per bug-catalogue entry at
// least) loses points on a test written for its entry.
//
// With more than one run, every verdict is repeated and any test whose
// result changed between runs is named: a verdict that depends on timing
// is a bug in the test.
package verify

import (
	"context"
	"fmt"
	"github.com/ipclab/ipclab/grader/internal/mutant"
	"golang.org/x/sync/errgroup"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

// Kinds of implementation.
const (
	Solution = "solution"
	Stub     = "stub"
	Mutant   = "mutant"
)

// Options control a verification.
type Options struct {
	// Runs is how many times every test runs (1 when zero).
	Runs int
	// SkipMutants leaves the mutant sweep out (go test -short).
	SkipMutants bool
	// Mutants, when not empty, limits the sweep to the mutants of these
	// names (in any of the exercises): the check of a new mutant, run
	// twenty times, need not run every other mutant twenty times too.
	Mutants []string
	// Progress, when set, gets a line as each check completes.
	Progress io.Writer
}

// A Check is one implementation of one exercise, tested Runs times.
type Check struct {
	Exercise string
	Kind     string
	// Mutant is the mutant's name, and Bug its catalogue entry.
	Mutant string
	Bug    *course.Bug
	// Scores holds the score of each run, out of MaxScore. A mutant runs
	// only the tests of its catalogue entry, so its MaxScore is theirs.
	Scores   []float64
	MaxScore float64
	// Failed counts, per test, the runs in which it did not pass.
	Failed map[string]int
	// Failure holds, per test, the message of the first run in which it
	// did not pass: a failure seen once in twenty runs can then be
	// diagnosed without reproducing it.
	Failure map[string]string
	// Runs is the number of runs.
	Runs int
	// Caught counts, for a mutant, the runs in which at least one test of
	// its catalogue entry failed.
	Caught int
	// Problem says why the check does not hold; "" when it does.
	Problem string
	// Varied names the tests whose result changed between runs. For a
	// solution or a stub that is a wrong verdict already; for a mutant it
	// is worth knowing but harmless as long as it was caught every time.
	Varied []string
	// Message is the first run's exercise message (static check or
	// compile errors).
	Message string
	// Unrunnable is set when static checks or the compiler rejected the
	// implementation, so no test ran.
	Unrunnable bool
}

// Name is how the check is shown: "solution", "stub", "mutant if-not-for".
func (c *Check) Name() string {
	if c.Kind == Mutant {
		return "mutant " + c.Mutant
	}
	return c.Kind
}

// OK reports whether the check holds.
func (c *Check) OK() bool { return c.Problem == "" }

// VariedTests returns, sorted, the tests that passed in some runs and
// failed in others.
func (c *Check) VariedTests() []string {
	var names []string
	for name, n := range c.Failed {
		if n > 0 && n < c.Runs {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// A Report is every check of a verification.
type Report struct {
	Checks []*Check
	// Structure lists inconsistencies between manifests and files.
	Structure []string
}

// OK reports whether every check holds and the structure is sound.
func (r *Report) OK() bool {
	if len(r.Structure) > 0 {
		return false
	}
	for _, c := range r.Checks {
		if !c.OK() {
			return false
		}
	}
	return true
}

// Run verifies the exercises exs with g, which must include hidden tests.
func Run(ctx context.Context, g *grading.Grader, exs []*course.Exercise, opts Options) (*Report, error) {
	if !g.Opts.Hidden {
		return nil, fmt.Errorf("verify needs a grader that runs the hidden tests")
	}
	if !g.Repo.HasSolutions() {
		return nil, fmt.Errorf("%s has no %s/: verify runs in the instructor's repository, not a student's", g.Repo.Root, course.SolutionsDir)
	}
	runs := max(opts.Runs, 1)
	if err := knownMutants(exs, opts.Mutants); err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, ex := range exs {
		for _, err := range Structure(g.Repo, ex) {
			rep.Structure = append(rep.Structure, err.Error())
		}
	}
	type job struct {
		ex     *course.Exercise
		check  *Check
		layers [][]submission.File
	}
	var jobs []job
	for _, ex := range exs {
		sol, err := submission.ReadDir(g.Repo.Path(course.SolutionsDir, ex.ID), ex)
		if err != nil {
			return nil, fmt.Errorf("solution of %s: %w", ex.ID, err)
		}
		jobs = append(jobs,
			job{ex, &Check{Exercise: ex.ID, Kind: Solution}, [][]submission.File{sol}},
			job{ex, &Check{Exercise: ex.ID, Kind: Stub}, nil},
		)
		if opts.SkipMutants {
			continue
		}
		for _, m := range ex.Mutants() {
			if len(opts.Mutants) > 0 && !slices.Contains(opts.Mutants, m.Name) {
				continue
			}
			files, err := mutantFiles(g.Repo, ex, m.Name)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job{ex, &Check{Exercise: ex.ID, Kind: Mutant, Mutant: m.Name, Bug: m.Bug}, [][]submission.File{sol, files}})
		}
	}

	// An error is the machine's, not a verdict (a build that could not
	// run, a sandbox that failed): the other checks are cancelled, since
	// the verification has no result anyway.
	var mu sync.Mutex
	eg, ctx := errgroup.WithContext(ctx)
	for _, j := range jobs {
		rep.Checks = append(rep.Checks, j.check)
		eg.Go(func() error {
			if err := check(ctx, g, j.ex, j.check, j.layers, runs); err != nil {
				return err
			}
			if opts.Progress != nil {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(opts.Progress, "%-9s %-34s %s\n", j.check.Exercise, j.check.Name(), verdict(j.check))
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return rep, nil
}

// knownMutants refuses a name in names that is no mutant of exs: a typo
// would otherwise verify nothing and look green.
func knownMutants(exs []*course.Exercise, names []string) error {
	var unknown []string
	for _, name := range names {
		found := false
		for _, ex := range exs {
			for _, m := range ex.Mutants() {
				found = found || m.Name == name
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("no mutant named %s in the exercises verified", strings.Join(unknown, ", "))
	}
	return nil
}

// check builds one implementation, runs its tests runs times, and judges.
func check(ctx context.Context, g *grading.Grader, ex *course.Exercise, c *Check, layers [][]submission.File, runs int) error {
	b, err := g.Build(ctx, ex, layers...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", ex.ID, c.Name(), err)
	}
	defer b.Close()
	if c.Kind == Mutant {
		// A mutant is caught when a test of its entry fails; the other
		// tests would only add time.
		b.Tests = slices.DeleteFunc(slices.Clone(b.Tests), func(t course.Test) bool { return !slices.Contains(c.Bug.Tests, t.Name) })
	}
	c.Runs = runs
	c.Unrunnable = b.Failure != ""
	c.Failed = map[string]int{}
	c.Failure = map[string]string{}
	for i := 0; i < runs; i++ {
		res, err := g.Score(ctx, b)
		if err != nil {
			return fmt.Errorf("%s %s: %w", ex.ID, c.Name(), err)
		}
		if i == 0 {
			c.Message = res.Message
		}
		c.MaxScore = res.MaxScore
		c.Scores = append(c.Scores, res.Score)
		caught := false
		for _, t := range res.Tests {
			if t.Status != score.Pass {
				c.Failed[t.Name]++
				if _, seen := c.Failure[t.Name]; !seen {
					c.Failure[t.Name] = t.Message
				}
				caught = caught || c.Bug != nil && slices.Contains(c.Bug.Tests, t.Name)
			}
		}
		if caught {
			c.Caught++
		}
		if c.Unrunnable {
			// Static check or compile failure: the same every time.
			c.Runs = 1
			break
		}
	}
	judge(c, ex)
	return nil
}

// judge sets c.Problem and c.Varied.
func judge(c *Check, ex *course.Exercise) {
	for _, name := range c.VariedTests() {
		c.Varied = append(c.Varied, fmt.Sprintf("%s failed %d of %d runs", name, c.Failed[name], c.Runs))
	}
	var bad []string
	switch c.Kind {
	case Solution:
		if c.Unrunnable {
			bad = append(bad, "cannot be tested: "+c.Message)
			break
		}
		for _, t := range ex.Tests {
			if n := c.Failed[t.Name]; n > 0 {
				bad = append(bad, fmt.Sprintf("%s failed in %d of %d runs", t.Name, n, c.Runs))
			}
		}
	case Stub:
		if c.Unrunnable {
			bad = append(bad, "the stub must compile and pass the static checks: "+c.Message)
			break
		}
		for _, t := range ex.Tests {
			if n := c.Failed[t.Name]; n < c.Runs {
				bad = append(bad, fmt.Sprintf("%s passed in %d of %d runs: an unchanged stub must fail every test", t.Name, c.Runs-n, c.Runs))
			}
		}
	case Mutant:
		if c.Unrunnable {
			bad = append(bad, "rejected before any test ran, so no test is shown to catch it: "+firstLine(c.Message))
			break
		}
		if c.Caught < c.Runs {
			bad = append(bad, fmt.Sprintf("escaped in %d of %d runs: none of %s failed", c.Runs-c.Caught, c.Runs, strings.Join(c.Bug.Tests, ", ")))
		}
	}
	c.Problem = strings.Join(bad, "; ")
}

func verdict(c *Check) string {
	if c.OK() {
		s := "ok"
		if c.Kind == Mutant {
			var by []string
			for _, t := range c.Bug.Tests {
				if c.Failed[t] == c.Runs {
					by = append(by, t)
				}
			}
			s += ": caught by " + strings.Join(by, ", ")
		}
		return s
	}
	return "WRONG: " + c.Problem
}

// Verdict is the check's verdict in words.
func (c *Check) Verdict() string { return verdict(c) }

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// listed reports whether name is among the manifest's mutants of ex.
func listed(ex *course.Exercise, name string) bool {
	return slices.ContainsFunc(ex.Mutants(), func(m course.Mutant) bool { return m.Name == name })
}

// mutantFiles applies the mutant name of ex to the solution and returns
// the files it changes.
func mutantFiles(repo *course.Repo, ex *course.Exercise, name string) ([]submission.File, error) {
	changed, err := mutant.Files(repo, ex, name)
	if err != nil {
		return nil, err
	}
	var files []submission.File
	for _, n := range slices.Sorted(maps.Keys(changed)) {
		files = append(files, submission.File{Name: n, Data: changed[n]})
	}
	return files, nil
}

// ScoreRange is the score over the runs: "80/100", or "75-80/100" when it
// changed.
func (c *Check) ScoreRange() string {
	if len(c.Scores) == 0 {
		return "-"
	}
	lo, hi := slices.Min(c.Scores), slices.Max(c.Scores)
	if lo == hi {
		return fmt.Sprintf("%g/%g", lo, c.MaxScore)
	}
	return fmt.Sprintf("%g-%g/%g", lo, hi, c.MaxScore)
}
