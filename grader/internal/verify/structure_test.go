package verify

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

func TestUntrustworthyTestCode(t *testing.T) {
	for _, c := range []struct {
		name string
		body string
		want []string // the problems, as "line: what it starts with"
	}{
		{"clean", `
func TestA(t *testing.T) {
	if err != nil {
		t.Fatalf("net.Listen: %v", err)
	}
}`, nil},
		{"unguarded skip", `
func TestA(t *testing.T) {
	if err != nil {
		t.Skipf("net.Listen: %v", err)
	}
	t.SkipNow()
	skip := t.Skip
	skip()
}`, []string{"7: Skipf outside", "9: SkipNow outside", "10: Skip outside"}},
		{"skip guarded by the system", `
func TestA(t *testing.T) {
	if err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("no Unix sockets: %v", err)
		}
	}
	if ("plan9" == runtime.GOOS) && testing.Short() {
		t.Skip()
	}
}`, nil},
		{"skip guarded by something else too", `
func TestA(t *testing.T) {
	if runtime.GOOS == "windows" || err != nil {
		t.Skip()
	}
	if runtime.GOOS != "linux" {
		t.Skip()
	}
	if runtime.GOOS == "windows" {
	} else {
		t.Skip()
	}
	if runtime.GOOS == "windows" && func() bool { t.Skip(); return true }() {
	}
}`, []string{"7: Skip outside", "10: Skip outside", "14: Skip outside", "16: Skip outside"}},
		{"flag", `
import "flag"

var n = flag.Int("n", 1, "")`, []string{"5: imports flag"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "package x\n\nimport (\"runtime\"; \"testing\")\n" + c.body + "\n"
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, "x_test.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range untrustworthy(fset, file) {
				got = append(got, p.Error())
			}
			if len(got) != len(c.want) {
				t.Fatalf("untrustworthy(%s) = %q, want %d problems: %q", c.name, got, len(c.want), c.want)
			}
			for i, w := range c.want {
				line, what, _ := strings.Cut(w, ": ")
				if !strings.HasPrefix(got[i], "x_test.go:"+line+": "+what) {
					t.Errorf("untrustworthy(%s)[%d] = %q, want x_test.go:%s: %s...", c.name, i, got[i], line, what)
				}
			}
		})
	}
}

// The course's own test files pass the rule.
func TestCourseTestsAreTrustworthy(t *testing.T) {
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range repo.Exercises {
		for _, dir := range []string{repo.Path(filepath.FromSlash(ex.Dir)), repo.Path(filepath.FromSlash(course.HiddenDir), ex.ID)} {
			problems, err := untrustworthyIn(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%v", p)
			}
		}
	}
}

// The structure check refuses a hidden test file named like a visible
// one (the build would replace the visible file with it) and a mutant
// that no longer applies to the solution; the course as it is passes.
func TestStructure(t *testing.T) {
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := repo.Exercise("counter")
	if err != nil {
		t.Fatal(err)
	}
	if errs := Structure(repo, ex); len(errs) > 0 {
		t.Fatalf("Structure(counter) = %v, want none", errs)
	}

	root := t.TempDir()
	for _, dir := range []string{ex.Dir, "testdata/hidden/counter", "solutions/counter", "testdata/mutants/counter"} {
		if err := os.CopyFS(filepath.Join(root, filepath.FromSlash(dir)), os.DirFS(repo.Path(filepath.FromSlash(dir)))); err != nil {
			t.Fatal(err)
		}
	}
	copyRepo := &course.Repo{Root: root, Exercises: repo.Exercises}
	if errs := Structure(copyRepo, ex); len(errs) > 0 {
		t.Fatalf("Structure of a copy of counter = %v, want none", errs)
	}
	visible := filepath.Join(root, filepath.FromSlash(ex.Dir), "counter_test.go")
	data, err := os.ReadFile(visible)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "testdata", "hidden", "counter", "counter_test.go"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sol := filepath.Join(root, "solutions", "counter", "counter.go")
	src, err := os.ReadFile(sol)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sol, []byte(strings.ReplaceAll(string(src), "c.mu.Lock()", "c.mu.Lock() // changed")), 0o644); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(Structure(copyRepo, ex))
	for _, want := range []string{
		"hidden test file counter_test.go has the name of a file in exercises/1-counter",
		"no longer applies to solutions/counter/counter.go",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Structure = %s\nwant a problem saying %q", got, want)
		}
	}
}
