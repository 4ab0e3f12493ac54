package hostile

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/verify/verifytest"
)

// planted is a directory only root may write, outside every sandbox; the
// write-outside submission tries to write into it.
const planted = "/var/tmp/ipclab-planted"

// An attack is one corpus entry: the exercises it is graded on, what the
// checks before the build say when they refuse it ("" when they must not:
// then its code must have run, or the test proves nothing), and the host
// paths it tries to leave behind.
type attack struct {
	name      string
	exercises []string
	refusal   string
	leaves    []string
	// secrets are strings no report on the submission may contain.
	secrets []string
	// evidence, for an attack on a working solution rather than a stub,
	// is what some test's message must still say (the race it tried to
	// hide); such an attack is not held to the stub's score.
	evidence string
}

// Refusals.
const (
	notAllowed = "is not allowed"
	symlink    = "is a symbolic link"
	hiddenTest = "a hidden test does not compile against this code"
)

var corpus = []attack{
	{name: "binary-swap", exercises: []string{"pipe"}},
	{name: "swap-others", exercises: []string{"pipe", "counter", "buffer", "mailbox", "direct"}},
	{name: "rewrite-args", exercises: []string{"pipe"}},
	{name: "child-role", exercises: []string{"pipe"}},
	{name: "child-stdout", exercises: []string{"pipe"}},
	{name: "forged-exit-init", exercises: []string{"pipe"}, refusal: notAllowed},
	{name: "exit-var-initializer", exercises: []string{"pipe"}, refusal: notAllowed},
	{name: "exit-func-value", exercises: []string{"pipe"}, refusal: notAllowed},
	{name: "exit-dot-import", exercises: []string{"pipe"}, refusal: notAllowed},
	{name: "clone-thread-exec", exercises: []string{"pipe"}, refusal: notAllowed},
	{name: "clone-thread-exec-fifo", exercises: []string{"fifo"}, refusal: notAllowed},
	{name: "seccomp-exit0", exercises: []string{"shm"}, refusal: notAllowed},
	{name: "race-confusion", exercises: []string{"counter"}, refusal: notAllowed},
	{name: "race-exit-call", exercises: []string{"counter"}},
	{name: "race-exit-call-mailbox", exercises: []string{"mailbox"}},
	{name: "symlinked-dir", exercises: []string{"pipe"}, refusal: symlink},
	{name: "test-vars-aliasing", exercises: []string{"direct"}, refusal: notAllowed},
	{name: "leak-compile-errors", exercises: []string{"counter"}, refusal: hiddenTest, secrets: []string{"hidden_test.go", "leak value"}},
	{name: "tiocsti-escape", exercises: []string{"pipe"}, leaves: []string{"/tmp/ipclab-tiocsti-proof"}},
	{name: "madvise-zero-regexp", exercises: []string{"shm"}, refusal: notAllowed},
	{name: "munmap-stale-slice", exercises: []string{"shm"}, refusal: notAllowed},
	{name: "r3-universal-error", exercises: []string{"socket"}},
	{name: "r3-universal-error-fifo", exercises: []string{"fifo"}},
	{name: "r3-procattr-positional", exercises: []string{"pipe"}, refusal: "must name its fields"},
	{name: "r3-procattr-conversion", exercises: []string{"pipe"}, refusal: "conversion to syscall.SysProcAttr is not allowed"},
	{name: "r3-procattr-sighand", exercises: []string{"pipe"}, refusal: "must name its fields"},
	{name: "r3-clonevm-race", exercises: []string{"pipe"}, refusal: "must name its fields"},
	{name: "r3-memfd-hoard", exercises: []string{"pipe"}},
	{name: "r3-child-gorace", exercises: []string{"shm"}, evidence: "exited (exit status 66)"},
	{name: "goexit-zero-values", exercises: []string{"shm"}, refusal: notAllowed},
	{name: "unsafe-shape-rw", exercises: []string{"shm"}, refusal: notAllowed},
	{name: "vmsplice-overflow", exercises: []string{"shm"}, refusal: notAllowed},
	{name: "write-outside", exercises: []string{"pipe"}, leaves: []string{
		"/etc/ipclab-hostile",
		"/usr/local/go/ipclab-hostile",
		"/usr/local/go/src/os/ipclab_hostile.go",
		planted + "/ipclab-hostile",
		"/tmp/ipclab-hostile",
		"/tmp/ipclab-hostile-fifo",
		"/dev/shm/ipclab-hostile",
	}},
}

