package report

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// A classroomRunner is what one runner step of GitHub Classroom's
// autograding hands to classroom-resources/autograding-grading-reporter@v1,
// base64-encoded, in its "result" output. CLASSROOM.md beside this file
// says which fields the reporter reads and how.
type classroomRunner struct {
	Version  int             `json:"version"`
	Status   score.Status    `json:"status"`
	MaxScore float64         `json:"max_score"`
	Tests    []classroomTest `json:"tests"`
}

type classroomTest struct {
	Name    string       `json:"name"`
	Status  score.Status `json:"status"`
	Score   float64      `json:"score"`
	Message string       `json:"message"`
	// LineNo is always 0: the reporter prints " - line N" after the name
	// of any other value, "line undefined" included.
	LineNo int `json:"line_no"`
	// ExecutionTime is the wall time in seconds, to the millisecond:
	// "1.5s".
	ExecutionTime string `json:"execution_time"`
}

// classroomVersion is the "version" the reporter's own runners
// (autograding-command-grader, autograding-io-grader) write; the reporter
// does not read it.
const classroomVersion = 1

// Bounds on the messages in a runner's document. The reporter gets each
// document through an environment variable, and Linux refuses to start a
// process with one longer than 128 KiB (MAX_ARG_STRLEN): one long message
// could cost the whole grade. With at most 25 tests an exercise,
// these keep a document well under that even when JSON doubles every byte
// and base64 adds a third.
const (
	maxClassroomMessage         = 1024
	maxClassroomExerciseMessage = 4096
)

// Classroom prints r for GitHub Classroom's autograding reporter: one line
// per exercise, "<exercise id>=<base64 of its runner document>", the form
// a step appends to $GITHUB_OUTPUT so that the reporter step can receive
// each exercise as a runner named by its id (COUNTER_RESULTS: ${{
// steps.grade.outputs.counter }}, runners: counter,…).
//
// Each test carries its own score, and each exercise its max_score, so the
// points the reporter sends to Classroom are r.Score of r.MaxScore (what
// it prints in its log counts passed tests instead; see CLASSROOM.md). The
// reporter prints only the messages of tests in error, without their
// names; so a test in error has its name put before its message, and the
// first test of an exercise that could not be tested carries the
// exercise's message. Messages are made safe to print in a GitHub Actions
// log: no line in them reads as a workflow command.
func Classroom(w io.Writer, r *score.Result) error {
	for _, e := range r.Exercises {
		doc, err := json.Marshal(classroomRunnerOf(e))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s=%s\n", e.ID, base64.StdEncoding.EncodeToString(doc)); err != nil {
			return err
		}
	}
	return nil
}

func classroomRunnerOf(e *score.Exercise) classroomRunner {
	run := classroomRunner{Version: classroomVersion, Status: e.Status, MaxScore: e.MaxScore, Tests: []classroomTest{}}
	toldWhy := false
	for _, t := range e.Tests {
		msg := t.Message
		if msg == score.NotRun && e.Message != "" {
			if toldWhy {
				msg = "not run: the exercise could not be tested (see above)"
			} else {
				msg = "not run: the exercise could not be tested:\n" + clip(e.Message, maxClassroomExerciseMessage)
				toldWhy = true
			}
		} else {
			msg = clip(msg, maxClassroomMessage)
		}
		if t.Status == score.Error {
			msg = t.Name + ": " + msg
		}
		run.Tests = append(run.Tests, classroomTest{
			Name:          t.Name,
			Status:        t.Status,
			Score:         t.Score,
			Message:       safeForActionsLog(msg),
			ExecutionTime: strconv.FormatFloat(math.Round(t.Seconds*1000)/1000, 'f', -1, 64) + "s",
		})
	}
	return run
}

// clip cuts s to at most n bytes, on a character boundary, and says so.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (cut short)"
}

// safeForActionsLog makes s harmless to print in a GitHub Actions log. The
// runner reads a line as a workflow command when, leading white space
// trimmed, it starts with "::", or when it holds "##[" anywhere (the
// legacy form); a message from a hostile submission could otherwise add an
// annotation that forges the grade, or stop the commands the reporter
// prints to send the real one. Line endings and control characters are
// first made plain (see safeText): the runner splits lines at "\r" too.
func safeForActionsLog(s string) string {
	s = strings.ReplaceAll(safeText(s), "##[", "## [")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		rest := strings.TrimLeftFunc(l, unicode.IsSpace)
		if strings.HasPrefix(rest, "::") {
			lines[i] = l[:len(l)-len(rest)] + ": :" + rest[2:]
		}
	}
	return strings.Join(lines, "\n")
}
