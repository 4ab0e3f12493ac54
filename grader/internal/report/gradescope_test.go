package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/score"
)

// The tests below hold our output to Gradescope's autograder
// specification, docs/specs.md of gradescope/autograder_samples (commit
// af5dee4, January 2025), "Output format"; see GRADESCOPE.md.

// The keys the specification lists, at the top level and in a test.
var (
	specTopKeys  = []string{"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
	specTestKeys = []string{"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"}
	// specFormats are the values of the *_format fields; specStatuses a
	// test's status.
	specFormats  = []string{"text", "html", "simple_format", "md", "ansi"}
	specStatuses = []string{"passed", "failed"}
)

// The keys we write: every one the spec's, and always all of them, so
// that Gradescope never falls back to a default we did not choose
// (simple_format, which renders HTML, for the top-level output).
var (
	ourTopKeys  = []string{"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format", "visibility", "stdout_visibility", "tests"}
	ourTestKeys = []string{"name", "score", "max_score", "status", "output", "visibility"}
)

func TestGradescopeKeysAreTheSpecs(t *testing.T) {
	for _, k := range ourTopKeys {
		if !slices.Contains(specTopKeys, k) {
			t.Errorf("top-level key %q is not in Gradescope's specification", k)
		}
	}
	for _, k := range ourTestKeys {
		if !slices.Contains(specTestKeys, k) {
			t.Errorf("test key %q is not in Gradescope's specification", k)
		}
	}
}

// gradescopeOf writes r and decodes it as Gradescope would, checking that
// it is one JSON document, in UTF-8, with exactly our keys.
func gradescopeOf(t *testing.T, r *score.Result, opts GradescopeOptions) (doc map[string]any, tests []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if err := Gradescope(&buf, r, opts); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(buf.Bytes()) {
		t.Errorf("results.json is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("results.json does not parse: %v\n%s", err, buf.Bytes())
	}
	if dec.More() {
		t.Errorf("results.json holds more than one JSON value")
	}
	sameKeys(t, "results.json", doc, ourTopKeys)
	list, ok := doc["tests"].([]any)
	if !ok {
		t.Fatalf("tests = %#v, want an array", doc["tests"])
	}
	for i, v := range list {
		tt, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("tests[%d] = %#v, want an object", i, v)
		}
		sameKeys(t, fmt.Sprintf("tests[%d]", i), tt, ourTestKeys)
		tests = append(tests, tt)
	}
	return doc, tests
}

func sameKeys(t *testing.T, where string, m map[string]any, want []string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s has the keys %q, want exactly %q", where, got, want)
	}
}

// number reads a JSON number, failing the test for anything else.
func number(t *testing.T, where string, v any) float64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Errorf("%s = %#v, want a number", where, v)
	}
	return f
}

