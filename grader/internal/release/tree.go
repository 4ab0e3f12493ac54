package release

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// A File is one file of a release, its path relative to the release root
// and slash-separated.
type File struct {
	Path       string
	Data       []byte
	Executable bool
}

// Paths of a release, relative to its root.
const (
	WorkflowPath     = ".github/workflows/classroom.yml"
	DevcontainerPath = ".devcontainer/devcontainer.json"
	// ScoreDir holds the student's score program, inside the exercises
	// module so that "go run ./score" needs no module of its own.
	ScoreDir   = course.ExercisesDir + "/score"
	PointsPath = ScoreDir + "/points.json"
)

const exercisesModule = course.ModulePath + "/" + course.ExercisesDir

//go:embed templates/*.tmpl
var templates embed.FS

// scoreFS is the score program's source. Its tests and their recorded
// streams stay here.
//
//go:embed student/score/*.go
var scoreFS embed.FS

// Tree returns the files of the student repository, sorted by path. It
// reads the course checkout and the manifests, and refuses a checkout it
// could not release safely.
func Tree(repo *course.Repo) ([]File, error) {
	if err := checkStubs(repo); err != nil {
		return nil, err
	}
	files, err := exerciseFiles(repo)
	if err != nil {
		return nil, err
	}
	add := func(p string, data []byte) { files = append(files, File{Path: p, Data: data}) }

	score, err := fs.Glob(scoreFS, "student/score/*.go")
	if err != nil {
		return nil, err
	}
	for _, name := range score {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := scoreFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		add(ScoreDir+"/"+path.Base(name), data)
	}
	points, err := Points(repo)
	if err != nil {
		return nil, err
	}
	add(PointsPath, points)

	readme, err := StudentREADME(repo)
	if err != nil {
		return nil, err
	}
	add("README.md", readme)
	wf, err := Workflow(repo)
	if err != nil {
		return nil, err
	}
	add(WorkflowPath, wf)
	dc, err := devcontainer(repo)
	if err != nil {
		return nil, err
	}
	add(DevcontainerPath, dc)
	gi, err := os.ReadFile(repo.Path(".gitignore"))
	if err != nil {
		return nil, err
	}
	add(".gitignore", gi)

	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for i := 1; i < len(files); i++ {
		if files[i].Path == files[i-1].Path {
			return nil, fmt.Errorf("%s exists in the course checkout, and the release writes its own: rename the course's", files[i].Path)
		}
	}
	return files, nil
}

// Solutions returns every reference solution file where the solutions
// branch puts it: solutions/<id>/<file> at exercises/<n>-<id>/<file>.
func Solutions(repo *course.Repo) ([]File, error) {
	var files []File
	var errs []error
	for _, ex := range repo.Exercises {
		dir := path.Join(course.SolutionsDir, ex.ID)
		entries, err := os.ReadDir(repo.Path(dir))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !slices.Contains(ex.Editable, e.Name()) {
				errs = append(errs, fmt.Errorf("%s/%s is not an editable file of %s (%s): the solutions branch has no place for it", dir, e.Name(), ex.ID, strings.Join(ex.Editable, ", ")))
			}
		}
		for _, name := range ex.Editable {
			data, err := os.ReadFile(repo.Path(dir, name))
			if err != nil {
				errs = append(errs, fmt.Errorf("the reference solution of %s lacks %s: %w", ex.ID, name, err))
				continue
			}
			files = append(files, File{Path: path.Join(ex.Dir, name), Data: data})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return files, nil
}

// checkStubs refuses a stub that is its reference solution, byte for
// byte: an instructor who tried a solution in place and forgot to put the
// stub back would otherwise hand it to every student.
func checkStubs(repo *course.Repo) error {
	var errs []error
	for _, ex := range repo.Exercises {
		for _, name := range ex.Editable {
			stub := path.Join(ex.Dir, name)
			sol := path.Join(course.SolutionsDir, ex.ID, name)
			data, err := os.ReadFile(repo.Path(sol))
			if err == nil && sameBytes(repo.Path(stub), data) {
				errs = append(errs, fmt.Errorf("%s is the reference solution (the same as %s): restore the stub (git checkout -- %s) before releasing", stub, sol, stub))
			}
		}
	}
	return errors.Join(errs...)
}

// exerciseFiles reads the course's exercises folder (see readTree),
// which must not hold the folder the release writes its score program
// into.
func exerciseFiles(repo *course.Repo) ([]File, error) {
	return readTree(repo, course.ExercisesDir, func(rel string) error {
		if rel == ScoreDir {
			return fmt.Errorf("%s exists in the course checkout, and the release writes its score program there: rename the course's", rel)
		}
		return nil
	})
}

// readTree reads the folder dir of the course checkout (slash-separated,
// relative to its root), leaving out dot files and compiled test
// binaries; checkDir, when not nil, may refuse a folder in it by its
// path. Anything but a regular file or a directory is an error: a
// release holds plain files.
func readTree(repo *course.Repo, dir string, checkDir func(rel string) error) ([]File, error) {
	var files []File
	root := repo.Path(filepath.FromSlash(dir))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repo.Root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if p != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir() && checkDir != nil:
			return checkDir(rel)
		case d.IsDir():
			return nil
		case strings.HasSuffix(name, ".test"):
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file (%v): a release holds plain files only", rel, d.Type())
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: rel, Data: data, Executable: info.Mode()&0o111 != 0})
		return nil
	})
	return files, err
}

