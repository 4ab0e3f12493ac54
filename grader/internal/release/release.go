package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// Options says what to release.
type Options struct {
	// Git makes OUT a git repository with a main and a solutions branch.
	Git bool
	// Force replaces an earlier release in OUT.
	Force bool
}

// Problems with the output directory. They are the caller's mistake (bad
// usage), not a failure of the release, and always come wrapped in an
// [*OutputError].
var (
	ErrNotEmpty      = errors.New("is not empty; pass -force to replace the earlier release in it")
	ErrNotRelease    = errors.New("is not empty and does not hold an earlier release (exercises/go.mod of the exercises module, no solutions/): -force replaces only an earlier release; choose a new or empty directory")
	ErrNotDirectory  = errors.New("exists and is not a directory")
	ErrOverlapCourse = errors.New("overlaps the course checkout: release into a directory outside it")
)

// An OutputError is an output directory that cannot be released into.
type OutputError struct {
	Dir string
	Err error
}

func (e *OutputError) Error() string { return e.Dir + " " + e.Err.Error() }
func (e *OutputError) Unwrap() error { return e.Err }

// A Summary says what a release wrote.
type Summary struct {
	Dir       string
	Files     int
	Exercises int
	// Branches are the git branches made, none without Options.Git.
	Branches []string
}

func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "released %d exercises (%d files) to %s", s.Exercises, s.Files, s.Dir)
	if len(s.Branches) > 0 {
		fmt.Fprintf(&b, ", a git repository with branches %s", strings.Join(s.Branches, " and "))
	}
	return b.String()
}

// Write releases the course checkout repo into the directory out.
func Write(ctx context.Context, repo *course.Repo, out string, opts Options) (*Summary, error) {
	if !repo.HasSolutions() {
		return nil, fmt.Errorf("%s has no %s/: release from the instructor's repository", repo.Root, course.SolutionsDir)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	exists, err := checkOutput(repo, abs, opts.Force)
	if err != nil {
		return nil, err
	}
	tree, err := Tree(repo)
	if err != nil {
		return nil, err
	}
	var solved []File
	if opts.Git {
		if solved, err = Solutions(repo); err != nil {
			return nil, err
		}
	}

	if !exists {
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, err
		}
	}
	stage, err := os.MkdirTemp(abs, ".ipclab-release-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Summary, error) {
		os.RemoveAll(stage)
		if !exists {
			os.Remove(abs)
		}
		return nil, err
	}
	if err := writeFiles(stage, tree); err != nil {
		return fail(err)
	}
	sum := &Summary{Dir: out, Files: len(tree), Exercises: len(repo.Exercises)}
	if opts.Git {
		if err := commit(ctx, stage, solved); err != nil {
			return fail(err)
		}
		sum.Branches = []string{mainBranch, solutionsBranch}
	}
	if err := replaceContents(abs, stage); err != nil {
		return nil, err
	}
	return sum, nil
}

// checkOutput says whether out exists, and refuses it when a release may
// not go there.
func checkOutput(repo *course.Repo, out string, force bool) (exists bool, err error) {
	bad := func(e error) (bool, error) { return false, &OutputError{Dir: out, Err: e} }
	real, err := realPath(out)
	if err != nil {
		return false, err
	}
	root, err := realPath(repo.Root)
	if err != nil {
		return false, err
	}
	if within(real, root) || within(root, real) {
		return bad(ErrOverlapCourse)
	}
	st, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !st.IsDir() {
		return bad(ErrNotDirectory)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return true, nil
	}
	if !force {
		return bad(ErrNotEmpty)
	}
	if !isRelease(out) {
		return bad(ErrNotRelease)
	}
	return true, nil
}

// isRelease reports whether dir holds a release: the exercises module, and
// not the instructor's module or solutions beside it (another checkout of
// the course is not a release to replace).
func isRelease(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, course.ExercisesDir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if strings.TrimSpace(first) != "module "+exercisesModule {
		return false
	}
	for _, instructorOnly := range []string{"go.mod", course.SolutionsDir} {
		if _, err := os.Lstat(filepath.Join(dir, instructorOnly)); err == nil {
			return false
		}
	}
	return true
}

// realPath resolves symbolic links in the longest existing prefix of p,
// so that two names of one directory compare equal.
func realPath(p string) (string, error) {
	rest := ""
	for {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest), nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// replaceContents moves everything in out but stage aside, moves stage's
// contents into out, and removes both. Renames stay inside out, so they
// never cross a file system, and out itself keeps its identity (a shell
// sitting in it stays there).
func replaceContents(out, stage string) error {
	old, err := os.MkdirTemp(out, ".ipclab-old-")
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); n != filepath.Base(stage) && n != filepath.Base(old) {
			if err := os.Rename(filepath.Join(out, n), filepath.Join(old, n)); err != nil {
				return fmt.Errorf("moving the earlier release aside: %w (what was moved is in %s; the new release is in %s)", err, old, stage)
			}
		}
	}
	entries, err = os.ReadDir(stage)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(out, e.Name())); err != nil {
			return fmt.Errorf("moving the release into place: %w (the rest of it is in %s; the earlier contents are in %s)", err, stage, old)
		}
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	return os.Remove(stage)
}

// writeFiles writes files under dir.
func writeFiles(dir string, files []File) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return err
		}
	}
	return nil
}

// sameBytes reports whether file holds exactly data.
func sameBytes(file string, data []byte) bool {
	b, err := os.ReadFile(file)
	return err == nil && bytes.Equal(b, data)
}
