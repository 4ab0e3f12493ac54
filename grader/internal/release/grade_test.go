package release

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
)

// These tests run what the released repository's users run: the
// workflow's grading (the course's grader on a student's checkout), a
// student's go test -race and go run ./score. They build and run the
// exercises under the race detector, so they take a while; under -short
// the go test -race of every package on the solutions branch is cut down
// to two exercises and the shared helpers.

// goCmd runs the go command in dir, outside any workspace, and returns
// its combined output and error.
func goCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var grader struct {
	once sync.Once
	path string
	err  error
	out  string
}

// graderBinary builds the course's grader once for the package's tests,
// as the workflow's go run ./grader does.
func graderBinary(t *testing.T, repo *course.Repo) string {
	t.Helper()
	grader.once.Do(func() {
		dir, err := os.MkdirTemp("", "ipclab-release-test-")
		if err != nil {
			grader.err = err
			return
		}
		grader.path = filepath.Join(dir, "grader")
		grader.out, grader.err = goCmd(t, repo.Root, "build", "-o", grader.path, "./grader")
	})
	if grader.err != nil {
		t.Fatalf("go build ./grader: %v\n%s", grader.err, grader.out)
	}
	return grader.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if grader.path != "" {
		os.RemoveAll(filepath.Dir(grader.path))
	}
	os.Exit(code)
}

// result is the part of the grader's JSON result these tests read
// (grader/internal/report/SCHEMA.md).
type result struct {
	Score     float64 `json:"score"`
	MaxScore  float64 `json:"max_score"`
	Exercises []struct {
		ID       string  `json:"id"`
		Score    float64 `json:"score"`
		MaxScore float64 `json:"max_score"`
		Status   string  `json:"status"`
		Message  string  `json:"message"`
	} `json:"exercises"`
}

// grade runs the released workflow's own grading command, from the
// course checkout, on a checkout of the student repository standing in
// for $GITHUB_WORKSPACE/submission, with two exercises (-exercise, to keep
// it short) and the result also as JSON (-also json=FILE) for these tests
// to read. It checks what the workflow's next steps read: the
// environment lines for the reporter and the Markdown summary.
func grade(t *testing.T, repo *course.Repo, submission string) result {
	t.Helper()
	args := workflowGradeArgs(t, repo)
	if best, _ := run.Probe(); best < run.IsolateNamespaces {
		t.Logf("this machine cannot grade at -isolation namespaces, as the workflow asks: grading with -isolation auto")
		for i, a := range args {
			if a == "namespaces" && i > 0 && args[i-1] == "-isolation" {
				args[i] = "auto"
			}
		}
	}
	dir := t.TempDir()
	summary, resultFile := filepath.Join(dir, "summary.md"), filepath.Join(dir, "result.json")
	for i, a := range args {
		a = strings.ReplaceAll(a, "$GITHUB_STEP_SUMMARY", summary)
		args[i] = strings.ReplaceAll(a, "$GITHUB_WORKSPACE/submission", submission)
	}
	args = append(args[:len(args)-1:len(args)-1], "-exercise", "counter,buffer", "-also", "json="+resultFile, args[len(args)-1])
	cmd := exec.Command(graderBinary(t, repo), args...)
	cmd.Dir = repo.Root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	env, err := cmd.Output()
	if err != nil {
		t.Fatalf("grader %s: %v (grading completes with status 0 whatever the score)\n%s", strings.Join(args, " "), err, stderr.String())
	}
	tests := 0
	for _, id := range []string{"counter", "buffer"} {
		ex, err := repo.Exercise(id)
		if err != nil {
			t.Fatal(err)
		}
		tests += len(ex.TestsFor(true))
	}
	lines := strings.Split(strings.TrimSpace(string(env)), "\n")
	if len(lines) != 1+tests || !strings.HasPrefix(lines[0], "IPCLAB_RUNNERS=counter1,") {
		t.Errorf("the lines for $GITHUB_ENV: %d, starting %.40q; want IPCLAB_RUNNERS and one line per test of counter and buffer", len(lines), lines[0])
	}
	if md, err := os.ReadFile(summary); err != nil || !strings.HasPrefix(string(md), "# Total: ") {
		t.Errorf("the step summary: %v, %.40q; want the Markdown report", err, md)
	}
	data, err := os.ReadFile(resultFile)
	if err != nil {
		t.Fatal(err)
	}
	var r result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("grader grade -also json: %v\n%s", err, data)
	}
	if len(r.Exercises) != 2 || r.MaxScore != 200 {
		t.Fatalf("graded %d exercises worth %g, want counter and buffer, 200 points:\n%s", len(r.Exercises), r.MaxScore, data)
	}
	return r
}

