package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ipclab/ipclab/grader/internal/course"
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

// runnersInput is the pattern the reporter holds its "runners" input to
// (src/main.js): ids of letters and digits, separated by commas.
var runnersInput = regexp.MustCompile(`^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$`)

// envName is what the runner accepts as a variable's name; ours are
// upper-case letters, digits and underscores.
var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// githubEnv reads out as the runner reads $GITHUB_ENV
// (SetEnvFileCommand in actions/runner): a line NAME=VALUE, split at its
// first "=", sets NAME; a later line for the same name wins. We write no
// empty line and no heredoc (NAME<<DELIMITER), so meeting either is an
// error here.
func githubEnv(t *testing.T, out []byte) (env map[string]string, names []string) {
	t.Helper()
	if !bytes.HasSuffix(out, []byte("\n")) {
		t.Errorf("output does not end with a line end: %q", out)
	}
	env = map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.Contains(name, "<<") {
			t.Fatalf("line %q is not NAME=VALUE", line)
		}
		if !envName.MatchString(name) {
			t.Errorf("line %q: %q is not an upper-case variable name", line, name)
		}
		if _, dup := env[name]; dup {
			t.Errorf("variable %s set twice", name)
		}
		env[name] = value
		names = append(names, name)
	}
	return env, names
}

