package course

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// goMod is the part of `go mod edit -json` this test reads.
type goMod struct {
	Go      string
	Require []struct{ Path, Version string }
}

func readGoMod(t *testing.T, path string) goMod {
	t.Helper()
	out, err := exec.Command("go", "mod", "edit", "-json", path).Output()
	if err != nil {
		t.Fatalf("go mod edit -json %s: %v", path, err)
	}
	var m goMod
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go mod edit -json %s: %v", path, err)
	}
	return m
}

// The solutions compile in the root module and submissions in the
// exercises module: every module both require (golang.org/x/sys above
// all) must be the same version in both, or the reference is vetted
// against one library and graded against another. The Go version too, so
// that the exercises' READMEs and the grader need the same toolchain.
func TestModulesAgree(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	rootMod := readGoMod(t, filepath.Join(root, "go.mod"))
	exMod := readGoMod(t, filepath.Join(root, ExercisesDir, "go.mod"))
	if rootMod.Go != exMod.Go {
		t.Errorf("go.mod says go %s, %s/go.mod go %s: one Go for both", rootMod.Go, ExercisesDir, exMod.Go)
	}
	versions := map[string]string{}
	for _, r := range rootMod.Require {
		versions[r.Path] = r.Version
	}
	shared := 0
	for _, r := range exMod.Require {
		v, ok := versions[r.Path]
		if !ok {
			continue
		}
		shared++
		if v != r.Version {
			t.Errorf("%s is %s in go.mod but %s in %s/go.mod: require one version in both", r.Path, v, r.Version, ExercisesDir)
		}
	}
	if shared == 0 {
		t.Errorf("go.mod and %s/go.mod share no module: golang.org/x/sys at least should be in both", ExercisesDir)
	}
}
