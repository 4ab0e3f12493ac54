package release

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/report"
)

// GradescopeOptions says how to write Gradescope's autograder.
type GradescopeOptions struct {
	// HiddenVisibility is given to the grader's -gradescope-hidden in
	// run_autograder: when Gradescope shows students the hidden tests.
	// "" keeps the grader's default, after_due_date.
	HiddenVisibility string
	// Force replaces an existing zip.
	Force bool
}

// The scripts at the root of Gradescope's autograder zip.
const (
	GradescopeSetup = "setup.sh"
	GradescopeRun   = "run_autograder"
)

// gradescopeBudget is run_autograder's -budget: inside Gradescope's
// default timeout of 10 minutes, as in the Classroom workflow, so that a
// submission that hangs still gets its score.
const gradescopeBudget = "8m"

// gradescopeSolutionsNote is solutions/README.md in the zip, in place of
// the solutions: grade needs the directory (it marks the instructor's
// checkout), not the solutions, which need not be on Gradescope's
// machines.
const gradescopeSolutionsNote = "The reference solutions are left out of the Gradescope autograder: grading needs\nthe hidden tests, not the solutions. This folder marks the course checkout as\nthe instructor's, which the grader's grade command asks for.\n"

// gradescopeDirs are the course's folders the zip holds whole: what
// building the grader and grading a submission read.
var gradescopeDirs = []string{"grader", course.ExercisesDir, course.HiddenDir}

// builtGrader is where "go build ./grader" puts the grader in the course
// checkout (the course's .gitignore leaves it out of git).
const builtGrader = "grader/grader"

// zipTime is every file's time in the zip, so that the same course gives
// the same zip.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrZipExists is a zip that -force would replace.
var ErrZipExists = errors.New("exists; pass -force to replace it")

// A GradescopeSummary says what WriteGradescope wrote.
type GradescopeSummary struct {
	Zip       string
	GoVersion string
	// CourseFiles counts the files besides the two scripts.
	CourseFiles int
}

func (s *GradescopeSummary) String() string {
	return fmt.Sprintf("wrote Gradescope's autograder to %s: %s (installs Go %s), %s and %d course files", s.Zip, GradescopeSetup, s.GoVersion, GradescopeRun, s.CourseFiles)
}

