// Package build assembles the module a submission is tested in, and
// compiles its test binary.
//
// The module is a fresh temporary copy of the course's exercises module:
// its go.mod and go.sum, its shared packages (the test helpers under
// internal, and shmview, which the shm exercise's code imports), the
// exercise's directory as the course ships it (visible tests included)
// and, when grading, the hidden tests. The implementation's files (a student's editable files, a
// solution, a mutant) are laid on top last. Nothing else of a submission
// reaches the build, so an edited test or go.mod changes nothing.
//
// The test binary is compiled once per exercise with -race, offline:
// GOPROXY=off and -mod=readonly, so a submission cannot make the build
// fetch anything. The modules the course needs are fetched beforehand from
// the course's own go.mod by [Prefetch].
package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/gocmd"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

// A Request says what to build.
type Request struct {
	Repo     *course.Repo
	Exercise *course.Exercise
	// Layers are laid over the exercise directory in order, later files
	// replacing earlier ones of the same name.
	Layers [][]submission.File
	// Hidden adds the hidden tests.
	Hidden bool
	// Race builds with the race detector.
	Race bool
	// GOOS, when set, cross-compiles for that system (without cgo, so
	// without the race detector): the check that students on macOS and
	// Windows can build what they are given.
	GOOS string
}

// A Binary is a compiled test binary in its module.
type Binary struct {
	// Path is the executable.
	Path string
	// Dir is the package directory, the working directory for its tests.
	Dir string
	// Package is the package's import path.
	Package string
}

// A CompileError is a build that failed because of the code in it: the
// compiler's messages, with paths as the student knows them.
type CompileError struct {
	Output string
}

func (e *CompileError) Error() string { return "does not compile:\n" + e.Output }

// Build assembles the module under work (a directory the caller owns and
// removes) and compiles the test binary. A *CompileError means the code
// does not compile; any other error is the grader's own failure.
func Build(ctx context.Context, req Request, work string) (*Binary, error) {
	mod := filepath.Join(work, "module")
	pkgDir, err := Assemble(req, mod)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(work, req.Exercise.ID+".test")
	if req.GOOS == "windows" || req.GOOS == "" && runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := []string{"test", "-c", "-o", bin}
	if req.Race && req.GOOS == "" {
		args = append(args, "-race")
	}
	args = append(args, "./"+req.Exercise.PackageDir())
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = mod
	cmd.Env = gocmd.OfflineEnv()
	if req.GOOS != "" {
		cmd.Env = append(cmd.Env, "GOOS="+req.GOOS, "CGO_ENABLED=0")
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return nil, fmt.Errorf("go test -c: %w", err)
		}
		// A build stopped by a signal (the kernel's out-of-memory killer,
		// most likely) is the machine's failure, not a compile error: it
		// must not cost the student points, nor pass for a verdict.
		if exitErr.ExitCode() == -1 {
			return nil, fmt.Errorf("go test -c for %s was stopped by a signal (%v), which no compile error causes: is the machine out of memory?%s", req.Exercise.ID, exitErr, indented(out.String()))
		}
		if m := toolKilled.FindStringSubmatch(out.String()); m != nil {
			return nil, fmt.Errorf("go test -c for %s failed because the %s it ran was stopped by a signal (%s), which no compile error causes: is the machine out of memory?", req.Exercise.ID, path.Base(filepath.ToSlash(m[1])), m[2])
		}
		msg := hideHiddenTests(tidyCompilerOutput(out.String(), mod), hiddenNames(req))
		if strings.TrimSpace(msg) == "" {
			return nil, fmt.Errorf("go test -c for %s failed (%v) and printed nothing, which a compile error never does", req.Exercise.ID, exitErr)
		}
		if req.Race && raceUnavailable(msg) {
			return nil, fmt.Errorf("go test -c -race for %s: %w:\n%s", req.Exercise.ID, ErrRaceUnavailable, msg)
		}
		if isToolchainFailure(msg) {
			return nil, fmt.Errorf("go test -c for %s failed for a reason that is not the code's:\n%s", req.Exercise.ID, msg)
		}
		return nil, &CompileError{Output: msg}
	}
	return &Binary{
		Path:    bin,
		Dir:     pkgDir,
		Package: path.Join(course.ModulePath, course.ExercisesDir, req.Exercise.PackageDir()),
	}, nil
}

