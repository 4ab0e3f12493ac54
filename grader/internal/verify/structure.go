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
)

// Structure checks that an exercise's manifest and files agree: every test
// function in the visible and hidden test files is in the manifest with the
// right visibility and nothing else is, the solution and every mutant
// exist, and no mutant directory is left out of the catalogue.
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
	dirs, err := mutantDirs(repo, ex)
	if err != nil {
		bad("mutants: %v", err)
	}
	for _, d := range dirs {
		if !listed(ex, d) {
			bad("mutant %s is in no catalogue entry of the manifest", d)
		}
	}
	for _, m := range ex.Mutants() {
		if _, err := os.Stat(repo.Path(filepath.FromSlash(course.MutantsDir), ex.ID, m.Name)); err != nil {
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
