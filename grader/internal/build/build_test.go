package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/gocmd"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

func openCourse(t *testing.T) *course.Repo {
	t.Helper()
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if err := Prefetch(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	return repo
}

// Students run macOS and Windows too: the exercises, their tests (hidden
// ones included) and the solutions must build there, and the exercises
// module must pass vet there.
func TestCrossCompile(t *testing.T) {
	repo := openCourse(t)
	for _, goos := range []string{"darwin", "windows"} {
		t.Run(goos, func(t *testing.T) {
			vet := exec.Command("go", "vet", "./...")
			vet.Dir = repo.Path(course.ExercisesDir)
			vet.Env = append(gocmd.OfflineEnv(), "GOOS="+goos, "CGO_ENABLED=0")
			if out, err := vet.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go vet ./... in exercises: %v\n%s", goos, err, out)
			}
			for _, ex := range repo.Exercises {
				sol, err := submission.ReadDir(repo.Path(course.SolutionsDir, ex.ID), ex)
				if err != nil {
					t.Fatal(err)
				}
				for _, layers := range [][][]submission.File{nil, {sol}} {
					_, err := Build(context.Background(), Request{Repo: repo, Exercise: ex, Layers: layers, Hidden: true, GOOS: goos}, t.TempDir())
					if err != nil {
						what := "stub"
						if layers != nil {
							what = "solution"
						}
						t.Errorf("GOOS=%s go test -c of %s with its %s and hidden tests: %v", goos, ex.ID, what, err)
					}
				}
			}
		})
	}
}

// The module a submission is built in holds the course's files, whatever
// the layers say, and the layers in order.
func TestBuildLayers(t *testing.T) {
	repo := openCourse(t)
	ex, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	broken := []submission.File{{Name: "counter.go", Data: []byte("package counter\n\nfunc oops() { undefined() }\n")}}
	_, err = Build(context.Background(), Request{Repo: repo, Exercise: ex, Layers: [][]submission.File{broken}, Race: true}, t.TempDir())
	cerr, ok := err.(*CompileError)
	if !ok {
		t.Fatalf("Build of broken code: %v, want a *CompileError", err)
	}
	if !strings.Contains(cerr.Output, "exercises/1-counter/counter.go:3:15: undefined: undefined") {
		t.Errorf("compiler output does not point at the student's file as they know it:\n%s", cerr.Output)
	}
	if strings.Contains(cerr.Output, "module/") || strings.Contains(cerr.Output, "ipclab-") {
		t.Errorf("compiler output shows the temporary module's paths:\n%s", cerr.Output)
	}

	sol, err := submission.ReadDir(repo.Path(course.SolutionsDir, ex.ID), ex)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(context.Background(), Request{Repo: repo, Exercise: ex, Layers: [][]submission.File{broken, sol}, Race: true}, t.TempDir())
	if err != nil {
		t.Fatalf("Build with the solution laid last: %v", err)
	}
	if b.Package != "github.com/ipclab/ipclab/exercises/1-counter" {
		t.Errorf("Binary = %+v", b)
	}
}

// A machine without cgo cannot build with the race detector: the build
// says so with an error the grader can tell from every other (the student
// command then builds without it), not in words to search for.
func TestRaceUnavailable(t *testing.T) {
	repo := openCourse(t)
	ex, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CGO_ENABLED", "0")
	_, err = Build(context.Background(), Request{Repo: repo, Exercise: ex, Race: true}, t.TempDir())
	if !errors.Is(err, ErrRaceUnavailable) {
		t.Fatalf("Build with -race and CGO_ENABLED=0: %v, want ErrRaceUnavailable", err)
	}
	if _, err := Build(context.Background(), Request{Repo: repo, Exercise: ex}, t.TempDir()); err != nil {
		t.Errorf("Build without -race and CGO_ENABLED=0: %v", err)
	}
}

// The guard file is written after every layer: a layer that carries a file
// of its name does not replace it, and no course file has its name.
func TestGuardFileIsLaidLast(t *testing.T) {
	repo := openCourse(t)
	for _, ex := range repo.Exercises {
		for _, dir := range []string{repo.Path(filepath.FromSlash(ex.Dir)), repo.Path(filepath.FromSlash(course.HiddenDir), ex.ID)} {
			if _, err := os.Stat(filepath.Join(dir, GuardFile)); err == nil {
				t.Errorf("%s has a file named %s, which the grader overwrites with its guard", dir, GuardFile)
			}
		}
	}
	ex, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	forged := []submission.File{{Name: GuardFile, Data: []byte("package counter\n")}}
	mod := t.TempDir()
	pkgDir := filepath.Join(mod, filepath.FromSlash(ex.PackageDir()))
	if err := assemble(Request{Repo: repo, Exercise: ex, Layers: [][]submission.File{forged}, Hidden: true}, mod, pkgDir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(pkgDir, GuardFile))
	if err != nil {
		t.Fatalf("the assembled module has no %s: %v", GuardFile, err)
	}
	want := "package counter\n\n// The test flags are parsed before the code under test can change os.Args.\nimport _ \"github.com/ipclab/ipclab/exercises/internal/testflags\"\n"
	if !strings.HasSuffix(string(got), want) {
		t.Errorf("%s after a layer that carries a file of that name:\n%s\nwant it to end with:\n%s", GuardFile, got, want)
	}
}