// Assemble writes the module Build compiles into the directory mod and
// returns the exercise's package directory in it: trusted files first,
// layers on top. Assembling several exercises into one mod gives the
// module plain go test runs on the same files.
func Assemble(req Request, mod string) (pkgDir string, err error) {
	pkgDir = filepath.Join(mod, filepath.FromSlash(req.Exercise.PackageDir()))
	if err := assemble(req, mod, pkgDir); err != nil {
		return "", fmt.Errorf("assemble module for %s: %w", req.Exercise.ID, err)
	}
	return pkgDir, nil
}

func assemble(req Request, mod, pkgDir string) error {
	src := req.Repo.Path(course.ExercisesDir)
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(src, f), filepath.Join(mod, f)); err != nil && !(f == "go.sum" && errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	for _, dir := range sharedDirs {
		if err := copyTree(filepath.Join(src, dir), filepath.Join(mod, dir)); err != nil {
			return err
		}
	}
	if err := copyTree(req.Repo.Path(filepath.FromSlash(req.Exercise.Dir)), pkgDir); err != nil {
		return err
	}
	if req.Hidden {
		if err := copyTree(req.Repo.Path(filepath.FromSlash(course.HiddenDir), req.Exercise.ID), pkgDir); err != nil {
			return fmt.Errorf("hidden tests: %w", err)
		}
	}
	for _, layer := range req.Layers {
		for _, f := range layer {
			if err := os.WriteFile(filepath.Join(pkgDir, f.Name), f.Data, 0o644); err != nil {
				return err
			}
		}
	}
	// Last, so that no layer can replace it; and a _test.go name, which no
	// manifest can mark editable.
	return os.WriteFile(filepath.Join(pkgDir, GuardFile), guardSource(req.Exercise), 0o644)
}

// sharedDirs are the exercises module's packages that are not an
// exercise: the test helpers, and shmview, the checked atomic views that
// the shm exercise uses instead of unsafe. They always come from the
// course.
var sharedDirs = []string{"internal", "shmview"}

// GuardFile is the test file the grader adds to every package it builds.
// It imports exercises/internal/testflags, whose initialisation parses the
// test flags before any code of the package under test runs, so that a
// submission's init cannot rewrite os.Args to choose which tests run.
const GuardFile = "zz_ipclab_testflags_test.go"

// guardSource is GuardFile's content for ex's package, whose name is the
// exercise's ID.
func guardSource(ex *course.Exercise) []byte {
	return []byte("// Code generated by the ipclab grader. DO NOT EDIT.\n\n" +
		"package " + ex.ID + "\n\n" +
		"// The test flags are parsed before the code under test can change os.Args.\n" +
		"import _ \"" + path.Join(course.ModulePath, course.ExercisesDir, "internal/testflags") + "\"\n")
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return nil // symbolic links and the like have no place in the course
	})
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// toolKilled matches the go command's report of a tool it ran (the
// compiler, the linker) ending on a signal: "example.com/pkg:
// /usr/lib/go/pkg/tool/linux_amd64/compile: signal: killed". A compiler
// diagnostic cannot match: it starts with "file.go:line:".
var toolKilled = regexp.MustCompile(`(?m)^[^\s:]+: (\S+): signal: ([\w ]+)$`)

// indented is out on lines of its own, indented, or "" when out is empty.
func indented(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return "\n    " + strings.ReplaceAll(out, "\n", "\n    ")
}

// ErrRaceUnavailable is the error (wrapped) of a build with Race that
// failed because this machine cannot build with the race detector: it
// needs cgo, and so a C compiler.
var ErrRaceUnavailable = errors.New("the race detector is not available here (it needs cgo and a C compiler)")

// raceUnavailable recognises the go command's words for that.
func raceUnavailable(msg string) bool {
	return strings.Contains(msg, "-race requires cgo")
}