// decodeClassroom reads Classroom's output as the reporter would receive
// it after a step appended it to $GITHUB_ENV and the workflow passed
// ${{ env.IPCLAB_RUNNERS }} as its "runners" input (src/main.js): split
// at commas, each runner's document read from the variable
// ${runner.trim().toUpperCase()}_RESULTS and decoded with
// JSON.parse(Buffer.from(value, "base64").toString("utf-8")). Each
// variable is read once, and none is left unread.
func decodeClassroom(t *testing.T, out []byte) []reporterRunner {
	t.Helper()
	env, names := githubEnv(t, out)
	if len(names) == 0 || names[0] != classroomRunnersVar {
		t.Fatalf("the first variable is not %s: %q", classroomRunnersVar, names)
	}
	input := env[classroomRunnersVar]
	if !runnersInput.MatchString(input) {
		t.Errorf("%s=%q does not match the reporter's pattern %s", classroomRunnersVar, input, runnersInput)
	}
	unread := map[string]bool{}
	for _, name := range names[1:] {
		unread[name] = true
	}
	var runners []reporterRunner
	for _, id := range strings.Split(input, ",") {
		name := strings.ToUpper(strings.TrimSpace(id)) + "_RESULTS"
		b64, ok := env[name]
		if !ok {
			t.Fatalf("runner %s: no variable %s", id, name)
		}
		if !unread[name] {
			t.Errorf("runner %s: variable %s read twice", id, name)
		}
		delete(unread, name)
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !utf8.Valid(raw) {
			t.Errorf("%s: the document is not UTF-8", name)
		}
		var results map[string]any
		if err := json.Unmarshal(raw, &results); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runners = append(runners, reporterRunner{Runner: id, Env: name, Results: results, Raw: raw})
	}
	for name := range unread {
		t.Errorf("variable %s is no runner's", name)
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
// its names, JSON types and values, one runner per test.
func TestClassroomContract(t *testing.T) {
	r := sample()
	runners := classroomOf(t, r)
	statuses := map[any]bool{"pass": true, "fail": true, "error": true}
	k := 0
	for _, e := range r.Exercises {
		for j, want := range e.Tests {
			if k >= len(runners) {
				t.Fatalf("%d runners, want one per test", len(runners))
			}
			rr := runners[k]
			k++
			if id := fmt.Sprintf("%s%d", e.ID, j+1); rr.Runner != id {
				t.Errorf("runner of %s %s is %q, want %q", e.ID, want.Name, rr.Runner, id)
			}
			res := rr.Results
			if v, ok := res["version"].(float64); !ok || v != 1 {
				t.Errorf("%s: version = %#v, want the number 1, as the reporter's own runners write", rr.Runner, res["version"])
			}
			// main.js fails the reporter's step on a runner status "fail"
			// or "error": the step fails when a test did not pass, as
			// when the runner was the exercise.
			if res["status"] != string(want.Status) || !statuses[res["status"]] {
				t.Errorf("%s: status = %#v, want the test's %q", rr.Runner, res["status"], want.Status)
			}
			if m, ok := res["max_score"].(float64); !ok || m != want.MaxScore {
				t.Errorf("%s: max_score = %#v, want the test's points, the number %v", rr.Runner, res["max_score"], want.MaxScore)
			}
			tests, ok := res["tests"].([]any)
			if !ok || len(tests) != 1 {
				t.Fatalf("%s: tests = %#v, want an array of the one test", rr.Runner, res["tests"])
			}
			tt, ok := tests[0].(map[string]any)
			if !ok {
				t.Fatalf("%s: tests[0] = %#v, want an object", rr.Runner, tests[0])
			}
			if tt["name"] != want.Name {
				t.Errorf("%s: tests[0].name = %#v, want %q", rr.Runner, tt["name"], want.Name)
			}
			// console-results.js: "pass" is ✅, "error" prints the
			// message, anything else is ❌.
			if tt["status"] != string(want.Status) || !statuses[tt["status"]] {
				t.Errorf("%s: tests[0].status = %#v, want %q", rr.Runner, tt["status"], want.Status)
			}
			if s, ok := tt["score"].(float64); !ok || s != want.Score {
				t.Errorf("%s: tests[0].score = %#v, want the number %v", rr.Runner, tt["score"], want.Score)
			}
			if _, ok := tt["message"].(string); !ok {
				t.Errorf("%s: tests[0].message = %#v, want a string", rr.Runner, tt["message"])
			}
			// console-results.js prints " - line N" unless line_no === 0.
			if n, ok := tt["line_no"].(float64); !ok || n != 0 {
				t.Errorf("%s: tests[0].line_no = %#v, want the number 0", rr.Runner, tt["line_no"])
			}
			if s, ok := tt["execution_time"].(string); !ok || !strings.HasSuffix(s, "s") {
				t.Errorf("%s: tests[0].execution_time = %#v, want seconds as \"1.5s\"", rr.Runner, tt["execution_time"])
			}
		}
	}
	if k != len(runners) {
		t.Errorf("%d runners, want one per test (%d)", len(runners), k)
	}
}

// The runner ids are the exercise's id, in lower-case letters and digits
// only, and the test's position; ids two tests would share are an error,
// and so is a result without a test, for which the reporter's "runners"
// input would be empty.
func TestClassroomRunnerIDs(t *testing.T) {
	var buf bytes.Buffer
	r := resultOf(&score.Exercise{ID: "Ring_Buffer", Tests: []*score.Test{testResult("TestA", 5, score.Pass), testResult("TestB", 5, score.Pass)}})
	if err := Classroom(&buf, r); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.SplitN(buf.String(), "\n", 2)[0], "IPCLAB_RUNNERS=ringbuffer1,ringbuffer2"; got != want {
		t.Errorf("first line %q, want %q", got, want)
	}

	bad := []struct {
		name string
		r    *score.Result
	}{
		{"shared id", resultOf(
			&score.Exercise{ID: "ex1", Tests: []*score.Test{testResult("TestA", 5, score.Pass)}},
			&score.Exercise{ID: "ex", Tests: slices.Repeat([]*score.Test{testResult("TestB", 5, score.Pass)}, 11)},
		)},
		{"no letter or digit", resultOf(&score.Exercise{ID: "_", Tests: []*score.Test{testResult("TestA", 5, score.Pass)}})},
		{"no test", resultOf(&score.Exercise{ID: "counter"})},
		{"no exercise", resultOf()},
	}
	for _, tt := range bad {
		var buf bytes.Buffer
		if err := Classroom(&buf, tt.r); err == nil || buf.Len() != 0 {
			t.Errorf("%s: Classroom printed %q and returned %v, want nothing printed and an error", tt.name, buf.String(), err)
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
// output: what it sends to Classroom, and what it prints in the log. With
// one runner per test, both are our score, even where the tests of an
// exercise are worth different points (as in every exercise of the
// course), which a runner per exercise got wrong in the log.
func TestClassroomTotals(t *testing.T) {
	manifests, err := course.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	// wrong-check-then-act in counter: every test passes but the hidden
	// TestTryIncNeverOvershoots, 25 of 100 points, 1 of 8 tests. A runner
	// per exercise was logged as 87.50/100 and sent as 75/100.
	i := slices.IndexFunc(manifests, func(m *course.Exercise) bool { return m.ID == "counter" })
	if i < 0 {
		t.Fatal("no exercise counter")
	}
	counter := &score.Exercise{ID: "counter"}
	for _, ct := range manifests[i].Tests {
		status := score.Pass
		if ct.Name == "TestTryIncNeverOvershoots" {
			status = score.Fail
		}
		counter.Tests = append(counter.Tests, testResult(ct.Name, ct.Points, status))
	}
	tests := []struct {
		name   string
		result *score.Result
	}{
		{"sample", sample()},
		{"counter, all but its hidden test of 25 points", resultOf(counter)},
		{
			"equal weights, partial credit across two exercises",
			resultOf(
				&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 5, score.Pass), testResult("TestB", 5, score.Fail)}},
				&score.Exercise{ID: "shm", Tests: []*score.Test{testResult("TestC", 5, score.Error), testResult("TestD", 5, score.Pass)}},
			),
		},
		{
			"fractional points",
			resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 12.5, score.Pass), testResult("TestB", 2.5, score.Pass), testResult("TestC", 12.5, score.Fail), testResult("TestD", 0.25, score.Fail)}}),
		},
		{
			"unequal weights",
			resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 10, score.Pass), testResult("TestB", 30, score.Fail)}}),
		},
		{
			// The reporter leaves a runner whose max_score is 0 out of
			// what it sends, and adds 0 for it to what it prints.
			"a test worth nothing",
			resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 10, score.Pass), testResult("TestB", 0, score.Pass), testResult("TestC", 0, score.Fail), testResult("TestD", 30, score.Fail)}}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.result.Score == 0 || tt.result.Score == tt.result.MaxScore {
				t.Fatalf("the result is %v/%v; want partial credit", tt.result.Score, tt.result.MaxScore)
			}
			runners := classroomOf(t, tt.result)
			if total, maxPoints := notifyClassroom(runners); total != tt.result.Score || maxPoints != tt.result.MaxScore {
				t.Errorf("the reporter sends Classroom %v/%v, want our score %v/%v", total, maxPoints, tt.result.Score, tt.result.MaxScore)
			}
			if total, maxPoints := consoleTotals(runners); total != tt.result.Score || maxPoints != tt.result.MaxScore {
				t.Errorf("the reporter's log shows %v/%v, want our score %v/%v", total, maxPoints, tt.result.Score, tt.result.MaxScore)
			}
		})
	}
}

