package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"grader": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// courseRoot is the repository this test runs in.
func courseRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestScripts runs the grader's commands end to end, one script per
// command, against this repository and the fixture submissions under
// testdata/submissions.
func TestScripts(t *testing.T) {
	root := courseRoot(t)
	goEnv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		goEnv[k] = strings.TrimSpace(string(out))
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "scripts"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("COURSE", root)
			env.Setenv("SUBMISSIONS", filepath.Join(root, "testdata", "submissions"))
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "short":
				return testing.Short(), nil
			}
			return false, nil
		},
	})
}

// TestExitStatus checks the exit statuses other tools rely on.
func TestExitStatus(t *testing.T) {
	root := courseRoot(t)
	tests := []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"help"}, exitOK},
		{[]string{"help", "grade"}, exitOK},
		{[]string{"list", "-root", root}, exitOK},
		{[]string{"list", "-root", root, "extra"}, exitUsage},
		{[]string{"list", "-nosuchflag"}, exitUsage},
		{[]string{"grade", "-root", root}, exitUsage},
		{[]string{"grade", "-root", root, filepath.Join(t.TempDir(), "missing")}, exitUsage},
		{[]string{"grade", "-root", root, "-format", "yaml", "."}, exitUsage},
		{[]string{"grade", "-root", root, "-fail-under", "120", "."}, exitUsage},
		{[]string{"grade", "-root", root, "-exercise", "nosuch", "."}, exitUsage},
		{[]string{"test", "-root", root, "nosuch"}, exitUsage},
		{[]string{"verify", "-root", root, "-runs", "0"}, exitUsage},
		// The grader's own failure: not a course checkout.
		{[]string{"list", "-root", t.TempDir()}, exitInternal},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if got := Main(tt.args, &stdout, &stderr); got != tt.want {
			t.Errorf("grader %s: exit status %d, want %d\nstderr: %s", strings.Join(tt.args, " "), got, tt.want, stderr.String())
		}
		if tt.want == exitUsage && !strings.Contains(stderr.String(), "Usage:") {
			t.Errorf("grader %s: bad usage without a usage message on stderr:\n%s", strings.Join(tt.args, " "), stderr.String())
		}
	}
}