// isToolchainFailure recognises build failures that no submission can
// cause: missing modules, a missing C compiler for -race.
func isToolchainFailure(msg string) bool {
	for _, s := range []string{"module lookup disabled", "missing go.sum entry", "-race requires cgo", "C compiler", "cannot find main module", "no required module provides"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// tidyCompilerOutput rewrites the temporary module's paths to the paths a
// student sees in the repository, and drops the go command's headers.
func tidyCompilerOutput(out, mod string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "# ") || strings.HasPrefix(l, "FAIL\t") {
			continue
		}
		l = strings.ReplaceAll(l, mod+string(filepath.Separator), "")
		if strings.HasPrefix(l, "./") {
			l = l[2:]
		}
		if first, _, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, " ") && strings.Contains(first, "/") && !strings.HasPrefix(first, course.ExercisesDir+"/") {
			l = course.ExercisesDir + "/" + l
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// hiddenNames lists the file names of the hidden tests a build holds.
func hiddenNames(req Request) map[string]bool {
	names := map[string]bool{}
	if !req.Hidden {
		return names
	}
	entries, _ := os.ReadDir(req.Repo.Path(filepath.FromSlash(course.HiddenDir), req.Exercise.ID))
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}

// hiddenTestErrors replaces the compiler's messages about a hidden test.
const hiddenTestErrors = "a hidden test does not compile against this code: keep every name, signature and type the stub gives (go vet shows whether the visible tests compile)"

// hideHiddenTests replaces the compiler's lines about hidden test files
// (and the lines that continue them) with one line that says so: they
// would show the hidden tests' source to the student.
func hideHiddenTests(msg string, hidden map[string]bool) string {
	if len(hidden) == 0 {
		return msg
	}
	var lines []string
	inHidden, said := false, false
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ") {
			// A continuation ("other declaration of x" at a hidden
			// test's line) goes with its line, or alone if it points
			// into a hidden test itself.
			if !inHidden && !mentionsAny(l, hidden) {
				lines = append(lines, l)
			}
			continue
		}
		file, _, _ := strings.Cut(l, ":")
		inHidden = hidden[path.Base(file)]
		switch {
		case !inHidden:
			lines = append(lines, l)
		case !said:
			lines = append(lines, path.Dir(file)+": "+hiddenTestErrors)
			said = true
		}
	}
	return strings.Join(lines, "\n")
}

func mentionsAny(line string, names map[string]bool) bool {
	for name := range names {
		if strings.Contains(line, name) {
			return true
		}
	}
	return false
}

var prefetch struct {
	sync.Mutex
	done map[string]bool
}

// Prefetch downloads the modules the course's exercises module requires,
// once per checkout. It reads only the course's own go.mod, never a
// submission's, and does nothing when the module cache already has them.
func Prefetch(ctx context.Context, repo *course.Repo) error {
	prefetch.Lock()
	defer prefetch.Unlock()
	if prefetch.done[repo.Root] {
		return nil
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "download")
	cmd.Dir = repo.Path(course.ExercisesDir)
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fetch the exercises module's dependencies (go mod download in %s): %w\n%s", course.ExercisesDir, err, out)
	}
	if prefetch.done == nil {
		prefetch.done = map[string]bool{}
	}
	prefetch.done[repo.Root] = true
	return nil
}

// ColdLibraries names what the course's tests compile against that Go's
// build cache does not hold yet in its race-detector build: modules by
// path, and "the standard library" when some of it is missing. A first
// build compiles them all, which takes minutes on a slow machine with
// nothing to show; later builds reuse them. It reads the course's own
// exercises module, never a submission's, and needs the modules fetched
// ([Prefetch]).
func ColdLibraries(ctx context.Context, repo *course.Repo) ([]string, error) {
	const format = `{{if .Stale}}{{if .Module}}{{if not .Module.Main}}{{.Module.Path}}{{end}}{{else}}the standard library{{end}}{{end}}`
	cmd := exec.CommandContext(ctx, "go", "list", "-race", "-deps", "-test", "-f", format, "./...")
	cmd.Dir = repo.Path(course.ExercisesDir)
	cmd.Env = gocmd.OfflineEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w\n%s", course.ExercisesDir, err, stderr.Bytes())
	}
	seen := map[string]bool{}
	var cold []string
	// One line per package, empty for one the cache holds.
	for _, name := range strings.Split(string(out), "\n") {
		if name = strings.TrimSpace(name); name != "" && !seen[name] {
			seen[name] = true
			cold = append(cold, name)
		}
	}
	return cold, nil
}
