package course

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Paths of a course checkout, relative to its root.
const (
	ExercisesDir = "exercises"
	SolutionsDir = "solutions"
	HiddenDir    = "testdata/hidden"
	MutantsDir   = "testdata/mutants"
	// ModulePath is the instructor module's path; the released student
	// repository keeps it.
	ModulePath = "github.com/ipclab/ipclab"
)

// A Repo is a checkout of the course on disk.
type Repo struct {
	// Root is the absolute path of the checkout.
	Root string
	// Exercises holds the manifests, in lecture order.
	Exercises []*Exercise
}

// Open returns the course checkout rooted at root.
func Open(root string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if !isCourseRoot(abs) {
		return nil, fmt.Errorf("%s is not an ipclab checkout (no go.mod for %s with an %s/ module beside it)", root, ModulePath, ExercisesDir)
	}
	exs, err := Manifests()
	if err != nil {
		return nil, err
	}
	return &Repo{Root: abs, Exercises: exs}, nil
}

// FindRepo looks for the course checkout in dir and its parents.
func FindRepo(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if isCourseRoot(d) {
			return Open(d)
		}
		if filepath.Dir(d) == d {
			return nil, fmt.Errorf("no ipclab checkout in %s or any parent directory; run the grader from the repository, or pass -root", abs)
		}
	}
}

func isCourseRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if strings.TrimSpace(first) != "module "+ModulePath {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, ExercisesDir, "go.mod"))
	return err == nil
}

// Exercise returns the exercise with the given id.
func (r *Repo) Exercise(id string) (*Exercise, error) {
	for _, e := range r.Exercises {
		if e.ID == id {
			return e, nil
		}
	}
	var ids []string
	for _, e := range r.Exercises {
		ids = append(ids, e.ID)
	}
	return nil, fmt.Errorf("no exercise %q (the exercises are %s)", id, strings.Join(ids, ", "))
}

// Select returns the exercises named by ids, or all of them when ids is
// empty. Duplicates are dropped; the lecture order is kept.
func (r *Repo) Select(ids []string) ([]*Exercise, error) {
	if len(ids) == 0 {
		return r.Exercises, nil
	}
	want := map[string]bool{}
	var errs []error
	for _, id := range ids {
		if _, err := r.Exercise(id); err != nil {
			errs = append(errs, err)
		}
		want[id] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []*Exercise
	for _, e := range r.Exercises {
		if want[e.ID] {
			out = append(out, e)
		}
	}
	return out, nil
}

// Path joins a slash-separated path relative to the root.
func (r *Repo) Path(rel ...string) string {
	return filepath.Join(append([]string{r.Root}, rel...)...)
}

// HasSolutions reports whether this checkout is the instructor's, with
// solutions, hidden tests and mutants.
func (r *Repo) HasSolutions() bool {
	_, err := os.Stat(r.Path(SolutionsDir))
	return err == nil
}
