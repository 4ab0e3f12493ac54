package release

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// courseRepo is the course checkout these tests run in.
func courseRepo(t *testing.T) *course.Repo {
	t.Helper()
	repo, err := course.FindRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: a release with -git needs it")
	}
}

// released writes a release of repo into a new temporary directory.
func released(t *testing.T, repo *course.Repo, opts Options) string {
	t.Helper()
	if opts.Git {
		requireGit(t)
	}
	out := filepath.Join(t.TempDir(), "student")
	if _, err := Write(context.Background(), repo, out, opts); err != nil {
		t.Fatalf("Write(%s, %+v): %v", out, opts, err)
	}
	return out
}

// git runs git in dir and returns its standard output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr)
	}
	return string(out)
}

// checkout clones branch of the release repository at dir into a new
// temporary directory, as a student or an instructor would get it.
func checkout(t *testing.T, dir, branch string) string {
	t.Helper()
	clone := filepath.Join(t.TempDir(), branch)
	git(t, filepath.Dir(clone), "clone", "-q", "--branch", branch, dir, clone)
	return clone
}

// files reads every file under dir but .git, by slash-separated path.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriteTree(t *testing.T) {
	repo := courseRepo(t)
	out := released(t, repo, Options{})
	got := files(t, out)
	for _, want := range []string{
		"README.md", WorkflowPath, DevcontainerPath, ".gitignore",
		"exercises/go.mod", "exercises/go.sum", PointsPath, ScoreDir + "/main.go",
		"exercises/internal/testflags/testflags.go",
		"exercises/internal/childproc/childproc.go",
		"exercises/internal/testkit/testkit.go",
	} {
		if _, ok := got[want]; !ok {
			t.Errorf("release lacks %s", want)
		}
	}
	for _, ex := range repo.Exercises {
		for _, f := range append([]string{"README.md"}, ex.Editable...) {
			p := ex.Dir + "/" + f
			want, err := os.ReadFile(repo.Path(p))
			if err != nil {
				t.Fatal(err)
			}
			if got[p] != string(want) {
				t.Errorf("release's %s differs from the course's", p)
			}
		}
	}
	for p := range got {
		for _, never := range []string{"grader/", course.SolutionsDir + "/", "testdata/hidden", "testdata/mutants", "go.mod"} {
			if strings.HasPrefix(p, never) {
				t.Errorf("release holds %s, an instructor's file", p)
			}
		}
		if strings.HasSuffix(p, "_test.go") && strings.HasPrefix(p, ScoreDir) {
			t.Errorf("release holds %s: the score program's tests stay in the course", p)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".git")); err == nil {
		t.Errorf("release without Git is a git repository")
	}
	// Nothing of the staging is left behind.
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".ipclab-") {
			t.Errorf("release left %s behind", e.Name())
		}
	}
}