// TestGradescopeContract checks every field against the result it came
// from, for each visibility of the hidden tests.
func TestGradescopeContract(t *testing.T) {
	for _, vis := range append([]string{""}, GradescopeVisibilities...) {
		t.Run("hidden="+vis, func(t *testing.T) {
			r := sample()
			doc, tests := gradescopeOf(t, r, GradescopeOptions{HiddenVisibility: vis})
			wantHidden := vis
			if vis == "" {
				wantHidden = "after_due_date"
			}

			if got := number(t, "score", doc["score"]); got != r.Score {
				t.Errorf("score = %v, want the result's %v", got, r.Score)
			}
			// The spec's example is a whole number of seconds.
			var seconds float64
			for _, e := range r.Exercises {
				for _, tt := range e.Tests {
					seconds += tt.Seconds
				}
			}
			if got := number(t, "execution_time", doc["execution_time"]); got != math.Round(seconds) {
				t.Errorf("execution_time = %v, want the tests' %v seconds, rounded", got, seconds)
			}
			for _, k := range []string{"output_format", "test_output_format", "test_name_format"} {
				if doc[k] != "text" || !slices.Contains(specFormats, doc[k].(string)) {
					t.Errorf("%s = %#v, want \"text\": nothing a submission prints is rendered", k, doc[k])
				}
			}
			if doc["visibility"] != "visible" {
				t.Errorf("visibility = %#v, want \"visible\" (each test sets its own)", doc["visibility"])
			}
			if doc["stdout_visibility"] != "hidden" {
				t.Errorf("stdout_visibility = %#v, want \"hidden\": the grader's log is for the instructor", doc["stdout_visibility"])
			}
			output, _ := doc["output"].(string)
			if !strings.Contains(output, isolationLine(r.Isolation)) {
				t.Errorf("output does not give the isolation level:\n%s", output)
			}
			if !strings.Contains(output, r.Exercises[1].Message) {
				t.Errorf("output lacks the message of %s, which could not be tested:\n%s", r.Exercises[1].ID, output)
			}
			if vis == "visible" {
				if !strings.HasPrefix(output, "Total: 10/130 points.\n") {
					t.Errorf("output starts %q, want the total: every test is shown", output)
				}
			} else if strings.Contains(output, "130") || !strings.HasPrefix(output, "Visible tests: 10/42.5 points. 2 hidden tests, worth 87.5 points, ") {
				t.Errorf("output starts %q, want what the visible tests earned, and no total: Gradescope withholds it with the hidden tests", output)
			}

			k := 0
			var sum float64
			for _, e := range r.Exercises {
				for _, want := range e.Tests {
					if k >= len(tests) {
						t.Fatalf("%d tests, want one per test of the result", len(tests))
					}
					got := tests[k]
					k++
					name := e.ID + ": " + want.Name
					if want.Hidden {
						name += " (hidden)"
					}
					if got["name"] != name {
						t.Errorf("name = %#v, want %q", got["name"], name)
					}
					if s := number(t, name+" score", got["score"]); s != want.Score {
						t.Errorf("%s: score = %v, want %v", name, s, want.Score)
					}
					sum += number(t, name+" score", got["score"])
					if m := number(t, name+" max_score", got["max_score"]); m != want.MaxScore {
						t.Errorf("%s: max_score = %v, want %v", name, m, want.MaxScore)
					}
					status := "failed"
					if want.Status == score.Pass {
						status = "passed"
					}
					if got["status"] != status || !slices.Contains(specStatuses, status) {
						t.Errorf("%s: status = %#v, want %q for %s", name, got["status"], status, want.Status)
					}
					vis := "visible"
					if want.Hidden {
						vis = wantHidden
					}
					if got["visibility"] != vis {
						t.Errorf("%s: visibility = %#v, want %q", name, got["visibility"], vis)
					}
					msg := want.Message
					if msg == score.NotRun {
						msg = "not run: the exercise could not be tested:\n" + e.Message
					}
					if got["output"] != msg {
						t.Errorf("%s: output = %#v, want %q", name, got["output"], msg)
					}
				}
			}
			if k != len(tests) {
				t.Errorf("%d tests, want %d, one per test of the result", len(tests), k)
			}
			if sum != r.Score {
				t.Errorf("the tests' scores add up to %v, want the score, %v", sum, r.Score)
			}
		})
	}
}

// A result with no tests is still a valid results.json: a score of 0 and
// an empty list of tests, not null.
func TestGradescopeEmpty(t *testing.T) {
	doc, tests := gradescopeOf(t, &score.Result{Schema: score.Schema}, GradescopeOptions{})
	if doc["score"] != 0.0 || len(tests) != 0 || doc["tests"] == nil {
		t.Errorf("score %#v, tests %#v; want 0 and []", doc["score"], doc["tests"])
	}
	if !strings.HasPrefix(doc["output"].(string), "Total: 0/0 points.\nisolation: unknown — NOT tamper-proof") {
		t.Errorf("output = %q, want the total and the isolation level", doc["output"])
	}
}

func TestGradescopeBadVisibility(t *testing.T) {
	var buf bytes.Buffer
	err := WriteWith(&buf, "gradescope", sample(), Options{Gradescope: GradescopeOptions{HiddenVisibility: "after-due-date"}})
	if err == nil || !strings.Contains(err.Error(), `unknown visibility "after-due-date" for the hidden tests (Gradescope's are visible, after_due_date, after_published, hidden)`) {
		t.Errorf("error %v, want one naming Gradescope's visibilities", err)
	}
	if buf.Len() > 0 {
		t.Errorf("wrote %q before failing", buf.Bytes())
	}
}