// pointsJSON is exercises/score/points.json: the visible tests only.
type pointsJSON struct {
	Note      string           `json:"note"`
	Exercises []pointsExercise `json:"exercises"`
}

type pointsExercise struct {
	ID          string       `json:"id"`
	Number      int          `json:"number"`
	Title       string       `json:"title"`
	Dir         string       `json:"dir"`
	TotalPoints float64      `json:"total_points"`
	Tests       []pointsTest `json:"tests"`
}

type pointsTest struct {
	Name   string  `json:"name"`
	Points float64 `json:"points"`
}

// Points returns exercises/score/points.json: for every exercise, its
// visible tests and their points, and what the whole exercise is worth.
// Hidden tests are not named.
func Points(repo *course.Repo) ([]byte, error) {
	p := pointsJSON{Note: "The points of the visible tests, read by go run ./score. Written by the course's release; editing it changes only what go run ./score prints."}
	for _, ex := range repo.Exercises {
		pe := pointsExercise{ID: ex.ID, Number: ex.Number, Title: ex.Title, Dir: ex.PackageDir(), TotalPoints: ex.MaxScore(true)}
		for _, t := range ex.TestsFor(false) {
			pe.Tests = append(pe.Tests, pointsTest{Name: t.Name, Points: t.Points})
		}
		p.Exercises = append(p.Exercises, pe)
	}
	return marshal(p)
}

// marshal writes v as indented JSON, with no HTML escaping ("&&" stays
// as it is), and a final newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readmeExercise is what the student README says about one exercise.
type readmeExercise struct {
	*course.Exercise
	Visible, Total float64
}

// StudentREADME returns the student repository's README.md.
func StudentREADME(repo *course.Repo) ([]byte, error) {
	goVersion, err := exercisesGoVersion(repo)
	if err != nil {
		return nil, err
	}
	var exs []readmeExercise
	for _, ex := range repo.Exercises {
		exs = append(exs, readmeExercise{Exercise: ex, Visible: ex.MaxScore(false), Total: ex.MaxScore(true)})
	}
	return execute("README.md.tmpl", "{{", "}}", map[string]any{
		"GoVersion": goVersion,
		"Exercises": exs,
		"First":     exs[0],
		"FirstTest": exs[0].TestsFor(false)[0].Name,
	})
}

// Timing of the workflow's grading, in minutes. The grader's -budget
// bounds the wall time of grading one submission, builds included, so that
// a submission that hangs still gets its score; the step gets two
// minutes more, to compile the grader, and the job five more to check out
// and set up Go.
const (
	gradeBudget    = 8
	gradeStepLimit = gradeBudget + 2
	jobLimit       = gradeStepLimit + 5
)

// Workflow returns the Classroom workflow. The grading step hands the
// reporter one runner per test through $GITHUB_ENV (see the classroom
// format in package report), so the workflow itself names no exercise.
func Workflow(repo *course.Repo) ([]byte, error) {
	// GitHub's expressions are ${{ ... }}: the template's own actions
	// are [[ ... ]].
	return execute("classroom.yml.tmpl", "[[", "]]", map[string]any{
		"Budget":     fmt.Sprintf("%dm", gradeBudget),
		"StepLimit":  gradeStepLimit,
		"JobLimit":   jobLimit,
		"CourseDir":  "course",
		"StudentDir": "submission",
	})
}

func execute(name, left, right string, data any) ([]byte, error) {
	t, err := template.New(name).Delims(left, right).ParseFS(templates, "templates/"+name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// exercisesGoVersion reads the go line of the exercises module: the
// oldest Go a student may use.
func exercisesGoVersion(repo *course.Repo) (string, error) {
	gomod := path.Join(course.ExercisesDir, "go.mod")
	data, err := os.ReadFile(repo.Path(gomod))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
			// "go 1.25.0" is Go 1.25's first release: "Go 1.25 or
			// newer" is what a student reads.
			return strings.TrimSuffix(f[1], ".0"), nil
		}
	}
	return "", fmt.Errorf("%s has no go line", gomod)
}

// devcontainer returns the course's dev container for the student tree,
// which has no module at its root: modules are fetched in exercises/ only.
func devcontainer(repo *course.Repo) ([]byte, error) {
	data, err := os.ReadFile(repo.Path(DevcontainerPath))
	if err != nil {
		return nil, err
	}
	var dc map[string]any
	if err := json.Unmarshal(data, &dc); err != nil {
		return nil, fmt.Errorf("%s: %w", DevcontainerPath, err)
	}
	dc["postCreateCommand"] = "cd " + course.ExercisesDir + " && go mod download"
	return marshal(dc)
}
