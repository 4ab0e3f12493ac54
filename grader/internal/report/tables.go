package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/verify"
)

// List prints the exercises, one line each: number, id, visible and hidden
// points, what it teaches.
func List(w io.Writer, exs []*course.Exercise) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\texercise\tvisible\thidden\tteaches\n")
	for _, e := range exs {
		unix := ""
		if e.UnixOnly {
			unix = " (Unix only)"
		}
		visible := e.MaxScore(false)
		fmt.Fprintf(tw, "%d\t%s\t%g\t%g\t%s%s\n", e.Number, e.ID, visible, e.MaxScore(true)-visible, e.Teaches, unix)
	}
	return tw.Flush()
}

// Verify prints a verification: a line per check, the structure problems,
// what is wrong and what varied (with the first failure of each test that
// varied), and a summary line.
func Verify(w io.Writer, rep *verify.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "exercise\timplementation\tscore\truns\tverdict\n")
	for _, c := range rep.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.Exercise, c.Name(), c.ScoreRange(), c.Runs, c.Verdict())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, s := range rep.Structure {
		fmt.Fprintf(w, "structure: %s\n", s)
	}
	var wrong, varied int
	for _, c := range rep.Checks {
		if !c.OK() {
			wrong++
			fmt.Fprintf(w, "WRONG %s %s: %s\n", c.Exercise, c.Name(), c.Problem)
			if c.Message != "" {
				fmt.Fprintf(w, "%s\n", indentLines(c.Message, "    "))
			}
		}
		for _, v := range c.Varied {
			varied++
			fmt.Fprintf(w, "varied %s %s: %s\n", c.Exercise, c.Name(), v)
		}
		for _, name := range c.VariedTests() {
			if msg := c.Failure[name]; msg != "" {
				fmt.Fprintf(w, "    first failure of %s:\n%s\n", name, indentLines(msg, "        "))
			}
		}
	}
	_, err := fmt.Fprintf(w, "%d checks, %d wrong; %d test results varied between runs; %d structure problems\n", len(rep.Checks), wrong, varied, len(rep.Structure))
	return err
}

func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
