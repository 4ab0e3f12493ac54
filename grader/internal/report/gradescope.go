package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// Gradescope's settings of who sees what, and when
// (docs/specs.md of gradescope/autograder_samples, "Controlling Test
// Case Visibility"), from the most shown to the least.
const (
	// VisibilityVisible: always shown.
	VisibilityVisible = "visible"
	// VisibilityAfterDueDate: shown once the due date (or the late due
	// date) has passed.
	VisibilityAfterDueDate = "after_due_date"
	// VisibilityAfterPublished: shown once the instructor publishes the
	// grades.
	VisibilityAfterPublished = "after_published"
	// VisibilityHidden: never shown to students.
	VisibilityHidden = "hidden"
)

// GradescopeVisibilities lists the visibility settings Gradescope
// accepts.
var GradescopeVisibilities = []string{VisibilityVisible, VisibilityAfterDueDate, VisibilityAfterPublished, VisibilityHidden}

// ValidVisibility reports whether v is one of Gradescope's visibility
// settings.
func ValidVisibility(v string) bool { return slices.Contains(GradescopeVisibilities, v) }

// GradescopeOptions are the choices of the gradescope format.
type GradescopeOptions struct {
	// HiddenVisibility is when students see the hidden tests, one of
	// GradescopeVisibilities; "" is VisibilityAfterDueDate, so that a
	// hidden test's name and message do not teach students the test
	// before the deadline. Visible tests are always VisibilityVisible.
	HiddenVisibility string
}

func (o GradescopeOptions) hiddenVisibility() (string, error) {
	switch v := o.HiddenVisibility; {
	case v == "":
		return VisibilityAfterDueDate, nil
	case ValidVisibility(v):
		return v, nil
	}
	return "", fmt.Errorf("gradescope format: unknown visibility %q for the hidden tests (Gradescope's are %s)", o.HiddenVisibility, strings.Join(GradescopeVisibilities, ", "))
}

// gradescopeResults is Gradescope's results.json, with the fields of its
// specification that we fill in; GRADESCOPE.md beside this file maps each
// to the result it comes from.
type gradescopeResults struct {
	Score            float64          `json:"score"`
	ExecutionTime    int              `json:"execution_time"`
	Output           string           `json:"output"`
	OutputFormat     string           `json:"output_format"`
	TestOutputFormat string           `json:"test_output_format"`
	TestNameFormat   string           `json:"test_name_format"`
	Visibility       string           `json:"visibility"`
	StdoutVisibility string           `json:"stdout_visibility"`
	Tests            []gradescopeTest `json:"tests"`
}

type gradescopeTest struct {
	Name       string  `json:"name"`
	Score      float64 `json:"score"`
	MaxScore   float64 `json:"max_score"`
	Status     string  `json:"status"`
	Output     string  `json:"output"`
	Visibility string  `json:"visibility"`
}

// gradescopeText is the format of every string we write: Gradescope shows
// it as it is, in a <pre> block for a test's output, rendering no HTML,
// Markdown or ANSI colours. A submission's output can then neither style
// nor link anything, and needs no escaping beyond JSON's.
const gradescopeText = "text"

// maxGradescopeOutput bounds, in bytes, each output string (a test's, and
// each exercise's message in the summary). Gradescope documents no limit
// on results.json, but every test of an exercise that could not be tested
// repeats the exercise's message (a compiler's output, say), and a page of
// a hundred and fifty tests should stay readable: 4 KiB holds the
// longest message the grader writes itself (a test's failure is cut at
// 1500 bytes, see package testjson) and the ten errors the compiler
// prints before it gives up. With JSON writing a character as at most
// twice its bytes, the course's tests all failing with the longest
// messages come to about 1.3 MB (gradescope_test.go checks under 2 MiB).
const maxGradescopeOutput = 4096

