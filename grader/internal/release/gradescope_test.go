package release

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
)

// readZip reads every file of the zip at p, by path, with its mode.
func readZip(t *testing.T, p string) (data map[string][]byte, modes map[string]fs.FileMode) {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data, modes = map[string][]byte{}, map[string]fs.FileMode{}
	for _, f := range zr.File {
		if _, dup := data[f.Name]; dup {
			t.Errorf("%s is twice in the zip", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		data[f.Name], modes[f.Name] = b, f.Mode()
	}
	return data, modes
}

func writeZip(t *testing.T, repo *course.Repo, opts GradescopeOptions) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "autograder.zip")
	if _, err := WriteGradescope(repo, p, opts); err != nil {
		t.Fatalf("WriteGradescope(%s): %v", p, err)
	}
	return p
}

// The zip holds the two scripts at its root, executable, and the course
// files grading needs as they are in the checkout; no solution, mutant,
// fixture submission, dot file or build output.
func TestGradescopeZip(t *testing.T) {
	repo := courseRepo(t)
	p := writeZip(t, repo, GradescopeOptions{})
	data, modes := readZip(t, p)

	for _, script := range []string{GradescopeSetup, GradescopeRun} {
		if modes[script] != 0o755 {
			t.Errorf("%s: mode %v, want -rwxr-xr-x: Gradescope runs it", script, modes[script])
		}
		if !bytes.HasPrefix(data[script], []byte("#!/usr/bin/env bash\n")) {
			t.Errorf("%s does not start with a #! line for bash", script)
		}
	}
	for _, want := range []string{"go.mod", "go.sum", "grader/main.go", "grader/internal/course/manifests/counter.json", "exercises/go.mod", "exercises/go.sum", "exercises/1-counter/counter.go", "exercises/1-counter/counter_test.go", "solutions/README.md"} {
		if _, ok := data[want]; !ok {
			t.Errorf("the zip lacks %s", want)
		}
	}
	// Every hidden test, since grading builds them.
	hidden, err := readTree(repo, course.HiddenDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range hidden {
		if !bytes.Equal(data[f.Path], f.Data) {
			t.Errorf("the zip's %s is not the course's", f.Path)
		}
	}
	forbidden := regexp.MustCompile(`(^|/)\.|^testdata/(submissions|mutants)/|^solutions/.+\.go$|\.test$|^grader/grader$|^\.\.?/|^/`)
	for name, b := range data {
		if forbidden.MatchString(name) {
			t.Errorf("the zip holds %s", name)
		}
		if name == GradescopeSetup || name == GradescopeRun || name == "solutions/README.md" {
			continue
		}
		if name != "go.mod" && name != "go.sum" && !strings.HasPrefix(name, "grader/") && !strings.HasPrefix(name, "exercises/") && !strings.HasPrefix(name, "testdata/hidden/") {
			t.Errorf("the zip holds %s, which grading does not need", name)
		}
		disk, err := os.ReadFile(repo.Path(filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(disk, b) {
			t.Errorf("the zip's %s is not the course's (%v)", name, err)
		}
		if modes[name] != 0o644 && modes[name] != 0o755 {
			t.Errorf("%s: mode %v, want -rw-r--r-- or, for an executable, -rwxr-xr-x", name, modes[name])
		}
	}

	// The same course gives the same zip.
	again, err := os.ReadFile(writeZip(t, repo, GradescopeOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if first, _ := os.ReadFile(p); !bytes.Equal(first, again) {
		t.Errorf("two zips of the same course differ")
	}
}

// Both scripts are valid bash, and run_autograder passes the grader the
// visibility asked for.
func TestGradescopeScripts(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	repo := courseRepo(t)
	for _, vis := range []string{"", "visible"} {
		files, _, err := GradescopeFiles(repo, GradescopeOptions{HiddenVisibility: vis})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Path != GradescopeSetup && f.Path != GradescopeRun {
				continue
			}
			cmd := exec.Command(bash, "-n")
			cmd.Stdin = bytes.NewReader(f.Data)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", f.Path, err, out)
			}
			if f.Path != GradescopeRun {
				continue
			}
			grade := regexp.MustCompile(`(?m)^"\$GRADER" grade .*$`).Find(f.Data)
			want := "-format gradescope"
			if vis != "" {
				want += " -gradescope-hidden " + vis
			}
			if !bytes.Contains(grade, []byte(want+` "$@" "$SUBMISSION"`)) {
				t.Errorf("run_autograder grades with %q, want %q before the submission", grade, want)
			}
		}
	}
	if _, _, err := GradescopeFiles(repo, GradescopeOptions{HiddenVisibility: "later"}); err == nil || !strings.Contains(err.Error(), `"later" is not one of Gradescope's visibilities`) {
		t.Errorf("a visibility of %q: error %v, want it refused", "later", err)
	}
}

// setup.sh installs the Go of the go line of the course's go.mod.
func TestGradescopeGoVersion(t *testing.T) {
	repo := courseRepo(t)
	gomod, err := os.ReadFile(repo.Path("go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	files, _, err := GradescopeFiles(repo, GradescopeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == GradescopeSetup && !bytes.Contains(f.Data, []byte("\nGO_VERSION="+string(m[1])+"\n")) {
			t.Errorf("setup.sh does not install Go %s, go.mod's go line", m[1])
		}
	}

	tests := []struct{ line, want, err string }{
		{"go 1.25.0", "1.25.0", ""},
		{"go 1.25", "1.25.0", ""},
		{"go 1.20", "1.20", ""},
		{"go 1.26rc1", "1.26rc1", ""},
		{"go 1.25.0$(reboot)", "", `the go line "1.25.0$(reboot)" names no Go release`},
		{"toolchain go1.25.3", "", "go.mod has no go line"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+course.ModulePath+"\n\n"+tt.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := gradescopeGoVersion(&course.Repo{Root: dir})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %q, %v; want an error containing %q", tt.line, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

// An existing zip is replaced only with Force, and a zip that the next
// zip would pack is refused.
func TestGradescopeZipPath(t *testing.T) {
	repo := courseRepo(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "autograder.zip")
	if err := os.WriteFile(p, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := WriteGradescope(repo, p, GradescopeOptions{})
	var bad *OutputError
	if !errors.As(err, &bad) || !errors.Is(err, ErrZipExists) {
		t.Errorf("an existing zip: error %v, want ErrZipExists", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "mine" {
		t.Errorf("a refused zip was changed")
	}
	if _, err := WriteGradescope(repo, p, GradescopeOptions{Force: true}); err != nil {
		t.Errorf("with Force: %v", err)
	}
	if data, _ := readZip(t, p); data[GradescopeRun] == nil {
		t.Errorf("with Force, the zip was not replaced")
	}
	if _, err := WriteGradescope(repo, dir, GradescopeOptions{Force: true}); !errors.As(err, &bad) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a directory: error %v, want it refused", err)
	}
	inside := repo.Path("exercises", "autograder.zip")
	if _, err := WriteGradescope(repo, inside, GradescopeOptions{}); !errors.As(err, &bad) || !strings.Contains(err.Error(), "is inside the course's exercises/") {
		t.Errorf("a zip inside exercises/: error %v, want it refused", err)
	}
	if _, err := os.Stat(inside); err == nil {
		os.Remove(inside)
		t.Errorf("a refused zip was written")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%s holds %d entries, want the zip only: no temporary file left behind", dir, len(entries))
	}
}

// autograderLayout lays out Gradescope's /autograder in a temporary
// directory: source holds the zip's files and the grader, as setup.sh
// leaves it; submission a student repository one folder down, as an
// upload of a zip of its folder puts it.
func autograderLayout(t *testing.T, repo *course.Repo, grader []byte) (root string, run string) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "autograder")
	files, _, err := GradescopeFiles(repo, GradescopeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(root, "source")
	if err := writeFiles(source, files); err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(source, []File{{Path: "bin/grader", Data: grader, Executable: true}}); err != nil {
		t.Fatal(err)
	}
	stubs, err := exerciseFiles(repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFiles(filepath.Join(root, "submission", "ipclab-alice"), stubs); err != nil {
		t.Fatal(err)
	}
	return root, filepath.Join(source, GradescopeRun)
}

// runAutograder runs run_autograder with Gradescope's layout under root
// and this machine's Go caches, and returns results.json, decoded.
func runAutograder(t *testing.T, root, script string, args ...string) map[string]any {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	cmd := exec.Command(bash, append([]string{script}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "IPCLAB_AUTOGRADER="+root)
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, k+"="+strings.TrimSpace(string(v)))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run_autograder: %v (it exits 0 whenever it wrote results.json)\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(root, "results", "results.json"))
	if err != nil {
		t.Fatalf("run_autograder wrote no results.json: %v\n%s", err, out)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("results.json does not parse: %v\n%s\nrun_autograder printed:\n%s", err, data, out)
	}
	if _, err := os.Stat(filepath.Join(root, "results", "results.json.tmp")); err == nil {
		t.Errorf("run_autograder left results.json.tmp behind")
	}
	return doc
}

// When the grader fails, run_autograder still writes a results.json, one
// that says so.
func TestRunAutograderGraderFails(t *testing.T) {
	repo := courseRepo(t)
	root, script := autograderLayout(t, repo, []byte("#!/bin/sh\necho 'grader: error: out of disk' >&2\nexit 3\n"))
	doc := runAutograder(t, root, script)
	out, _ := doc["output"].(string)
	if doc["score"] != 0.0 || !strings.Contains(out, "The autograder could not grade this submission: the grader stopped with exit status 3. This is not your grade") {
		t.Errorf("results.json = %v, want a score of 0 and an output that says the grader failed", doc)
	}
	if tests, ok := doc["tests"].([]any); !ok || len(tests) != 0 {
		t.Errorf("tests = %#v, want []", doc["tests"])
	}
}

// run_autograder's own grading: the course's grader on the stubs of one
// exercise, found one folder down in the submission. The course's files
// end up unreadable to other users.
func TestRunAutograder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the grader and grades an exercise")
	}
	repo := courseRepo(t)
	grader, err := os.ReadFile(graderBinary(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	root, script := autograderLayout(t, repo, grader)
	doc := runAutograder(t, root, script, "-exercise", "counter")

	ex, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	want := ex.TestsFor(true)
	tests, _ := doc["tests"].([]any)
	if len(tests) != len(want) {
		t.Fatalf("%d tests in results.json, want counter's %d:\n%v", len(tests), len(want), doc)
	}
	if doc["score"] != 0.0 {
		t.Errorf("score = %v, want 0 for the stubs", doc["score"])
	}
	for i, ct := range want {
		tt := tests[i].(map[string]any)
		vis := "visible"
		if ct.Hidden {
			vis = "after_due_date"
		}
		if !strings.HasPrefix(tt["name"].(string), "counter: "+ct.Name) || tt["status"] != "failed" || tt["visibility"] != vis {
			t.Errorf("tests[%d] = %v, want counter's %s, failed, %s", i, tt, ct.Name, vis)
		}
	}
	// Closing the course's folders must not close the sandbox: the
	// grader grades at the level this machine allows.
	best, _ := run.Probe()
	if out, _ := doc["output"].(string); !strings.Contains(out, "\nisolation: "+best.String()+" ") {
		t.Errorf("output = %q, want grading at isolation %s, the best this machine allows", out, best)
	}
	if st, err := os.Stat(filepath.Join(root, "source", "bin", "grader")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("bin/grader: %v, %v; want mode 0755, executable by the sandbox's user", st.Mode(), err)
	}
	for _, dir := range []string{"source", "source/testdata/hidden", "results"} {
		st, err := os.Stat(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want nothing for group and others", dir, st.Mode().Perm())
		}
	}
}

// cpus, in both scripts, reads the container's CPU quota from cgroup v2
// or v1, rounded up, and falls back to nproc.
func TestGradescopeCPUs(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	prelude, err := execute("gradescope_prelude.sh.tmpl", "{{", "}}", nil)
	if err != nil {
		t.Fatal(err)
	}
	nproc, err := exec.Command("nproc").Output()
	if err != nil {
		t.Skip("no nproc to compare with")
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"v2, half a CPU", map[string]string{"cpu.max": "50000 100000\n"}, "1"},
		{"v2, 2.5 CPUs", map[string]string{"cpu.max": "250000 100000\n"}, "3"},
		{"v2, no quota", map[string]string{"cpu.max": "max 100000\n"}, strings.TrimSpace(string(nproc))},
		{"v1, 2 CPUs", map[string]string{"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, "2"},
		{"v1, no quota", map[string]string{"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, strings.TrimSpace(string(nproc))},
		{"no cgroup files", nil, strings.TrimSpace(string(nproc))},
	}
	for _, tt := range tests {
		cgroup := t.TempDir()
		for name, data := range tt.files {
			if err := writeFiles(cgroup, []File{{Path: name, Data: []byte(data)}}); err != nil {
				t.Fatal(err)
			}
		}
		script := strings.ReplaceAll(string(prelude), "/sys/fs/cgroup", cgroup) + "\ncpus\n"
		out, err := exec.Command(bash, "-c", script).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != tt.want {
			t.Errorf("%s: cpus printed %q (%v), want %s", tt.name, got, err, tt.want)
		}
	}
}