// workflowGradeArgs returns the arguments the released workflow gives the
// grader: its grading step's command line, without "go run ./grader" and
// the redirection, quotes removed (no argument holds a space).
func workflowGradeArgs(t *testing.T, repo *course.Repo) []string {
	t.Helper()
	wf, err := Workflow(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(wf), "\n") {
		cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "run: go run ./grader ")
		if !ok {
			continue
		}
		cmd, _, _ = strings.Cut(cmd, " >> ")
		return strings.Fields(strings.ReplaceAll(cmd, `"`, ""))
	}
	t.Fatal("the workflow has no step that runs the grader")
	return nil
}

func TestGradeReleasedBranches(t *testing.T) {
	repo := courseRepo(t)
	out := released(t, repo, Options{Git: true})

	stubs := grade(t, repo, checkout(t, out, "main"))
	if stubs.Score != 0 {
		t.Errorf("the template's stubs score %g/%g, want 0", stubs.Score, stubs.MaxScore)
	}
	for _, ex := range stubs.Exercises {
		if ex.Status == "error" {
			t.Errorf("%s on the template: status error (%s), want a plain fail: the stubs compile", ex.ID, ex.Message)
		}
	}

	solved := grade(t, repo, checkout(t, out, "solutions"))
	if solved.Score != solved.MaxScore {
		t.Errorf("the solutions branch scores %g/%g, want full marks", solved.Score, solved.MaxScore)
	}
	for _, ex := range solved.Exercises {
		if ex.Status != "pass" {
			t.Errorf("%s on the solutions branch: %g/%g, status %s: %s", ex.ID, ex.Score, ex.MaxScore, ex.Status, ex.Message)
		}
	}
}

// What a student sees on the template: the package builds and vets, the
// visible tests fail, and go run ./score says 0.
func TestStudentTemplate(t *testing.T) {
	repo := courseRepo(t)
	exercises := filepath.Join(checkout(t, released(t, repo, Options{Git: true}), "main"), course.ExercisesDir)

	if msg, err := goCmd(t, exercises, "vet", "./..."); err != nil {
		t.Errorf("go vet ./... in the released exercises: %v\n%s", err, msg)
	}
	msg, err := goCmd(t, exercises, "test", "-race", "./1-counter/")
	if err == nil {
		t.Errorf("go test -race ./1-counter/ passes on the template's stub:\n%s", msg)
	} else if !strings.Contains(msg, "FAIL") {
		t.Errorf("go test -race ./1-counter/ on the stub did not report failing tests: %v\n%s", err, msg)
	}
	msg, err = goCmd(t, exercises, "run", "./score", "counter")
	if err != nil || !strings.Contains(msg, "visible tests: 0/40 points") {
		t.Errorf("go run ./score counter on the template: %v, want a score of 0/40:\n%s", err, msg)
	}
}

// The solutions branch passes every test a student can run.
func TestSolutionsPassVisibleTests(t *testing.T) {
	repo := courseRepo(t)
	exercises := filepath.Join(checkout(t, released(t, repo, Options{Git: true}), "solutions"), course.ExercisesDir)

	pkgs := []string{"./..."}
	if testing.Short() {
		pkgs = []string{"./1-counter/", "./3-buffer/", "./internal/..."}
	}
	if msg, err := goCmd(t, exercises, append([]string{"test", "-race"}, pkgs...)...); err != nil {
		t.Errorf("go test -race %s on the solutions branch: %v\n%s", strings.Join(pkgs, " "), err, msg)
	}
	msg, err := goCmd(t, exercises, "run", "./score", "counter")
	if err != nil || !strings.Contains(msg, "visible tests: 40/40 points") {
		t.Errorf("go run ./score counter on the solutions branch: %v, want full marks, 40/40:\n%s", err, msg)
	}
}
