package batch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/score"
)

func openCourse(t testing.TB) *course.Repo {
	t.Helper()
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	return repo
}

// copyDir copies the tree src to dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	out, err := exec.Command("cp", "-R", src, dst).CombinedOutput()
	require.NoError(t, err, "cp -R %s %s: %s", src, dst, out)
}

// referenceOf lays the reference solutions of exs out as a submission
// under dir.
func referenceOf(t testing.TB, repo *course.Repo, dir string, exs []*course.Exercise) {
	t.Helper()
	for _, ex := range exs {
		dst := filepath.Join(dir, filepath.FromSlash(ex.Dir))
		require.NoError(t, os.MkdirAll(dst, 0o755))
		entries, err := os.ReadDir(repo.Path(course.SolutionsDir, ex.ID))
		require.NoError(t, err)
		for _, e := range entries {
			data, err := os.ReadFile(repo.Path(course.SolutionsDir, ex.ID, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644))
		}
	}
}

// readGradebook returns the gradebook's rows by submission, each a map
// from column to cell.
func readGradebook(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(out, GradebookFile))
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	rows := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		rows[rec[0]] = row
	}
	return rows
}

// progressHook is a progress writer that calls fn on each line, for a
// test to act when a submission is done.
type progressHook struct {
	mu sync.Mutex
	fn func(line string)
}

func (p *progressHook) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		p.fn(line)
	}
	return len(b), nil
}

// TestBatchAgreesWithGrade batches the fixture submissions of the counter
// and pipe exercises, the reference, a submission that hangs in init and a
// hostile one that writes over every test binary it can find (the other
// submissions' among them, if it could see them), and checks every row of
// the gradebook against grading that submission alone. Then it checks
// that a second run grades only what changed, and that an interrupted
// batch resumes.
func TestBatchAgreesWithGrade(t *testing.T) {
	if testing.Short() {
		t.Skip("grades ten submissions twice; skipped with -short")
	}
	repo := openCourse(t)
	exs, err := repo.Select([]string{"counter", "pipe"})
	require.NoError(t, err)
	class := t.TempDir()
	for _, name := range []string{"good-atomic", "wrong-check-then-act", "compile-error", "forbidden-import", "smuggled-test", "hang-in-init", "swap-others", "binary-swap"} {
		copyDir(t, repo.Path("testdata", "submissions", name), filepath.Join(class, name))
	}
	referenceOf(t, repo, filepath.Join(class, "reference"), exs)
	// The budget is just under the counter's 30-second test limit, so
	// that hang-in-init's first tests are capped by it and the budget is
	// spent (out-of-time); it is as long as that allows, so that the
	// others finish on a loaded machine (20 seconds did not, with load
	// averages near 18 on 2 cores).
	opts := grading.Options{Hidden: true, Isolation: -1, Budget: 29 * time.Second, Jobs: 2}
	g := grading.New(repo, opts)
	out := filepath.Join(t.TempDir(), "out")
	ctx := context.Background()

	sum, err := Run(ctx, g, Options{Dir: class, Out: out, Exercises: exs, Parallel: 3, Settings: "test", Progress: os.Stderr})
	require.NoError(t, err)
	assert.Equal(t, 9, sum.Graded)
	book := readGradebook(t, out)
	require.Len(t, book, 9)

	for name, row := range book {
		t.Run(name, func(t *testing.T) {
			alone, err := grading.New(repo, opts).Submission(ctx, filepath.Join(class, name), exs)
			require.NoError(t, err)
			var batched score.Result
			require.NoError(t, json.Unmarshal([]byte(readFile(t, filepath.Join(out, ResultsDir, name+".json"))), &batched))
			for i, e := range alone.Exercises {
				assert.Equal(t, num(e.Score), row[e.ID], "%s: %s in the gradebook", name, e.ID)
				b := batched.Exercises[i]
				for j, tt := range e.Tests {
					assert.Equal(t, tt.Status, b.Tests[j].Status, "%s: %s %s alone: %q; batched: %q", name, e.ID, tt.Name, tt.Message, b.Tests[j].Message)
				}
			}
			assert.Equal(t, num(alone.Score), row["total"])
			assert.Equal(t, num(alone.MaxScore), row["max"])
			assert.Equal(t, alone.Isolation.Level, row["isolation"])
			wantStatus := Graded
			if alone.BudgetSpent {
				wantStatus = OutOfTime
			}
			assert.Equal(t, string(wantStatus), row["status"])
			assert.FileExists(t, filepath.Join(out, FeedbackDir, name+".md"))
		})
	}
	assert.Equal(t, "200", book["reference"]["total"], "the reference loses points in a batch with hostile neighbours")
	assert.Equal(t, string(OutOfTime), book["hang-in-init"]["status"])

	// A second run keeps every row; a changed submission alone is graded
	// again; -force grades them all.
	sum, err = Run(ctx, g, Options{Dir: class, Out: out, Exercises: exs, Parallel: 3, Settings: "test", Progress: os.Stderr})
	require.NoError(t, err)
	assert.Equal(t, 0, sum.Graded)
	assert.Equal(t, 9, sum.Reused)
	f := filepath.Join(class, "good-atomic", "exercises", "1-counter", "counter.go")
	data, err := os.ReadFile(f)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, append(data, "\n// changed\n"...), 0o644))
	sum, err = Run(ctx, g, Options{Dir: class, Out: out, Exercises: exs, Parallel: 3, Settings: "test", Progress: os.Stderr})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Graded)
	assert.Equal(t, 8, sum.Reused)
	sum, err = Run(ctx, g, Options{Dir: class, Out: out, Exercises: exs, Parallel: 3, Settings: "other settings", Progress: os.Stderr})
	require.NoError(t, err)
	assert.Equal(t, 9, sum.Graded, "settings that change a score must not keep a row")
}

// TestBatchResumes interrupts a batch after its first submission and runs
// it again: what was finished is kept, the rest is graded.
func TestBatchResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("grades submissions; skipped with -short")
	}
	repo := openCourse(t)
	exs, err := repo.Select([]string{"counter"})
	require.NoError(t, err)
	class := t.TempDir()
	names := []string{"good-atomic", "compile-error", "forbidden-import", "smuggled-test"}
	for _, name := range names {
		copyDir(t, repo.Path("testdata", "submissions", name), filepath.Join(class, name))
	}
	g := grading.New(repo, grading.Options{Hidden: true, Isolation: -1, Budget: time.Minute, Jobs: 2})
	out := filepath.Join(t.TempDir(), "out")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := &progressHook{fn: func(line string) {
		if strings.HasPrefix(line, "[1/") {
			cancel()
		}
	}}
	sum, err := Run(ctx, g, Options{Dir: class, Out: out, Exercises: exs, Parallel: 1, Progress: hook})
	require.ErrorContains(t, err, fmt.Sprintf("interrupted after 1 of %d submissions", len(names)))
	assert.Len(t, sum.Rows, 1)
	m, err := ReadManifest(out)
	require.NoError(t, err)
	assert.False(t, m.Complete)
	assert.Len(t, readGradebook(t, out), 1, "the gradebook of an interrupted batch holds what was done")

	sum, err = Run(context.Background(), g, Options{Dir: class, Out: out, Exercises: exs, Parallel: 2, Progress: os.Stderr})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Reused)
	assert.Equal(t, len(names)-1, sum.Graded)
	m, err = ReadManifest(out)
	require.NoError(t, err)
	assert.True(t, m.Complete)
	assert.Len(t, readGradebook(t, out), len(names))
}
