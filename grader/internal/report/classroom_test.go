package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// The tests below hold our output to what
// classroom-resources/autograding-grading-reporter@v1 (commit d13b591,
// src/main.js, src/console-results.js, src/aggregate-results.js,
// src/notify-classroom.js, src/helpers/test-helpers.js) does with it; see
// CLASSROOM.md.

// reporterRunner is one element of the reporter's runnerResults: the
// runner id from its "runners" input and the JSON it decoded from the
// environment variable named after it.
type reporterRunner struct {
	Runner  string         `json:"runner"`
	Env     string         `json:"env"`
	Results map[string]any `json:"-"`
	// Raw is Results as we wrote it, for the golden file.
	Raw json.RawMessage `json:"results"`
}

// runnerID is the pattern the reporter holds the "runners" input to
// (src/main.js): ids of letters and digits, separated by commas.
var runnerID = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// decodeClassroom reads Classroom's output as the reporter would receive
// it: each line a step output "<id>=<base64>", passed to the reporter in
// the variable ${id.toUpperCase()}_RESULTS and decoded with
// JSON.parse(Buffer.from(value, "base64").toString("utf-8")).
func decodeClassroom(t *testing.T, out []byte) []reporterRunner {
	t.Helper()
	var runners []reporterRunner
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		id, b64, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("line %q is not <id>=<base64>", line)
		}
		if !runnerID.MatchString(id) {
			t.Errorf("runner id %q does not match the reporter's pattern %s", id, runnerID)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var results map[string]any
		if err := json.Unmarshal(raw, &results); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		runners = append(runners, reporterRunner{Runner: id, Env: strings.ToUpper(id) + "_RESULTS", Results: results, Raw: raw})
	}
	return runners
}

func classroomOf(t *testing.T, r *score.Result) []reporterRunner {
	t.Helper()
	var buf bytes.Buffer
	if err := Classroom(&buf, r); err != nil {
		t.Fatal(err)
	}
	return decodeClassroom(t, buf.Bytes())
}