// messages maps each runner id to its test's message.
func messages(runners []reporterRunner) map[string]string {
	m := map[string]string{}
	for _, rr := range runners {
		m[rr.Runner] = rr.Results["tests"].([]any)[0].(map[string]any)["message"].(string)
	}
	return m
}

// The reporter prints the message of a test in error without the test's
// name, and has nowhere for an exercise's own message.
func TestClassroomErrorMessages(t *testing.T) {
	msg := messages(classroomOf(t, sample()))
	if got, want := msg["counter3"], "TestHidden: stopped: did not finish within the time limit of 30s"; got != want {
		t.Errorf("message of a test in error = %q, want %q", got, want)
	}
	if got, want := msg["counter2"], "counter_test.go:9: c.Value() = 5, want 4\n  (two goroutines took the last place)"; got != want {
		t.Errorf("message of a failed test = %q, want %q", got, want)
	}
	if got, want := msg["counter1"], ""; got != want {
		t.Errorf("message of a passed test = %q, want %q", got, want)
	}
	if got := msg["buffer1"]; !strings.HasPrefix(got, "TestBoundedFIFO: not run: the exercise could not be tested:\nexercises/3-buffer/buffer.go:12:5: channel type") {
		t.Errorf("first test of an untestable exercise has message %q, want the exercise's message", got)
	}
	if got, want := msg["buffer2"], "TestCloseWakesWaiters: not run: the exercise could not be tested (see above)"; got != want {
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

// hostileForge is a message that would forge the grade, and stop the
// reporter's own workflow commands, if printed as it is.
const hostileForge = "\n::notice title=Autograding report::{\"totalPoints\":100,\"maxPoints\":100}\r::error::forged\r##[stop-commands]x\n"

// A hostile submission controls its tests' messages. Whatever they say,
// no decoded message holds a line the Actions runner would run, and each
// is cut to its bound.
func TestClassroomHostileMessages(t *testing.T) {
	var tests []*score.Test
	for i := range 25 {
		tt := testResult("TestHostile", 4, score.Error)
		// Quotes and backslashes are the characters JSON writes twice.
		tt.Message = hostileForge + strings.Repeat(`"\`, 1000*(i+1))
		tests = append(tests, tt)
	}
	// The first test carries the message of an exercise that could not
	// be tested.
	tests[0].Message = score.NotRun
	e := &score.Exercise{ID: "counter", Tests: tests}
	r := resultOf(e)
	e.Message = hostileForge + strings.Repeat(`"`, 10000)
	for i, rr := range classroomOf(t, r) {
		msg := rr.Results["tests"].([]any)[0].(map[string]any)["message"].(string)
		limit := maxClassroomMessage
		if i == 0 {
			limit = maxClassroomExerciseMessage
		}
		if !strings.HasSuffix(msg, "… (cut short)") || len(msg) > limit+len("… (cut short)") {
			t.Errorf("%s: a message of %d bytes, want one cut short to %d", rr.Runner, len(msg), limit)
		}
		for _, line := range logLines(msg) {
			if isWorkflowCommand(line) {
				t.Errorf("%s: a message holds the workflow command %q", rr.Runner, line)
			}
		}
	}
}

// The reporter's node process starts with every variable the output sets,
// besides the runner's own, and Linux refuses to start a process whose
// environment and arguments come to more than ARG_MAX (2 MiB with the
// usual 8 MiB stack), or with one "NAME=value" longer than MAX_ARG_STRLEN
// (128 KiB). For the worst case, every test of the course failing, or
// every exercise untestable, with the longest messages, in characters
// each encoding along the way could write longer (JSON, its HTML escaping,
// the replacement of control characters and invalid UTF-8), the output
// stays under 1 MiB.
func TestClassroomSize(t *testing.T) {
	manifests, err := course.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	const (
		// Linux's MAX_ARG_STRLEN.
		maxVar = 128 << 10
		// Well under ARG_MAX, to leave room for the runner's own
		// variables.
		maxAll = 1 << 20
	)
	fillers := []string{`"\`, "<>&", "\x00\x1b", "\xff", "\u2028", "é", "##[", "\n::"}
	for _, untestable := range []bool{false, true} {
		for _, filler := range fillers {
			var exs []*score.Exercise
			for _, m := range manifests {
				long := hostileForge + strings.Repeat(filler, 2*maxClassroomExerciseMessage)
				if untestable {
					exs = append(exs, score.Unrunnable(m, m.Tests, long))
					continue
				}
				e := &score.Exercise{ID: m.ID}
				for _, ct := range m.Tests {
					tt := testResult(ct.Name, ct.Points, score.Error)
					tt.Message = long
					e.Tests = append(e.Tests, tt)
				}
				exs = append(exs, e)
			}
			var buf bytes.Buffer
			if err := Classroom(&buf, resultOf(exs...)); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			// Each variable costs its "NAME=value\0" and a pointer.
			total := 0
			for _, line := range lines {
				total += len(line) + 1 + 8
				if len(line) > maxVar {
					t.Errorf("untestable %v, filler %q: a variable of %d bytes, more than %d", untestable, filler, len(line), maxVar)
				}
			}
			if total > maxAll {
				t.Errorf("untestable %v, filler %q: %d variables come to %d bytes, more than %d", untestable, filler, len(lines), total, maxAll)
			}
			t.Logf("untestable %v, filler %q: %d variables, %d bytes", untestable, filler, len(lines), total)
			decodeClassroom(t, buf.Bytes())
		}
	}
}
