// Package mutant reads the course's mutants: realistic wrong versions of
// the reference solutions, which the tests must catch.
//
// A mutant is stored as a patch to the reference solution, not as a copy
// of it: testdata/mutants/<exercise>/<name>.patch holds a unified diff (as
// `diff -u` or `git diff` print it) of the solution's editable files,
// with free text before the first file as its description. The patch is
// applied strictly: every hunk must find its context and removed lines
// exactly where it says, with no fuzz and no search. When the solution
// changes under a mutant, the mutant stops applying and says so, instead
// of silently testing an old copy of the solution with the mistake in it.
//
// To make one, copy the solution's file, put the mistake in (with a
// comment at the top of the changed code saying what is wrong), and write
// the difference:
//
//	diff -u --label a/counter.go --label b/counter.go \
//	    solutions/counter/counter.go /tmp/counter.go > testdata/mutants/counter/NAME.patch
package mutant

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// Ext is the extension of a mutant's file.
const Ext = ".patch"

// Path is where the mutant name of ex lives in repo.
func Path(repo *course.Repo, ex *course.Exercise, name string) string {
	return repo.Path(course.MutantsDir, ex.ID, name+Ext)
}

// Names lists the mutants stored for ex, whatever the manifest says.
// Anything else in the directory is an error: a folder there is a mutant
// in the old format, whole copies of files, which nothing reads.
func Names(repo *course.Repo, ex *course.Exercise) ([]string, error) {
	dir := repo.Path(course.MutantsDir, ex.ID)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), Ext)
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("%s/%s: a mutant is a file NAME%s (a patch to the solution)", path.Join(course.MutantsDir, ex.ID), e.Name(), Ext)
		}
		names = append(names, name)
	}
	return names, nil
}

