package report

import (
	"bytes"
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
// base64-encoded, in an environment variable. We write one runner per
// test. CLASSROOM.md beside this file says which fields the reporter reads
// and how.
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

// classroomRunnersVar is the environment variable that lists the runners,
// for the workflow to give the reporter as its "runners" input.
const classroomRunnersVar = "IPCLAB_RUNNERS"

// Bounds, in bytes, on the messages in the runners' documents, once made
// safe to print (see safeForActionsLog). The reporter gets every document
// through its environment, which Linux limits in all (ARG_MAX, typically
// 2 MiB for the arguments and every variable, the runner's own included)
// and string by string (MAX_ARG_STRLEN, 128 KiB): an environment too
// large would stop the reporter from starting, and cost the whole grade.
// JSON writes a byte of a safe message as at most two (HTML escaping is
// off, and control characters and invalid UTF-8 are gone), and base64
// adds a third; with the exercise's message only once an exercise, the
// course's 157 tests all failing with the longest messages come to less
// than 450 KB (classroom_test.go checks that it stays under 1 MiB).
const (
	maxClassroomMessage         = 1024
	maxClassroomExerciseMessage = 4096
)

// Classroom prints r for GitHub Classroom's autograding reporter as
// environment assignments, one a line, to append to $GITHUB_ENV:
//
//	IPCLAB_RUNNERS=counter1,counter2,…
//	COUNTER1_RESULTS=<base64 of a runner document>
//	COUNTER2_RESULTS=…
//
// Each test is a runner of its own, whose id is the exercise's id followed
// by the test's 1-based position in the exercise (in the manifest's order
// when every test is graded), and whose document has that one test in it,
// with the test's points as its max_score. IPCLAB_RUNNERS, first, lists
// the runners for the reporter's "runners" input; each runner's document
// is in the variable the reporter reads it from, its id upper-cased and
// "_RESULTS".
//
// One runner per test makes both totals of the reporter r.Score of
// r.MaxScore: the points it sends to Classroom sum the tests' scores, and
// the points it prints count the share of a runner's tests that passed
// times its max_score, which is the test's score when the runner has one
// test (see CLASSROOM.md). The reporter prints only the messages of tests
// in error, without their names; so a test in error has its name put
// before its message, and the first test of an exercise that could not be
// tested carries the exercise's message. Messages are made safe to print
// in a GitHub Actions log: no line in them reads as a workflow command.
//
// Nothing is printed, and an error returned, when there is no test to
// report or two tests would share a runner id.
func Classroom(w io.Writer, r *score.Result) error {
	var ids, lines []string
	seen := map[string]bool{}
	for _, e := range r.Exercises {
		prefix := classroomRunnerPrefix(e.ID)
		if prefix == "" {
			return fmt.Errorf("classroom format: exercise id %q has no letter or digit to name its runners", e.ID)
		}
		toldWhy := false
		for i, t := range e.Tests {
			id := prefix + strconv.Itoa(i+1)
			if seen[id] {
				return fmt.Errorf("classroom format: two tests would both be runner %s (exercise %s, test %s)", id, e.ID, t.Name)
			}
			seen[id] = true
			doc, err := classroomDocument(classroomRunnerOf(e, t, &toldWhy))
			if err != nil {
				return err
			}
			ids = append(ids, id)
			lines = append(lines, strings.ToUpper(id)+"_RESULTS="+base64.StdEncoding.EncodeToString(doc))
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("classroom format: no test to report (the reporter needs at least one runner)")
	}
	if _, err := fmt.Fprintf(w, "%s=%s\n", classroomRunnersVar, strings.Join(ids, ",")); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// classroomRunnerPrefix is the start of the runner ids of an exercise's
// tests: its id, lower-cased, with letters and digits only, as the
// reporter requires ("counter").
func classroomRunnerPrefix(exerciseID string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return -1
	}, exerciseID)
}

// classroomDocument is the JSON of a runner, without the HTML escaping
// that would write each of "<", ">" and "&" as six bytes.
func classroomDocument(run classroomRunner) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(run); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// classroomRunnerOf is the runner of test t of exercise e. *toldWhy says
// whether an earlier test of e already carries the message of an
// exercise that could not be tested.
func classroomRunnerOf(e *score.Exercise, t *score.Test, toldWhy *bool) classroomRunner {
	msg, limit := t.Message, maxClassroomMessage
	if msg == score.NotRun && e.Message != "" {
		if *toldWhy {
			msg = "not run: the exercise could not be tested (see above)"
		} else {
			msg = "not run: the exercise could not be tested:\n" + e.Message
			limit = maxClassroomExerciseMessage
			*toldWhy = true
		}
	}
	if t.Status == score.Error {
		msg = t.Name + ": " + msg
	}
	return classroomRunner{
		Version:  classroomVersion,
		Status:   t.Status,
		MaxScore: t.MaxScore,
		Tests: []classroomTest{{
			Name:   t.Name,
			Status: t.Status,
			Score:  t.Score,
			// Made safe first, then cut, so that the bound holds for what
			// is written: making safe can lengthen a message.
			Message:       clip(safeForActionsLog(msg), limit),
			ExecutionTime: strconv.FormatFloat(math.Round(t.Seconds*1000)/1000, 'f', -1, 64) + "s",
		}},
	}
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
