package batch

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Merge combines the outputs of the shards of one class (each written by
// Run with -shard i/n, every i of the same n) into out: one gradebook,
// and every result, feedback file and row. It refuses a set of shards
// with one missing, one interrupted, or a submission graded twice, so
// that a gradebook never silently lacks a student. Shards graded by
// graders with different fingerprints are merged with a warning on warn:
// CI machines may build the same grader differently.
func Merge(out string, shards []string, warn io.Writer) (*Summary, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("merge needs the output directories of the shards")
	}
	var (
		merged = &Manifest{Schema: ManifestSchema, Complete: true}
		seen   = map[int]string{}
		owner  = map[string]string{}
		n      int
		sum    = &Summary{}
	)
	for _, dir := range shards {
		if same, err := sameDir(dir, out); err != nil || same {
			return nil, fmt.Errorf("the merged output %s must not be one of the shards' directories", out)
		}
		m, err := ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		sh, err := ParseShard(m.Shard)
		if m.Shard == "" {
			sh, err = Shard{1, 1}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		switch {
		case n == 0:
			n = sh.N
			merged.Grader, merged.Exercises = m.Grader, m.Exercises
		case sh.N != n:
			return nil, fmt.Errorf("%s is shard %s, but %s is one of %d: merge the shards of one run", dir, m.Shard, shards[0], n)
		}
		if other, dup := seen[sh.I]; dup {
			return nil, fmt.Errorf("%s and %s are both shard %s", other, dir, m.Shard)
		}
		seen[sh.I] = dir
		if !m.Complete {
			return nil, fmt.Errorf("shard %s in %s was interrupted: run it again to finish it, then merge", m.Shard, dir)
		}
		if !slices.Equal(m.Exercises, merged.Exercises) {
			return nil, fmt.Errorf("%s graded exercises %s, the other shards %s", dir, strings.Join(m.Exercises, ","), strings.Join(merged.Exercises, ","))
		}
		if m.Grader != merged.Grader {
			fmt.Fprintf(warn, "batch: warning: %s was graded by another build of the grader than %s (same course? same commit?)\n", dir, shards[0])
		}
		for _, name := range m.Submissions {
			if other, dup := owner[name]; dup {
				return nil, fmt.Errorf("submission %s is in both %s and %s", name, other, dir)
			}
			owner[name] = dir
			row, err := readRow(filepath.Join(dir, RowsDir, name+".json"))
			if err != nil {
				return nil, fmt.Errorf("shard %s: %w", m.Shard, err)
			}
			sum.Rows = append(sum.Rows, row)
			merged.Submissions = append(merged.Submissions, name)
		}
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if seen[i] == "" {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("shard %s missing: merge needs every shard's output", strings.Join(missing, ", "))
	}
	slices.SortFunc(sum.Rows, func(a, b *Row) int { return strings.Compare(a.Submission, b.Submission) })
	slices.Sort(merged.Submissions)
	for _, d := range []string{ResultsDir, FeedbackDir, RowsDir} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return nil, err
		}
	}
	for _, row := range sum.Rows {
		dir := owner[row.Submission]
		for _, f := range []string{
			filepath.Join(ResultsDir, row.Submission+".json"),
			filepath.Join(FeedbackDir, row.Submission+".md"),
			filepath.Join(RowsDir, row.Submission+".json"),
		} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if os.IsNotExist(err) && strings.HasPrefix(f, ResultsDir) && row.Status != Graded && row.Status != OutOfTime {
				continue // an unreadable submission has no result
			}
			if err != nil {
				return nil, err
			}
			if err := writeFileAtomic(filepath.Join(out, f), data); err != nil {
				return nil, err
			}
		}
	}
	if err := writeGradebook(out, merged, sum.Rows); err != nil {
		return nil, err
	}
	sum.Graded = len(sum.Rows)
	return sum, nil
}

func sameDir(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	return aa == bb, nil
}
