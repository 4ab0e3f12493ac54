package grading_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/report"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/stacks"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestDeadlockReports grades the fixtures that hang and deadlock and
// checks, against golden files in the table, JSON and Markdown formats,
// that each test that ran out of time says where the submission's
// goroutines were and what they waited on: counts, the function, the file
// and line in the student's file, and the line that called it.
//
// "hang" spins in TryInc holding the lock; "deadlock" calls Value from
// TryInc, which already holds the lock. With the counter's own limits the
// tests' bounded waits give up first (the dump testkit prints); with a
// 3-second limit, shorter than the waits' patience, the testing package's
// alarm does (its own dump).
func TestDeadlockReports(t *testing.T) {
	t.Parallel()
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden, fixture string
		limit           time.Duration // 0: the exercise's own
		kind            stacks.Kind
		// varies names the tests whose counts depend on scheduling, left
		// out of the golden files and checked here for their one place
		// that does not: in "hang", how many of 50 goroutines finished
		// their 20 calls before the count reached the limit; in
		// "deadlock", where in their round of six calls the others were
		// when the first TryInc locked for ever, and how many of the
		// callers of Inc, Add and Value had finished all their calls by
		// then.
		varies map[string]string
	}{
		{"hang", "hang", 0, stacks.GaveUp, map[string]string{
			"TestTryIncStopsAtLimit": "1 goroutine is running (a loop that never waits?) at counter.go:31 (Counter.TryInc)",
		}},
		{"deadlock", "deadlock", 0, stacks.GaveUp, map[string]string{
			"TestEveryMethodReleasesLock":        "1 goroutine waits in sync.Mutex.Lock at counter.go:33 (Counter.Value, called from Counter.TryInc at counter.go:46)",
			"TestMixedOperationsUnderContention": "1 goroutine waits in sync.Mutex.Lock at counter.go:33 (Counter.Value, called from Counter.TryInc at counter.go:46)",
		}},
		{"deadlock-alarm", "deadlock", 3 * time.Second, stacks.TimedOut, map[string]string{
			"TestEveryMethodReleasesLock":        "1 goroutine waits in sync.Mutex.Lock at counter.go:33 (Counter.Value, called from Counter.TryInc at counter.go:46)",
			"TestMixedOperationsUnderContention": "1 goroutine waits in sync.Mutex.Lock at counter.go:33 (Counter.Value, called from Counter.TryInc at counter.go:46)",
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			ex := orig
			if tc.limit > 0 {
				ex = grading.CounterWithLimit(t, repo, tc.limit)
			}
			g := grading.New(repo, grading.Options{Hidden: true, Jobs: 2, Isolation: -1})
			col, err := submission.Collect(repo.Path("testdata", "submissions", tc.fixture), repo.Root, ex)
			if err != nil || len(col.Problems) > 0 {
				t.Fatalf("collect %s: %v %v", tc.fixture, err, col.Problems)
			}
			b, err := g.Build(context.Background(), ex, col.Files)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			if b.Failure != "" {
				t.Fatalf("%s cannot be tested: %s", tc.fixture, b.Failure)
			}
			res, err := g.Score(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			var kept []*score.Test
			for _, tt := range res.Tests {
				tt.Seconds = 0
				want, varies := tc.varies[tt.Name]
				switch {
				case tt.Status == score.Pass && !varies:
					kept = append(kept, tt)
					continue
				case tt.Status == score.Pass:
					continue
				case tt.Stacks == nil || tt.Stacks.Kind != tc.kind:
					t.Errorf("%s: %s with stacks %+v, want a summary of kind %q\nmessage: %s", tt.Name, tt.Status, tt.Stacks, tc.kind, tt.Message)
				case varies && !slices.Contains(tt.Stacks.Lines(), "  "+want):
					t.Errorf("%s: summary %q, want a line %q", tt.Name, tt.Stacks.Lines(), want)
				}
				if !varies {
					kept = append(kept, tt)
				}
			}
			res.Tests = kept
			res.Score, res.MaxScore = 0, 0
			for _, tt := range kept {
				res.Score += tt.Score
				res.MaxScore += tt.MaxScore
			}
			r := &score.Result{Schema: score.Schema, Score: res.Score, MaxScore: res.MaxScore,
				Isolation: score.Isolation{Level: "golden", TamperProof: true, Note: "fixed for the golden file"},
				Exercises: []*score.Exercise{res}}
			for _, format := range []string{"table", "json", "markdown"} {
				var buf bytes.Buffer
				if err := report.Write(&buf, format, r); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", tc.golden+"."+format)
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if got := buf.String(); got != string(want) {
					t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", format, golden, diffLines(string(want), got))
				}
			}
		})
	}
}

// diffLines shows where got first departs from want, with the lines
// around it.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var out []string
	for j := max(i-3, 0); j < i; j++ {
		out = append(out, "  "+w[j])
	}
	for j := i; j < min(i+4, len(w)); j++ {
		out = append(out, "- "+w[j])
	}
	for j := i; j < min(i+4, len(g)); j++ {
		out = append(out, "+ "+g[j])
	}
	return fmt.Sprintf("from line %d:\n%s", i+1, strings.Join(out, "\n"))
}
