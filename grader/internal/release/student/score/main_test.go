package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The streams under testdata are real "go test -race -json ./1-counter/"
// runs: the unchanged stub, the reference solution, a counter.go that
// does not compile, and one whose TryInc crashes the test binary.
const module = "github.com/ipclab/ipclab/exercises"

var counter = &Exercise{
	ID: "counter", Number: 1, Title: "Race conditions", Dir: "1-counter", TotalPoints: 100,
	Tests: []Test{
		{Name: "TestIncFromManyGoroutines", Points: 10},
		{Name: "TestAddFromManyGoroutines", Points: 10},
		{Name: "TestValueWhileWriting", Points: 8},
		{Name: "TestTryIncStopsAtLimit", Points: 12},
	},
}

func tally(t *testing.T, stream string) Result {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", stream))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs := Tally(f, module, []*Exercise{counter})
	if len(rs) != 1 {
		t.Fatalf("Tally(%s) returned %d results, want 1", stream, len(rs))
	}
	return rs[0]
}

func statuses(r Result) map[string]string {
	m := map[string]string{}
	for _, tr := range r.Tests {
		m[tr.Test.Name] = tr.Status
	}
	return m
}

func TestTally(t *testing.T) {
	tests := []struct {
		stream      string
		score       float64
		buildFailed bool
		status      map[string]string
	}{
		{"solution.json", 40, false, map[string]string{
			"TestIncFromManyGoroutines": "pass", "TestAddFromManyGoroutines": "pass",
			"TestValueWhileWriting": "pass", "TestTryIncStopsAtLimit": "pass"}},
		// The racy stub: every test fails, the race detector's included.
		{"stub.json", 0, false, map[string]string{
			"TestIncFromManyGoroutines": "fail", "TestAddFromManyGoroutines": "fail",
			"TestValueWhileWriting": "fail", "TestTryIncStopsAtLimit": "fail"}},
		{"build-failed.json", 0, true, map[string]string{
			"TestIncFromManyGoroutines": "missing", "TestAddFromManyGoroutines": "missing",
			"TestValueWhileWriting": "missing", "TestTryIncStopsAtLimit": "missing"}},
		// The tests before the crash keep their points; the one that was
		// running has no final event, so it has not passed, and the ones
		// after it never ran.
		{"crash.json", 28, false, map[string]string{
			"TestIncFromManyGoroutines": "pass", "TestAddFromManyGoroutines": "pass",
			"TestValueWhileWriting": "pass", "TestTryIncStopsAtLimit": "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			r := tally(t, tt.stream)
			if r.Score != tt.score {
				t.Errorf("score = %g, want %g", r.Score, tt.score)
			}
			if !r.Seen {
				t.Errorf("Seen = false, want true: the stream is about %s", counter.Dir)
			}
			if r.BuildFailed != tt.buildFailed {
				t.Errorf("BuildFailed = %v, want %v", r.BuildFailed, tt.buildFailed)
			}
			got := statuses(r)
			for name, want := range tt.status {
				if got[name] != want {
					t.Errorf("%s: status %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

// A line that merely looks like a pass, printed by the code under test,
// is output, not an event: it earns nothing.
func TestTallyIgnoresPrintedPasses(t *testing.T) {
	stream := `{"Action":"run","Package":"` + module + `/1-counter","Test":"TestTryIncStopsAtLimit"}
{"Action":"output","Package":"` + module + `/1-counter","Test":"TestTryIncStopsAtLimit","Output":"--- PASS: TestTryIncStopsAtLimit (0.00s)\n"}
{"Action":"pass","Package":"` + module + `/1-counter","Test":"TestTryIncStopsAtLimit/sub"}
not json at all
{"Action":"fail","Package":"` + module + `/1-counter","Test":"TestTryIncStopsAtLimit"}
`
	rs := Tally(strings.NewReader(stream), module, []*Exercise{counter})
	if rs[0].Score != 0 {
		t.Errorf("score = %g, want 0: the test failed", rs[0].Score)
	}
	if got := statuses(rs[0])["TestTryIncStopsAtLimit"]; got != "fail" {
		t.Errorf("TestTryIncStopsAtLimit: status %q, want fail", got)
	}
}

func TestPrint(t *testing.T) {
	var buf bytes.Buffer
	Print(&buf, []Result{tally(t, "crash.json")})
	out := buf.String()
	for _, want := range []string{
		`(?m)^1 counter +28/40 +Race conditions$`,
		`(?m)^    ok TestIncFromManyGoroutines +10/10$`,
		`(?m)^    \? TestTryIncStopsAtLimit +0/12$`,
		`(?m)^visible tests: 28/40 points$`,
		`(?m)^\? marks a test that never finished`,
		`(?m)^    go test -race -run '\^TestTryIncStopsAtLimit\$' -v \./1-counter/$`,
		`Your grade is out of 100: it adds hidden tests`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", want, out)
		}
	}
}

func TestSelect(t *testing.T) {
	p := &Points{Exercises: []Exercise{*counter, {ID: "pipe", Number: 6, Dir: "6-pipe"}}}
	for _, arg := range []string{"pipe", "6", "6-pipe"} {
		exs, err := p.Select([]string{arg})
		if err != nil || len(exs) != 1 || exs[0].ID != "pipe" {
			t.Errorf("Select(%q) = %v, %v; want pipe", arg, exs, err)
		}
	}
	if exs, err := p.Select(nil); err != nil || len(exs) != 2 {
		t.Errorf("Select(nil) = %d exercises, %v; want all 2", len(exs), err)
	}
	if _, err := p.Select([]string{"sokcet"}); err == nil || !strings.Contains(err.Error(), "the exercises are counter, pipe") {
		t.Errorf("Select(sokcet) error = %v, want one naming the exercises", err)
	}
}

// With an empty build cache, the libraries the counter's tests compile
// against are named once each, and the exercises' own packages are not.
func TestColdLibraries(t *testing.T) {
	exercises := filepath.Join("..", "..", "..", "..", "..", "exercises")
	t.Setenv("GOCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-mod=readonly")
	t.Setenv("GOPROXY", "off")
	cold := coldLibraries(exercises, []string{"-race", "./1-counter/"})
	for _, want := range []string{"go.uber.org/goleak", "the standard library"} {
		if !slices.Contains(cold, want) {
			t.Errorf("coldLibraries with an empty cache = %q, want it to name %s", cold, want)
		}
	}
	for i, name := range cold {
		if strings.Contains(name, "ipclab") || slices.Contains(cold[:i], name) {
			t.Errorf("coldLibraries = %q: %s is the course's own or named twice", cold, name)
		}
	}
}
