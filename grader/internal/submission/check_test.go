package submission

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

var buffer = &course.Exercise{
	ID:          "buffer",
	Dir:         "exercises/3-buffer",
	Editable:    []string{"buffer.go"},
	Imports:     []string{"context", "errors", "sync"},
	ImportsHint: "a monitor needs only sync, context and errors",
	Forbid:      []course.Forbidden{{Construct: course.ConstructChannels, Hint: "build the queue from sync.Mutex and sync.Cond"}},
}

// testRepo returns the course checkout that holds the test's working
// directory, with the modules its exercises need in the module cache
// (as build.Prefetch does before grading), since Check works offline.
func testRepo(t *testing.T) *course.Repo {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	repo, err := course.FindRepo(wd)
	if err != nil {
		t.Fatal(err)
	}
	prefetch.Do(func() {
		cmd := exec.Command("go", "mod", "download")
		cmd.Dir = repo.Path(course.ExercisesDir)
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		if err != nil {
			prefetch.err = fmt.Errorf("go mod download in %s: %v\n%s", course.ExercisesDir, err, out)
		}
	})
	if prefetch.err != nil {
		t.Fatal(prefetch.err)
	}
	return repo
}

var prefetch struct {
	sync.Once
	err error
}

// check runs Check on src as the only editable file of ex, which must be
// named like the buffer's, and fails the test on the grader's own errors.
func check(t *testing.T, ex *course.Exercise, src string) []Problem {
	t.Helper()
	probs, err := Check(context.Background(), testRepo(t), ex, []File{{Name: ex.Editable[0], Data: []byte(src)}})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return probs
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the problems, in order; none for a clean file
	}{
		{"clean", "package buffer\n\nimport \"sync\"\n\nvar mu sync.Mutex\n", nil},
		{"syntax error", "package buffer\n\nfunc f() { x := ; _ = x }\n", []string{"exercises/3-buffer/buffer.go:3:17: syntax error: expected operand"}},
		{"wrong package", "package main\n", []string{"buffer.go:1:9: package main, want package buffer"}},
		{"forbidden import", "package buffer\n\nimport \"os\"\n\nvar _ = os.Args\n",
			[]string{`buffer.go:3:8: import "os" is not allowed in buffer: a monitor needs only sync, context and errors (allowed: context, errors, sync)`}},
		{"cgo", "package buffer\n\nimport \"C\"\n", []string{`import "C") is not allowed`}},
		{"norace", "package buffer\n\n//go:norace\nfunc f() {}\n", []string{"buffer.go:3:1: the compiler directive //go:norace is not allowed"}},
		{"line directive", "package buffer\n\n//line other.go:1\nfunc f() {}\n", []string{"buffer.go:3:1: the compiler directive //line is not allowed"}},
		{"line directive in a block comment", "package buffer\n\nfunc f() { /*line hidden_test.go:1*/ }\n", []string{"buffer.go:3:12: the compiler directive /*line is not allowed"}},
		{"linkname", "package buffer\n\n//go:linkname now runtime.nanotime\nfunc now() int64\n", []string{"buffer.go:3:1: the compiler directive //go:linkname is not allowed"}},
		{"build constraint", "//go:build !race\n\npackage buffer\n", []string{"buffer.go:1:1: build constraints are not allowed"}},
		{"channel type", "package buffer\n\nvar c chan int\n", []string{"buffer.go:3:7: channel type: channels are not allowed in buffer: build the queue from sync.Mutex and sync.Cond"}},
		{"make chan", "package buffer\n\nvar c = make(chan int)\n", []string{"channel type"}},
		{"send receive select", "package buffer\n\nfunc f(c chan<- int, d <-chan int) {\n\tc <- 1\n\t<-d\n\tselect {}\n}\n",
			[]string{"3:10: channel type", "3:24: channel type", "4:2: channel send", "5:2: channel receive", "6:2: select statement"}},
		{"ctx.Done", "package buffer\n\nimport \"context\"\n\nfunc f(ctx context.Context) { <-ctx.Done() }\n", []string{"5:31: channel receive"}},
		{"syscall exit", "package buffer\n\nimport sc \"syscall\"\n\nfunc f() { sc.Exit(0) }\n",
			[]string{`import "syscall" is not allowed`, "5:12: sc.Exit is not allowed: a submission may not end or replace the test process itself"}},
		{"shadowed name is fine", "package buffer\n\ntype t struct{}\n\nfunc (t) Exit(int) {}\n\nfunc f() { var syscall t; syscall.Exit(0) }\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := check(t, buffer, tt.src)
			if len(probs) != len(tt.want) {
				t.Fatalf("Check found %d problems, want %d:\n%v", len(probs), len(tt.want), probs)
			}
			for i, p := range probs {
				if !strings.Contains(p.String(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p, tt.want[i])
				}
			}
		})
	}
}

func TestBuildConstraintOfTheStub(t *testing.T) {
	ex := *buffer
	ex.BuildConstraint = "unix"
	for src, want := range map[string]string{
		"//go:build unix\n\npackage buffer\n":  "",
		"//go:build !race\n\npackage buffer\n": `the only build constraint allowed here is the stub's own, //go:build unix; found "//go:build !race"`,
	} {
		probs := check(t, &ex, src)
		switch {
		case want == "" && len(probs) > 0:
			t.Errorf("Check(%q) = %v, want no problem", src, probs)
		case want != "" && (len(probs) != 1 || !strings.Contains(probs[0].Msg, want)):
			t.Errorf("Check(%q) = %v, want %q", src, probs, want)
		}
	}
}

func TestGoroutinesForbidden(t *testing.T) {
	ex := *buffer
	ex.Forbid = []course.Forbidden{{Construct: course.ConstructGoroutines, Hint: "the caller's goroutine does the work"}}
	probs := check(t, &ex, "package buffer\n\nfunc f() { go f() }\n")
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "starting goroutines is not allowed in buffer: the caller's goroutine does the work") {
		t.Errorf("Check = %v, want one problem about the go statement", probs)
	}
}
