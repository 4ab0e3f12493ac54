//go:build linux

package socket_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/verify/verifytest"
)

// The socket README shows a UDP multicast example, confined to the
// loopback interface, that students run with go test. It is not graded,
// but it must keep working: run it twenty times, with the stub in place
// (it calls none of the student's code), on the CI machine too.
func TestMulticastExample(t *testing.T) {
	repo := verifytest.Repo(t)
	// go test runs an example once whatever -count says, so run go test
	// itself twenty times (the test binary is built once and cached).
	const runs = 20
	for i := 0; i < runs; i++ {
		cmd := exec.Command("go", "test", "-count=1", "-run=^Example_multicast$", "-v", "./8-socket/")
		cmd.Dir = repo.Path(course.ExercisesDir)
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d of %d: go test -run=^Example_multicast$ ./8-socket/ in exercises: %v\n%s", i+1, runs, err, out)
		}
		if !strings.Contains(string(out), "--- PASS: Example_multicast") {
			t.Fatalf("run %d of %d: Example_multicast did not run:\n%s", i+1, runs, out)
		}
	}
}
