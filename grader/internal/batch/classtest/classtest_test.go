package classtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/score"
)

// Every exercise has a package here that batches its implementations, and
// a record of their grades alone.
func TestEveryExerciseIsBatched(t *testing.T) {
	exs, err := course.Manifests()
	require.NoError(t, err)
	for _, ex := range exs {
		src, err := os.ReadFile(filepath.Join(ex.ID, "class_test.go"))
		if assert.NoError(t, err, "the package %s/ that batches %s", ex.ID, ex.ID) {
			assert.Contains(t, string(src), `classtest.Run(t, "`+ex.ID+`")`)
		}
		golden, err := readGolden(filepath.Join("testdata", ex.ID+".csv"))
		if assert.NoError(t, err, "go test ./%s/ -update records it", ex.ID) {
			ref := golden["reference"]
			if assert.NotNil(t, ref, "%s: the reference's grades alone", ex.ID) {
				assert.Equal(t, ex.MaxScore(true), ref.min, "%s: the reference alone", ex.ID)
				assert.NotContains(t, string(ref.verdicts), "F", "%s: the reference failed a test alone", ex.ID)
				assert.NotContains(t, string(ref.verdicts), "?", "%s: the reference failed a test alone", ex.ID)
			}
			if stub := golden["stub"]; assert.NotNil(t, stub, "%s: the stub's grades alone", ex.ID) {
				assert.Zero(t, stub.max, "%s: the stub alone", ex.ID)
			}
		}
	}
}

// A test that passed alone may fail in a batch only on a data race the
// race detector reported there; one that never passed alone never passes.
func TestDisagreements(t *testing.T) {
	a := &alone{}
	res := result
	a.add(res("pass", "pass", "fail", "fail"))
	a.add(res("pass", "fail", "fail", "fail"))
	assert.Equal(t, "P?FF", string(a.verdicts))
	assert.Empty(t, a.disagreements(res("pass", "pass", "fail", "fail")))
	assert.Empty(t, a.disagreements(res("pass", "fail", "fail", "fail")))
	assert.Empty(t, a.disagreements(res("race", "pass", "fail", "fail")), "a race caught in the batch")
	assert.Equal(t, []disagreement{{"T0", "T0: fail in the batch, passed alone: it went wrong"}}, a.disagreements(res("fail", "pass", "fail", "fail")))
	assert.Equal(t, []disagreement{{"T3", "T3 passed in the batch, never alone"}}, a.disagreements(res("pass", "pass", "fail", "pass")))
	assert.Len(t, a.disagreements(res("pass")), 1, "a test count that changed")
}

// result is a result of one exercise whose tests T0, T1, ... ended as
// statuses say: "pass", "fail", or "race" (a fail with a race reported).
func result(statuses ...string) *score.Result {
	e := &score.Exercise{ID: "x"}
	for i, st := range statuses {
		tt := &score.Test{Name: fmt.Sprintf("T%d", i), Status: score.Status(st)}
		switch st {
		case "race":
			tt.Status, tt.Race, tt.Message = score.Fail, true, "data race: write in Add"
		case "fail":
			tt.Message = "it went wrong\nand more"
		}
		e.Tests = append(e.Tests, tt)
	}
	return &score.Result{Exercises: []*score.Exercise{e}}
}
