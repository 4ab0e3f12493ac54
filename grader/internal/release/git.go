package release

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// The branches of a release made with Options.Git.
const (
	mainBranch      = "main"
	solutionsBranch = "solutions"
)

// Who makes a release's commits, and what they say. Fixed, so that two
// releases of one course differ only in their dates.
const (
	gitName  = "ipclab release"
	gitEmail = "release@ipclab.invalid"

	mainMessage = `ipclab: the exercises for students

The exercises with their stubs, visible tests and READMEs, a score
program for the visible tests, the GitHub Classroom autograding workflow
and the dev container. Written by go run ./grader release.
`
	solutionsMessage = `Reference solutions over the stubs

Every exercise's reference solution in place of its stub, so that every
test passes. For instructors: this branch must never reach students.
`
)

// commit makes dir, which holds the release tree, a git repository: the
// tree as it is on main, and files over it on solutions. It leaves main
// checked out.
func commit(ctx context.Context, dir string, solutions []File) error {
	git := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = gitEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	steps := [][]string{
		{"init", "-q", "-b", mainBranch},
		{"add", "-A"},
		{"commit", "-q", "--no-verify", "-m", mainMessage},
		{"checkout", "-q", "-b", solutionsBranch},
	}
	for _, s := range steps {
		if err := git(s...); err != nil {
			return err
		}
	}
	if err := writeFiles(dir, solutions); err != nil {
		return err
	}
	for _, s := range [][]string{
		{"add", "-A"},
		{"commit", "-q", "--no-verify", "-m", solutionsMessage},
		{"checkout", "-q", mainBranch},
	} {
		if err := git(s...); err != nil {
			return err
		}
	}
	return nil
}

// gitEnv is the environment for git: none of the caller's GIT_ variables
// (a hook's GIT_DIR would send every command to another repository), no
// system or global configuration (signing, hooks, templates, a default
// branch), and the release's own identity.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME="+gitName,
		"GIT_AUTHOR_EMAIL="+gitEmail,
		"GIT_COMMITTER_NAME="+gitName,
		"GIT_COMMITTER_EMAIL="+gitEmail,
	)
}
