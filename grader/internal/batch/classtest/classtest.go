// Package classtest batches, for one exercise, every implementation the
// course holds (the reference, the stub, every mutant and every fixture
// submission, hostile ones included) and checks the gradebook row by row
// against what grading each of them alone gives, recorded in
// testdata/<exercise>.csv.
//
// A batch grades submissions side by side, each in its own sandbox with
// its own time budget, so that none can change another's grade; a row that
// differs from the submission's grade alone means that isolation leaked,
// or that a test's verdict depends on the machine's load, and both are
// bugs.
//
// Each implementation is graded alone several times, and each test's
// verdicts recorded: passed every time, never, or sometimes. In the batch a
// test that always passed alone must pass, and one that never did must
// fail; the one exception is a data race, which the race detector finds
// only when the racing accesses happen to be unordered, more often on a
// busy machine: a test that passed alone may fail in the batch on a race
// reported there, one the code really has.
//
// That holds for every test of the reference, the stub and the fixture
// submissions, whose verdicts the course's rules require to be the same
// on every run. A mutant is only required to be caught on every run, by
// at least one of the tests its catalogue entry names (verify proves
// that alone), so that is what the batch must show for a mutant; a test
// may catch a mutant's mistake only now and then, depending on timing
// and load, and where a mutant's verdicts differ from those alone, the
// test logs them (go test -v shows them) rather than fails.
// Grading every mutant alone takes most of an hour on two cores, so those
// grades are recorded rather than repeated on every run:
//
//	go test ./grader/internal/batch/classtest/... -update
//
// grades each implementation alone, one after another, as the grade
// command does, and rewrites the files. Run it after changing an
// exercise's tests, mutants or fixtures; the diff shows what changed.
//
// One package per exercise (under this one) keeps every package within go
// test's time limit, and lets them run in parallel.
package classtest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/ipclab/ipclab/grader/internal/mutant"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/grader/internal/batch"
	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/verify/verifytest"
)

var (
	update    = flag.Bool("update", false, "grade every implementation alone and rewrite testdata/<exercise>.csv")
	aloneRuns = flag.Int("alone-runs", 3, "with -update, grade each implementation alone this many `times`")
)

// budget is each submission's time budget: far above what any
// implementation needs when it is graded alone, so that it never decides a
// score; a batch that runs out of it has slowed its submissions down.
const budget = 4 * time.Minute

