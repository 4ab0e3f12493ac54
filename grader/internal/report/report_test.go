package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/score"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample is a result with every status and an exercise-level error,
// graded without namespaces, so that the warning shows.
func sample() *score.Result {
	r := &score.Result{
		Schema:     score.Schema,
		Submission: "submissions/alice",
		Isolation:  score.IsolationOf(run.IsolateLimits),
		Exercises: []*score.Exercise{
			{ID: "counter", Title: "Race conditions", Status: score.Fail, Tests: []*score.Test{
				{Name: "TestInc", Score: 10, MaxScore: 10, Status: score.Pass, Seconds: 0.2},
				{Name: "TestTryInc", MaxScore: 12.5, Status: score.Fail, Message: "counter_test.go:9: c.Value() = 5, want 4\n  (two goroutines took the last place)", Seconds: 1.5},
				{Name: "TestHidden", MaxScore: 7.5, Status: score.Error, Hidden: true, Message: "stopped: did not finish within the time limit of 30s", Seconds: 35},
			}},
			score.Unrunnable(
				&demoBuffer, demoBuffer.Tests,
				"exercises/3-buffer/buffer.go:12:5: channel type: channels are not allowed in buffer: build it from sync.Cond"),
		},
	}
	r.Exercises[0].Score = 10
	r.Exercises[0].MaxScore = 30
	r.Total()
	return r
}

// testResult is a test with the given status, its score earned only when
// it passed.
func testResult(name string, points float64, status score.Status) *score.Test {
	t := &score.Test{Name: name, MaxScore: points, Status: status}
	if status == score.Pass {
		t.Score = points
	} else {
		t.Message = "it went wrong"
	}
	return t
}

// resultOf is a result of exercises given their tests, their scores and
// statuses added up as package score does.
func resultOf(exercises ...*score.Exercise) *score.Result {
	r := &score.Result{Schema: score.Schema, Isolation: score.IsolationOf(run.IsolateNamespaces), Exercises: exercises}
	for _, e := range exercises {
		e.Status = score.Pass
		for _, t := range e.Tests {
			e.Score += t.Score
			e.MaxScore += t.MaxScore
			if t.Status != score.Pass {
				e.Status = score.Fail
			}
		}
	}
	r.Total()
	return r
}

func TestGolden(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, sample()); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "sample."+format)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s (go test -update rewrites it):\n%s", format, golden, buf.Bytes())
			}
		})
	}
}

// TestJSONContract checks the fields that other tools rely on, by name, so
// that a renamed struct field cannot slip through a golden-file update.
func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	need := func(m map[string]any, where string, keys ...string) {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", where, k)
			}
		}
	}
	need(doc, "result", "schema", "score", "max_score", "isolation", "exercises")
	iso, _ := doc["isolation"].(map[string]any)
	need(iso, "isolation", "level", "tamper_proof", "note")
	if iso["level"] != "limits" || iso["tamper_proof"] != false {
		t.Errorf("isolation = %v, want level limits, not tamper-proof", iso)
	}
	if doc["schema"] != "ipclab-result/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	for _, e := range doc["exercises"].([]any) {
		ex := e.(map[string]any)
		need(ex, "exercise", "id", "score", "max_score", "status", "message", "tests")
		for _, tt := range ex["tests"].([]any) {
			need(tt.(map[string]any), "test", "name", "score", "max_score", "status", "message")
			if s := tt.(map[string]any)["status"]; s != "pass" && s != "fail" && s != "error" {
				t.Errorf("test status %v, want pass, fail or error", s)
			}
		}
	}
}

// The table says in one line how the tests were isolated, and says it
// loudly when the score could have been forged.
func TestIsolationLine(t *testing.T) {
	tests := []struct {
		level run.Isolation
		want  string
	}{
		{run.IsolateNamespaces, "isolation: namespaces (tamper-proof)\n"},
		{run.IsolateLimits, "isolation: limits — NOT tamper-proof: tests ran under resource limits only, without Linux namespaces, so a hostile submission could have forged its score; see " + score.SecuritySection + " for how to grade with namespaces\n"},
		{run.IsolateNone, "isolation: none — NOT tamper-proof: tests ran without Linux namespaces or resource limits, so"},
		{-1, "isolation: unknown — NOT tamper-proof: the grader did not record how tests were isolated"},
	}
	for _, tt := range tests {
		r := &score.Result{Schema: score.Schema, Isolation: score.IsolationOf(tt.level)}
		var buf bytes.Buffer
		if err := Table(&buf, r); err != nil {
			t.Fatal(err)
		}
		_, last, _ := strings.Cut(buf.String(), "total 0/0\n")
		if !strings.HasPrefix(last, tt.want) {
			t.Errorf("level %d: table ends with %q, want %q", tt.level, last, tt.want)
		}
	}
	// A result nobody filled in does not pass for tamper-proof.
	var buf bytes.Buffer
	if err := Table(&buf, &score.Result{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "total 0/0\nisolation: unknown — NOT tamper-proof\n") {
		t.Errorf("table of an empty result ends %q, want the isolation unknown and not tamper-proof", buf.String())
	}
}
