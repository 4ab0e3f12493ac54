package verify

import (
	"slices"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

func TestJudge(t *testing.T) {
	ex := &course.Exercise{Tests: []course.Test{{Name: "TestA"}, {Name: "TestB"}}}
	bug := &course.Bug{ID: "b", Tests: []string{"TestB"}}
	tests := []struct {
		name    string
		check   Check
		problem string // substring; "" when the check must hold
		varied  int
	}{
		{"solution passes", Check{Kind: Solution, Runs: 3, Failed: map[string]int{}}, "", 0},
		{"solution flakes", Check{Kind: Solution, Runs: 3, Failed: map[string]int{"TestA": 1}}, "TestA failed in 1 of 3 runs", 1},
		{"solution does not build", Check{Kind: Solution, Runs: 1, Unrunnable: true, Message: "does not compile", Failed: map[string]int{"TestA": 1, "TestB": 1}}, "cannot be tested: does not compile", 0},
		{"stub fails all", Check{Kind: Stub, Runs: 2, Failed: map[string]int{"TestA": 2, "TestB": 2}}, "", 0},
		{"stub passes one", Check{Kind: Stub, Runs: 2, Failed: map[string]int{"TestA": 2}}, "TestB passed in 2 of 2 runs", 0},
		{"stub does not build", Check{Kind: Stub, Runs: 1, Unrunnable: true, Message: "x", Failed: map[string]int{"TestA": 1, "TestB": 1}}, "the stub must compile", 0},
		{"mutant caught", Check{Kind: Mutant, Bug: bug, Runs: 4, Caught: 4, Failed: map[string]int{"TestB": 4}}, "", 0},
		{"mutant escapes once", Check{Kind: Mutant, Bug: bug, Runs: 4, Caught: 3, Failed: map[string]int{"TestB": 3}}, "escaped in 1 of 4 runs: none of TestB failed", 1},
		{"mutant rejected statically", Check{Kind: Mutant, Bug: bug, Runs: 1, Unrunnable: true, Message: "import \"os\" is not allowed", Failed: map[string]int{"TestA": 1, "TestB": 1}}, "rejected before any test ran", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.check
			judge(&c, ex)
			if tt.problem == "" && !c.OK() {
				t.Errorf("Problem = %q, want the check to hold", c.Problem)
			}
			if tt.problem != "" && !strings.Contains(c.Problem, tt.problem) {
				t.Errorf("Problem = %q, want it to contain %q", c.Problem, tt.problem)
			}
			if len(c.Varied) != tt.varied {
				t.Errorf("Varied = %q, want %d entries", c.Varied, tt.varied)
			}
		})
	}
}

func TestVariedTests(t *testing.T) {
	c := &Check{Kind: Solution, Runs: 20, Failed: map[string]int{"TestSometimes": 1, "TestAlways": 20, "TestNever": 0, "TestHalf": 10}}
	got := c.VariedTests()
	want := []string{"TestHalf", "TestSometimes"}
	if !slices.Equal(got, want) {
		t.Errorf("VariedTests() = %q, want %q", got, want)
	}
	judge(c, &course.Exercise{Tests: []course.Test{{Name: "TestSometimes"}, {Name: "TestAlways"}, {Name: "TestNever"}, {Name: "TestHalf"}}})
	if len(c.Varied) != 2 || c.Varied[1] != "TestSometimes failed 1 of 20 runs" {
		t.Errorf("after judge, Varied = %q, want a line per varied test, TestSometimes's saying it failed 1 of 20 runs", c.Varied)
	}
	if c.OK() {
		t.Errorf("a solution whose tests varied was judged OK")
	}
}
