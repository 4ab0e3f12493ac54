package testflags

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A package whose init rewrites os.Args to run no test: with this package
// imported, the binary still runs the test its real command line selects
// (which fails, so the binary exits non-zero); without it, it runs
// nothing and exits 0 with the forged pass in its output.
func TestRewrittenArgsDoNotSelectTests(t *testing.T) {
	for _, c := range []struct {
		name    string
		tags    string
		wantRun bool
	}{
		{"guarded", "guarded", true},
		{"unguarded", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "rewrite.test")
			if runtime.GOOS == "windows" {
				bin += ".exe"
			}
			build := exec.Command("go", "test", "-c", "-o", bin, "-tags="+c.tags, "./testdata/rewrite")
			out, err := build.CombinedOutput()
			require.NoError(t, err, "go test -c ./testdata/rewrite (tags %q): %v\n%s", c.tags, err, out)
			out, err = exec.Command(bin, "-test.run=^TestSelected$", "-test.v=test2json").CombinedOutput()
			var exitErr *exec.ExitError
			if err != nil {
				require.ErrorAs(t, err, &exitErr, "run %s: %v", bin, err)
			}
			ran := strings.Contains(string(out), "TestSelected ran")
			msg := fmt.Sprintf("rewrite.test -test.run=^TestSelected$ (tags %q): TestSelected ran = %v, exit error = %v; want %v and a non-nil error iff it ran\n%s",
				c.tags, ran, err, c.wantRun, out)
			assert.Equal(t, c.wantRun, ran, msg)
			assert.Equal(t, c.wantRun, err != nil, msg)
		})
	}
}
