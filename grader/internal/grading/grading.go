// Package grading puts the grader's pieces together for one exercise at a
// time: collect the editable files, check them, build the test binary, run
// every test in its own process, score.
//
// A [Grader] bounds how much of that runs at once (builds and test
// processes share Options.Jobs slots) so that a class's worth of
// submissions does not overload the machine, which would make time limits
// and verdicts depend on the load.
//
// # What a hostile or deadlocked submission costs
//
// Every test has its own time limit, so a hang costs the tests that hang.
// Two rules bound the rest. A submission has a time budget
// (Options.Budget) for all its exercises together: a test that starts
// late runs under what is left of it, and the tests whose turn comes after
// it ran out are not run. And when a test process is killed at its time
// limit without having started any test (the test binary hangs in an init
// function or a package-level variable), every other test of the exercise
// would hang the same way, so those not yet started are not run.
package grading

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab/grader/internal/build"
	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

// Options control a Grader.
type Options struct {
	// Hidden includes the hidden tests (grading); without it only the
	// visible tests run (a student's own check).
	Hidden bool
	// FallBackToNoRace retries without the race detector when the
	// toolchain cannot build with it, noting so in the result.
	FallBackToNoRace bool
	// Jobs bounds the builds and test processes running at once;
	// [DefaultJobs] when zero.
	Jobs int
	// Isolation fences every test process off from the machine; see
	// run.Isolation. Negative means the best the machine allows.
	Isolation run.Isolation
	// Hide lists directories tests must not see, beyond the course
	// repository and the grader's home, which are always hidden.
	Hide []string
	// Budget bounds the wall time of grading one submission, all its
	// exercises together, from the moment Submission is called; zero
	// means no bound. A test that starts with less of the budget left
	// than its own time limit gets what is left; a test whose turn comes
	// after the budget ran out is not run, and earns nothing. A running
	// test may overrun the budget by run.DefaultKillGrace, the time its
	// process is given to report its own time-out, and run.QuitWait, the
	// time it is given to print its stacks when it did not.
	Budget time.Duration
	// Timings, when not nil, adds up where the time went.
	Timings *Timings
}

// DefaultJobs is how many builds and test processes a grader runs at
// once unless told: four per CPU. Most tests wait (for a time limit, a
// peer, a child process) rather than compute, so a test process per CPU
// leaves the CPUs idle; with four, grading the reference solutions takes
// about 0.6 of plain go test's time, against 1.1 with one (bench -grading,
// on 2 CPUs). The verdicts do not depend on it: the tests are written for
// loaded machines (a CPU-usage test measures what a spinning goroutine
// gets right then), and a class batch runs more processes than this at
// once. A batch grades several submissions side by side, and gives each
// [runtime.NumCPU] jobs instead.
//
// Each test process may use up to run.DefaultLimits.Memory: on a machine
// whose memory does not hold four per CPU at that limit, fewer run at
// once (never fewer than one per CPU), so that a submission whose every
// test allocates all it may cannot make the machine swap.
func DefaultJobs() int {
	n := 4 * runtime.NumCPU()
	if mem := run.TotalMemory(); mem > 0 {
		n = min(n, max(runtime.NumCPU(), int(mem/uint64(run.DefaultLimits.Memory))))
	}
	return n
}

// A Grader grades exercises of one course checkout.
type Grader struct {
	Repo *course.Repo
	Opts Options
	// Fallback says why tests run with less isolation than asked for
	// ("" when they do not).
	Fallback string
	slots    chan struct{}
}

