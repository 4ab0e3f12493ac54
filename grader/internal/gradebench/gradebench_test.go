package gradebench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
)

// pass.jsonl is a recorded go test -race -json stream of two packages;
// fail.jsonl the same with one test failing.
func TestTestTimes(t *testing.T) {
	stream, err := os.ReadFile(filepath.Join("testdata", "pass.jsonl"))
	require.NoError(t, err)
	times, err := testTimes(stream)
	require.NoError(t, err, "testTimes(pass.jsonl)")
	assert.Equal(t, []TestTime{
		{"example.com/rec/a", "TestA1", 500 * time.Millisecond},
		{"example.com/rec/a", "TestA2", 250 * time.Millisecond},
		{"example.com/rec/b", "TestB", time.Second},
	}, times, "testTimes(pass.jsonl): the top-level tests, not the subtests")

	stream, err = os.ReadFile(filepath.Join("testdata", "fail.jsonl"))
	require.NoError(t, err)
	_, err = testTimes(stream)
	require.Error(t, err, "testTimes(fail.jsonl)")
	assert.Contains(t, err.Error(), "TestB", "the error names the test that failed")
}

func TestBestTakesEachCommandsFastestRound(t *testing.T) {
	c := &Comparison{Rounds: []Round{
		{GoTest: 10 * time.Second, Grade: 6 * time.Second, Timings: grading.Sums{TestCount: 1}},
		{GoTest: 8 * time.Second, Grade: 7 * time.Second, Timings: grading.Sums{TestCount: 2}},
	}}
	b := c.Best()
	assert.Equal(t, 8*time.Second, b.GoTest)
	assert.Equal(t, 6*time.Second, b.Grade)
	assert.Equal(t, 1, b.Timings.TestCount, "timings come from grade's fastest round")
	assert.InDelta(t, 0.75, b.Ratio(), 1e-9)
}

func TestTable(t *testing.T) {
	r := &Results{Jobs: 2,
		Grading: &Comparison{What: "grading 9 exercises", Rounds: []Round{{
			GoTest: 60 * time.Second, Grade: 40 * time.Second, GoTestTests: 75 * time.Second, GoTestCount: 600,
			Slowest: []TestTime{{"github.com/ipclab/ipclab/exercises/6-pipe", "TestBigOutput", 4 * time.Second}},
			Timings: grading.Sums{Checks: 3 * time.Second, SlotWait: 2 * time.Second, Compiles: 9 * time.Second, BuildCount: 9, Processes: 80 * time.Second, Tests: 74 * time.Second, TestCount: 600},
		}}},
		Latency: &Comparison{What: "latency counter", Rounds: []Round{{GoTest: 2 * time.Second, Grade: 3 * time.Second}}},
	}
	var out bytes.Buffer
	require.NoError(t, r.Table(&out))
	for _, want := range []string{
		"0.67x  (target at most 0.75x: met)",
		"builds:          9; added up, static checks 3.0s, waiting for a slot 2.0s, compiling 9.0s",
		"test processes:  600, 80.0s added up; the tests' own time 74.0s (go test's: 75.0s over 600 tests)",
		"one process per test costs 6.0s added up, 10ms a test",
		"go test's slowest tests: 6-pipe.TestBigOutput 4.0s;",
		"grader test counter",
		"1.50x  (target at most 1.25x: not met)",
	} {
		assert.Contains(t, out.String(), want)
	}
}

// One round of both comparisons on the smallest exercise: the reference
// passes both ways, and the figures add up.
func TestRunCounter(t *testing.T) {
	if testing.Short() {
		t.Skip("grades the counter's reference three times; skipped with -short")
	}
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	ex, err := repo.Exercise("counter")
	require.NoError(t, err)
	res, err := Run(context.Background(), repo, Options{Exercises: []*course.Exercise{ex}, Latency: ex})
	require.NoError(t, err)
	tests := len(ex.TestsFor(true))
	g := res.Grading.Best()
	assert.Equal(t, tests, g.GoTestCount, "go test ran every test")
	assert.Equal(t, tests, g.Timings.TestCount, "grade ran every test in a process")
	assert.Equal(t, 1, g.Timings.BuildCount)
	assert.Greater(t, g.Timings.Processes, g.Timings.Tests, "a process takes longer than its test")
	l := res.Latency.Best()
	assert.Equal(t, len(ex.TestsFor(false)), l.GoTestCount, "the latency round runs the visible tests")
	assert.Positive(t, l.Grade)
	var out bytes.Buffer
	require.NoError(t, res.Table(&out))
	assert.True(t, strings.Contains(out.String(), "grade / go test"), "Table:\n%s", out.String())
}
