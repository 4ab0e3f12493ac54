package verify

import (
	"os"
	"os/exec"
	"testing"
)

// The exercises module's shared test helpers (exercises/internal) have
// tests of their own, which no exercise's sweep runs: run them here, with
// the race detector, as students' runs do.
func TestExerciseHelpers(t *testing.T) {
	cmd := exec.Command("go", "test", "-race", "-count=1", "./internal/...")
	cmd.Dir = "../../../exercises"
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -race ./internal/... in exercises: %v\n%s", err, out)
	}
}