// New returns a Grader for the course checkout repo. When opts asks for
// more isolation than the machine allows, the grader falls back to what
// it does allow, and says why in Fallback.
func New(repo *course.Repo, opts Options) *Grader {
	if opts.Jobs <= 0 {
		opts.Jobs = DefaultJobs()
	}
	g := &Grader{Repo: repo, slots: make(chan struct{}, opts.Jobs)}
	if opts.Isolation != run.IsolateNone {
		best, why := run.Probe()
		if opts.Isolation < 0 || opts.Isolation > best {
			if opts.Isolation > best || best < run.IsolateNamespaces {
				g.Fallback = fmt.Sprintf("tests run with isolation %q, not namespaces: %s", best, why)
			}
			opts.Isolation = best
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		opts.Hide = append(opts.Hide, home)
	}
	opts.Hide = append(opts.Hide, repo.Root)
	g.Opts = opts
	return g
}

// Fork returns a grader with g's repository and options and slots of its
// own, to grade another submission beside g's: neither waits for the
// other's builds or tests, so a submission that hangs spends no other
// submission's time budget. The slots bound each grader's processes, not
// their sum: a batch chooses how many graders run at once.
func (g *Grader) Fork() *Grader {
	f := *g
	f.slots = make(chan struct{}, g.Opts.Jobs)
	return &f
}

func (g *Grader) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *Grader) release() { <-g.slots }

// Tests returns the tests this grader runs for ex.
func (g *Grader) Tests(ex *course.Exercise) []course.Test {
	return ex.TestsFor(g.Opts.Hidden)
}

// A Built is one implementation of an exercise, checked and compiled, or
// the reason it could not be.
type Built struct {
	Exercise *course.Exercise
	Tests    []course.Test
	// Failure is why the implementation cannot be tested (static checks,
	// compile errors); "" when it can.
	Failure string
	// Notes are things the student should know that cost nothing
	// (ignored files, no race detector).
	Notes []string
	bin   *build.Binary
	// sum is the binary's SHA-256 as built: each test checks it first.
	sum  []byte
	work string
}

// Close removes the build's temporary files.
func (b *Built) Close() error {
	if b.work == "" {
		return nil
	}
	return os.RemoveAll(b.work)
}