// When an exercise's tests are all hidden and withheld, the summary is
// where a student learns why the exercise could not be tested.
func TestGradescopeSummaryOfHiddenExercise(t *testing.T) {
	ex := course.Exercise{ID: "shm", Title: "Shared memory", Tests: []course.Test{{Name: "TestSeqlock", Points: 50, Hidden: true}}}
	e := score.Unrunnable(&ex, ex.Tests, "exercises/6-shm/shm.go:3:8: import \"unsafe\" is not allowed")
	r := resultOf(e)
	e.Status = score.Error // as Unrunnable made it; resultOf adds up tests only
	doc, _ := gradescopeOf(t, r, GradescopeOptions{})
	want := "Visible tests: 0/0 points. 1 hidden test, worth 50 points, is shown after the due date, with the total.\n" +
		isolationLine(r.Isolation) + "\n\nshm (Shared memory) could not be tested:\n  exercises/6-shm/shm.go:3:8: import \"unsafe\" is not allowed"
	if doc["output"] != want {
		t.Errorf("output = %q, want %q", doc["output"], want)
	}
}

// A hostile submission controls its tests' messages. Whatever they hold,
// results.json parses, each output is cut to its bound, and no control
// character or carriage return survives.
func TestGradescopeHostileMessages(t *testing.T) {
	hostile := "\"}], \"score\": 100, \"tests\": [{\"x\r\n</pre><script>alert(1)</script>\x1b[31m\x00\xff\u2028" + strings.Repeat(`"\`, 5000)
	tt := testResult("TestHostile", 4, score.Fail)
	tt.Message = hostile
	e := score.Unrunnable(&demoBuffer, demoBuffer.Tests, hostile)
	r := resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{tt}}, e)
	doc, tests := gradescopeOf(t, r, GradescopeOptions{})
	if doc["score"] != 0.0 {
		t.Errorf("score = %#v, want 0", doc["score"])
	}
	outputs := []string{doc["output"].(string)}
	for _, tt := range tests {
		outputs = append(outputs, tt["output"].(string))
	}
	for i, out := range outputs {
		if i > 0 && (!strings.HasSuffix(out, "… (cut short)") || len(out) > maxGradescopeOutput+len("… (cut short)")) {
			t.Errorf("output %d: %d bytes, want it cut short to %d", i, len(out), maxGradescopeOutput)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }) {
			t.Errorf("output %d keeps a control character: %q", i, out[:200])
		}
	}
	if !strings.Contains(outputs[1], "\"x\n</pre>") {
		t.Errorf("output %.60q, want the message as it was, with a \\n for its \\r\\n", outputs[1])
	}
}

// The whole course failing, each test with the longest message (or each
// exercise untestable with the longest message, which each of its tests
// repeats), in the characters JSON writes longest, stays under 2 MiB.
func TestGradescopeSize(t *testing.T) {
	manifests, err := course.Manifests()
	if err != nil {
		t.Fatal(err)
	}
	const maxSize = 2 << 20
	for _, untestable := range []bool{false, true} {
		for _, filler := range []string{`"\`, "\u2028", "\x00", "é"} {
			long := strings.Repeat(filler, 2*maxGradescopeOutput)
			var exs []*score.Exercise
			for _, m := range manifests {
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
			r := resultOf(exs...)
			r.Isolation = score.IsolationOf(run.IsolateNone)
			var buf bytes.Buffer
			if err := Gradescope(&buf, r, GradescopeOptions{}); err != nil {
				t.Fatal(err)
			}
			if buf.Len() > maxSize {
				t.Errorf("untestable %v, filler %q: %d bytes, more than %d", untestable, filler, buf.Len(), maxSize)
			}
			t.Logf("untestable %v, filler %q: %d bytes", untestable, filler, buf.Len())
			if !json.Valid(buf.Bytes()) {
				t.Errorf("untestable %v, filler %q: not valid JSON", untestable, filler)
			}
		}
	}
}

// GRADESCOPE.md shows the golden file as its example, byte for byte.
func TestGradescopeDocExample(t *testing.T) {
	doc, err := os.ReadFile("GRADESCOPE.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "sample.gradescope"))
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "\n```json\n")
	example, _, ok2 := strings.Cut(example, "```\n")
	if !ok || !ok2 || example != string(golden) {
		t.Errorf("GRADESCOPE.md's example is not testdata/sample.gradescope; copy it in:\n%s", golden)
	}
}
