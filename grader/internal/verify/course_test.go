package verify

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// Every exercise must be swept by go test: each has a package under
// course/ that runs verifytest.Exercise on it, and nothing else is there.
func TestEveryExerciseIsSwept(t *testing.T) {
	exs, err := course.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, ex := range exs {
		want = append(want, ex.ID)
	}
	entries, err := os.ReadDir("course")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		got = append(got, e.Name())
		src, err := os.ReadFile(filepath.Join("course", e.Name(), "verify_test.go"))
		if err != nil {
			t.Errorf("course/%s: %v", e.Name(), err)
			continue
		}
		if !strings.Contains(string(src), `verifytest.Exercise(t, "`+e.Name()+`")`) {
			t.Errorf("course/%s/verify_test.go does not call verifytest.Exercise(t, %q)", e.Name(), e.Name())
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sweep packages under course/ = %v, want one per exercise: %v", got, want)
	}
}