// Run checks the batch of every implementation of exercise id against
// the recorded grades alone.
func Run(t *testing.T, id string) {
	t.Helper()
	if testing.Short() {
		t.Skip("grades every mutant; skipped with -short")
	}
	repo := verifytest.Repo(t)
	ex, err := repo.Exercise(id)
	if err != nil {
		t.Fatal(err)
	}
	class := t.TempDir()
	names := lay(t, repo, ex, class)
	// catching names, for each mutant, the tests its catalogue entry says
	// catch it.
	catching := map[string]map[string]bool{}
	for _, m := range ex.Mutants() {
		catching["mutant-"+m.Name] = map[string]bool{}
		for _, tn := range m.Bug.Tests {
			catching["mutant-"+m.Name][tn] = true
		}
	}
	// One job per CPU for each submission, as the batch command gives.
	opts := grading.Options{Hidden: true, Isolation: -1, Budget: budget, Jobs: runtime.NumCPU()}
	golden := filepath.Join(repo.Root, "grader", "internal", "batch", "classtest", "testdata", id+".csv")
	exs := []*course.Exercise{ex}
	ctx := context.Background()

	if *update {
		want := map[string]*alone{}
		for run := 0; run < *aloneRuns; run++ {
			for _, name := range names {
				res, err := grading.New(repo, opts).Submission(ctx, filepath.Join(class, name), exs)
				if err != nil {
					t.Fatal(err)
				}
				if want[name] == nil {
					want[name] = &alone{}
				}
				want[name].add(res)
				t.Logf("run %d: %s: %g alone", run+1, name, res.Score)
			}
		}
		if err := writeGolden(golden, names, want); err != nil {
			t.Fatal(err)
		}
	}
	want, err := readGolden(golden)
	if err != nil {
		t.Fatalf("%v (go test -update records it)", err)
	}

	g := grading.New(repo, opts)
	out := t.TempDir()
	// Many more submissions at once than CPUs: most tests of a mutant
	// wait (for a time limit, a peer, a child) rather than compute, and
	// the verdicts must not depend on the load anyway.
	sum, err := batch.Run(ctx, g, batch.Options{Dir: class, Out: out, Exercises: exs, Parallel: 3 * runtime.NumCPU()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*batch.Row{}
	for _, r := range sum.Rows {
		got[r.Submission] = r
	}
	for _, name := range names {
		r, w := got[name], want[name]
		switch {
		case r == nil:
			t.Errorf("%s: no row in the gradebook", name)
			continue
		case w == nil:
			t.Errorf("%s: %g in the batch, but not recorded alone (go test -update records it)", name, r.Score)
			continue
		case r.Status != batch.Graded:
			t.Errorf("%s: status %s in the batch, want graded", name, r.Status)
		}
		res := readResult(t, filepath.Join(out, batch.ResultsDir, name+".json"))
		feedback := filepath.Join(out, batch.FeedbackDir, name+".md")
		catches := catching[name]
		if catches != nil && !caught(res, catches) {
			t.Errorf("%s: none of the tests that catch it (%s) failed in the batch (%g in the batch, %s alone); see %s", name, strings.Join(sortedKeys(catches), ", "), r.Score, w.scores(), feedback)
		}
		for _, d := range w.disagreements(res) {
			msg := fmt.Sprintf("%s: %s (%g in the batch, %s alone); see %s", name, d.why, r.Score, w.scores(), feedback)
			if catches != nil {
				// A mutant: see the package documentation.
				t.Logf("incidental: %s", msg)
				continue
			}
			t.Error(msg)
		}
	}
	for name := range want {
		if got[name] == nil {
			t.Errorf("%s is recorded but no longer in the class (go test -update drops it)", name)
		}
	}
	if t.Failed() {
		t.Logf("the batch's outputs are in %s", out)
	}
}

// caught reports whether some test of catches did not pass in res.
func caught(res *score.Result, catches map[string]bool) bool {
	for _, e := range res.Exercises {
		for _, t := range e.Tests {
			if catches[t.Name] && t.Status != score.Pass {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func readResult(t *testing.T, file string) *score.Result {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var res score.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &res
}

// lay writes the class of ex under dir and returns the names of its
// submissions: the reference, the stub, each mutant and each fixture
// submission that holds ex. Each holds only ex's files.
func lay(t *testing.T, repo *course.Repo, ex *course.Exercise, dir string) []string {
	t.Helper()
	put := func(name, from string, files []string) {
		dst := filepath.Join(dir, name, filepath.FromSlash(ex.Dir))
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(from, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := []string{"reference", "stub"}
	put("reference", repo.Path(course.SolutionsDir, ex.ID), ex.Editable)
	put("stub", repo.Path(filepath.FromSlash(ex.Dir)), ex.Editable)
	for _, m := range ex.Mutants() {
		name := "mutant-" + m.Name
		// A mutant holds the files it changes; the reference the rest.
		put(name, repo.Path(course.SolutionsDir, ex.ID), ex.Editable)
		changed, err := mutant.Files(repo, ex, m.Name)
		if err != nil {
			t.Fatal(err)
		}
		for f, data := range changed {
			if err := os.WriteFile(filepath.Join(dir, name, filepath.FromSlash(ex.Dir), f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		names = append(names, name)
	}
	subs, err := os.ReadDir(repo.Path("testdata", "submissions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		from := repo.Path("testdata", "submissions", s.Name(), filepath.FromSlash(ex.Dir))
		name := "fixture-" + s.Name()
		if target, err := os.Readlink(from); err == nil {
			// The symbolic link is the submission (the grader refuses it).
			dst := filepath.Join(dir, name, filepath.FromSlash(ex.Dir))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dst); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
			continue
		}
		entries, err := os.ReadDir(from)
		if err != nil {
			continue // not a submission of ex
		}
		var files []string
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, e.Name())
			}
		}
		put(name, from, files)
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Verdicts of a test over the runs alone.
const (
	passed = 'P' // passed on every run
	failed = 'F' // did not pass on any run
	varied = '?' // passed on some runs only
)

// alone is what grading an implementation alone gave, over some runs: the
// lowest and highest score, and each test's verdict, in the manifest's
// order.
type alone struct {
	min, max float64
	verdicts []byte
	runs     int
}

func (a *alone) add(res *score.Result) {
	var v []byte
	for _, e := range res.Exercises {
		for _, t := range e.Tests {
			if t.Status == score.Pass {
				v = append(v, passed)
			} else {
				v = append(v, failed)
			}
		}
	}
	if a.runs == 0 {
		a.min, a.max, a.verdicts = res.Score, res.Score, v
	} else {
		a.min, a.max = min(a.min, res.Score), max(a.max, res.Score)
		for i := range a.verdicts {
			if i >= len(v) || v[i] != a.verdicts[i] {
				a.verdicts[i] = varied
			}
		}
	}
	a.runs++
}

func (a *alone) scores() string {
	if a.min == a.max {
		return num(a.min)
	}
	return "from " + num(a.min) + " to " + num(a.max)
}

// disagreements compares a batch's result with the verdicts alone. A test
// that passed on every run alone must pass in the batch, but for one
// exception: the race detector sees a race only when the racing accesses
// happen to be unordered, so a test of racy code may catch the race in a
// busy batch that it missed alone. That is a race the code really has
// (the reference has none, and always passes). A test that failed on
// every run alone must fail: a batch never gives points grading alone
// did not.
func (a *alone) disagreements(res *score.Result) []disagreement {
	var tests []*score.Test
	for _, e := range res.Exercises {
		tests = append(tests, e.Tests...)
	}
	if len(tests) != len(a.verdicts) {
		return []disagreement{{"", fmt.Sprintf("%d tests in the batch, %d recorded alone (go test -update records them again)", len(tests), len(a.verdicts))}}
	}
	var out []disagreement
	for i, t := range tests {
		switch v := a.verdicts[i]; {
		case v == passed && t.Status != score.Pass && !t.Race:
			out = append(out, disagreement{t.Name, fmt.Sprintf("%s: %s in the batch, passed alone: %s", t.Name, t.Status, firstLine(t.Message))})
		case v == failed && t.Status == score.Pass:
			out = append(out, disagreement{t.Name, fmt.Sprintf("%s passed in the batch, never alone", t.Name)})
		}
	}
	return out
}

// A disagreement is a test whose verdict in a batch differs from its
// verdicts alone.
type disagreement struct{ test, why string }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func writeGolden(file string, names []string, runs map[string]*alone) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"submission", "lowest alone", "highest alone", "verdicts alone (P passed every run, F never, ? some)"})
	for _, n := range names {
		a := runs[n]
		w.Write([]string{n, num(a.min), num(a.max), string(a.verdicts)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readGolden(file string) (map[string]*alone, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := map[string]*alone{}
	for _, r := range recs[1:] {
		if len(r) != 4 {
			return nil, fmt.Errorf("%s: %s: want 4 columns", file, r[0])
		}
		lo, err1 := strconv.ParseFloat(r[1], 64)
		hi, err2 := strconv.ParseFloat(r[2], 64)
		if err1 != nil || err2 != nil || strings.Trim(r[3], "PF?") != "" {
			return nil, fmt.Errorf("%s: %s: bad record %q", file, r[0], r)
		}
		out[r[0]] = &alone{min: lo, max: hi, verdicts: []byte(r[3]), runs: 1}
	}
	return out, nil
}