// The student tree has no module at its root: the dev container must
// fetch modules in exercises/ only.
func TestDevcontainer(t *testing.T) {
	out := released(t, courseRepo(t), Options{})
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(DevcontainerPath)))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"postCreateCommand": "cd exercises && go mod download"`; !strings.Contains(string(data), want) {
		t.Errorf("devcontainer.json lacks %s:\n%s", want, data)
	}
}

func TestGitBranches(t *testing.T) {
	repo := courseRepo(t)
	out := released(t, repo, Options{Git: true})

	if got := strings.Fields(git(t, out, "branch", "--format=%(refname:short)")); strings.Join(got, " ") != "main solutions" {
		t.Errorf("branches = %v, want [main solutions]", got)
	}
	if got := strings.TrimSpace(git(t, out, "branch", "--show-current")); got != "main" {
		t.Errorf("checked out branch = %q, want main", got)
	}
	if got := git(t, out, "status", "--porcelain"); got != "" {
		t.Errorf("git status in the release is not clean:\n%s", got)
	}
	if got := strings.TrimSpace(git(t, out, "rev-list", "--count", "main")); got != "1" {
		t.Errorf("main has %s commits, want 1", got)
	}
	if got := strings.TrimSpace(git(t, out, "rev-list", "--count", "main..solutions")); got != "1" {
		t.Errorf("solutions has %s commits on top of main, want 1", got)
	}
	for _, b := range []string{"main", "solutions"} {
		if got := git(t, out, "log", "-1", "--format=%an <%ae>|%cn <%ce>", b); strings.TrimSpace(got) != gitName+" <"+gitEmail+">|"+gitName+" <"+gitEmail+">" {
			t.Errorf("%s: author|committer = %q, want the release's own identity", b, got)
		}
	}
	if got := git(t, out, "log", "-1", "--format=%B", "main"); strings.TrimSpace(got) != strings.TrimSpace(mainMessage) {
		t.Errorf("main's message = %q, want %q", got, mainMessage)
	}

	// The working tree is main's tree: the release without git.
	plain := files(t, released(t, repo, Options{}))
	onMain := files(t, out)
	if len(plain) != len(onMain) {
		t.Errorf("main holds %d files, the plain release %d", len(onMain), len(plain))
	}
	for p, data := range plain {
		if onMain[p] != data {
			t.Errorf("main's %s differs from the plain release's", p)
		}
	}

	// solutions differs from main in the editable files only, and each
	// holds its reference solution.
	var editable []string
	for _, ex := range repo.Exercises {
		for _, f := range ex.Editable {
			editable = append(editable, ex.Dir+"/"+f)
			want, err := os.ReadFile(repo.Path(course.SolutionsDir, ex.ID, f))
			if err != nil {
				t.Fatal(err)
			}
			if got := git(t, out, "show", "solutions:"+ex.Dir+"/"+f); got != string(want) {
				t.Errorf("solutions:%s/%s is not %s/%s/%s", ex.Dir, f, course.SolutionsDir, ex.ID, f)
			}
		}
	}
	changed := strings.Fields(git(t, out, "diff", "--name-only", "main", "solutions"))
	if strings.Join(sorted(changed), " ") != strings.Join(sorted(editable), " ") {
		t.Errorf("main..solutions changes %v, want exactly the editable files %v", changed, editable)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestOutputDirectory(t *testing.T) {
	repo := courseRepo(t)
	ctx := context.Background()

	t.Run("not empty", func(t *testing.T) {
		out := t.TempDir()
		keep := filepath.Join(out, "notes.txt")
		os.WriteFile(keep, []byte("mine"), 0o644)
		_, err := Write(ctx, repo, out, Options{})
		if !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("Write into a non-empty directory: error %v, want ErrNotEmpty", err)
		}
		var oe *OutputError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "-force") {
			t.Errorf("error %q is not an OutputError that names -force", err)
		}
		assertOnly(t, out, "notes.txt")
	})

	t.Run("force replaces only a release", func(t *testing.T) {
		out := t.TempDir()
		os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
		_, err := Write(ctx, repo, out, Options{Force: true})
		if !errors.Is(err, ErrNotRelease) {
			t.Fatalf("Write -force into a directory that is no release: error %v, want ErrNotRelease", err)
		}
		assertOnly(t, out, "notes.txt")
	})

	t.Run("force replaces an earlier release", func(t *testing.T) {
		requireGit(t)
		out := released(t, repo, Options{Git: true})
		stale := filepath.Join(out, "exercises", "1-counter", "stale.go")
		os.WriteFile(stale, []byte("package counter\n"), 0o644)
		if _, err := Write(ctx, repo, out, Options{}); !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("Write over a release without -force: error %v, want ErrNotEmpty", err)
		}
		if _, err := Write(ctx, repo, out, Options{Force: true}); err != nil {
			t.Fatalf("Write -force over a release: %v", err)
		}
		if _, err := os.Stat(stale); err == nil {
			t.Errorf("%s survived a forced release: a release replaces the directory's contents", stale)
		}
		if _, err := os.Stat(filepath.Join(out, ".git")); err == nil {
			t.Errorf("a forced release without Git kept the earlier release's .git")
		}
		if _, err := os.Stat(filepath.Join(out, "README.md")); err != nil {
			t.Errorf("forced release: %v", err)
		}
	})

	t.Run("a file", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "file")
		os.WriteFile(out, []byte("mine"), 0o644)
		if _, err := Write(ctx, repo, out, Options{Force: true}); !errors.Is(err, ErrNotDirectory) {
			t.Fatalf("Write to a file: error %v, want ErrNotDirectory", err)
		}
		if data, _ := os.ReadFile(out); string(data) != "mine" {
			t.Errorf("the file was changed: %q", data)
		}
	})

	for _, dir := range []string{repo.Root, filepath.Dir(repo.Root), repo.Path("exercises"), repo.Path("dist")} {
		t.Run("overlapping the course "+filepath.Base(dir), func(t *testing.T) {
			if _, err := Write(ctx, repo, dir, Options{Force: true}); !errors.Is(err, ErrOverlapCourse) {
				t.Fatalf("Write -force to %s: error %v, want ErrOverlapCourse", dir, err)
			}
		})
	}
	if _, err := os.Stat(repo.Path("dist")); err == nil {
		t.Errorf("a refused release made %s", repo.Path("dist"))
	}

	t.Run("new directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "a", "b")
		if _, err := Write(ctx, repo, out, Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "README.md")); err != nil {
			t.Error(err)
		}
	})
}

// assertOnly checks that dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %v, want %v: a refused release must leave it alone", dir, got, names)
	}
}

// A copy of the course whose files a test may change.
func courseCopy(t *testing.T) *course.Repo {
	t.Helper()
	src := courseRepo(t)
	dst := filepath.Join(t.TempDir(), "course")
	for _, p := range []string{"go.mod", ".gitignore", DevcontainerPath, course.ExercisesDir, course.SolutionsDir} {
		if err := copyTree(src.Path(p), filepath.Join(dst, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := course.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// Bad input is refused before anything is written.
func TestBadCourse(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(repo *course.Repo) error
		want   string
	}{
		{"a stub is its solution", func(repo *course.Repo) error {
			data, err := os.ReadFile(repo.Path(course.SolutionsDir, "counter", "counter.go"))
			if err != nil {
				return err
			}
			return os.WriteFile(repo.Path("exercises", "1-counter", "counter.go"), data, 0o644)
		}, "exercises/1-counter/counter.go is the reference solution (the same as solutions/counter/counter.go): restore the stub"},
		{"a solution file is missing", func(repo *course.Repo) error {
			return os.Remove(repo.Path(course.SolutionsDir, "rpc", "wire.go"))
		}, "the reference solution of rpc lacks wire.go"},
		{"a solution file has no place", func(repo *course.Repo) error {
			return os.WriteFile(repo.Path(course.SolutionsDir, "pipe", "extra.go"), []byte("package pipe\n"), 0o644)
		}, "solutions/pipe/extra.go is not an editable file of pipe (pipe.go)"},
		{"the course already has a score folder", func(repo *course.Repo) error {
			return os.MkdirAll(repo.Path("exercises", "score"), 0o755)
		}, "exercises/score exists in the course checkout, and the release writes its score program there"},
		{"a symbolic link", func(repo *course.Repo) error {
			return os.Symlink("/etc/passwd", repo.Path("exercises", "1-counter", "passwd"))
		}, "exercises/1-counter/passwd is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireGit(t)
			repo := courseCopy(t)
			if err := tt.change(repo); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "student")
			_, err := Write(ctx, repo, out, Options{Git: true})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write: error %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed release left %s behind", out)
			}
		})
	}
}
