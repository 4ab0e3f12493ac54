package testjson

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func read(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Read(f)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return rep
}

// The streams under testdata were recorded from `go test -json -race` on
// small packages, one per situation the grader must tell apart.
func TestRecordedStreams(t *testing.T) {
	type want struct {
		outcome Outcome
		message string // a substring of Failure(output); "" when passed
	}
	tests := []struct {
		file     string
		finished bool
		passed   bool
		tests    map[string]want
		pkgOut   string
	}{
		{
			file: "pass.jsonl", finished: true, passed: true,
			tests: map[string]want{"TestAdd": {Passed, ""}, "TestSub": {Passed, ""}},
		},
		{
			file: "fail.jsonl", finished: true,
			tests: map[string]want{
				"TestValue":    {Failed, "f_test.go:6: c.Value() = 9999, want 10000"},
				"TestOK":       {Passed, ""},
				"TestSubFails": {Failed, "c.TryInc(1) = true twice"},
			},
		},
		{
			file: "race.jsonl", finished: true,
			tests: map[string]want{"TestConcurrentInc": {Failed, "data race: read in (*counter).Inc (r_test.go:10); previous write in (*counter).Inc (r_test.go:10)"}},
		},
		{
			file: "panic.jsonl", finished: true,
			tests: map[string]want{
				"TestFirst":  {Passed, ""},
				"TestNilMap": {Failed, "panic: assignment to entry in nil map"},
			},
		},
		{
			// A panic in a testkit helper goroutine, raised again by
			// testkit so that it crashes the binary: the message is the
			// student's panic, where the student's code raised it.
			file: "repanic.jsonl", finished: true,
			tests: map[string]want{"TestFilterRunsChild": {NoResult, "panic: TODO: implement Filter\n  at github.com/ipclab/ipclab/exercises/6-pipe.Filter(...) pipe.go:67"}},
		},
		{
			// The alarm panics inside the running test, which never gets a
			// final event of its own.
			file: "timeout.jsonl", finished: true,
			tests: map[string]want{"TestDeadlock": {NoResult, "did not finish within 2s"}},
		},
		{
			// Killed from outside: the stream stops mid-test.
			file:  "killed.jsonl",
			tests: map[string]want{"TestDeadlock": {NoResult, ""}},
		},
		{
			file: "build-error.jsonl", finished: true,
			tests:  map[string]want{},
			pkgOut: `b_test.go:5:40: cannot use "no" (untyped string constant) as int value`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep := read(t, tt.file)
			if rep.Finished != tt.finished || rep.Passed != tt.passed {
				t.Errorf("Finished, Passed = %v, %v; want %v, %v", rep.Finished, rep.Passed, tt.finished, tt.passed)
			}
			if rep.Malformed != 0 {
				t.Errorf("Malformed = %d, want 0", rep.Malformed)
			}
			if len(rep.Tests) != len(tt.tests) {
				var names []string
				for _, r := range rep.Tests {
					names = append(names, r.Name)
				}
				t.Errorf("tests = %v, want %d tests", names, len(tt.tests))
			}
			for name, w := range tt.tests {
				res := rep.Test(name)
				if res == nil {
					t.Errorf("no result for %s", name)
					continue
				}
				if res.Outcome != w.outcome {
					t.Errorf("%s: outcome %v, want %v", name, res.Outcome, w.outcome)
				}
				if msg := Failure(res.Output); !strings.Contains(msg, w.message) {
					t.Errorf("%s: Failure(output) = %q, want it to contain %q", name, msg, w.message)
				}
				if strings.Contains(res.Output, "=== RUN") {
					t.Errorf("%s: output keeps framing lines: %q", name, res.Output)
				}
			}
			if !strings.Contains(rep.Output, tt.pkgOut) {
				t.Errorf("package output = %q, want it to contain %q", rep.Output, tt.pkgOut)
			}
		})
	}
}

func TestReadToleratesGarbage(t *testing.T) {
	in := "not json\n{\"Action\":\"run\",\"Test\":\"TestA\"}\n{\"Action\":\"pass\",\"Test\":\"TestA\"}\n{\"Action\":\"out"
	rep, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Malformed != 2 {
		t.Errorf("Malformed = %d, want 2", rep.Malformed)
	}
	if r := rep.Test("TestA"); r == nil || r.Outcome != Passed {
		t.Errorf("TestA = %+v, want passed", r)
	}
	if rep.Finished {
		t.Error("Finished = true for a stream without the package's final event")
	}
}