// sharedAtLimits are the places the limits level does not make private
// (the README's security section says so): what a test leaves there stays.
var sharedAtLimits = []string{"/tmp/", "/dev/shm/"}

func TestHostileCorpus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("grading with a sandbox needs Linux")
	}
	repo := verifytest.Repo(t)
	levels := []run.Isolation{run.IsolateNamespaces}
	if os.Getuid() == 0 && !testing.Short() {
		levels = append(levels, run.IsolateLimits)
	}
	if os.Getuid() == 0 {
		if err := os.MkdirAll(planted, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(planted) })
	}
	for _, iso := range levels {
		t.Run(iso.String(), func(t *testing.T) {
			if best, why := run.Probe(); best < iso {
				t.Skipf("this machine allows isolation %s at best: %s", best, why)
			}
			g := grading.New(repo, grading.Options{Hidden: true, Isolation: iso})
			for _, a := range corpus {
				t.Run(a.name, func(t *testing.T) {
					t.Parallel()
					gradeAttack(t, repo, g, iso, a)
				})
			}
		})
	}
}

func gradeAttack(t *testing.T, repo *course.Repo, g *grading.Grader, iso run.Isolation, a attack) {
	exs, err := repo.Select(a.exercises)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range a.leaves {
			os.Remove(p)
		}
	})
	res, err := g.Submission(context.Background(), repo.Path("testdata", "submissions", a.name), exs)
	if err != nil {
		t.Fatalf("grading %s: %v", a.name, err)
	}
	for _, ex := range res.Exercises {
		if ex.ID == a.exercises[0] || a.refusal == "" {
			switch refused := ex.Status == score.Error && ex.Message != "" && !strings.HasPrefix(ex.Message, "note:"); {
			case a.refusal == "" && refused:
				t.Errorf("%s at isolation %s: refused before it ran, but the attack must run to prove anything: %s", a.name, iso, ex.Message)
			case a.refusal != "" && !strings.Contains(ex.Message, a.refusal):
				t.Errorf("%s at isolation %s: message %q, want it refused (%q)", a.name, iso, ex.Message, a.refusal)
			}
		}
		if a.evidence != "" {
			found := false
			for _, tr := range ex.Tests {
				found = found || strings.Contains(tr.Message, a.evidence)
			}
			if !found {
				t.Errorf("%s at isolation %s: no test says %q: the attack hid what it tried to hide", a.name, iso, a.evidence)
			}
			continue
		}
		// The unchanged stub of every exercise earns zero: verify proves it.
		if ex.Score != 0 {
			var passed []string
			for _, tr := range ex.Tests {
				if tr.Score > 0 {
					passed = append(passed, tr.Name)
				}
			}
			t.Errorf("%s at isolation %s: %s scored %v/%v, the stub's score is 0; passed: %s",
				a.name, iso, ex.ID, ex.Score, ex.MaxScore, strings.Join(passed, ", "))
		}
	}
	if out, err := json.Marshal(res); err != nil {
		t.Fatal(err)
	} else {
		for _, secret := range a.secrets {
			if strings.Contains(string(out), secret) {
				t.Errorf("%s at isolation %s: the report shows %q", a.name, iso, secret)
			}
		}
	}
	for _, p := range a.leaves {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if iso < run.IsolateNamespaces && sharedIn(p) {
			continue
		}
		if strings.HasPrefix(p, planted) && os.Getuid() != 0 {
			continue // only root can plant a directory only root may write
		}
		t.Errorf("%s at isolation %s: %s exists after grading", a.name, iso, p)
	}
}

func sharedIn(p string) bool {
	for _, dir := range sharedAtLimits {
		if strings.HasPrefix(p, dir) {
			return true
		}
	}
	return false
}