// Build checks and compiles an implementation of ex: the exercise as the
// course ships it, with layers laid over it in order. Static checks apply
// to the editable files as they end up.
func (g *Grader) Build(ctx context.Context, ex *course.Exercise, layers ...[]submission.File) (*Built, error) {
	var phases buildPhases
	phases.mark(nil)
	defer g.Opts.Timings.addBuild(&phases)
	b := &Built{Exercise: ex, Tests: g.Tests(ex)}
	files, err := g.effective(ex, layers)
	if err != nil {
		return nil, err
	}
	// The static checks type-check offline against the course's modules,
	// so those must be in the module cache first.
	if err := build.Prefetch(ctx, g.Repo); err != nil {
		return nil, err
	}
	probs, err := submission.Check(ctx, g.Repo, ex, files)
	phases.mark(&phases.checks)
	if err != nil {
		return nil, fmt.Errorf("static checks of %s: %w", ex.ID, err)
	}
	if len(probs) > 0 {
		var lines []string
		for _, p := range probs {
			lines = append(lines, p.String())
		}
		b.Failure = strings.Join(lines, "\n")
		return b, nil
	}
	b.work, err = os.MkdirTemp("", "ipclab-"+ex.ID+"-")
	if err != nil {
		return nil, err
	}
	phases.mark(nil)
	if err := g.acquire(ctx); err != nil {
		b.Close()
		return nil, err
	}
	defer g.release()
	phases.mark(&phases.wait)
	defer phases.mark(&phases.compile)
	req := build.Request{Repo: g.Repo, Exercise: ex, Layers: layers, Hidden: g.Opts.Hidden, Race: true}
	b.bin, err = build.Build(ctx, req, b.work)
	if err != nil && req.Race && g.Opts.FallBackToNoRace && errors.Is(err, build.ErrRaceUnavailable) {
		req.Race = false
		b.Notes = append(b.Notes, "built without the race detector (it needs a C compiler, which this machine lacks): data races go unnoticed here, but not when your work is graded")
		b.bin, err = build.Build(ctx, req, b.work)
	}
	var cerr *build.CompileError
	if errors.As(err, &cerr) {
		b.Failure = cerr.Error()
		return b, nil
	}
	if err == nil {
		b.sum, err = run.Sum(b.bin.Path)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// effective returns the editable files of ex as the layers leave them.
func (g *Grader) effective(ex *course.Exercise, layers [][]submission.File) ([]submission.File, error) {
	byName := map[string][]byte{}
	for _, name := range ex.Editable {
		data, err := os.ReadFile(g.Repo.Path(ex.Dir, name))
		if err != nil {
			return nil, fmt.Errorf("the course's own %s: %w", path.Join(ex.Dir, name), err)
		}
		byName[name] = data
	}
	for _, layer := range layers {
		for _, f := range layer {
			byName[f.Name] = f.Data
		}
	}
	var files []submission.File
	for _, name := range ex.Editable {
		files = append(files, submission.File{Name: name, Data: byName[name]})
	}
	return files, nil
}

// Run runs every test of a build, each in a process of its own, and
// returns the attempts by test name. The tests of a build whose test
// binary hangs before its first test are not all run (see the package
// documentation).
func (g *Grader) Run(ctx context.Context, b *Built) (map[string]score.Attempt, error) {
	return g.run(ctx, b, &budget{})
}

// A budget is what is left of a submission's time budget.
type budget struct {
	// deadline is when it runs out; zero for no budget.
	deadline time.Time
	// spent records that it cost some test its chance.
	spent atomic.Bool
}

// run is Run within the submission's time budget bud.
func (g *Grader) run(ctx context.Context, b *Built, bud *budget) (map[string]score.Attempt, error) {
	deadline := bud.deadline
	attempts := map[string]score.Attempt{}
	if b.Failure != "" {
		return attempts, nil
	}
	limits := run.DefaultLimits
	// An error of run.Test is the machine's (a sandbox that failed), not
	// the submission's: the tests still running are cancelled.
	eg, ctx := errgroup.WithContext(ctx)
	var (
		mu sync.Mutex
		// hungIn names the first test whose process showed that the
		// binary hangs before its first test.
		hungIn string
	)
	for _, t := range b.Tests {
		if err := g.acquire(ctx); err != nil {
			if werr := eg.Wait(); werr != nil {
				return nil, werr
			}
			return nil, err
		}
		// The slot was free: every test that ended before it was freed
		// has been recorded, so a hang it saw is known here.
		a := score.Attempt{Limit: b.Exercise.TimeoutOf(t), Budget: g.Opts.Budget, Memory: limits.Memory}
		mu.Lock()
		a.HungIn = hungIn
		mu.Unlock()
		switch left := time.Until(deadline); {
		case a.HungIn != "":
			a.NotStarted = score.HungBeforeFirstTest
		case deadline.IsZero():
		case left <= 0:
			a.NotStarted = score.BudgetSpent
		case left < a.Limit:
			a.Capped = left
		}
		if a.NotStarted != score.Started {
			g.release()
			if a.StoppedByBudget() {
				bud.spent.Store(true)
			}
			mu.Lock()
			attempts[t.Name] = a
			mu.Unlock()
			continue
		}
		eg.Go(func() error {
			defer g.release()
			timeout := a.Limit
			if a.Capped > 0 {
				timeout = a.Capped
			}
			o, err := run.Test(ctx, run.Spec{
				Binary:    b.bin.Path,
				BinarySum: b.sum,
				Package:   b.bin.Package,
				Test:      t.Name,
				Timeout:   timeout,
				Isolation: g.Opts.Isolation,
				Limits:    limits,
				Hide:      g.Opts.Hide,
			})
			a.Outcome = o
			g.Opts.Timings.addTest(t.Name, o)
			if o != nil && a.StoppedByBudget() {
				bud.spent.Store(true)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", b.Exercise.ID, t.Name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if hungIn == "" && a.HangsBeforeFirstTest() {
				hungIn = t.Name
			}
			attempts[t.Name] = a
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return attempts, nil
}

// Score runs a build's tests and scores them.
func (g *Grader) Score(ctx context.Context, b *Built) (*score.Exercise, error) {
	return g.score(ctx, b, &budget{})
}

// score is Score within the submission's time budget bud.
func (g *Grader) score(ctx context.Context, b *Built, bud *budget) (*score.Exercise, error) {
	if b.Failure != "" {
		return score.Unrunnable(b.Exercise, b.Tests, withNotes(b.Failure, b.Notes)), nil
	}
	attempts, err := g.run(ctx, b, bud)
	if err != nil {
		return nil, err
	}
	res := score.Scored(b.Exercise, b.Tests, attempts)
	res.Message = withNotes(res.Message, b.Notes)
	return res, nil
}

func withNotes(msg string, notes []string) string {
	parts := []string{}
	if msg != "" {
		parts = append(parts, msg)
	}
	for _, n := range notes {
		parts = append(parts, "note: "+n)
	}
	return strings.Join(parts, "\n")
}

// Submission grades the exercises exs of the submission rooted at root,
// within Options.Budget. Running out of budget is part of the result,
// never an error.
func (g *Grader) Submission(ctx context.Context, root string, exs []*course.Exercise) (*score.Result, error) {
	bud := &budget{}
	if g.Opts.Budget > 0 {
		bud.deadline = time.Now().Add(g.Opts.Budget)
	}
	res := &score.Result{
		Schema:    score.Schema,
		Isolation: score.IsolationOf(g.Opts.Isolation),
		Exercises: make([]*score.Exercise, len(exs)),
	}
	// An error is the machine's (a build that could not run, a sandbox
	// that failed), not the submission's: the other exercises are
	// cancelled, since the submission has no result anyway.
	eg, ctx := errgroup.WithContext(ctx)
	for i, ex := range exs {
		eg.Go(func() error {
			r, err := g.submissionExercise(ctx, root, ex, bud)
			if err != nil {
				return fmt.Errorf("%s: %w", ex.ID, err)
			}
			res.Exercises[i] = r
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	res.Total()
	res.BudgetSpent = bud.spent.Load()
	return res, nil
}

func (g *Grader) submissionExercise(ctx context.Context, root string, ex *course.Exercise, bud *budget) (*score.Exercise, error) {
	if ex.UnixOnly && runtime.GOOS == "windows" {
		return score.Unrunnable(ex, g.Tests(ex), ex.ID+" needs a Unix kernel: run it in WSL or in the repository's dev container"), nil
	}
	col, err := submission.Collect(root, g.Repo.Root, ex)
	if err != nil {
		return nil, err
	}
	var notes []string
	if len(col.Ignored) > 0 {
		notes = append(notes, "not graded (only "+strings.Join(ex.Editable, ", ")+" is; the tests are always the course's own): "+strings.Join(col.Ignored, ", "))
	}
	if len(col.Problems) > 0 {
		var lines []string
		for _, p := range col.Problems {
			lines = append(lines, p.String())
		}
		return score.Unrunnable(ex, g.Tests(ex), withNotes(strings.Join(lines, "\n"), notes)), nil
	}
	if !bud.deadline.IsZero() && !time.Now().Before(bud.deadline) {
		// Building would only cost more time: no test can run.
		bud.spent.Store(true)
		return g.outOfBudget(ex), nil
	}
	b, err := g.Build(ctx, ex, col.Files)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	b.Notes = append(notes, b.Notes...)
	return g.score(ctx, b, bud)
}

// outOfBudget is the result of an exercise whose turn came after the
// submission's time budget ran out.
func (g *Grader) outOfBudget(ex *course.Exercise) *score.Exercise {
	tests := g.Tests(ex)
	attempts := map[string]score.Attempt{}
	for _, t := range tests {
		attempts[t.Name] = score.Attempt{NotStarted: score.BudgetSpent, Budget: g.Opts.Budget}
	}
	res := score.Scored(ex, tests, attempts)
	res.Status = score.Error
	res.Message = fmt.Sprintf("not tested: the submission's time budget of %v ran out before this exercise's turn", g.Opts.Budget)
	return res
}