// A submission whose init rewrites os.Args to run no test still has the
// test the grader selects run: its stub fails it, so the binary exits
// non-zero instead of passing with nothing run.
func TestRewrittenArgsStillRunTheSelectedTest(t *testing.T) {
	repo := openCourse(t)
	ex, err := repo.Exercise("buffer")
	if err != nil {
		t.Fatal(err)
	}
	rewrite := []submission.File{{Name: "rewrite.go", Data: []byte("package buffer\n\nimport \"os\"\n\nfunc init() { os.Args = []string{os.Args[0], \"-test.run=^$\"} }\n")}}
	b, err := Build(context.Background(), Request{Repo: repo, Exercise: ex, Layers: [][]submission.File{rewrite}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(b.Path, "-test.run=^TestBoundedFIFO$", "-test.v=test2json", "-test.timeout=30s")
	cmd.Dir = b.Dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "=== RUN   TestBoundedFIFO") {
		t.Errorf("the stub of buffer with an init that sets os.Args to -test.run=^$, run with -test.run=^TestBoundedFIFO$: %v, want TestBoundedFIFO to run and fail:\n%s", err, out)
	}
}

// A build that a signal stopped, or that failed without a word, is the
// machine's failure: an error that is not a *CompileError (the grader
// exits 3), and one that names the signal, never "does not compile:"
// followed by nothing.
func TestBuildStoppedBySignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in go command is a shell script")
	}
	repo := openCourse(t)
	ex, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, script, want string
	}{
		{"go command killed", "kill -KILL $$", "go test -c for counter was stopped by a signal (signal: killed), which no compile error causes"},
		{"compiler killed", `echo "# github.com/ipclab/ipclab/exercises/1-counter [github.com/ipclab/ipclab/exercises/1-counter.test]"; echo "github.com/ipclab/ipclab/exercises/1-counter: /usr/lib/go/pkg/tool/linux_amd64/compile: signal: killed" >&2; exit 1`,
			"go test -c for counter failed because the compile it ran was stopped by a signal (killed)"},
		{"silent failure", "exit 1", "go test -c for counter failed (exit status 1) and printed nothing"},
	}
	path := os.Getenv("PATH")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A stand-in for the go command, found first on PATH.
			bin := t.TempDir()
			if err := os.WriteFile(filepath.Join(bin, "go"), []byte("#!/bin/sh\n"+tt.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin+string(os.PathListSeparator)+path)
			_, err := Build(context.Background(), Request{Repo: repo, Exercise: ex, Race: true}, t.TempDir())
			var cerr *CompileError
			if err == nil || errors.As(err, &cerr) {
				t.Fatalf("Build = %v, want an error that is not a compile error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// The course's shared packages, every folder of the exercises module that
// is not an exercise, are in every module the grader builds, as the
// course has them: shm's code imports shmview. (Layers are written into
// the exercise's directory only.)
func TestSharedPackagesComeFromTheCourse(t *testing.T) {
	repo := openCourse(t)
	ex, err := repo.Exercise("shm")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	if err := assemble(Request{Repo: repo, Exercise: ex}, mod, filepath.Join(mod, filepath.FromSlash(ex.PackageDir()))); err != nil {
		t.Fatal(err)
	}
	exercises := map[string]bool{}
	for _, e := range repo.Exercises {
		exercises[e.PackageDir()] = true
	}
	entries, err := os.ReadDir(repo.Path(course.ExercisesDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if !ent.IsDir() || exercises[ent.Name()] || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		src := repo.Path(course.ExercisesDir, ent.Name())
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(repo.Path(course.ExercisesDir), p)
			if err != nil {
				return err
			}
			want, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if got, err := os.ReadFile(filepath.Join(mod, rel)); err != nil || string(got) != string(want) {
				t.Errorf("the assembled module's %s is not the course's (%v): is %s in sharedDirs?", filepath.ToSlash(rel), err, ent.Name())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Compiler messages about a hidden test would show its source: they are
// replaced by one line that says a hidden test does not compile.
func TestHiddenTestErrorsAreHidden(t *testing.T) {
	msg := "exercises/1-counter/counter.go:5:2: declared and not used: x\n" +
		"exercises/1-counter/counter.go:7:5: limits redeclared in this block\n" +
		"\texercises/1-counter/counter_hidden_test.go:20:5: other declaration of limits\n" +
		"exercises/1-counter/counter_hidden_test.go:83:18: cannot use limit (untyped int constant 100) as leak value\n" +
		"\tsecret detail of the hidden test\n" +
		"exercises/1-counter/counter_hidden_test.go:90:1: too many errors"
	got := hideHiddenTests(msg, map[string]bool{"counter_hidden_test.go": true})
	want := "exercises/1-counter/counter.go:5:2: declared and not used: x\n" +
		"exercises/1-counter/counter.go:7:5: limits redeclared in this block\n" +
		"exercises/1-counter: " + hiddenTestErrors
	if got != want {
		t.Errorf("hideHiddenTests =\n%s\nwant\n%s", got, want)
	}
}

// With an empty build cache every library the tests use is cold, and is
// named once; the course's own packages are not libraries.
func TestColdLibraries(t *testing.T) {
	repo := openCourse(t)
	t.Setenv("GOCACHE", t.TempDir())
	cold, err := ColdLibraries(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"github.com/stretchr/testify", "go.uber.org/goleak", "golang.org/x/sys", "the standard library"} {
		if !slices.Contains(cold, want) {
			t.Errorf("ColdLibraries with an empty cache = %q, want it to name %s", cold, want)
		}
	}
	for i, name := range cold {
		if strings.Contains(name, "ipclab") || slices.Contains(cold[:i], name) {
			t.Errorf("ColdLibraries = %q: %s is the course's own or named twice", cold, name)
		}
	}
}
