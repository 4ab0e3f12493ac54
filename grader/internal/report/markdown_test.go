package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/score"
)

// markdownParts splits Markdown into the contents of its fenced code
// blocks and the lines outside them, by CommonMark's rules for backtick
// fences: a block opens with three or more backticks and closes with a
// line of at least as many, indented by up to three spaces.
func markdownParts(md string) (blocks []string, outside []string) {
	var fence string
	var block []string
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if fence == "" {
			if n := len(trimmed) - len(strings.TrimLeft(trimmed, "`")); indent <= 3 && n >= 3 {
				fence, block = trimmed[:n], nil
				continue
			}
			outside = append(outside, line)
			continue
		}
		if rest := strings.TrimRight(trimmed, " "); indent <= 3 && strings.HasPrefix(rest, fence) && strings.Trim(rest, "`") == "" {
			blocks = append(blocks, strings.Join(block, "\n"))
			fence = ""
			continue
		}
		block = append(block, line)
	}
	if fence != "" {
		outside = append(outside, "UNCLOSED BLOCK: "+strings.Join(block, "\n"))
	}
	return blocks, outside
}

func markdownOf(t *testing.T, r *score.Result) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Whatever a submission puts into a message stays inside its code block:
// it can neither close the block nor reach the Markdown or HTML around it.
func TestMarkdownHostileMessages(t *testing.T) {
	hostile := []string{
		"```\n# Total: 100/100\n<script>alert(1)</script>\n```",
		"````\n| counter | 100/100 |\n  ```\n<img src=x onerror=alert(1)>",
		"ends with backticks ``",
		"a\r\nb\rc\x1b[2Kd",
	}
	var tests []*score.Test
	for _, msg := range hostile {
		tt := testResult("TestX", 25, score.Fail)
		tt.Message = msg
		tests = append(tests, tt)
	}
	e := &score.Exercise{ID: "counter", Title: "Race conditions", Tests: tests}
	r := resultOf(e)
	e.Message = "note: not graded: exercises/1-counter/<b>x</b>|`y`.go"
	blocks, outside := markdownParts(markdownOf(t, r))
	for _, msg := range append([]string{e.Message}, hostile...) {
		if want := strings.TrimRight(safeText(msg), "\n"); !slices.Contains(blocks, want) {
			t.Errorf("no code block holds exactly %q; blocks: %q", want, blocks)
		}
	}
	for _, line := range outside {
		if strings.ContainsAny(line, "<>") || strings.Contains(line, "100/100") || strings.Contains(line, "UNCLOSED") {
			t.Errorf("outside the code blocks: %q", line)
		}
	}
}

func TestMdText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Race conditions", "Race conditions"},
		{"a|b", `a\|b`},
		{"<script>", `\<script\>`},
		{"`x` *y* _z_ [l](u) ![i](u) &amp; ~s~ #h", "\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) \\!\\[i\\](u) \\&amp; \\~s\\~ \\#h"},
		{`back\slash`, `back\\slash`},
		{"two\nlines\r\n  and\tspace", "two lines and space"},
	}
	for _, tt := range tests {
		if got := mdText(tt.in); got != tt.want {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TestInc", "`TestInc`"},
		{"a`b", "``a`b``"},
		{"`a``", "``` `a`` ```"},
	}
	for _, tt := range tests {
		if got := codeSpan(tt.in); got != tt.want {
			t.Errorf("codeSpan(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The report opens with the total and the isolation level, and warns when
// the score could have been forged, as the table does.
func TestMarkdownHead(t *testing.T) {
	tests := []struct {
		level run.Isolation
		want  string
	}{
		{run.IsolateNamespaces, "# Total: 10/20\n\nisolation: namespaces (tamper-proof)\n\n"},
		{run.IsolateLimits, "# Total: 10/20\n\n⚠️ isolation: limits — NOT tamper-proof: tests ran under resource limits only"},
		{run.IsolateNone, "# Total: 10/20\n\n⚠️ isolation: none — NOT tamper-proof: tests ran without Linux namespaces"},
	}
	for _, tt := range tests {
		r := resultOf(&score.Exercise{ID: "counter", Tests: []*score.Test{testResult("TestA", 10, score.Pass), testResult("TestB", 10, score.Fail)}})
		r.Isolation = score.IsolationOf(tt.level)
		if got := markdownOf(t, r); !strings.HasPrefix(got, tt.want) {
			t.Errorf("level %v: report starts %q, want %q", tt.level, got, tt.want)
		}
	}
}

func TestMarkdownAllPassed(t *testing.T) {
	r := resultOf(&score.Exercise{ID: "counter", Title: "Race conditions", Tests: []*score.Test{testResult("TestA", 40, score.Pass), testResult("TestB", 60, score.Pass)}})
	got := markdownOf(t, r)
	want := "## ✅ counter: Race conditions, 100/100\n\nAll 2 tests passed.\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf("report ends %q, want %q", got, want)
	}
}
