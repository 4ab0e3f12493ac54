package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ipclab/ipclab/grader/internal/score"
)

// Markdown prints r as a GitHub-flavoured Markdown report, for
// $GITHUB_STEP_SUMMARY and feedback files: the total, the isolation level,
// a table of the exercises, then each exercise with the messages of the
// tests it did not pass. Every message, and anything else a submission can
// influence, goes into a fenced code block, where neither Markdown nor
// HTML is interpreted.
func Markdown(w io.Writer, r *score.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Total: %s\n\n", points(r.Score, r.MaxScore))
	iso := isolationLine(r.Isolation)
	if !r.Isolation.TamperProof {
		iso = "⚠️ " + iso
	}
	fmt.Fprintf(&b, "%s\n\n", mdText(iso))

	if len(r.Exercises) > 0 {
		b.WriteString("| exercise | title | points | status |\n| --- | --- | ---: | --- |\n")
		for _, e := range r.Exercises {
			fmt.Fprintf(&b, "| %s | %s | %s | %s %s |\n", mdText(e.ID), mdText(e.Title), points(e.Score, e.MaxScore), emoji(e.Status), e.Status)
		}
		fmt.Fprintf(&b, "| **total** | | **%s** | |\n\n", points(r.Score, r.MaxScore))
	}
	for _, e := range r.Exercises {
		markdownExercise(&b, e)
	}
	// Every part ends with a blank line; the report ends with one newline.
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

func markdownExercise(b *strings.Builder, e *score.Exercise) {
	fmt.Fprintf(b, "## %s %s: %s, %s\n\n", emoji(e.Status), mdText(e.ID), mdText(e.Title), points(e.Score, e.MaxScore))
	if e.Message != "" {
		b.WriteString(codeBlock(e.Message))
	}
	var passed, notRun []string
	for _, t := range e.Tests {
		switch {
		case t.Status == score.Pass:
			passed = append(passed, testName(t))
		case t.Message == score.NotRun:
			notRun = append(notRun, testName(t))
		}
	}
	switch {
	case len(e.Tests) == 0:
		b.WriteString("No tests.\n\n")
	case len(passed) == len(e.Tests):
		fmt.Fprintf(b, "All %d tests passed.\n\n", len(e.Tests))
	case len(passed) > 0:
		fmt.Fprintf(b, "Passed %d of %d tests: %s.\n\n", len(passed), len(e.Tests), strings.Join(passed, ", "))
	}
	if len(notRun) > 0 {
		fmt.Fprintf(b, "Not run, as the exercise could not be tested: %s.\n\n", strings.Join(notRun, ", "))
	}
	for _, t := range e.Tests {
		if t.Status == score.Pass || t.Message == score.NotRun {
			continue
		}
		fmt.Fprintf(b, "%s %s: %s, %s\n\n", emoji(t.Status), testName(t), points(t.Score, t.MaxScore), t.Status)
		if t.Message != "" {
			b.WriteString(codeBlock(t.Message))
		}
	}
}

// testName is the test's name as code, marked when hidden.
func testName(t *score.Test) string {
	name := codeSpan(t.Name)
	if t.Hidden {
		name += " (hidden)"
	}
	return name
}

func emoji(s score.Status) string {
	switch s {
	case score.Pass:
		return "✅"
	case score.Fail:
		return "❌"
	}
	return "⚠️"
}

// mdText escapes s to be read as plain text on one line: inline Markdown,
// raw HTML, entities and table cells all lose their meaning.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		if strings.ContainsRune("\\`*_[]<>|&!~#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// codeSpan puts s, on one line, into an inline code span, its delimiters
// longer than any run of backticks in s. Not for table cells, where a pipe
// would still end the cell.
func codeSpan(s string) string {
	s = oneLine(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// codeBlock puts s into a fenced code block, its fence longer than any run
// of backticks in s, so that nothing in s can close it early.
func codeBlock(s string) string {
	s = strings.TrimRight(safeText(s), "\n")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + "text\n" + s + "\n" + fence + "\n\n"
}

// safeText turns line endings into "\n", and control characters other
// than tabs, which could rewrite what a terminal or log shows, into U+FFFD.
func safeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return utf8.RuneError
		}
		return r
	}, s)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(safeText(s)), " ")
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