// Gradescope prints r as the results.json of Gradescope's autograder
// specification, for /autograder/results/results.json:
//
//   - score: r.Score, the total, which is also the sum of the tests';
//     execution_time: the tests' wall times added up, in whole seconds;
//   - output: a summary, in plain text: the total (or, while Gradescope
//     withholds the hidden tests, what the visible ones earned), the
//     isolation level the tests ran with, and the message of every
//     exercise that has one, so that a student whose hidden tests are
//     withheld still learns why an exercise could not be tested;
//   - tests: one per test, named "<exercise>: <test>", with its score and
//     points, "passed" only when it passed ("failed" for a fail and for an
//     error, the spec's only other status), its message as its output (an
//     exercise that could not be tested gives each of its tests its own
//     message), and its visibility: "visible", or for a hidden test
//     opts.HiddenVisibility.
//
// Every string is in Gradescope's "text" format, its line endings "\n" as
// the specification asks, control characters replaced and each output
// cut to maxGradescopeOutput bytes; JSON encoding does the rest, so that
// nothing a submission prints can change the document around it.
func Gradescope(w io.Writer, r *score.Result, opts GradescopeOptions) error {
	hidden, err := opts.hiddenVisibility()
	if err != nil {
		return err
	}
	doc := gradescopeResults{
		Score:            r.Score,
		Output:           gradescopeSummary(r, hidden),
		OutputFormat:     gradescopeText,
		TestOutputFormat: gradescopeText,
		TestNameFormat:   gradescopeText,
		Visibility:       VisibilityVisible,
		// What the grader logs (notes on isolation, paths of the
		// machine) is for the instructor; what students need is in
		// the outputs.
		StdoutVisibility: VisibilityHidden,
		Tests:            []gradescopeTest{},
	}
	var seconds float64
	for _, e := range r.Exercises {
		for _, t := range e.Tests {
			seconds += t.Seconds
			gt := gradescopeTest{
				Name:       e.ID + ": " + t.Name,
				Score:      t.Score,
				MaxScore:   t.MaxScore,
				Status:     "failed",
				Output:     gradescopeOutput(testOutput(e, t)),
				Visibility: VisibilityVisible,
			}
			if t.Status == score.Pass {
				gt.Status = "passed"
			}
			if t.Hidden {
				gt.Name += " (hidden)"
				gt.Visibility = hidden
			}
			doc.Tests = append(doc.Tests, gt)
		}
	}
	doc.ExecutionTime = int(math.Round(seconds))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// testOutput is what Gradescope shows of test t of exercise e: its
// message, or for an exercise that could not be tested the exercise's.
func testOutput(e *score.Exercise, t *score.Test) string {
	if t.Message == score.NotRun && e.Message != "" {
		return "not run: the exercise could not be tested:\n" + e.Message
	}
	return t.Message
}

// gradescopeSummary is the top-level output. While Gradescope withholds
// the hidden tests it shows students no total either, so neither does
// the summary: it gives what the visible tests earned, and says when the
// rest will be shown.
func gradescopeSummary(r *score.Result, hidden string) string {
	var b strings.Builder
	var visible, visibleMax, withheldMax float64
	withheld := 0
	for _, e := range r.Exercises {
		for _, t := range e.Tests {
			switch {
			case !t.Hidden || hidden == VisibilityVisible:
				visible += t.Score
				visibleMax += t.MaxScore
			default:
				withheld++
				withheldMax += t.MaxScore
			}
		}
	}
	if withheld == 0 {
		fmt.Fprintf(&b, "Total: %s points.\n", points(r.Score, r.MaxScore))
	} else {
		fmt.Fprintf(&b, "Visible tests: %s points. %s, worth %s points, %s.\n",
			points(visible, visibleMax), plural(withheld, "hidden test"), num(withheldMax), whenShown(hidden, withheld))
	}
	b.WriteString(isolationLine(r.Isolation) + "\n")
	for _, e := range r.Exercises {
		if e.Message == "" {
			continue
		}
		what := ""
		if e.Status == score.Error {
			what = " could not be tested"
		}
		fmt.Fprintf(&b, "\n%s (%s)%s:\n%s\n", e.ID, e.Title, what, indent(gradescopeOutput(e.Message), "  "))
	}
	// Bounded without a cut of its own: each message is cut, and the
	// rest is ours.
	return strings.TrimSuffix(b.String(), "\n")
}

// whenShown says when students see withheld tests.
func whenShown(visibility string, n int) string {
	verb := "are"
	if n == 1 {
		verb = "is"
	}
	switch visibility {
	case VisibilityAfterDueDate:
		return verb + " shown after the due date, with the total"
	case VisibilityAfterPublished:
		return verb + " shown when the grades are published, with the total"
	}
	return verb + " not shown to students"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// gradescopeOutput makes s plain text with "\n" line endings, and cuts it
// to maxGradescopeOutput bytes.
func gradescopeOutput(s string) string {
	return clip(safeText(s), maxGradescopeOutput)
}
