package batch

import (
	"context"
	"fmt"
	"github.com/ipclab/ipclab/grader/internal/mutant"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
)

// benchBudget is each submission's time budget in the benchmark, alone
// and in the batch: the hanging submission spends all of it either way,
// and every other submission needs a fraction of it, even in a busy
// batch (the benchmark fails if one runs out).
const benchBudget = 3 * time.Minute

// benchClass lays out the benchmark's class of 20 under dir: the
// reference, the stubs, a submission that hangs in init, and the first
// two mutants of each exercise but the last, each a mutant laid over the
// reference of every exercise, as a student's whole repository would be.
func benchClass(tb testing.TB, repo *course.Repo, dir string) []string {
	referenceOf(tb, repo, filepath.Join(dir, "reference"), repo.Exercises)
	if err := os.MkdirAll(filepath.Join(dir, "stubs"), 0o755); err != nil {
		tb.Fatal(err)
	}
	copyDir(tb, repo.Path(course.ExercisesDir), filepath.Join(dir, "stubs", course.ExercisesDir))
	hang := filepath.Join(dir, "hang-in-init")
	referenceOf(tb, repo, hang, repo.Exercises)
	copyDir(tb, repo.Path("testdata", "submissions", "hang-in-init", course.ExercisesDir, "1-counter", "counter.go"), filepath.Join(hang, course.ExercisesDir, "1-counter", "counter.go"))
	names := []string{"reference", "stubs", "hang-in-init"}
	for _, ex := range repo.Exercises {
		mutants := ex.Mutants()
		sort.Slice(mutants, func(i, j int) bool { return mutants[i].Name < mutants[j].Name })
		for _, m := range mutants[:2] {
			if len(names) == 20 {
				break
			}
			name := "mutant-" + ex.ID + "-" + m.Name
			referenceOf(tb, repo, filepath.Join(dir, name), repo.Exercises)
			changed, err := mutant.Files(repo, ex, m.Name)
			if err != nil {
				tb.Fatal(err)
			}
			for f, data := range changed {
				if err := os.WriteFile(filepath.Join(dir, name, filepath.FromSlash(ex.Dir), f), data, 0o644); err != nil {
					tb.Fatal(err)
				}
			}
			names = append(names, name)
		}
	}
	return names
}

// BenchmarkBatch measures what a batch saves: it grades a class of 20
// submissions one at a time, as grade does, and then as one batch, with
// a warm build cache, and reports the batch's wall time as a fraction of
// the sum of the single grades (the target is at most 0.6). Run it with
//
//	go test ./grader/internal/batch/ -run '^$' -bench Batch -benchtime 1x
func BenchmarkBatch(b *testing.B) {
	repo := openCourse(b)
	class := b.TempDir()
	names := benchClass(b, repo, class)
	opts := grading.Options{Hidden: true, Isolation: -1, Budget: benchBudget, Jobs: runtime.NumCPU()}
	g := grading.New(repo, opts)
	ctx := context.Background()

	// Warm the build cache: the compiler's and the race runtime's work is
	// the same for every submission.
	if _, err := grading.New(repo, opts).Submission(ctx, filepath.Join(class, "reference"), repo.Exercises); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		alone := map[string]time.Duration{}
		aloneScore := map[string]float64{}
		var sum time.Duration
		for _, name := range names {
			start := time.Now()
			res, err := grading.New(repo, opts).Submission(ctx, filepath.Join(class, name), repo.Exercises)
			if err != nil {
				b.Fatal(err)
			}
			alone[name] = time.Since(start)
			aloneScore[name] = res.Score
			sum += alone[name]
		}
		out := filepath.Join(b.TempDir(), "out")
		start := time.Now()
		s, err := Run(ctx, g, Options{Dir: class, Out: out, Exercises: repo.Exercises})
		if err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		if s.Graded != len(names) {
			b.Fatalf("the batch graded %d of %d submissions", s.Graded, len(names))
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "submission\talone\tscore\tin the batch\tscore\t\n")
		for _, r := range s.Rows {
			fmt.Fprintf(tw, "%s\t%.1fs\t%g\t%.1fs\t%g\t\n", r.Submission, alone[r.Submission].Seconds(), aloneScore[r.Submission], r.Seconds, r.Score)
			// A batch that is fast because its submissions ran out of
			// time proves nothing.
			if r.Status != Graded && r.Submission != "hang-in-init" {
				b.Errorf("%s: %s in the batch", r.Submission, r.Status)
			}
		}
		fmt.Fprintf(tw, "%d submissions\t%.1fs\t\t%.1fs\t\t\n", len(names), sum.Seconds(), wall.Seconds())
		tw.Flush()
		ratio := wall.Seconds() / sum.Seconds()
		fmt.Printf("batch/alone = %.2f (target: at most 0.60) on %d CPUs, %d submissions at once, budget %v each\n", ratio, runtime.NumCPU(), DefaultParallel(), benchBudget)
		b.ReportMetric(ratio, "batch/alone")
		b.ReportMetric(wall.Seconds(), "batch-s")
		b.ReportMetric(sum.Seconds(), "alone-s")
	}
}
