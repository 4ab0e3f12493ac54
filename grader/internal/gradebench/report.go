package gradebench

import (
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Table prints the comparisons: each round's wall times, the ratio of
// the fastest rounds against its target, and where grade's time went.
func (r *Results) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "on %s/%s, %d CPUs, grade with -jobs %d, warm build cache\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.Jobs)
	if c := r.Grading; c != nil {
		b := c.Best()
		fmt.Fprintf(tw, "%s (reference solutions, hidden tests)\t%s\tbest\n", c.What, roundHeads(c))
		fmt.Fprintf(tw, "go test -race -count=1 ./...\t%s\t%s\n", column(c, func(r Round) time.Duration { return r.GoTest }), secs(b.GoTest))
		fmt.Fprintf(tw, "grade\t%s\t%s\n", column(c, func(r Round) time.Duration { return r.Grade }), secs(b.Grade))
		fmt.Fprintf(tw, "grade / go test\t\t%.2fx  %s\n", b.Ratio(), verdict(b.Ratio(), GradingTarget))
		tw.Flush()
		t := b.Timings
		fmt.Fprintf(w, "\nwhere grade's time went (its fastest round):\n")
		fmt.Fprintf(w, "  builds:          %d; added up, static checks %s, waiting for a slot %s, compiling %s\n", t.BuildCount, secs(t.Checks), secs(t.SlotWait), secs(t.Compiles))
		fmt.Fprintf(w, "  test processes:  %d, %s added up; the tests' own time %s (go test's: %s over %d tests)\n",
			t.TestCount, secs(t.Processes), secs(t.Tests), secs(b.GoTestTests), b.GoTestCount)
		if t.TestCount > 0 {
			over := t.Processes - t.Tests
			fmt.Fprintf(w, "  one process per test costs %s added up, %s a test (start, sandbox, output, exit)\n", secs(over), (over / time.Duration(t.TestCount)).Round(time.Millisecond))
		}
		if len(b.Slowest) > 0 {
			fmt.Fprintf(w, "  go test's slowest tests:")
			for _, s := range b.Slowest {
				fmt.Fprintf(w, " %s.%s %s;", path.Base(s.Package), s.Test, secs(s.Elapsed))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	if c := r.Latency; c != nil {
		b := c.Best()
		id := strings.TrimPrefix(c.What, "latency ")
		fmt.Fprintf(tw, "student latency: edit %s's file, then score the visible tests\t%s\tbest\n", id, roundHeads(c))
		fmt.Fprintf(tw, "go test -race\t%s\t%s\n", column(c, func(r Round) time.Duration { return r.GoTest }), secs(b.GoTest))
		fmt.Fprintf(tw, "grader test %s\t%s\t%s\n", id, column(c, func(r Round) time.Duration { return r.Grade }), secs(b.Grade))
		fmt.Fprintf(tw, "grader test / go test\t\t%.2fx  %s\n", b.Ratio(), verdict(b.Ratio(), LatencyTarget))
	}
	return tw.Flush()
}

func roundHeads(c *Comparison) string {
	var heads []string
	for i := range c.Rounds {
		heads = append(heads, fmt.Sprintf("round %d", i+1))
	}
	return strings.Join(heads, "\t")
}

func column(c *Comparison, f func(Round) time.Duration) string {
	var cells []string
	for _, r := range c.Rounds {
		cells = append(cells, secs(f(r)))
	}
	return strings.Join(cells, "\t")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func verdict(ratio, target float64) string {
	if ratio <= target {
		return fmt.Sprintf("(target at most %.2fx: met)", target)
	}
	return fmt.Sprintf("(target at most %.2fx: not met)", target)
}
