// Package report prints grading results in the formats people and tools
// read.
//
//   - "table": for people at a terminal; the default.
//   - "json": one JSON document, the result model of package score, whose
//     schema is described in SCHEMA.md beside this file and versioned by
//     its "schema" field.
//   - "markdown": a report in GitHub-flavoured Markdown, for a workflow's
//     $GITHUB_STEP_SUMMARY and for feedback files: the total, a table of
//     the exercises, and the message of every test not passed.
//   - "classroom": environment assignments to append to $GITHUB_ENV, the
//     list of runners and then "<ID>_RESULTS=<base64 JSON>" for each, so
//     that GitHub Classroom's autograding reporter
//     (classroom-resources/autograding-grading-reporter@v1) reads each
//     test as one of its runners, and prints and sends the score to
//     Classroom; CLASSROOM.md beside this file shows the workflow and the
//     format.
//   - "junit": JUnit XML in the shape gotestsum --junitfile writes, for CI
//     systems and test dashboards: a suite per exercise, a case per test,
//     hidden ones included, points and status as properties; JUNIT.md
//     beside this file gives the mapping.
//   - "gradescope": the results.json of Gradescope's autograder, one
//     Gradescope test per test, the hidden ones shown to students after
//     the due date unless [GradescopeOptions] say otherwise;
//     GRADESCOPE.md beside this file maps every field to the result.
//
// [List] and [Verify] print the two tables that are not results: the
// course's exercises, and a verification of the course.
//
// Whatever a submission can put into a message (test output, file names)
// is printed so that it cannot change the format around it: in code
// blocks in Markdown, in the classroom format never as a line that a
// GitHub Actions log would run as a workflow command, in JUnit XML
// escaped, without the characters XML forbids, and in the gradescope
// format as JSON strings of Gradescope's plain "text" format.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// Formats lists the output formats, the default first.
var Formats = []string{"table", "json", "markdown", "classroom", "junit", "gradescope"}

// ValidFormat reports whether name is an output format.
func ValidFormat(name string) bool { return slices.Contains(Formats, name) }

// Options are the choices some formats offer; the zero value is every
// format's default.
type Options struct {
	Gradescope GradescopeOptions
}

// Write prints r in the named format, with the formats' defaults.
func Write(w io.Writer, format string, r *score.Result) error {
	return WriteWith(w, format, r, Options{})
}

// WriteWith prints r in the named format, with opts.
func WriteWith(w io.Writer, format string, r *score.Result, opts Options) error {
	switch format {
	case "table":
		return Table(w, r)
	case "json":
		return JSON(w, r)
	case "markdown":
		return Markdown(w, r)
	case "classroom":
		return Classroom(w, r)
	case "junit":
		return JUnit(w, r)
	case "gradescope":
		return Gradescope(w, r, opts.Gradescope)
	}
	return fmt.Errorf("unknown format %q (formats: %s)", format, strings.Join(Formats, ", "))
}

// JSON prints r as one indented JSON document.
func JSON(w io.Writer, r *score.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Table prints r for people: one line per test, failure messages
// indented below, a total at the end, and the isolation level the tests
// ran with.
func Table(w io.Writer, r *score.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range r.Exercises {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, points(e.Score, e.MaxScore), e.Status, e.Title)
		for _, t := range e.Tests {
			name := t.Name
			if t.Hidden {
				name += " (hidden)"
			}
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", mark(t.Status), name, points(t.Score, t.MaxScore), t.Status)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, t := range e.Tests {
			if t.Message != "" && t.Message != score.NotRun {
				fmt.Fprintf(w, "  %s:\n%s\n", t.Name, indent(t.Message, "      "))
			}
		}
		if e.Message != "" {
			fmt.Fprintf(w, "%s\n", indent(e.Message, "  "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "total %s\n", points(r.Score, r.MaxScore))
	fmt.Fprintln(w, isolationLine(r.Isolation))
	return nil
}

// isolationLine names the isolation level, and says plainly when the score
// could have been forged.
func isolationLine(i score.Isolation) string {
	level := i.Level
	if level == "" {
		level = "unknown"
	}
	if i.TamperProof {
		return "isolation: " + level + " (tamper-proof)"
	}
	line := "isolation: " + level + " — NOT tamper-proof"
	if i.Note != "" {
		line += ": " + i.Note
	}
	return line
}

func mark(s score.Status) string {
	switch s {
	case score.Pass:
		return "ok  "
	case score.Fail:
		return "FAIL"
	}
	return "ERR "
}

// points prints "37.5/100" without trailing zeros.
func points(got, max float64) string {
	return fmt.Sprintf("%s/%s", num(got), num(max))
}

func num(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
