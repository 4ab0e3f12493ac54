// Package verifytest runs `grader verify` on one exercise inside go test.
//
// Every exercise has a test package of its own under
// grader/internal/verify/course/<id>, which calls [Exercise]. One package
// per exercise gives each its own go test time budget: the whole course,
// every mutant of nine exercises, takes longer than go test's default
// ten minutes on a small machine, while any one exercise takes a few.
package verifytest

import (
	"context"
	"os"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/verify"
)

// Exercise verifies one exercise the way `grader verify` does: its
// solution earns full marks, its stub nothing, the manifest and the files
// agree, and (unless -short) every mutant is caught by a test of its
// catalogue entry.
func Exercise(t *testing.T, id string) {
	t.Helper()
	repo := Repo(t)
	ex, err := repo.Exercise(id)
	if err != nil {
		t.Fatal(err)
	}
	g := grading.New(repo, grading.Options{Hidden: true, Isolation: -1})
	if g.Fallback != "" {
		t.Logf("note: %s", g.Fallback)
	}
	if g.Opts.Isolation == run.IsolateNone {
		t.Logf("tests run without resource limits or namespaces")
	}
	rep, err := verify.Run(context.Background(), g, []*course.Exercise{ex}, verify.Options{SkipMutants: testing.Short()})
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
	if len(rep.Checks) < 2 {
		t.Errorf("%d checks, want at least a solution and a stub", len(rep.Checks))
	}
}

// Repo returns the course checkout that holds the test's working
// directory.
func Repo(t *testing.T) *course.Repo {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	repo, err := course.FindRepo(wd)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}
