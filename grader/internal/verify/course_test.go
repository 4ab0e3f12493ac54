package verify

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
)

// TestCourse verifies the whole course, the way `grader verify` does:
// every solution earns full marks, every stub nothing, and (unless -short)
// every mutant is caught by a test of its catalogue entry.
func TestCourse(t *testing.T) {
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	g := grading.New(repo, grading.Options{Hidden: true})
	rep, err := Run(context.Background(), g, repo.Exercises, Options{SkipMutants: testing.Short()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Structure {
		t.Errorf("structure: %s", s)
	}
	for _, c := range rep.Checks {
		if !c.OK() {
			t.Errorf("%s %s: %s\n%s", c.Exercise, c.Name(), c.Problem, c.Message)
		}
	}
	if want := 2 * len(repo.Exercises); len(rep.Checks) < want {
		t.Errorf("%d checks, want at least %d (a solution and a stub per exercise)", len(rep.Checks), want)
	}
}