// Files applies the mutant name of ex to the reference solution and
// returns the files it changes, whole, by name.
func Files(repo *course.Repo, ex *course.Exercise, name string) (map[string][]byte, error) {
	where := path.Join(course.MutantsDir, ex.ID, name+Ext)
	patch, err := os.ReadFile(Path(repo, ex, name))
	if err != nil {
		return nil, err
	}
	diffs, err := Parse(patch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	files := map[string][]byte{}
	for _, d := range diffs {
		if !slices.Contains(ex.Editable, d.Name) {
			return nil, fmt.Errorf("%s changes %s, which is not a file students edit in %s (%s)", where, d.Name, ex.ID, strings.Join(ex.Editable, ", "))
		}
		if _, twice := files[d.Name]; twice {
			return nil, fmt.Errorf("%s changes %s twice", where, d.Name)
		}
		orig, err := os.ReadFile(repo.Path(course.SolutionsDir, ex.ID, d.Name))
		if err != nil {
			return nil, err
		}
		out, err := d.Apply(orig)
		if err != nil {
			return nil, fmt.Errorf("%s no longer applies to %s/%s/%s: %w (the solution changed: make the mutant again from it)", where, course.SolutionsDir, ex.ID, d.Name, err)
		}
		if bytes.Equal(out, orig) {
			return nil, fmt.Errorf("%s leaves %s as it is", where, d.Name)
		}
		files[d.Name] = out
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s changes no file", where)
	}
	return files, nil
}

// A FileDiff is the part of a patch for one file.
type FileDiff struct {
	// Name is the file's name, without the a/ and b/ of git's paths.
	Name  string
	Hunks []Hunk
}

// A Hunk replaces Old, found at line OldStart (1-based), by New.
type Hunk struct {
	OldStart int
	Old, New []string // lines, each with its "\n"
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// Parse reads a unified diff. Text before the first "--- " line is a
// description and is ignored.
func Parse(patch []byte) ([]FileDiff, error) {
	lines := strings.SplitAfter(string(patch), "\n")
	var diffs []FileDiff
	i := 0
	for i < len(lines) && !strings.HasPrefix(lines[i], "--- ") {
		i++
	}
	for i < len(lines) {
		line := lines[i]
		if line == "" {
			break
		}
		if !strings.HasPrefix(line, "--- ") || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "+++ ") {
			return nil, fmt.Errorf("line %d: want a file header (--- and +++ lines), got %q", i+1, strings.TrimRight(line, "\n"))
		}
		oldName, newName := headerName(line), headerName(lines[i+1])
		if oldName != newName {
			return nil, fmt.Errorf("line %d: the patch renames %s to %s", i+1, oldName, newName)
		}
		d := FileDiff{Name: newName}
		i += 2
		for i < len(lines) && strings.HasPrefix(lines[i], "@@ ") {
			m := hunkHeader.FindStringSubmatch(lines[i])
			if m == nil {
				return nil, fmt.Errorf("line %d: bad hunk header %q", i+1, strings.TrimRight(lines[i], "\n"))
			}
			h := Hunk{OldStart: atoi(m[1])}
			oldCount, newCount := count(m[2]), count(m[4])
			i++
			for len(h.Old) < oldCount || len(h.New) < newCount {
				if i >= len(lines) || lines[i] == "" {
					return nil, fmt.Errorf("hunk at line %d of %s ends early", h.OldStart, d.Name)
				}
				l := lines[i]
				i++
				switch l[0] {
				case ' ':
					h.Old = append(h.Old, l[1:])
					h.New = append(h.New, l[1:])
				case '-':
					h.Old = append(h.Old, l[1:])
				case '+':
					h.New = append(h.New, l[1:])
				case '\\':
					// "\ No newline at end of file": the course's files all end with one.
				default:
					return nil, fmt.Errorf("line %d: %q is not a line of a hunk", i, strings.TrimRight(l, "\n"))
				}
			}
			if len(h.Old) != oldCount || len(h.New) != newCount {
				return nil, fmt.Errorf("hunk at line %d of %s: its lines do not match its header", h.OldStart, d.Name)
			}
			for i < len(lines) && strings.HasPrefix(lines[i], `\`) {
				i++
			}
			d.Hunks = append(d.Hunks, h)
		}
		if len(d.Hunks) == 0 {
			return nil, fmt.Errorf("%s: no hunk", d.Name)
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 {
		return nil, fmt.Errorf("no file in the patch")
	}
	return diffs, nil
}

// headerName is the file name of a "--- a/x.go" or "+++ b/x.go" line,
// without a date diff may append after a tab.
func headerName(line string) string {
	name := strings.TrimRight(line[4:], "\n")
	name, _, _ = strings.Cut(name, "\t")
	if n, ok := strings.CutPrefix(name, "a/"); ok {
		return n
	}
	if n, ok := strings.CutPrefix(name, "b/"); ok {
		return n
	}
	return path.Base(name)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// count is a hunk header's line count, which is 1 when left out.
func count(s string) int {
	if s == "" {
		return 1
	}
	return atoi(s)
}

// Apply applies the hunks to orig, strictly: each hunk's old lines must be
// at its line, after the lines the earlier hunks added or removed.
func (d FileDiff) Apply(orig []byte) ([]byte, error) {
	lines := strings.SplitAfter(string(orig), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var out []string
	next := 0 // the first line of orig not yet copied
	for _, h := range d.Hunks {
		start := h.OldStart - 1
		if len(h.Old) == 0 {
			start = h.OldStart // a pure insertion goes after line OldStart
		}
		if start < next || start+len(h.Old) > len(lines) {
			return nil, fmt.Errorf("the hunk at line %d is out of place", h.OldStart)
		}
		for k, want := range h.Old {
			if lines[start+k] != want {
				return nil, fmt.Errorf("line %d is %q, the patch expects %q", start+k+1, strings.TrimRight(lines[start+k], "\n"), strings.TrimRight(want, "\n"))
			}
		}
		out = append(out, lines[next:start]...)
		out = append(out, h.New...)
		next = start + len(h.Old)
	}
	out = append(out, lines[next:]...)
	return []byte(strings.Join(out, "")), nil
}
