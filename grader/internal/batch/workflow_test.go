//go:build linux

package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/ipclab/ipclab/grader/internal/run"
)

// workflowFile is the instructor's class-grading workflow, relative to
// the repository root.
const workflowFile = ".github/workflows/grade-class.yml"

// courseRoot is the repository root, where every step runs (the
// checkout's directory).
var courseRoot = filepath.Join("..", "..", "..")

// The parts of a GitHub Actions workflow that the test reads.
type (
	workflow struct {
		On       map[string]yaml.Node `yaml:"on"`
		Defaults struct {
			Run struct{ Shell string }
		}
		Env  map[string]string
		Jobs map[string]*wfJob
	}
	wfJob struct {
		If       string
		Outputs  map[string]string
		Strategy struct {
			FailFast *bool `yaml:"fail-fast"`
			Matrix   map[string]string
		}
		Env   map[string]string
		Steps []wfStep
	}
	wfStep struct {
		Name, ID, Uses, Run, If string
		Env, With               map[string]string
	}
	wfInput struct {
		Type    string
		Default string
	}
)

// expression matches one ${{ ... }} of a workflow.
var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// conditions are the workflow's if: expressions. The test does not
// evaluate them: it runs every job, and a step after a failed one only
// when its condition has !cancelled().
var conditions = []string{"!cancelled()", "!cancelled() && needs.plan.result == 'success'"}

// wfRun is one run of the workflow on this machine: the values its
// expressions take, the artifacts its jobs uploaded, and where GitHub
// Actions would have stood.
type wfRun struct {
	wf *workflow
	// values are the expressions the test knows, and what each stands
	// for; an expression missing here fails the test.
	values map[string]string
	// env is the environment every step starts from.
	env       []string
	artifacts string
	scratch   string
}

// expand replaces the expressions in s by their values in vals (the
// run's, and those of the job at hand).
func (r *wfRun) expand(s string, vals map[string]string) (string, error) {
	var unknown []string
	out := expression.ReplaceAllStringFunc(s, func(m string) string {
		e := expression.FindStringSubmatch(m)[1]
		if v, ok := vals[e]; ok {
			return v
		}
		if v, ok := r.values[e]; ok {
			return v
		}
		unknown = append(unknown, e)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("the test does not know the expression %s in %q", strings.Join(unknown, ", "), s)
	}
	return out, nil
}

// A jobRun is one job of a run: its own expression values (matrix, env)
// and its directories, which the test chooses in place of the
// workflow's.
type jobRun struct {
	name string
	job  *wfJob
	vals map[string]string
	dirs map[string]string
	// summary is the job's $GITHUB_STEP_SUMMARY.
	summary string
	log     bytes.Buffer
	// output holds the steps' outputs, as steps.ID.outputs.NAME.
	output map[string]string
}

// runJob runs the job's steps in order, standing in for the actions, and
// returns the first step that failed. It is called from goroutines: it
// reports, never asserts.
func (r *wfRun) runJob(ctx context.Context, jr *jobRun) error {
	var failed error
	for i, st := range jr.job.Steps {
		if failed != nil && !strings.Contains(st.If, "!cancelled()") {
			continue
		}
		if err := r.runStep(ctx, jr, st); err != nil && failed == nil {
			failed = fmt.Errorf("job %s, step %d (%s): %w", jr.name, i+1, st.Name, err)
		}
	}
	return failed
}

// stepEnv is the environment of a step: the run's, the workflow's, the
// job's and the step's variables, with the job's directories in place of
// the workflow's.
func (r *wfRun) stepEnv(jr *jobRun, st wfStep) (env []string, vars map[string]string, err error) {
	vars = map[string]string{}
	for _, m := range []map[string]string{r.wf.Env, jr.job.Env, st.Env} {
		for k, v := range m {
			if vars[k], err = r.expand(v, jr.vals); err != nil {
				return nil, nil, err
			}
		}
	}
	for k, v := range jr.dirs {
		if _, ok := vars[k]; !ok {
			return nil, nil, fmt.Errorf("the workflow no longer has the variable %s that the test points at %s", k, v)
		}
		vars[k] = v
	}
	env = slices.Clone(r.env)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env, vars, nil
}

func (r *wfRun) runStep(ctx context.Context, jr *jobRun, st wfStep) error {
	env, vars, err := r.stepEnv(jr, st)
	if err != nil {
		return err
	}
	with := map[string]string{}
	envVals := maps.Clone(jr.vals)
	for k, v := range vars {
		envVals["env."+k] = v
	}
	for k, v := range st.With {
		if with[k], err = r.expand(v, envVals); err != nil {
			return err
		}
	}
	switch {
	case st.Uses == "actions/checkout@v4":
		return nil // the steps run in the repository root
	case st.Uses == "actions/setup-go@v5":
		return nil // the go command that runs this test
	case st.Uses == "actions/upload-artifact@v4":
		if _, err := os.Stat(with["path"]); err != nil {
			fmt.Fprintf(&jr.log, "upload-artifact: nothing to upload: %v\n", err)
			return nil
		}
		dst := filepath.Join(r.artifacts, with["name"])
		if err := os.RemoveAll(dst); err != nil { // overwrite: true
			return err
		}
		return cp(with["path"], dst)
	case st.Uses == "actions/download-artifact@v4":
		names, err := filepath.Glob(filepath.Join(r.artifacts, with["pattern"]))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(with["path"], 0o755); err != nil {
			return err
		}
		for _, name := range names {
			if err := cp(name, filepath.Join(with["path"], filepath.Base(name))); err != nil {
				return err
			}
		}
		return nil
	case st.ID == "sandbox":
		return nil // sudo sysctl: the test is skipped where namespaces are refused
	case st.Run != "" && slices.Contains([]string{"plan", "clone", "grade", "merge", "summary"}, st.ID):
	default:
		return fmt.Errorf("the test cannot stand in for step %q (id %q, uses %q)", st.Name, st.ID, st.Uses)
	}

	script, err := r.expand(st.Run, jr.vals)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(r.scratch, "step-")
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "script.sh")
	outputs := filepath.Join(dir, "output")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return err
	}
	// GitHub Actions runs "shell: bash" as bash --noprofile --norc -eo pipefail {0}.
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", file)
	cmd.Dir = courseRoot
	cmd.Env = append(env, "GITHUB_OUTPUT="+outputs, "GITHUB_STEP_SUMMARY="+jr.summary)
	cmd.Stdout, cmd.Stderr = &jr.log, &jr.log
	// A step cut short takes its go run and grader with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	fmt.Fprintf(&jr.log, "--- %s: %s\n", jr.name, st.Name)
	err = cmd.Run()
	data, rerr := os.ReadFile(outputs)
	if rerr == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				jr.output["steps."+st.ID+".outputs."+k] = v
			}
		}
	}
	return err
}

