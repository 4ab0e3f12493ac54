package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/report"
	"github.com/ipclab/ipclab/grader/internal/score"
)

// The layout of a batch's output directory.
const (
	GradebookFile = "grades.csv"
	ManifestFile  = "batch.json"
	ResultsDir    = "results"  // <name>.json: the full result
	FeedbackDir   = "feedback" // <name>.md: the student's feedback
	RowsDir       = "rows"     // <name>.json: the gradebook row, hashes included
)

// ManifestSchema versions batch.json.
const ManifestSchema = "ipclab-batch/v1"

// A Manifest describes one batch output: which submissions it was to
// grade, with which grader, and whether it got through them all.
type Manifest struct {
	Schema    string   `json:"schema"`
	Grader    string   `json:"grader"`
	Shard     string   `json:"shard,omitempty"`
	Exercises []string `json:"exercises"`
	// Submissions are the names this output was to grade, in order.
	Submissions []string `json:"submissions"`
	// Complete is true when every one of them has a row.
	Complete bool `json:"complete"`
}

// A Shard is one n-th of a class: -shard i/n. The split is by a hash of
// each submission's name, so it does not depend on which other
// submissions there are: a late submission added to the class moves no
// other one to another shard.
type Shard struct{ I, N int }

// ParseShard parses "i/n", 1 <= i <= n.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("-shard wants i/n with 1 <= i <= n, as in 2/4; got %q", s)
	}
	return Shard{i, n}, nil
}

func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Has reports whether the submission named name belongs to the shard; the
// zero Shard holds every submission.
func (s Shard) Has(name string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32()%uint32(s.N)) == s.I-1
}

// DefaultParallel is how many submissions a batch grades at once unless
// told otherwise: two per CPU. Most of a submission's grading time is
// spent waiting (for a test's time limit, a peer, a child process) rather
// than computing, so one per CPU leaves the machine mostly idle; and the
// tests' verdicts must not depend on the load anyway.
func DefaultParallel() int { return 2 * runtime.NumCPU() }

// Options control a batch.
type Options struct {
	// Dir holds the submissions (see Discover); Out receives the outputs.
	Dir, Out string
	// Exercises are graded in every submission.
	Exercises []*course.Exercise
	// Parallel bounds the submissions graded at once; DefaultParallel()
	// when zero.
	Parallel int
	Shard    Shard
	// Force grades again submissions whose stored result is still good.
	Force bool
	// Deadline, when not zero, picks each git repository's last commit
	// before it.
	Deadline time.Time
	// Settings names the flags that change a score, for the grader's
	// fingerprint.
	Settings string
	// Progress receives the progress bar or lines, and warnings.
	Progress io.Writer
}

// A Summary is what a batch did.
type Summary struct {
	Rows []*Row
	// Graded and Reused count the rows graded now and those whose stored
	// result was kept.
	Graded, Reused int
	Wall           time.Duration
}

// Count returns the number of rows with status st.
func (s *Summary) Count(st Status) int {
	n := 0
	for _, r := range s.Rows {
		if r.Status == st {
			n++
		}
	}
	return n
}

// Run grades the submissions under opts.Dir (those of opts.Shard) with
// graders forked from g, opts.Parallel at a time, and writes the outputs.
// A submission that cannot be read, or that the grader fails on, is a row
// that says so; it stops nothing else. Cancelling ctx stops the batch
// after writing what is done: running it again resumes.
func Run(ctx context.Context, g *grading.Grader, opts Options) (*Summary, error) {
	start := time.Now()
	if opts.Parallel < 1 {
		opts.Parallel = DefaultParallel()
	}
	if err := CheckDirs(opts.Dir, opts.Out); err != nil {
		return nil, err
	}
	all, ignored, err := Discover(opts.Dir)
	if err != nil {
		return nil, err
	}
	for _, name := range ignored {
		fmt.Fprintf(opts.Progress, "batch: note: not a submission, passed over: %s\n", name)
	}
	var srcs []Source
	for _, s := range all {
		if opts.Shard.Has(s.Name) {
			srcs = append(srcs, s)
		}
	}
	fp, err := graderFingerprint(g.Repo, opts.Settings)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{ResultsDir, FeedbackDir, RowsDir} {
		if err := os.MkdirAll(filepath.Join(opts.Out, d), 0o755); err != nil {
			return nil, err
		}
	}
	scratch, err := os.MkdirTemp("", "ipclab-batch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)

	m := &Manifest{Schema: ManifestSchema, Grader: fp, Shard: opts.Shard.String(), Exercises: ids(opts.Exercises)}
	for _, s := range srcs {
		m.Submissions = append(m.Submissions, s.Name)
	}
	if err := writeJSON(filepath.Join(opts.Out, ManifestFile), m); err != nil {
		return nil, err
	}

	sum := &Summary{Rows: make([]*Row, len(srcs))}
	prog := newProgress(opts.Progress, len(srcs))
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, opts.Parallel)
		errs []error
	)
	for i, src := range srcs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			row, reused, err := one(ctx, g, opts, src, fp, scratch)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if ctx.Err() == nil {
					errs = append(errs, fmt.Errorf("%s: %w", src.Name, err))
				}
				return
			}
			sum.Rows[i] = row
			if reused {
				sum.Reused++
			} else {
				sum.Graded++
			}
			prog.done(row, reused)
		}()
	}
	wg.Wait()
	prog.finish()

	var rows []*Row
	for _, r := range sum.Rows {
		if r != nil {
			rows = append(rows, r)
		}
	}
	sum.Rows = rows
	sum.Wall = time.Since(start)
	m.Complete = len(rows) == len(srcs)
	if err := writeGradebook(opts.Out, m, rows); err != nil {
		return sum, err
	}
	if err := errors.Join(errs...); err != nil {
		return sum, err
	}
	if !m.Complete {
		return sum, fmt.Errorf("interrupted after %d of %d submissions: run the same command again to grade the rest (finished ones are kept)", len(rows), len(srcs))
	}
	return sum, nil
}

