package release

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// The released workflow, as a reviewer reads it: testdata/classroom.yml.
// Run go test -update after changing the template or the exercises.
func TestWorkflowGolden(t *testing.T) {
	got, err := Workflow(courseRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "classroom.yml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the workflow differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// The workflow grades once: the points go to $GITHUB_ENV, one runner per
// test, in the variables the reporter reads (classroom-resources/
// autograding-grading-reporter, src/main.js: the runner's id upper-cased,
// then _RESULTS), with the runners' list in IPCLAB_RUNNERS; the feedback
// goes to the run's summary.
func TestWorkflowGradesOnce(t *testing.T) {
	repo := courseRepo(t)
	data, err := Workflow(repo)
	if err != nil {
		t.Fatal(err)
	}
	wf := string(data)
	if n := strings.Count(wf, "go run ./grader grade"); n != 1 {
		t.Errorf("the workflow runs the grader %d times, want once", n)
	}
	for _, want := range []string{
		`(?m)^        run: go run \./grader grade -isolation namespaces -budget 8m -format classroom -also "markdown=\$GITHUB_STEP_SUMMARY" "\$GITHUB_WORKSPACE/submission" >> "\$GITHUB_ENV"$`,
		`(?m)^        uses: classroom-resources/autograding-grading-reporter@v1\n        with:\n          runners: \$\{\{ env\.IPCLAB_RUNNERS \}\}$`,
		`(?m)^        run: sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0 \|\| true$`,
		`(?m)^          repository: \$\{\{ vars\.IPCLAB_COURSE_REPO \}\}\n          token: \$\{\{ secrets\.IPCLAB_COURSE_TOKEN \}\}\n          path: course\n          persist-credentials: false$`,
		`(?m)^          go-version-file: course/go\.mod$`,
		`::error title=Autograding is not set up::The Actions variable IPCLAB_COURSE_REPO is not set`,
		`::error title=Autograding is not set up::The Actions secret IPCLAB_COURSE_TOKEN is not set`,
		`(?m)^    timeout-minutes: 15$`,
	} {
		if !regexp.MustCompile(want).MatchString(wf) {
			t.Errorf("the workflow does not match %s", want)
		}
	}
	// The token is never handed to a shell.
	for i, line := range strings.Split(wf, "\n") {
		if strings.Contains(line, "secrets.IPCLAB_COURSE_TOKEN") && !strings.Contains(line, "token: ${{ secrets.IPCLAB_COURSE_TOKEN }}") && !strings.Contains(line, "${{ secrets.IPCLAB_COURSE_TOKEN != '' }}") {
			t.Errorf("line %d uses the token other than as the checkout's token or a test that it is set: %s", i+1, line)
		}
	}
}

// TestActionlint checks every workflow of this repository and the
// released template's with actionlint, the go tool of the root module.
func TestActionlint(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	repo := courseRepo(t)
	out := released(t, repo, Options{})
	workflows, err := filepath.Glob(repo.Path(".github", "workflows", "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(workflows) == 0 {
		t.Fatalf("no workflows under %s", repo.Path(".github", "workflows"))
	}
	workflows = append(workflows, filepath.Join(out, filepath.FromSlash(WorkflowPath)))
	cmd := exec.Command("go", append([]string{"tool", "actionlint", "-no-color"}, workflows...)...)
	cmd.Dir = repo.Root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go tool actionlint %s: %v\n%s", strings.Join(workflows, " "), err, msg)
	}
}

// The student README names what a student edits and how to see a score,
// and says nothing meant for instructors.
func TestStudentREADME(t *testing.T) {
	repo := courseRepo(t)
	data, err := StudentREADME(repo)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, ex := range repo.Exercises {
		if want := "[" + ex.ID + "](" + ex.Dir + "/README.md)"; !strings.Contains(readme, want) {
			t.Errorf("README lacks the link %s", want)
		}
		for _, f := range ex.Editable {
			if !strings.Contains(readme, "`"+f+"`") {
				t.Errorf("README does not name %s, which %s's students edit", f, ex.ID)
			}
		}
	}
	for _, want := range []string{"go test -race ./1-counter/", "go run ./score", "Go 1.25 or newer"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	for _, never := range []string{"solutions", "mutant", "grader verify", "grader grade", "IPCLAB_COURSE", course.HiddenDir, "Instructor guide"} {
		if strings.Contains(readme, never) {
			t.Errorf("student README mentions %q, an instructor's matter", never)
		}
	}
}
