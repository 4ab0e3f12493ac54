package submission

import (
	"cmp"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// A Problem is something wrong with a submitted file, at a position.
type Problem struct {
	// File is the path relative to the submission root.
	File      string
	Line, Col int
	Msg       string
}

func (p Problem) String() string {
	switch {
	case p.Line == 0:
		return p.File + ": " + p.Msg
	case p.Col == 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Check runs the static checks on the editable files of ex, an exercise of
// the course checkout repo, and returns every problem found, by file and
// position. The files are type-checked with the exercise's own non-test
// files, against export data the go command compiles offline in the
// course's exercises module. An error is the grader's own failure (the
// go command or the module cache is not as the course needs), never the
// submission's.
func Check(ctx context.Context, repo *course.Repo, ex *course.Exercise, files []File) ([]Problem, error) {
	fset := token.NewFileSet()
	var (
		probs  []Problem
		parsed []*ast.File
	)
	for _, f := range files {
		file, fprobs := checkFile(fset, ex, f)
		probs = append(probs, fprobs...)
		if file != nil {
			parsed = append(parsed, file)
		}
	}
	if len(parsed) > 0 {
		tprobs, err := checkTypes(ctx, repo, ex, fset, parsed)
		if err != nil {
			return nil, err
		}
		probs = append(probs, tprobs...)
	}
	order := map[string]int{}
	for i, f := range files {
		order[path.Join(ex.Dir, f.Name)] = i
	}
	slices.SortStableFunc(probs, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(order[a.File], order[b.File]), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return probs, nil
}

// checkFile parses one editable file into fset and runs the checks that
// need no types. It returns the file unless it does not parse.
func checkFile(fset *token.FileSet, ex *course.Exercise, f File) (*ast.File, []Problem) {
	rel := path.Join(ex.Dir, f.Name)
	file, err := parser.ParseFile(fset, rel, f.Data, parser.ParseComments)
	if err != nil {
		return nil, parseProblems(rel, err)
	}
	var probs []Problem
	at := func(pos token.Pos, format string, args ...any) {
		p := fset.Position(pos)
		probs = append(probs, Problem{File: rel, Line: p.Line, Col: p.Column, Msg: fmt.Sprintf(format, args...)})
	}

	if file.Name.Name != ex.ID {
		at(file.Name.Pos(), "package %s, want package %s: keep the package clause the stub had", file.Name.Name, ex.ID)
		// Type-check the file as part of the package all the same, so
		// that the student hears of every other problem now.
		file.Name.Name = ex.ID
	}

	for _, cg := range file.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build") || strings.HasPrefix(c.Text, "// +build") {
				if cg.Pos() < file.Package && c.Text != "//go:build "+ex.BuildConstraint {
					if ex.BuildConstraint == "" {
						at(c.Pos(), "build constraints are not allowed in a submission: remove %q so the file is always compiled", c.Text)
					} else {
						at(c.Pos(), "the only build constraint allowed here is the stub's own, //go:build %s; found %q", ex.BuildConstraint, c.Text)
					}
				}
				continue
			}
			if strings.HasPrefix(c.Text, "//go:") || strings.HasPrefix(c.Text, "//line ") || strings.HasPrefix(c.Text, "/*line ") {
				at(c.Pos(), "the compiler directive %s is not allowed: directives change what the compiler and the race detector do with the code (//go:norace hides a data race, //go:linkname reaches into the runtime); remove it", strings.Fields(c.Text)[0])
			}
		}
	}

	for _, imp := range file.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			at(imp.Pos(), "malformed import path %s", imp.Path.Value)
			continue
		}
		switch {
		case p == "C":
			at(imp.Pos(), "cgo (import \"C\") is not allowed: the exercise is pure Go")
			continue
		case !slices.Contains(ex.Imports, p):
			at(imp.Pos(), "import %q is not allowed in %s: %s (allowed: %s)", p, ex.ID, ex.ImportsHint, allowed(ex))
		}
	}

	forbidden := map[string]string{}
	for _, fb := range ex.Forbid {
		forbidden[fb.Construct] = fb.Hint
	}
	channel := func(pos token.Pos, what string) {
		if hint, ok := forbidden[course.ConstructChannels]; ok {
			at(pos, "%s: channels are not allowed in %s: %s", what, ex.ID, hint)
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ChanType:
			channel(n.Pos(), "channel type")
			return false
		case *ast.SendStmt:
			channel(n.Pos(), "channel send")
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				channel(n.Pos(), "channel receive")
			}
		case *ast.SelectStmt:
			channel(n.Pos(), "select statement")
		case *ast.GoStmt:
			if hint, ok := forbidden[course.ConstructGoroutines]; ok {
				at(n.Pos(), "go statement: starting goroutines is not allowed in %s: %s", ex.ID, hint)
			}
		}
		return true
	})
	return file, probs
}

func allowed(ex *course.Exercise) string {
	if len(ex.Imports) == 0 {
		return "none"
	}
	return strings.Join(ex.Imports, ", ")
}

// parseProblems reports the first syntax error, the one to fix first:
// later ones are often echoes of it.
func parseProblems(rel string, err error) []Problem {
	list, ok := err.(scanner.ErrorList)
	if !ok || len(list) == 0 {
		return []Problem{{File: rel, Msg: "does not parse: " + err.Error()}}
	}
	e := list[0]
	return []Problem{{File: rel, Line: e.Pos.Line, Col: e.Pos.Column, Msg: "syntax error: " + e.Msg}}
}