func TestSubtestEventsDoNotDecideTheParent(t *testing.T) {
	in := `{"Action":"run","Test":"TestA"}
{"Action":"run","Test":"TestA/sub"}
{"Action":"pass","Test":"TestA/sub"}
`
	rep, _ := Read(strings.NewReader(in))
	if r := rep.Test("TestA"); r == nil || r.Outcome != NoResult {
		t.Errorf("TestA = %+v, want no result: only a subtest passed", r)
	}
}

func TestOutputIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Action":"run","Test":"TestLoud"}` + "\n")
	line := `{"Action":"output","Test":"TestLoud","Output":"` + strings.Repeat("x", 1000) + `\n"}` + "\n"
	for range 1000 {
		b.WriteString(line)
	}
	rep, _ := Read(strings.NewReader(b.String()))
	out := rep.Test("TestLoud").Output
	if len(out) > maxOutput+100 || !strings.HasSuffix(out, "[output truncated]\n") {
		t.Errorf("output is %d bytes, want at most about %d and a truncation note", len(out), maxOutput)
	}
}

// A goroutine dump longer than the output kept is still counted in full:
// the summary is read as the stream goes by.
func TestStacksReadBeyondKeptOutput(t *testing.T) {
	var b strings.Builder
	event := func(s string) {
		out, _ := json.Marshal(Event{Action: "output", Test: "TestHang", Output: s + "\n"})
		b.Write(out)
		b.WriteByte('\n')
	}
	b.WriteString(`{"Action":"run","Test":"TestHang"}` + "\n")
	event("panic: test timed out after 30s")
	const n = 2000
	for i := range n {
		event(fmt.Sprintf("goroutine %d [sync.Cond.Wait]:", i+10))
		event("sync.runtime_notifyListWait(0xc000, 0x1)")
		event("\truntime/sema.go:606 +0x15d")
		event("sync.(*Cond).Wait(0xc000)")
		event("\tsync/cond.go:71 +0xc5")
		event("github.com/ipclab/ipclab/exercises/3-buffer.(*Queue[...]).Put(0xc000, 0x3)")
		event("\tgithub.com/ipclab/ipclab/exercises/3-buffer/buffer.go:52 +0x9b")
		event("created by github.com/ipclab/ipclab/exercises/internal/testkit.Go in goroutine 6")
		event("\tgithub.com/ipclab/ipclab/exercises/internal/testkit/testkit.go:80 +0x1a5")
		event("")
	}
	rep, err := Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Test("TestHang")
	if !strings.HasSuffix(r.Output, "[output truncated]\n") {
		t.Fatalf("the dump of %d goroutines was kept whole (%d bytes): the test needs a longer one", n, len(r.Output))
	}
	want := fmt.Sprintf("  %d goroutines wait in sync.Cond.Wait at buffer.go:52 (Queue[...].Put)", n)
	if lines := r.Stacks.Lines(); len(lines) != 2 || lines[1] != want {
		t.Errorf("Stacks.Lines() = %q, want a heading and %q", lines, want)
	}
}

// The leak check's list of goroutines is summarised by the report, not
// pasted into the message.
func TestFailureLeavesOutGoleakStacks(t *testing.T) {
	out, err := os.ReadFile(filepath.Join("..", "stacks", "testdata", "leak.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := "testkit.go:178: goroutines still running after the test ended (something was never woken or never stopped):"
	if got := Failure(string(out)); got != want {
		t.Errorf("Failure(leak.txt) = %q, want %q", got, want)
	}
}

// testify.jsonl was recorded from assertions of github.com/stretchr/testify,
// which the exercises' tests use: the message keeps the test's own words
// and what testify found, not the trace through the grader's build folder.
func TestFailureReadsTestify(t *testing.T) {
	rep := read(t, "testify.jsonl")
	for name, want := range map[string]string{
		"TestTrue": "q_test.go:12: q.TryPut(3) = false, want true",
		"TestEqual": "q_test.go:17: c.Value() = 4 after 5 Inc, want 5\n" +
			"  Not equal:\n  expected: 5\n  actual  : 4",
		"TestEqualNoMessage": "q_test.go:21: Not equal:\n" +
			"  expected: []string{\"a\", \"b\"}\n  actual  : []string{\"a\", \"c\"}",
		"TestRequireNoError": "q_test.go:25: Create(\"/x\", 4096)\n" +
			"  Received unexpected error:\n  no such file",
		"TestFailAndError": "q_test.go:30: q.Put(1) after Close\n" +
			"  got error <nil>, want closed\nq_test.go:31: plain: 3",
	} {
		res := rep.Test(name)
		require.NotNil(t, res, "Test(%q)", name)
		assert.Equal(t, Failed, res.Outcome, "%s: outcome", name)
		assert.Equal(t, want, Failure(res.Output), "%s: Failure(output)", name)
	}
}