// cp copies the tree src to dst.
func cp(src, dst string) error {
	if out, err := exec.Command("cp", "-R", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -R %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}

// gitServer serves the bare repositories under root over smart HTTP on
// loopback, as GitHub would: only to requests that carry token as their
// password. It returns the server's URL and a count of the requests that
// did.
func gitServer(t *testing.T, root, token string) (string, *atomic.Int32) {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	require.NoError(t, err)
	backend := &cgi.Handler{
		Path:   gitPath,
		Args:   []string{"http-backend"},
		Env:    []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"},
		Stderr: io.Discard, // "Not a git repository" for the student who never pushed
	}
	var authed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, ok := req.BasicAuth()
		if !ok || user != "x-access-token" || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "a token is needed", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		backend.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", &authed
}

// studentRepo makes the bare repository root/name.git from commits, each
// a fixture submission committed at a date.
func studentRepo(t *testing.T, root, name string, commits ...[2]string) {
	t.Helper()
	work := t.TempDir()
	gitRun(t, work, "", "init", "-q", "-b", "main")
	for _, c := range commits {
		sub, date := c[0], c[1]
		require.NoError(t, os.RemoveAll(filepath.Join(work, "exercises")))
		copyDir(t, filepath.Join(courseRoot, "testdata", "submissions", sub, "exercises"), filepath.Join(work, "exercises"))
		gitRun(t, work, date, "add", "-A")
		gitRun(t, work, date, "commit", "-qm", sub)
	}
	gitRun(t, work, "", "clone", "-q", "--bare", work, filepath.Join(root, name+".git"))
}

// TestWorkflowGradesClassInShards runs the grade-class workflow on this
// machine: the plan job, then the grade job of every shard at once, each
// a set of bash processes in a directory of its own, then the merge job,
// with the test standing in for the actions (checkout, setup-go, the
// artifacts) and for GitHub (a git server on loopback that wants the
// class token). The merged gradebook must hold every roster entry once,
// score each as one unsharded batch of the same class does, and the merge
// must refuse the shards with one missing.
func TestWorkflowGradesClassInShards(t *testing.T) {
	for _, cmd := range []string{"go", "git", "bash"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("no %s command", cmd)
		}
	}
	if best, why := run.Probe(); best < run.IsolateNamespaces {
		t.Skipf("the workflow grades with -isolation namespaces; this machine allows %s at best: %s", best, why)
	}
	wf := readWorkflow(t)
	// A bound on the whole run, inside the test's own with time to
	// report: grading this class takes well under a minute.
	deadline := time.Now().Add(5 * time.Minute)
	if d, ok := t.Deadline(); ok && d.Add(-10*time.Second).Before(deadline) {
		deadline = d.Add(-10 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	// GitHub, on loopback: three students pushed; dave never did.
	tmp := t.TempDir()
	token := fmt.Sprintf("test-token-%d", time.Now().UnixNano())
	remotes := filepath.Join(tmp, "github")
	studentRepo(t, remotes, "ipclab-test/counter-alice", [2]string{"good-atomic", "2026-11-30T10:00:00Z"})
	// Bob's fix came after the deadline: the first commit is graded.
	studentRepo(t, remotes, "ipclab-test/counter-bob",
		[2]string{"wrong-check-then-act", "2026-11-30T10:00:00Z"},
		[2]string{"good-atomic", "2026-12-02T10:00:00Z"})
	studentRepo(t, remotes, "ipclab-test/counter-carol", [2]string{"compile-error", "2026-11-30T10:00:00Z"})
	server, authed := gitServer(t, remotes, token)
	gitConfig := filepath.Join(tmp, "gitconfig")
	require.NoError(t, os.WriteFile(gitConfig, []byte(fmt.Sprintf("[url %q]\n\tinsteadOf = https://github.com/\n", server)), 0o644))
	roster := filepath.Join(tmp, "roster.txt")
	require.NoError(t, os.WriteFile(roster, []byte(`# The class of the workflow test.
ipclab-test/counter-alice   alice
ipclab-test/counter-bob            # row: counter-bob

ipclab-test/counter-carol carol
ipclab-test/counter-dave  dave     # never accepted the assignment
`), 0o644))
	const due = "2026-12-01T23:59:00Z"

	r := &wfRun{
		wf: wf,
		values: map[string]string{
			"inputs.roster":              roster,
			"inputs.shards":              "3",
			"inputs.deadline":            due,
			"inputs.exercises":           "counter",
			"secrets.IPCLAB_CLASS_TOKEN": token,
		},
		env:       stepBaseEnv(gitConfig),
		artifacts: filepath.Join(tmp, "artifacts"),
		scratch:   filepath.Join(tmp, "scratch"),
	}
	require.NoError(t, os.MkdirAll(r.artifacts, 0o755))
	require.NoError(t, os.MkdirAll(r.scratch, 0o755))

	// plan
	plan := r.newJob(t, "plan", "plan", nil, nil)
	require.NoError(t, r.runJob(ctx, plan), "%s", &plan.log)
	for k, v := range wf.Jobs["plan"].Outputs {
		out, err := r.expand(v, plan.output)
		require.NoError(t, err)
		r.values["needs.plan.outputs."+k] = out
	}
	assert.Equal(t, "3", r.values["needs.plan.outputs.count"])
	var shards []int
	require.NoError(t, json.Unmarshal([]byte(r.values["needs.plan.outputs.shards"]), &shards), "the plan's shards output %q", r.values["needs.plan.outputs.shards"])
	require.Equal(t, []int{1, 2, 3}, shards)
	r.values["fromJSON(needs.plan.outputs.shards)"] = r.values["needs.plan.outputs.shards"]

	// grade: every shard at once, as a matrix does, each on a "runner"
	// of its own.
	grades := make([]*jobRun, len(shards))
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, shard := range shards {
		own := filepath.Join(tmp, fmt.Sprintf("runner-%d", shard))
		grades[i] = r.newJob(t, "grade", fmt.Sprintf("grade %d", shard),
			map[string]string{"matrix.shard": fmt.Sprint(shard)},
			map[string]string{"CLASS": filepath.Join(own, "class"), "OUT": filepath.Join(own, "out")})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.runJob(ctx, grades[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "%s", &grades[i].log)
		t.Logf("%s", &grades[i].log)
	}

	// merge
	mergeDir := filepath.Join(tmp, "runner-merge")
	merge := r.newJob(t, "merge", "merge", nil, map[string]string{
		"SHARD_OUTS": filepath.Join(mergeDir, "shards"), "GRADEBOOK": filepath.Join(mergeDir, "gradebook"),
	})
	require.NoError(t, r.runJob(ctx, merge), "%s", &merge.log)
	t.Logf("%s", &merge.log)

	book := readGradebook(t, filepath.Join(r.artifacts, "gradebook"))
	assert.ElementsMatch(t, []string{"alice", "counter-bob", "carol", "dave"}, keys(book), "the merged gradebook's rows")
	nonEmpty := 0
	for _, shard := range shards {
		m, err := ReadManifest(filepath.Join(r.artifacts, fmt.Sprintf("shard-%d", shard)))
		require.NoError(t, err)
		if len(m.Submissions) > 0 {
			nonEmpty++
		}
	}
	assert.Greater(t, nonEmpty, 1, "the roster fell into one shard: the test shows no merge")

	// One batch of the whole class, as cloned by shard 1, scores alike.
	whole := filepath.Join(tmp, "whole")
	cmd := exec.CommandContext(ctx, "go", "run", "./grader", "batch", "-out", whole, "-isolation", "namespaces",
		"-exercise", "counter", "-deadline", due, grades[0].dirs["CLASS"])
	cmd.Dir = courseRoot
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "grader batch (unsharded): %s", out)
	alone := readGradebook(t, whole)
	require.Len(t, alone, len(book))
	for name, row := range book {
		for _, col := range []string{"counter", "total", "max", "status", "isolation", "commit", "message"} {
			assert.Equal(t, alone[name][col], row[col], "%s: column %s of the merged gradebook, want the unsharded batch's", name, col)
		}
	}
	assert.Equal(t, "100", book["alice"]["total"])
	assert.Equal(t, gitRun(t, filepath.Join(remotes, "ipclab-test", "counter-bob.git"), "", "rev-parse", "main~1"), book["counter-bob"]["commit"],
		"bob's graded commit: the last before the deadline")
	assert.NotEqual(t, "100", book["counter-bob"]["total"])
	assert.Equal(t, "0", book["carol"]["total"])
	assert.Equal(t, string(Unreadable), book["dave"]["status"])
	assert.Equal(t, "the repository has no commit", book["dave"]["message"])
	assert.FileExists(t, filepath.Join(r.artifacts, "gradebook", FeedbackDir, "alice.md"))

	// The summary names what the instructor needs; the clone kept no token.
	summary := readFile(t, merge.summary)
	for _, want := range []string{"4 submissions, graded in 3 shards", "| graded | 3 |", "| unreadable | 1 |",
		"- ipclab-test/counter-dave (dave): ", "```csv\n" + strings.Join(Columns([]string{"counter"}), ",") + "\n"} {
		assert.Contains(t, summary, want, "the run's summary")
	}
	assert.Contains(t, merge.log.String(), "::warning title=Not cloned::ipclab-test/counter-dave (dave): ")
	assert.Positive(t, authed.Load(), "no clone sent the token")
	for _, g := range grades {
		assertNoToken(t, filepath.Dir(g.dirs["CLASS"]), token)
	}

	// A shard's output missing: the merge names it.
	require.NoError(t, os.RemoveAll(filepath.Join(merge.dirs["SHARD_OUTS"], "shard-2")))
	again := r.newJob(t, "merge", "merge again", nil, map[string]string{
		"SHARD_OUTS": merge.dirs["SHARD_OUTS"], "GRADEBOOK": filepath.Join(mergeDir, "gradebook-again"),
	})
	i := slices.IndexFunc(wf.Jobs["merge"].Steps, func(st wfStep) bool { return st.ID == "merge" })
	require.GreaterOrEqual(t, i, 0, "the merge job has no step with id merge")
	err = r.runStep(ctx, again, wf.Jobs["merge"].Steps[i])
	assert.Error(t, err, "the merge step with shard 2 removed")
	assert.Contains(t, again.log.String(), "shard 2/3 missing")
}

// TestWorkflowPlanChecksShards: the plan job turns the shards input into
// the matrix, and refuses a number it cannot.
func TestWorkflowPlanChecksShards(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	wf := readWorkflow(t)
	for _, tc := range []struct {
		shards string
		want   int // 0: refused
	}{
		{"1", 1}, {"4", 4}, {"08", 8}, {"20", 20},
		{"0", 0}, {"21", 0}, {"-1", 0}, {"two", 0}, {"", 0}, {"1;reboot", 0},
	} {
		t.Run(tc.shards, func(t *testing.T) {
			r := &wfRun{wf: wf, values: map[string]string{"inputs.shards": tc.shards}, env: stepBaseEnv("/dev/null"), scratch: t.TempDir()}
			plan := r.newJob(t, "plan", "plan", nil, nil)
			err := r.runJob(context.Background(), plan)
			if tc.want == 0 {
				require.Error(t, err, "plan with shards=%q", tc.shards)
				assert.Contains(t, plan.log.String(), "::error title=Bad number of shards::")
				return
			}
			require.NoError(t, err, "%s", &plan.log)
			var want []string
			for i := 1; i <= tc.want; i++ {
				want = append(want, fmt.Sprint(i))
			}
			assert.Equal(t, "["+strings.Join(want, ",")+"]", plan.output["steps.plan.outputs.shards"])
			assert.Equal(t, fmt.Sprint(tc.want), plan.output["steps.plan.outputs.count"])
		})
	}
}

// TestWorkflowCloneRefuses: the clone step stops a shard, with an
// annotation that says what to fix, when grading is not set up or the
// roster is wrong; a student left out silently would be worse. No
// repository is served: the one clone tried is refused by git (plain
// http only), which is how it would have gone missing.
func TestWorkflowCloneRefuses(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	wf := readWorkflow(t)
	i := slices.IndexFunc(wf.Jobs["grade"].Steps, func(st wfStep) bool { return st.ID == "clone" })
	require.GreaterOrEqual(t, i, 0, "the grade job has no step with id clone")
	clone := wf.Jobs["grade"].Steps[i]
	for _, tc := range []struct {
		name, roster, token, want string
	}{
		{"no token", "ipclab-test/a\n", "", "::error title=Grading is not set up::The Actions secret IPCLAB_CLASS_TOKEN is not set"},
		{"no roster", "", "t", "::error title=No roster::"},
		{"a URL", "https://github.com/ipclab-test/a\n", "t", "line=1::want owner/name"},
		{"three words", "# class\nipclab-test/a alice smith\n", "t", "line=2::want owner/name"},
		{"hidden row", "ipclab-test/a _alice\n", "t", "line=1::want owner/name"},
		{"same row twice", "ipclab-test/a alice\nother/b alice\n", "t", "line=2::a second repository with the row name alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			roster := filepath.Join(tmp, "roster.txt")
			if tc.roster != "" {
				require.NoError(t, os.WriteFile(roster, []byte(tc.roster), 0o644))
			}
			r := &wfRun{wf: wf, env: stepBaseEnv("/dev/null"), scratch: tmp, values: map[string]string{
				"inputs.roster": roster, "secrets.IPCLAB_CLASS_TOKEN": tc.token, "needs.plan.outputs.count": "1",
			}}
			jr := r.newJob(t, "grade", "grade 1", map[string]string{"matrix.shard": "1"},
				map[string]string{"CLASS": filepath.Join(tmp, "class"), "OUT": filepath.Join(tmp, "out")})
			err := r.runStep(context.Background(), jr, clone)
			require.Error(t, err, "the clone step with the roster %q", tc.roster)
			assert.Contains(t, jr.log.String(), tc.want)
		})
	}
}

// TestWorkflowShape checks what the local run cannot: the trigger and
// inputs, the matrix settings, the actions and the sandbox step, and
// that the token is only ever an environment variable of the clone.
func TestWorkflowShape(t *testing.T) {
	wf := readWorkflow(t)
	require.Equal(t, []string{"workflow_dispatch"}, keys(wf.On), "the workflow's triggers")
	var dispatch struct{ Inputs map[string]wfInput }
	on := wf.On["workflow_dispatch"]
	require.NoError(t, on.Decode(&dispatch))
	assert.Equal(t, wfInput{Type: "string", Default: "class/roster.txt"}, dispatch.Inputs["roster"])
	assert.Equal(t, wfInput{Type: "number", Default: "4"}, dispatch.Inputs["shards"])
	assert.Equal(t, wfInput{Type: "string"}, dispatch.Inputs["deadline"])
	assert.Equal(t, wfInput{Type: "string"}, dispatch.Inputs["exercises"])
	assert.Equal(t, "bash", wf.Defaults.Run.Shell, "the default shell (bash -eo pipefail)")

	grade := wf.Jobs["grade"]
	require.NotNil(t, grade)
	require.NotNil(t, grade.Strategy.FailFast)
	assert.False(t, *grade.Strategy.FailFast, "grade: strategy.fail-fast")
	assert.Equal(t, map[string]string{"shard": "${{ fromJSON(needs.plan.outputs.shards) }}"}, grade.Strategy.Matrix)
	steps := map[string]wfStep{}
	for _, st := range grade.Steps {
		steps[st.Uses+st.ID] = st
	}
	assert.Equal(t, "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 || true", steps["sandbox"].Run)
	assert.Equal(t, "go.mod", steps["actions/setup-go@v5"].With["go-version-file"])
	assert.Equal(t, "false", steps["actions/checkout@v4"].With["persist-credentials"])
	assert.Equal(t, "shard-${{ matrix.shard }}", steps["actions/upload-artifact@v4"].With["name"])
	assert.Contains(t, steps["grade"].Run, "-isolation namespaces")

	merge := wf.Jobs["merge"]
	require.NotNil(t, merge)
	for _, st := range merge.Steps {
		if st.Uses == "actions/download-artifact@v4" {
			assert.Equal(t, "shard-*", st.With["pattern"])
		}
	}

	data, err := os.ReadFile(filepath.Join(courseRoot, workflowFile))
	require.NoError(t, err)
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "secrets.") && line != "          CLASS_TOKEN: ${{ secrets.IPCLAB_CLASS_TOKEN }}" {
			t.Errorf("%s:%d uses the token other than as the clone step's environment: %s", workflowFile, i+1, line)
		}
	}
}