// TestClassroomDecodedGolden keeps the decoded documents of
// testdata/sample.classroom in a golden file a person can read.
func TestClassroomDecodedGolden(t *testing.T) {
	got, err := json.MarshalIndent(classroomOf(t, sample()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "sample.classroom.decoded.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decoded classroom output differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// TestClassroomContract checks, field by field, what the reporter reads:
// its names, JSON types and values.
func TestClassroomContract(t *testing.T) {
	r := sample()
	runners := classroomOf(t, r)
	if len(runners) != len(r.Exercises) {
		t.Fatalf("%d runners, want one per exercise (%d)", len(runners), len(r.Exercises))
	}
	statuses := map[any]bool{"pass": true, "fail": true, "error": true}
	for i, rr := range runners {
		e := r.Exercises[i]
		if rr.Runner != e.ID {
			t.Errorf("runner %d is %q, want the exercise id %q", i, rr.Runner, e.ID)
		}
		res := rr.Results
		if v, ok := res["version"].(float64); !ok || v != 1 {
			t.Errorf("%s: version = %#v, want the number 1, as the reporter's own runners write", rr.Runner, res["version"])
		}
		// main.js fails the reporter's step on a runner status "fail" or
		// "error".
		if res["status"] != string(e.Status) || !statuses[res["status"]] {
			t.Errorf("%s: status = %#v, want %q", rr.Runner, res["status"], e.Status)
		}
		// notify-classroom.js skips a runner whose max_score is falsy.
		if m, ok := res["max_score"].(float64); !ok || m != e.MaxScore || m <= 0 {
			t.Errorf("%s: max_score = %#v, want the number %v", rr.Runner, res["max_score"], e.MaxScore)
		}
		tests, ok := res["tests"].([]any)
		if !ok || len(tests) != len(e.Tests) {
			t.Fatalf("%s: tests = %#v, want an array of %d", rr.Runner, res["tests"], len(e.Tests))
		}
		for j, x := range tests {
			tt, ok := x.(map[string]any)
			if !ok {
				t.Fatalf("%s: tests[%d] = %#v, want an object", rr.Runner, j, x)
			}
			want := e.Tests[j]
			if tt["name"] != want.Name {
				t.Errorf("%s: tests[%d].name = %#v, want %q", rr.Runner, j, tt["name"], want.Name)
			}
			// console-results.js: "pass" is ✅, "error" prints the
			// message, anything else is ❌.
			if tt["status"] != string(want.Status) || !statuses[tt["status"]] {
				t.Errorf("%s: tests[%d].status = %#v, want %q", rr.Runner, j, tt["status"], want.Status)
			}
			if s, ok := tt["score"].(float64); !ok || s != want.Score {
				t.Errorf("%s: tests[%d].score = %#v, want the number %v", rr.Runner, j, tt["score"], want.Score)
			}
			if _, ok := tt["message"].(string); !ok {
				t.Errorf("%s: tests[%d].message = %#v, want a string", rr.Runner, j, tt["message"])
			}
			// console-results.js prints " - line N" unless line_no === 0.
			if n, ok := tt["line_no"].(float64); !ok || n != 0 {
				t.Errorf("%s: tests[%d].line_no = %#v, want the number 0", rr.Runner, j, tt["line_no"])
			}
			if s, ok := tt["execution_time"].(string); !ok || !strings.HasSuffix(s, "s") {
				t.Errorf("%s: tests[%d].execution_time = %#v, want seconds as \"1.5s\"", rr.Runner, j, tt["execution_time"])
			}
		}
	}
}

// notifyClassroom is the reporter's src/notify-classroom.js: the points it
// sends to Classroom, "Points total/max" and {totalPoints, maxPoints}.
func notifyClassroom(runners []reporterRunner) (total, maxPoints float64) {
	for _, rr := range runners {
		m, _ := rr.Results["max_score"].(float64)
		if m == 0 {
			continue
		}
		maxPoints += m
		for _, x := range rr.Results["tests"].([]any) {
			s, _ := x.(map[string]any)["score"].(float64)
			total += s
		}
	}
	return total, maxPoints
}

// consoleTotals is the reporter's log: getTestScore in
// src/helpers/test-helpers.js (the share of a runner's tests that passed,
// times its max_score) for each runner, summed in
// src/aggregate-results.js.
func consoleTotals(runners []reporterRunner) (total, maxPoints float64) {
	for _, rr := range runners {
		tests := rr.Results["tests"].([]any)
		passed := 0
		for _, x := range tests {
			if x.(map[string]any)["status"] == "pass" {
				passed++
			}
		}
		m, _ := rr.Results["max_score"].(float64)
		total += float64(passed) / float64(len(tests)) * m
		maxPoints += m
	}
	return total, maxPoints
}

// TestClassroomTotals reproduces the reporter's two computations on our
// output. What it sends to Classroom sums the tests' own scores, and so is
// always our score. What it prints in the log counts passed tests as if
// every test of a runner were worth the same, and so agrees only where
// they are.
func TestClassroomTotals(t *testing.T) {
	tests := []struct {
		name                     string
		result                   *score.Result
		consoleTotal, consoleMax float64
	}{
		{"sample", sample(), 10, 130},
		{
			"equal weights, partial credit across two exercises",
			resultOf(
				&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 5, score.Pass), testResult("TestB", 5, score.Fail)}},
				&score.Exercise{ID: "shm", Tests: []*score.Test{testResult("TestC", 5, score.Error), testResult("TestD", 5, score.Pass)}},
			),
			10, 20,
		},
		{
			"fractional points",
			resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 12.5, score.Pass), testResult("TestB", 12.5, score.Pass), testResult("TestC", 12.5, score.Fail), testResult("TestD", 12.5, score.Fail)}}),
			25, 50,
		},
		{
			// The log says 20/40 where the grade is 10/40.
			"unequal weights",
			resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 10, score.Pass), testResult("TestB", 30, score.Fail)}}),
			20, 40,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runners := classroomOf(t, tt.result)
			if total, maxPoints := notifyClassroom(runners); total != tt.result.Score || maxPoints != tt.result.MaxScore {
				t.Errorf("the reporter sends Classroom %v/%v, want our score %v/%v", total, maxPoints, tt.result.Score, tt.result.MaxScore)
			}
			if total, maxPoints := consoleTotals(runners); total != tt.consoleTotal || maxPoints != tt.consoleMax {
				t.Errorf("the reporter's log shows %v/%v, want %v/%v", total, maxPoints, tt.consoleTotal, tt.consoleMax)
			}
		})
	}
}

