package mutant

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/grader/internal/course"
)

func openCourse(t *testing.T) *course.Repo {
	t.Helper()
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	return repo
}

// Every mutant of the course is listed by its manifest, applies to the
// solution as it is now, and leaves Go source that parses.
func TestCourseMutantsApply(t *testing.T) {
	repo := openCourse(t)
	total := 0
	for _, ex := range repo.Exercises {
		names, err := Names(repo, ex)
		require.NoError(t, err, ex.ID)
		assert.Len(t, names, len(ex.Mutants()), "%s: patches on disk and mutants in the manifest", ex.ID)
		for _, m := range ex.Mutants() {
			files, err := Files(repo, ex, m.Name)
			if !assert.NoError(t, err) {
				continue
			}
			for name, data := range files {
				_, err := parser.ParseFile(token.NewFileSet(), name, data, parser.ParseComments)
				assert.NoError(t, err, "%s/%s: %s after the patch", ex.ID, m.Name, name)
			}
			patch, err := os.ReadFile(Path(repo, ex, m.Name))
			require.NoError(t, err)
			assert.True(t, addsComment(string(patch)), "%s/%s: the patch should say, in a comment it adds, what is wrong", ex.ID, m.Name)
			total++
		}
	}
	assert.Greater(t, total, 100, "mutants applied")
}

// addsComment reports whether a patch adds a line with a comment.
func addsComment(patch string) bool {
	for _, l := range strings.Split(patch, "\n") {
		if strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++") && strings.Contains(l, "//") {
			return true
		}
	}
	return false
}

const solution = `package p

func A() int {
	return 1
}

func B() int {
	return 2
}
`

const patch = `Mutant demo: B returns the wrong number.

--- a/p.go
+++ b/p.go
@@ -5,5 +5,6 @@
 }
 
 func B() int {
-	return 2
+	// MUTANT: off by one.
+	return 3
 }
`

func TestApply(t *testing.T) {
	diffs, err := Parse([]byte(patch))
	require.NoError(t, err)
	require.Len(t, diffs, 1)
	assert.Equal(t, "p.go", diffs[0].Name)
	out, err := diffs[0].Apply([]byte(solution))
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(solution, "\treturn 2\n", "\t// MUTANT: off by one.\n\treturn 3\n", 1), string(out))
}

// A solution that changed under the patch makes it fail, with the line
// that no longer matches: no fuzz, no search elsewhere in the file.
func TestStalePatchFails(t *testing.T) {
	diffs, err := Parse([]byte(patch))
	require.NoError(t, err)
	for name, changed := range map[string]string{
		"a line changed":      strings.Replace(solution, "return 2", "return 22", 1),
		"a line added before": strings.Replace(solution, "package p\n", "package p\n\n// Doc.\n", 1),
		"the end cut off":     solution[:strings.Index(solution, "func B")],
	} {
		_, err := diffs[0].Apply([]byte(changed))
		assert.Error(t, err, name)
	}
}

func TestParseRejects(t *testing.T) {
	for name, p := range map[string]string{
		"nothing":        "just words\n",
		"no hunk":        "--- a/p.go\n+++ b/p.go\n",
		"renamed":        "--- a/p.go\n+++ b/q.go\n@@ -1 +1 @@\n-a\n+b\n",
		"short hunk":     "--- a/p.go\n+++ b/p.go\n@@ -1,3 +1,3 @@\n-a\n+b\n",
		"foreign line":   "--- a/p.go\n+++ b/p.go\n@@ -1,2 +1,2 @@\n-a\n*b\n",
		"no +++ header":  "--- a/p.go\n@@ -1 +1 @@\n-a\n+b\n",
		"bad hunk start": "--- a/p.go\n+++ b/p.go\n@@ bad @@\n-a\n+b\n",
	} {
		_, err := Parse([]byte(p))
		assert.Error(t, err, name)
	}
}

// Files refuses a patch to a file students do not edit, one that changes
// nothing, and a folder in the old format (whole copies).
func TestFilesRefuses(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	write("solutions/demo/p.go", solution)
	ex := &course.Exercise{ID: "demo", Editable: []string{"p.go"}}
	repo := &course.Repo{Root: root}

	write("testdata/mutants/demo/good.patch", patch)
	files, err := Files(repo, ex, "good")
	require.NoError(t, err)
	assert.Contains(t, string(files["p.go"]), "return 3")

	write("testdata/mutants/demo/other-file.patch", strings.ReplaceAll(patch, "p.go", "q.go"))
	_, err = Files(repo, ex, "other-file")
	assert.ErrorContains(t, err, "not a file students edit")

	write("testdata/mutants/demo/same.patch", "--- a/p.go\n+++ b/p.go\n@@ -1 +1 @@\n-package p\n+package p\n")
	_, err = Files(repo, ex, "same")
	assert.ErrorContains(t, err, "leaves p.go as it is")

	write("testdata/mutants/demo/stale.patch", strings.Replace(patch, " func B() int {", " func B() int64 {", 1))
	_, err = Files(repo, ex, "stale")
	assert.ErrorContains(t, err, "no longer applies to solutions/demo/p.go")

	names, err := Names(repo, ex)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"good", "other-file", "same", "stale"}, names)
	write("testdata/mutants/demo/old-style/p.go", solution)
	_, err = Names(repo, ex)
	assert.ErrorContains(t, err, "a mutant is a file NAME.patch")
}