// CheckDirs refuses an output directory inside the class directory (it
// would be taken for a submission, or written into one) or holding it
// (the batch would write among the submissions).
func CheckDirs(dir, out string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory of submissions", dir)
	}
	d, err1 := filepath.Abs(dir)
	o, err2 := filepath.Abs(out)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if within(d, o) || within(o, d) {
		return fmt.Errorf("the output directory %s and the submissions %s overlap: choose an -out outside the class directory", out, dir)
	}
	return nil
}

// within reports whether path p is dir or lies below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func ids(exs []*course.Exercise) []string {
	var out []string
	for _, e := range exs {
		out = append(out, e.ID)
	}
	return out
}

// one grades one submission, or keeps its stored row when neither it nor
// the grader changed. An error is the grader's own failure, or ctx's; a
// submission's faults are in its row.
func one(ctx context.Context, g *grading.Grader, opts Options, src Source, fp, scratch string) (row *Row, reused bool, err error) {
	start := time.Now()
	co, err := open(ctx, src, scratch, opts.Deadline)
	var hash string
	if err == nil {
		if hash, err = contentHash(co.Root); err != nil {
			co.Close()
			err = unreadable("cannot read the submission's files: %v", err)
		}
	}
	var bad *unreadableError
	if errors.As(err, &bad) {
		row := &Row{Submission: src.Name, Kind: src.Kind, Status: Unreadable, Message: bad.msg, Grader: fp, Isolation: score.IsolationOf(g.Opts.Isolation).Level}
		row.MaxScore = maxScore(opts.Exercises, g)
		row.Seconds = time.Since(start).Seconds()
		return row, false, save(opts.Out, row, nil, feedbackOfUnreadable(src.Name, bad.msg))
	}
	if err != nil {
		return nil, false, err
	}
	defer co.Close()
	if !opts.Force {
		if old, err := readRow(filepath.Join(opts.Out, RowsDir, src.Name+".json")); err == nil &&
			old.Hash == hash && old.Grader == fp && old.Commit == co.Commit && old.Status != Failed && resultsExist(opts.Out, src.Name) {
			return old, true, nil
		}
	}
	res, gerr := g.Fork().Submission(ctx, co.Root, opts.Exercises)
	if gerr != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		row := &Row{Submission: src.Name, Kind: src.Kind, Commit: co.Commit, Status: Failed, Message: "the grader failed: " + gerr.Error(), Grader: fp, Isolation: score.IsolationOf(g.Opts.Isolation).Level}
		row.MaxScore = maxScore(opts.Exercises, g)
		row.Seconds = time.Since(start).Seconds()
		return row, false, save(opts.Out, row, nil, feedbackOfUnreadable(src.Name, "the grader failed on it; your instructor will grade it again"))
	}
	res.Submission = src.Name
	row = rowOf(src, res)
	row.Commit, row.Hash, row.Grader, row.Message = co.Commit, hash, fp, co.Note
	row.Seconds = time.Since(start).Seconds()
	var md bytes.Buffer
	if err := report.Markdown(&md, res); err != nil {
		return nil, false, err
	}
	return row, false, save(opts.Out, row, res, md.Bytes())
}

func maxScore(exs []*course.Exercise, g *grading.Grader) float64 {
	total := 0.0
	for _, e := range exs {
		total += e.MaxScore(g.Opts.Hidden)
	}
	return total
}

func resultsExist(out, name string) bool {
	for _, f := range []string{filepath.Join(out, ResultsDir, name+".json"), filepath.Join(out, FeedbackDir, name+".md")} {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	return true
}

// save writes a submission's outputs, the row last: a row on disk means
// the files it stands for are complete.
func save(out string, row *Row, res *score.Result, feedback []byte) error {
	resFile := filepath.Join(out, ResultsDir, row.Submission+".json")
	if res != nil {
		var buf bytes.Buffer
		if err := report.JSON(&buf, res); err != nil {
			return err
		}
		if err := writeFileAtomic(resFile, buf.Bytes()); err != nil {
			return err
		}
	} else if err := os.Remove(resFile); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, FeedbackDir, row.Submission+".md"), feedback); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, RowsDir, row.Submission+".json"), row)
}

func feedbackOfUnreadable(name, why string) []byte {
	return []byte(fmt.Sprintf("# ipclab: %s\n\nYour submission could not be graded, and scores nothing for now:\n\n```text\n%s\n```\n", name, strings.ReplaceAll(why, "`", "'")))
}

func writeGradebook(out string, m *Manifest, rows []*Row) error {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, m.Exercises, rows); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, GradebookFile), buf.Bytes()); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, ManifestFile), m)
}

// ReadManifest reads a batch output's batch.json.
func ReadManifest(out string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(out, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a batch's output: %w", out, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(out, ManifestFile), err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", filepath.Join(out, ManifestFile), m.Schema, ManifestSchema)
	}
	return &m, nil
}
