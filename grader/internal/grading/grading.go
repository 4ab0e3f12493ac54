// Package grading puts the grader's pieces together for one exercise at a
// time: collect the editable files, check them, build the test binary, run
// every test in its own process, score.
//
// A [Grader] bounds how much of that runs at once (builds and test
// processes share Options.Jobs slots) so that a class's worth of
// submissions does not overload the machine, which would make time limits
// and verdicts depend on the load.
package grading

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

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
	// NoRace builds without the race detector. Only for machines without
	// a C compiler; data races then go unnoticed.
	NoRace bool
	// FallBackToNoRace retries without the race detector when the
	// toolchain cannot build with it, noting so in the result.
	FallBackToNoRace bool
	// Jobs bounds the builds and test processes running at once;
	// runtime.NumCPU() when zero.
	Jobs int
	// Isolation fences every test process off from the machine; see
	// run.Isolation. Negative means the best the machine allows.
	Isolation run.Isolation
	// Hide lists directories tests must not see, beyond the course
	// repository and the grader's home, which are always hidden.
	Hide []string
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
		opts.Jobs = runtime.NumCPU()
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
	work  string
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
	if err := g.acquire(ctx); err != nil {
		b.Close()
		return nil, err
	}
	defer g.release()
	req := build.Request{Repo: g.Repo, Exercise: ex, Layers: layers, Hidden: g.Opts.Hidden, Race: !g.Opts.NoRace}
	b.bin, err = build.Build(ctx, req, b.work)
	if err != nil && req.Race && g.Opts.FallBackToNoRace && strings.Contains(err.Error(), "-race requires cgo") {
		req.Race = false
		b.Notes = append(b.Notes, "built without the race detector (it needs a C compiler, which this machine lacks): data races go unnoticed here, but not when your work is graded")
		b.bin, err = build.Build(ctx, req, b.work)
	}
	var cerr *build.CompileError
	if errors.As(err, &cerr) {
		b.Failure = cerr.Error()
		return b, nil
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
// returns the outcomes by test name.
func (g *Grader) Run(ctx context.Context, b *Built) (map[string]*run.Outcome, error) {
	outcomes := map[string]*run.Outcome{}
	if b.Failure != "" {
		return outcomes, nil
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	for _, t := range b.Tests {
		if err := g.acquire(ctx); err != nil {
			return nil, err
		}
		wg.Add(1)
		go func(t course.Test) {
			defer wg.Done()
			defer g.release()
			o, err := run.Test(ctx, run.Spec{
				Binary:    b.bin.Path,
				Package:   b.bin.Package,
				Test:      t.Name,
				Timeout:   b.Exercise.TimeoutOf(t),
				Isolation: g.Opts.Isolation,
				Limits:    run.DefaultLimits,
				Hide:      g.Opts.Hide,
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s %s: %w", b.Exercise.ID, t.Name, err)
			}
			outcomes[t.Name] = o
		}(t)
	}
	wg.Wait()
	return outcomes, firstErr
}

// Score runs a build's tests and scores them.
func (g *Grader) Score(ctx context.Context, b *Built) (*score.Exercise, error) {
	if b.Failure != "" {
		return score.Unrunnable(b.Exercise, b.Tests, withNotes(b.Failure, b.Notes)), nil
	}
	outcomes, err := g.Run(ctx, b)
	if err != nil {
		return nil, err
	}
	res := score.Scored(b.Exercise, b.Tests, outcomes, "")
	for _, t := range res.Tests {
		if t.Status != score.Pass && strings.HasPrefix(t.Message, "failed; to see why") {
			t.Message = "failed; to see why, run: " + Rerun(b.Exercise, t.Name, t.Hidden)
		}
	}
	res.Message = withNotes(res.Message, b.Notes)
	return res, nil
}

// Rerun is the command that shows a test's whole output to a student.
func Rerun(ex *course.Exercise, test string, hidden bool) string {
	if hidden {
		return "(a hidden test: read its message, and the exercise's README)"
	}
	return fmt.Sprintf("cd %s && go test -race -run '^%s$' ./%s/", course.ExercisesDir, test, ex.PackageDir())
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

// Submission grades the exercises exs of the submission rooted at root.
func (g *Grader) Submission(ctx context.Context, root string, exs []*course.Exercise) (*score.Result, error) {
	res := &score.Result{Schema: score.Schema, Exercises: make([]*score.Exercise, len(exs))}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i, ex := range exs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.submissionExercise(ctx, root, ex)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ex.ID, err))
				return
			}
			res.Exercises[i] = r
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res.Total()
	return res, nil
}

func (g *Grader) submissionExercise(ctx context.Context, root string, ex *course.Exercise) (*score.Exercise, error) {
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
	b, err := g.Build(ctx, ex, col.Files)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	b.Notes = append(notes, b.Notes...)
	return g.Score(ctx, b)
}
