package verify

import (
	"go/parser"
	"go/token"
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