// readWorkflow parses the workflow and checks that it has no expression
// the local run does not know.
func readWorkflow(t *testing.T) *workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(courseRoot, workflowFile))
	require.NoError(t, err)
	var wf workflow
	require.NoError(t, yaml.Unmarshal(data, &wf))
	require.Contains(t, wf.Jobs, "plan")
	require.Contains(t, wf.Jobs, "grade")
	require.Contains(t, wf.Jobs, "merge")
	known := append([]string{
		"inputs.roster", "inputs.shards", "inputs.deadline", "inputs.exercises",
		"secrets.IPCLAB_CLASS_TOKEN", "matrix.shard",
		"steps.plan.outputs.count", "steps.plan.outputs.shards",
		"needs.plan.outputs.count", "fromJSON(needs.plan.outputs.shards)",
		"env.OUT", "env.SHARD_OUTS", "env.GRADEBOOK",
	}, conditions...)
	for _, m := range expression.FindAllStringSubmatch(string(data), -1) {
		if !slices.Contains(known, m[1]) {
			t.Errorf("%s has the expression %s, which TestWorkflowGradesClassInShards does not stand in for: teach it", workflowFile, m[0])
		}
	}
	return &wf
}

// newJob returns a run of the workflow's job id with the matrix values
// vals, and dirs (the test's own directories, under the names of the
// workflow's variables) in place of the workflow's.
func (r *wfRun) newJob(t *testing.T, id, name string, vals, dirs map[string]string) *jobRun {
	t.Helper()
	require.Contains(t, r.wf.Jobs, id)
	summary, err := os.CreateTemp(r.scratch, "summary-")
	require.NoError(t, err)
	require.NoError(t, summary.Close())
	if vals == nil {
		vals = map[string]string{}
	}
	return &jobRun{name: name, job: r.wf.Jobs[id], vals: vals, dirs: dirs, summary: summary.Name(), output: map[string]string{}}
}

// stepBaseEnv is this process's environment without what would let a
// step reach the network or see the machine's git settings, and with
// gitConfig as git's only configuration: it sends github.com to the
// loopback server, and only plain http (not GitHub's https) is allowed.
func stepBaseEnv(gitConfig string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || strings.HasPrefix(k, "GITHUB_") || strings.HasSuffix(strings.ToLower(k), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GIT_CONFIG_GLOBAL="+gitConfig, "GIT_CONFIG_NOSYSTEM=1", "GIT_ALLOW_PROTOCOL=http",
		"GOPROXY=off", "GOTOOLCHAIN=local", "CI=true", "GITHUB_ACTIONS=true")
}

// assertNoToken checks that no file under dir holds the token.
func assertNoToken(t *testing.T, dir, token string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && bytes.Contains(data, []byte(token)) {
			t.Errorf("%s holds the class token", p)
		}
		return err
	})
	require.NoError(t, err)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
