package batch

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// Status is a gradebook row's verdict on how grading went (not on the
// code: the scores say that).
type Status string

// Row statuses.
const (
	// Graded: every test ran.
	Graded Status = "graded"
	// OutOfTime: the submission's time budget ran out, so some tests were
	// not run or were stopped early; they score nothing, and the
	// feedback names them.
	OutOfTime Status = "out-of-time"
	// Unreadable: the submission could not be read as one (a broken zip,
	// no commit before the deadline); the message says why. The
	// student's problem; it scores nothing.
	Unreadable Status = "unreadable"
	// Failed: the grader itself failed on this submission; the message
	// says how. Run the batch again: failed rows are graded again.
	Failed Status = "failed"
)

// A Row is one submission's line in the gradebook, stored beside its
// result so that a later run, or a merge, can rebuild the gradebook
// without grading again.
type Row struct {
	Submission string `json:"submission"`
	Kind       Kind   `json:"kind"`
	// Commit is the commit graded, for a git repository.
	Commit    string    `json:"commit,omitempty"`
	Scores    []ExScore `json:"scores"`
	Score     float64   `json:"score"`
	MaxScore  float64   `json:"max_score"`
	Status    Status    `json:"status"`
	Isolation string    `json:"isolation"`
	Seconds   float64   `json:"seconds"`
	Message   string    `json:"message,omitempty"`
	Hash      string    `json:"hash,omitempty"`
	Grader    string    `json:"grader"`
}

// An ExScore is one exercise's score in a row.
type ExScore struct {
	ID       string  `json:"id"`
	Score    float64 `json:"score"`
	MaxScore float64 `json:"max_score"`
}

// rowOf is the row of a graded result.
func rowOf(src Source, res *score.Result) *Row {
	r := &Row{Submission: src.Name, Kind: src.Kind, Score: res.Score, MaxScore: res.MaxScore, Status: Graded, Isolation: res.Isolation.Level}
	for _, e := range res.Exercises {
		r.Scores = append(r.Scores, ExScore{ID: e.ID, Score: e.Score, MaxScore: e.MaxScore})
	}
	if res.BudgetSpent {
		r.Status = OutOfTime
	}
	return r
}

// Columns returns the gradebook's header for the exercises ids.
func Columns(ids []string) []string {
	cols := []string{"submission"}
	cols = append(cols, ids...)
	return append(cols, "total", "max", "status", "isolation", "seconds", "commit", "message")
}

// WriteCSV writes the gradebook: a header, then one row per submission in
// the order given, with a column for each exercise of ids (empty when the
// row has no score for it: an unreadable submission, a failed grading).
func WriteCSV(w io.Writer, ids []string, rows []*Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns(ids)); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{cell(r.Submission)}
		for _, id := range ids {
			v := ""
			for _, s := range r.Scores {
				if s.ID == id {
					v = num(s.Score)
				}
			}
			rec = append(rec, v)
		}
		rec = append(rec, num(r.Score), num(r.MaxScore), string(r.Status), r.Isolation,
			strconv.FormatFloat(r.Seconds, 'f', 1, 64), r.Commit, cell(oneLine(r.Message)))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// cell keeps a text a submission can influence (a file name in a message)
// from being read as a formula by the spreadsheet the gradebook is opened
// in: a leading =, +, -, @, tab or carriage return is quoted away.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 300
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// writeFileAtomic writes data to file through a temporary file in the
// same directory, so that an interrupted batch leaves either the old file
// or the new one, never half of one.
func writeFileAtomic(file string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(file), ".tmp-"+filepath.Base(file)+"-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func writeJSON(file string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(file, append(data, '\n'))
}

func readRow(file string) (*Row, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var r Row
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &r, nil
}
