//go:build unix

package childproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A package whose init sets RoleEnv still runs its tests: Main goes by the
// environment the process started with. Started in that role for real,
// the same binary does play it, so the first case is not vacuous.
func TestRoleIsChosenBeforeThePackageUnderTest(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "roleinit.test")
	out, err := exec.Command("go", "test", "-c", "-o", bin, "./testdata/roleinit").CombinedOutput()
	require.NoError(t, err, "go test -c ./testdata/roleinit: %v\n%s", err, out)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, RoleEnv+"=") })
	for _, c := range []struct {
		name, env, want, notWant string
	}{
		{"started for the tests", "", "TestRuns ran", "the forged role ran"},
		{"started in the role", RoleEnv + "=forged", "the forged role ran", "TestRuns ran"},
	} {
		cmd := exec.Command(bin, "-test.run=^TestRuns$", "-test.v=test2json")
		cmd.Env = env
		if c.env != "" {
			cmd.Env = append(cmd.Env, c.env)
		}
		out, err := cmd.CombinedOutput()
		if assert.NoError(t, err, "%s: roleinit.test -test.run=^TestRuns$ = %v, want exit 0 with %q and without %q in its output:\n%s", c.name, err, c.want, c.notWant, out) {
			assert.True(t, strings.Contains(string(out), c.want) && !strings.Contains(string(out), c.notWant),
				"%s: roleinit.test -test.run=^TestRuns$ = %v, want exit 0 with %q and without %q in its output:\n%s", c.name, err, c.want, c.notWant, out)
		}
	}
}
