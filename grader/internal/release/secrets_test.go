package release

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// secretLines returns the lines a release must never hold: every line of
// a reference solution, hidden test or mutant, trimmed, except the lines
// that also occur in what ships on purpose (package clauses, imports,
// braces, the stubs' and visible tests' own lines, and the score
// program's: "seen := map[string]bool{}" is nobody's secret). The value
// says where the line comes from.
func secretLines(t *testing.T, repo *course.Repo) map[string]string {
	t.Helper()
	shipped := map[string]bool{}
	for _, dir := range []string{repo.Path(course.ExercisesDir), filepath.Join("student", "score")} {
		for _, text := range files(t, dir) {
			for _, l := range strings.Split(text, "\n") {
				shipped[strings.TrimSpace(l)] = true
			}
		}
	}
	secret := map[string]string{}
	for _, dir := range []string{course.SolutionsDir, course.HiddenDir, course.MutantsDir} {
		fs := files(t, repo.Path(dir))
		paths := slices.Sorted(maps.Keys(fs))
		for _, p := range paths {
			for i, l := range strings.Split(fs[p], "\n") {
				if l = strings.TrimSpace(l); l != "" && !shipped[l] && secret[l] == "" && strings.ContainsFunc(l, isWordChar) {
					secret[l] = dir + "/" + p + ":" + strconv.Itoa(i+1)
				}
			}
		}
	}
	if len(secret) < 1000 {
		t.Fatalf("only %d secret lines: the course's solutions, hidden tests and mutants were not read", len(secret))
	}
	return secret
}

// isWordChar reports whether r is a letter or a digit: a line of braces
// and brackets alone ("{", "})") gives nothing away.
func isWordChar(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hiddenTestNames returns the names of the hidden tests.
func hiddenTestNames(repo *course.Repo) []string {
	var names []string
	for _, ex := range repo.Exercises {
		for _, tst := range ex.Tests {
			if tst.Hidden {
				names = append(names, tst.Name)
			}
		}
	}
	return names
}

// checkNoSecrets fails for every secret line and hidden test name in
// file, which is called name in messages.
func checkNoSecrets(t *testing.T, name, text string, secret map[string]string, hidden []string) {
	t.Helper()
	var found []string
	for i, l := range strings.Split(text, "\n") {
		if from, ok := secret[strings.TrimSpace(l)]; ok {
			found = append(found, "  "+name+":"+strconv.Itoa(i+1)+" is "+from+": "+strings.TrimSpace(l))
		}
	}
	sort.Strings(found)
	if len(found) > 5 {
		found = append(found[:5], "  ...")
	}
	if len(found) > 0 {
		t.Errorf("%s holds lines of the course's solutions, hidden tests or mutants:\n%s", name, strings.Join(found, "\n"))
	}
	for _, h := range hidden {
		if strings.Contains(text, h) {
			t.Errorf("%s names the hidden test %s", name, h)
		}
	}
}

// TestMainHoldsNoSecrets is the release's promise: the student template,
// on disk and in every commit of its history, holds no line of a
// solution, hidden test or mutant, and names no hidden test.
func TestMainHoldsNoSecrets(t *testing.T) {
	repo := courseRepo(t)
	secret := secretLines(t, repo)
	hidden := hiddenTestNames(repo)
	out := released(t, repo, Options{Git: true})

	onDisk := files(t, out)
	for p, text := range onDisk {
		checkNoSecrets(t, p, text, secret, hidden)
	}

	commits := strings.Fields(git(t, out, "rev-list", "main"))
	if len(commits) == 0 {
		t.Fatal("main has no commits")
	}
	blobs := 0
	for _, c := range commits {
		for _, line := range strings.Split(strings.TrimSpace(git(t, out, "ls-tree", "-r", c)), "\n") {
			// <mode> blob <hash>\t<path>
			meta, p, _ := strings.Cut(line, "\t")
			f := strings.Fields(meta)
			if len(f) != 3 || f[1] != "blob" {
				t.Fatalf("git ls-tree: unexpected line %q", line)
			}
			checkNoSecrets(t, c[:8]+":"+p, git(t, out, "cat-file", "blob", f[2]), secret, hidden)
			blobs++
		}
		checkNoSecrets(t, "message of "+c[:8], git(t, out, "log", "-1", "--format=%B", c), secret, hidden)
	}
	if blobs < len(onDisk) {
		t.Errorf("main's history holds %d files, fewer than the %d on disk", blobs, len(onDisk))
	}

	// And the check itself finds what it looks for: the solutions branch
	// is full of secret lines.
	var solved int
	for _, ex := range repo.Exercises {
		for _, f := range ex.Editable {
			text := git(t, out, "show", "solutions:"+ex.Dir+"/"+f)
			for _, l := range strings.Split(text, "\n") {
				if _, ok := secret[strings.TrimSpace(l)]; ok {
					solved++
				}
			}
		}
	}
	if solved < 500 {
		t.Errorf("the solutions branch holds only %d secret lines: the check would not notice a leak", solved)
	}
}

// No file of the grader ships, but the score program, on purpose.
func TestNoGraderFile(t *testing.T) {
	repo := courseRepo(t)
	grader := map[string]string{}
	for p, text := range files(t, repo.Path("grader")) {
		if !strings.HasPrefix(p, "internal/release/student/") && !strings.HasPrefix(p, "internal/release/testdata/") {
			grader[text] = "grader/" + p
		}
	}
	for p, text := range files(t, released(t, repo, Options{})) {
		if from, ok := grader[text]; ok && strings.TrimSpace(text) != "" {
			t.Errorf("release's %s is the grader's %s", p, from)
		}
	}
	data, err := os.ReadFile(filepath.Join("student", "score", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := released(t, repo, Options{})
	if got, _ := os.ReadFile(filepath.Join(out, filepath.FromSlash(ScoreDir), "main.go")); string(got) != string(data) {
		t.Errorf("release's %s/main.go is not student/score/main.go", ScoreDir)
	}
}
