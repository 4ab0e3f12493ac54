package verify

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/mutant"
)

// Structure checks that an exercise's manifest and files agree: every test
// function in the visible and hidden test files is in the manifest with the
// right visibility and nothing else is, no hidden test file shares a
// visible file's name, the solution exists, every mutant applies to it,
// and no mutant is left out of the catalogue. It also
// checks that the test files hold nothing a submission could turn into a
// pass it did not earn (see [untrustworthy]).
func Structure(repo *course.Repo, ex *course.Exercise) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{ex.ID}, args...)...))
	}
	visible, err := testFuncs(repo.Path(filepath.FromSlash(ex.Dir)))
	if err != nil {
		bad("%v", err)
	}
	hidden, err := testFuncs(repo.Path(filepath.FromSlash(course.HiddenDir), ex.ID))
	if err != nil {
		bad("%v", err)
	}
	for _, dir := range []string{repo.Path(filepath.FromSlash(ex.Dir)), repo.Path(filepath.FromSlash(course.HiddenDir), ex.ID)} {
		problems, err := untrustworthyIn(dir)
		if err != nil {
			bad("%v", err)
		}
		for _, p := range problems {
			if rel, err := filepath.Rel(repo.Root, p.file); err == nil {
				p.file = filepath.ToSlash(rel)
			}
			bad("%v", p)
		}
	}
	// The build lays the hidden files beside the visible ones: one of the
	// same name would silently replace a visible test file.
	hiddenFiles, err := os.ReadDir(repo.Path(filepath.FromSlash(course.HiddenDir), ex.ID))
	if err != nil {
		bad("%v", err)
	}
	for _, f := range hiddenFiles {
		if _, err := os.Stat(repo.Path(filepath.FromSlash(ex.Dir), f.Name())); err == nil {
			bad("hidden test file %s has the name of a file in %s, which the build would replace with it", f.Name(), ex.Dir)
		}
	}
	for _, t := range ex.Tests {
		switch {
		case visible[t.Name] && t.Hidden:
			bad("%s is in the visible tests but the manifest marks it hidden", t.Name)
		case hidden[t.Name] && !t.Hidden:
			bad("%s is a hidden test but the manifest marks it visible", t.Name)
		case !visible[t.Name] && !hidden[t.Name]:
			bad("the manifest lists %s, which no test file defines", t.Name)
		}
	}
	for _, set := range []map[string]bool{visible, hidden} {
		for _, name := range sortedKeys(set) {
			if _, ok := ex.Test(name); !ok {
				bad("%s is defined but not in the manifest, so it would never be graded", name)
			}
		}
	}
	for _, name := range ex.Editable {
		if _, err := os.Stat(repo.Path(filepath.FromSlash(ex.Dir), name)); err != nil {
			bad("stub %s: %v", name, err)
		}
	}
	if _, err := os.Stat(repo.Path(course.SolutionsDir, ex.ID)); err != nil {
		bad("no solution: %v", err)
	}
	names, err := mutant.Names(repo, ex)
	if err != nil {
		bad("mutants: %v", err)
	}
	for _, n := range names {
		if !listed(ex, n) {
			bad("mutant %s is in no catalogue entry of the manifest", n)
		}
	}
	for _, m := range ex.Mutants() {
		// Applying it checks that it exists and still fits the solution.
		if _, err := mutant.Files(repo, ex, m.Name); err != nil {
			bad("mutant %s of entry %s: %v", m.Name, m.Bug.ID, err)
		}
	}
	return errs
}

// testFuncs lists the top-level Test functions of the _test.go files in dir.
func testFuncs(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no test files in %s", dir)
	}
	funcs := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !isTestName(fd.Name.Name) {
				continue
			}
			funcs[fd.Name.Name] = true
		}
	}
	return funcs, nil
}

// A testProblem is something in a test file that a graded run cannot
// trust.
type testProblem struct {
	file string
	line int
	what string
}

func (p testProblem) Error() string { return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.what) }

// untrustworthyIn runs [untrustworthy] on the _test.go files in dir.
func untrustworthyIn(dir string) ([]testProblem, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	var problems []testProblem
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		problems = append(problems, untrustworthy(fset, file)...)
	}
	return problems, nil
}

// untrustworthy finds what in a test file a submission could turn into a
// pass:
//
//   - a call of Skip, Skipf or SkipNow (or the method taken as a value)
//     outside the body of an if whose condition pins the system,
//     runtime.GOOS == "name" (alone or as a term of &&). A graded run
//     counts a test whose process exits 0, and a skip exits 0: a skip
//     that the code under test can provoke (by exhausting descriptors so
//     that a listen fails, say), together with a forged PASS line, would
//     be a pass. Which system the grader runs on, a submission cannot
//     change.
//   - an import of flag. The test binary parses its flags before the
//     package's tests are initialised (exercises/internal/testflags), so
//     a flag a test defined would come too late, and a flag.Parse in a
//     TestMain would parse os.Args again, after the submission's init
//     functions could have rewritten it.
func untrustworthy(fset *token.FileSet, file *ast.File) []testProblem {
	var problems []testProblem
	report := func(n ast.Node, what string) {
		pos := fset.Position(n.Pos())
		problems = append(problems, testProblem{pos.Filename, pos.Line, what})
	}
	for _, imp := range file.Imports {
		if imp.Path.Value == `"flag"` {
			report(imp, "imports flag: the grader parses the test flags before the tests' package is initialised, so tests may define no flags and parse none")
		}
	}
	var stack []ast.Node // the ancestors of the node being visited
	ast.Inspect(file, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if sel, ok := n.(*ast.SelectorExpr); ok && isSkip(sel.Sel.Name) && !pinnedToASystem(append(stack, n)) {
			report(sel, fmt.Sprintf("%s outside an `if runtime.GOOS == \"...\"`: a skip exits 0, so a skip the code under test can provoke is a pass it can forge", sel.Sel.Name))
		}
		stack = append(stack, n)
		return true
	})
	return problems
}

func isSkip(name string) bool { return name == "Skip" || name == "Skipf" || name == "SkipNow" }

// pinnedToASystem reports whether the last node of path (a node and its
// ancestors, outermost first) is in the body of an if whose condition
// holds on one system only.
func pinnedToASystem(path []ast.Node) bool {
	for i := len(path) - 2; i >= 0; i-- {
		if ifs, ok := path[i].(*ast.IfStmt); ok && path[i+1] == ifs.Body && pinsGOOS(ifs.Cond) {
			return true
		}
	}
	return false
}

// pinsGOOS reports whether cond can hold only when runtime.GOOS is a
// given constant.
func pinsGOOS(cond ast.Expr) bool {
	switch c := ast.Unparen(cond).(type) {
	case *ast.BinaryExpr:
		switch c.Op {
		case token.LAND:
			return pinsGOOS(c.X) || pinsGOOS(c.Y)
		case token.EQL:
			return isGOOS(c.X) && isString(c.Y) || isString(c.X) && isGOOS(c.Y)
		}
	}
	return false
}

func isGOOS(e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "GOOS" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "runtime"
}

func isString(e ast.Expr) bool {
	lit, ok := ast.Unparen(e).(*ast.BasicLit)
	return ok && lit.Kind == token.STRING
}

// isTestName reports whether go test would run a function of this name as
// a test: "Test" followed by nothing or by a non-lower-case letter.
func isTestName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Test")
	if !ok || name == "TestMain" {
		return false
	}
	return rest == "" || !('a' <= rest[0] && rest[0] <= 'z')
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
