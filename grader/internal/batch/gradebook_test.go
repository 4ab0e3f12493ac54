package batch

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteCSV(t *testing.T) {
	rows := []*Row{
		{Submission: "alice", Scores: []ExScore{{"counter", 87.5, 100}, {"shm", 0, 120}}, Score: 87.5, MaxScore: 220, Status: Graded, Isolation: "namespaces", Seconds: 41.26, Commit: "abc123"},
		{Submission: "=HYPERLINK(\"x\")", Score: 0, MaxScore: 220, Status: Unreadable, Isolation: "namespaces", Message: "-2+3 the archive holds\n\"a\" twice"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, []string{"counter", "shm"}, rows))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"submission", "counter", "shm", "total", "max", "status", "isolation", "seconds", "commit", "message"},
		{"alice", "87.5", "0", "87.5", "220", "graded", "namespaces", "41.3", "abc123", ""},
		// What a submission can write is never a formula, and never more
		// than one line.
		{"'=HYPERLINK(\"x\")", "", "", "0", "220", "unreadable", "namespaces", "0.0", "", "'-2+3 the archive holds \"a\" twice"},
	}, recs)
}

// shardOutput writes what Run leaves for shard sh: its manifest and, for
// each name, a row, a result and a feedback file.
func shardOutput(t *testing.T, dir string, sh Shard, complete bool, names ...string) {
	t.Helper()
	for _, d := range []string{ResultsDir, FeedbackDir, RowsDir} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	m := &Manifest{Schema: ManifestSchema, Grader: "fp", Shard: sh.String(), Exercises: []string{"counter"}, Submissions: names, Complete: complete}
	require.NoError(t, writeJSON(filepath.Join(dir, ManifestFile), m))
	for i, name := range names {
		row := &Row{Submission: name, Kind: Folder, Scores: []ExScore{{"counter", float64(10 * i), 100}}, Score: float64(10 * i), MaxScore: 100, Status: Graded, Isolation: "namespaces", Grader: "fp"}
		require.NoError(t, save(dir, row, nil, []byte("feedback of "+name)))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsDir, name+".json"), []byte(`{"submission":"`+name+`"}`), 0o644))
	}
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	s1, s2, out := filepath.Join(dir, "s1"), filepath.Join(dir, "s2"), filepath.Join(dir, "out")
	shardOutput(t, s1, Shard{1, 2}, true, "carol", "alice")
	shardOutput(t, s2, Shard{2, 2}, true, "bob")

	sum, err := Merge(out, []string{s2, s1}, os.Stderr)
	require.NoError(t, err)
	require.Len(t, sum.Rows, 3)
	recs, err := csv.NewReader(bytes.NewReader([]byte(readFile(t, filepath.Join(out, GradebookFile))))).ReadAll()
	require.NoError(t, err)
	var names, scores []string
	for _, r := range recs[1:] {
		names = append(names, r[0])
		scores = append(scores, r[1])
	}
	assert.Equal(t, []string{"alice", "bob", "carol"}, names, "rows sorted by name")
	assert.Equal(t, []string{"10", "0", "0"}, scores)
	assert.Equal(t, "feedback of bob", readFile(t, filepath.Join(out, FeedbackDir, "bob.md")))
	assert.JSONEq(t, `{"submission":"carol"}`, readFile(t, filepath.Join(out, ResultsDir, "carol.json")))
	m, err := ReadManifest(out)
	require.NoError(t, err)
	assert.True(t, m.Complete)
	assert.Equal(t, []string{"alice", "bob", "carol"}, m.Submissions)
	assert.Empty(t, m.Shard)

	inc := filepath.Join(dir, "incomplete")
	shardOutput(t, inc, Shard{2, 2}, false, "bob")
	dup := filepath.Join(dir, "dup")
	shardOutput(t, dup, Shard{2, 2}, true, "alice")
	three := filepath.Join(dir, "three")
	shardOutput(t, three, Shard{3, 3}, true, "dave")
	for _, tc := range []struct {
		name   string
		shards []string
		want   string
	}{
		{"missing", []string{s1}, "shard 2/2 missing"},
		{"twice", []string{s1, s2, s2}, "are both shard 2/2"},
		{"interrupted", []string{s1, inc}, "was interrupted"},
		{"graded twice", []string{s1, dup}, "submission alice is in both"},
		{"other run", []string{s1, three}, "merge the shards of one run"},
		{"none", nil, "needs the output directories"},
		{"into a shard", []string{s1, s2}, "must not be one of the shards"},
		{"not a batch", []string{s1, dir}, "is not a batch's output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "merged")
			if tc.name == "into a shard" {
				to = s2
			}
			_, err := Merge(to, tc.shards, os.Stderr)
			assert.ErrorContains(t, err, tc.want)
			assert.NoFileExists(t, filepath.Join(to, GradebookFile), "a refused merge writes no gradebook")
		})
	}
}