// The reporter prints the message of a test in error without the test's
// name, and has nowhere for an exercise's own message.
func TestClassroomErrorMessages(t *testing.T) {
	runners := classroomOf(t, sample())
	msg := func(runner, test int) string {
		return runners[runner].Results["tests"].([]any)[test].(map[string]any)["message"].(string)
	}
	if got, want := msg(0, 2), "TestHidden: stopped: did not finish within the time limit of 30s"; got != want {
		t.Errorf("message of a test in error = %q, want %q", got, want)
	}
	if got, want := msg(0, 1), "counter_test.go:9: c.Value() = 5, want 4\n  (two goroutines took the last place)"; got != want {
		t.Errorf("message of a failed test = %q, want %q", got, want)
	}
	if got := msg(1, 0); !strings.HasPrefix(got, "TestBoundedFIFO: not run: the exercise could not be tested:\nexercises/3-buffer/buffer.go:12:5: channel type") {
		t.Errorf("first test of an untestable exercise has message %q, want the exercise's message", got)
	}
	if got, want := msg(1, 1), "TestCloseWakesWaiters: not run: the exercise could not be tested (see above)"; got != want {
		t.Errorf("second test of an untestable exercise has message %q, want %q", got, want)
	}
}

// isWorkflowCommand reports whether the GitHub Actions runner would read
// line as a workflow command (ActionCommand.TryParseV2 and TryParse in
// actions/runner): "::" after leading white space, or "##[" anywhere.
func isWorkflowCommand(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") || strings.Contains(line, "##[")
}

// logLines splits s into lines as the runner reads a step's output: at
// "\n", "\r\n" or "\r".
func logLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

func TestSafeForActionsLog(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\n  indented", "plain\n  indented"},
		{`::notice title=Autograding report::{"totalPoints":100,"maxPoints":100}`, `: :notice title=Autograding report::{"totalPoints":100,"maxPoints":100}`},
		{"got 1\n \t::stop-commands::x", "got 1\n \t: :stop-commands::x"},
		{"x\r::error::y", "x\n: :error::y"},
		{"x\r\n::error::y", "x\n: :error::y"},
		{"\u00a0::warning::y", "\u00a0: :warning::y"},
		{"log ##[error]forged ###[x]", "log ## [error]forged ### [x]"},
		{"a \x1b[2Kb\x00", "a \ufffd[2Kb\ufffd"},
		{"a: b::c", "a: b::c"},
	}
	for _, tt := range tests {
		got := safeForActionsLog(tt.in)
		if got != tt.want {
			t.Errorf("safeForActionsLog(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, line := range logLines(got) {
			if isWorkflowCommand(line) {
				t.Errorf("safeForActionsLog(%q) keeps the workflow command %q", tt.in, line)
			}
		}
	}
}

// A hostile submission controls its tests' messages. Whatever they say,
// no decoded message holds a line the Actions runner would run, and the
// document of an exercise fits in an environment variable.
func TestClassroomHostileMessages(t *testing.T) {
	forge := "\n::notice title=Autograding report::{\"totalPoints\":100,\"maxPoints\":100}\r::error::forged\r##[stop-commands]x\n"
	var tests []*score.Test
	for i := range 25 {
		tt := testResult("TestHostile", 4, score.Error)
		// Quotes and backslashes are the characters JSON writes twice.
		tt.Message = forge + strings.Repeat(`"\`, 1000*(i+1))
		tests = append(tests, tt)
	}
	// The first test carries the message of an exercise that could not
	// be tested.
	tests[0].Message = score.NotRun
	e := &score.Exercise{ID: "counter", Tests: tests}
	r := resultOf(e)
	e.Message = forge + strings.Repeat(`"`, 10000)
	var buf bytes.Buffer
	if err := Classroom(&buf, r); err != nil {
		t.Fatal(err)
	}
	// Linux's MAX_ARG_STRLEN: the longest "NAME=value" a process starts
	// with.
	const maxEnv = 128 << 10
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		id, b64, _ := strings.Cut(line, "=")
		if n := len(strings.ToUpper(id) + "_RESULTS=" + b64); n > maxEnv {
			t.Errorf("%s: the reporter's environment variable would be %d bytes, more than %d", id, n, maxEnv)
		}
	}
	for _, rr := range decodeClassroom(t, buf.Bytes()) {
		for _, x := range rr.Results["tests"].([]any) {
			msg := x.(map[string]any)["message"].(string)
			if !strings.Contains(msg, "… (cut short)") {
				t.Errorf("a message of %d bytes was not cut short", len(msg))
			}
			for _, line := range logLines(msg) {
				if isWorkflowCommand(line) {
					t.Errorf("a message holds the workflow command %q", line)
				}
			}
		}
	}
}