// GradescopeFiles returns the files of Gradescope's autograder zip,
// sorted by path: setup.sh and run_autograder, executable, and the course
// files that building the grader and grading need (go.mod, go.sum,
// grader/, exercises/, testdata/hidden/, and solutions/ as a README
// only), and the Go version setup.sh installs. Dot files, compiled test
// binaries and the built grader are left out; anything but a regular file
// or a directory is an error.
func GradescopeFiles(repo *course.Repo, opts GradescopeOptions) (files []File, goVersion string, err error) {
	if !repo.HasSolutions() {
		return nil, "", fmt.Errorf("%s has no %s/: release from the instructor's repository", repo.Root, course.SolutionsDir)
	}
	if v := opts.HiddenVisibility; v != "" && !report.ValidVisibility(v) {
		return nil, "", fmt.Errorf("%q is not one of Gradescope's visibilities: %s", v, strings.Join(report.GradescopeVisibilities, ", "))
	}
	// Grading takes a submission's missing file for missing, not for
	// the stub; still, a stub that is its solution is a mistake worth
	// stopping for.
	if err := checkStubs(repo); err != nil {
		return nil, "", err
	}
	if goVersion, err = gradescopeGoVersion(repo); err != nil {
		return nil, "", err
	}
	prelude, err := execute("gradescope_prelude.sh.tmpl", "{{", "}}", nil)
	if err != nil {
		return nil, "", err
	}
	data := map[string]any{
		"GoVersion":        goVersion,
		"Prelude":          string(prelude),
		"Budget":           gradescopeBudget,
		"HiddenVisibility": opts.HiddenVisibility,
	}
	setup, err := execute("setup.sh.tmpl", "{{", "}}", data)
	if err != nil {
		return nil, "", err
	}
	runScript, err := execute("run_autograder.tmpl", "{{", "}}", data)
	if err != nil {
		return nil, "", err
	}
	files = []File{
		{Path: GradescopeSetup, Data: setup, Executable: true},
		{Path: GradescopeRun, Data: runScript, Executable: true},
		{Path: course.SolutionsDir + "/README.md", Data: []byte(gradescopeSolutionsNote)},
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(repo.Path(name))
		if err != nil {
			return nil, "", err
		}
		files = append(files, File{Path: name, Data: data})
	}
	for _, dir := range gradescopeDirs {
		tree, err := readTree(repo, dir, nil)
		if err != nil {
			return nil, "", err
		}
		for _, f := range tree {
			if f.Path != builtGrader {
				files = append(files, f)
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for i := 1; i < len(files); i++ {
		if files[i].Path == files[i-1].Path {
			return nil, "", fmt.Errorf("%s exists in the course checkout, and the Gradescope autograder writes its own: rename the course's", files[i].Path)
		}
	}
	return files, goVersion, nil
}

// goRelease matches the go line of go.mod when it names a Go release
// whose download setup.sh can name: safe to write into a script.
var goRelease = regexp.MustCompile(`^1\.([0-9]+)(\.[0-9]+|(rc|beta)[0-9]+)?$`)

// gradescopeGoVersion is the Go that setup.sh installs: the go line of
// the course's go.mod, the oldest Go that builds the grader. From Go 1.21
// on, a go line of "1.N" means the release 1.N.0, whose download is named
// so.
func gradescopeGoVersion(repo *course.Repo) (string, error) {
	data, err := os.ReadFile(repo.Path("go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[0] != "go" {
			continue
		}
		m := goRelease.FindStringSubmatch(f[1])
		if m == nil {
			return "", fmt.Errorf("go.mod: the go line %q names no Go release that setup.sh could download", f[1])
		}
		if minor, _ := strconv.Atoi(m[1]); minor >= 21 && m[2] == "" {
			return f[1] + ".0", nil
		}
		return f[1], nil
	}
	return "", fmt.Errorf("go.mod has no go line: setup.sh would not know which Go to install")
}

// WriteGradescope writes Gradescope's autograder zip to zipPath. An
// existing file is replaced only with opts.Force, and a zip inside a
// folder the zip is made from is refused (the next one would hold it);
// the zip is written beside zipPath and moved into place only when
// complete.
func WriteGradescope(repo *course.Repo, zipPath string, opts GradescopeOptions) (*GradescopeSummary, error) {
	abs, err := filepath.Abs(zipPath)
	if err != nil {
		return nil, err
	}
	if err := checkZipPath(repo, abs, opts.Force); err != nil {
		return nil, err
	}
	files, goVersion, err := GradescopeFiles(repo, opts)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), ".ipclab-gradescope-*.zip")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*GradescopeSummary, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	zw := zip.NewWriter(tmp)
	for _, f := range files {
		hdr := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: zipTime}
		mode := fs.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return fail(err)
		}
		if _, err := w.Write(f.Data); err != nil {
			return fail(err)
		}
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		os.Remove(tmp.Name())
		return nil, err
	}
	return &GradescopeSummary{Zip: zipPath, GoVersion: goVersion, CourseFiles: len(files) - 2}, nil
}

// CheckGradescopeZip returns the error WriteGradescope would return for
// the path zipPath alone, so that a caller writing a release as well can
// refuse both before writing either.
func CheckGradescopeZip(repo *course.Repo, zipPath string, force bool) error {
	abs, err := filepath.Abs(zipPath)
	if err != nil {
		return err
	}
	return checkZipPath(repo, abs, force)
}

// checkZipPath refuses a zip path that may not be written.
func checkZipPath(repo *course.Repo, zipPath string, force bool) error {
	bad := func(e error) error { return &OutputError{Dir: zipPath, Err: e} }
	real, err := realPath(zipPath)
	if err != nil {
		return err
	}
	root, err := realPath(repo.Root)
	if err != nil {
		return err
	}
	for _, dir := range gradescopeDirs {
		if within(real, filepath.Join(root, filepath.FromSlash(dir))) {
			return bad(fmt.Errorf("is inside the course's %s/, which the zip is made from: write it elsewhere", path.Clean(dir)))
		}
	}
	st, err := os.Stat(zipPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.IsDir():
		return bad(errors.New("is a directory: name the zip file to write"))
	case !force:
		return bad(ErrZipExists)
	}
	return nil
}
