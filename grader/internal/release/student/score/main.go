// Command score adds up the points your work earns on the visible tests.
//
// Run it from the exercises folder:
//
//	go run ./score                 every exercise
//	go run ./score counter pipe    some of them (by name or number)
//	go run ./score -race=false     without the race detector (no C compiler)
//
// It runs "go test -race -json" on the exercises' packages and gives each
// visible test the points listed in score/points.json when the test
// passed. It is a preview, not your grade: the autograder also runs
// hidden tests on the same API (the rest of each exercise's points), runs
// every test in a process of its own under a time limit, and grades only
// the files each exercise's README says you edit, with its own copy of
// everything else.
//
// Exit status: 0 when the tests ran, whatever the score; 2 for bad usage;
// 3 when the tests could not be run at all.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// PointsFile is where the points live, relative to the exercises module.
const PointsFile = "score/points.json"

// Points is score/points.json: the visible tests of every exercise and
// what each is worth.
type Points struct {
	Exercises []Exercise `json:"exercises"`
}

// An Exercise is one exercise's visible tests.
type Exercise struct {
	ID     string `json:"id"`
	Number int    `json:"number"`
	Title  string `json:"title"`
	// Dir is the exercise's package directory inside the exercises
	// module ("1-counter").
	Dir string `json:"dir"`
	// TotalPoints is what the exercise is worth in the grade, hidden
	// tests included.
	TotalPoints float64 `json:"total_points"`
	Tests       []Test  `json:"tests"`
}

// A Test is one visible test and its points.
type Test struct {
	Name   string  `json:"name"`
	Points float64 `json:"points"`
}

// Visible is the sum of the points of the visible tests.
func (e *Exercise) Visible() float64 {
	var sum float64
	for _, t := range e.Tests {
		sum += t.Points
	}
	return sum
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	race := fs.Bool("race", true, "run the tests with the race detector, as the grader does")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./score [-race=false] [EXERCISE...]\n\nRuns the visible tests and adds up their points. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	root, module, err := findModule()
	if err != nil {
		fmt.Fprintf(stderr, "score: error: %v\n", err)
		return 3
	}
	points, err := readPoints(filepath.Join(root, filepath.FromSlash(PointsFile)))
	if err != nil {
		fmt.Fprintf(stderr, "score: error: %v\n", err)
		return 3
	}
	exs, err := points.Select(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "score: error: %v\n", err)
		return 2
	}

	goArgs := []string{"test", "-json"}
	if *race {
		goArgs = append(goArgs, "-race")
	}
	for _, ex := range exs {
		goArgs = append(goArgs, "./"+ex.Dir+"/")
	}
	if cold := coldLibraries(root, goArgs[2:]); len(cold) > 0 {
		fmt.Fprintf(stderr, "compiling %s for the tests, once: this first run takes a minute or two with nothing to show; later runs reuse them\n", strings.Join(cold, ", "))
	}
	fmt.Fprintf(stderr, "running go %s\n", strings.Join(goArgs, " "))
	cmd := exec.Command("go", goArgs...)
	cmd.Dir = root
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(stderr, "score: error: cannot run go test: %v\n", err)
		return 3
	}
	results := Tally(bytes.NewReader(out), module, exs)
	if len(results) == 0 || noEvents(results) {
		// Nothing was tested: go test failed before it ran anything
		// (a broken go.mod, say). Its own words say why.
		fmt.Fprintf(stderr, "score: error: go test ran no test\n%s", errOut.String())
		return 3
	}
	Print(stdout, results)
	if *race && strings.Contains(errOut.String(), "-race requires cgo") {
		fmt.Fprintf(stderr, "score: hint: the race detector needs a C compiler (see the README); go run ./score -race=false runs without it, but the grader always uses it\n")
	}
	return 0
}

// coldLibraries names the libraries that go test would compile before
// testing, because Go's build cache does not hold them yet (with -race, in
// their race-detector build): the first run after a fresh install sits
// silent for minutes while it does. It returns nil when it cannot tell.
func coldLibraries(root string, args []string) []string {
	list := exec.Command("go", append([]string{"list", "-deps", "-test", "-f",
		`{{if .Stale}}{{if .Module}}{{if not .Module.Main}}{{.Module.Path}}{{end}}{{else}}the standard library{{end}}{{end}}`}, args...)...)
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		return nil
	}
	var cold []string
	for _, name := range strings.Split(string(out), "\n") {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(cold, name) {
			cold = append(cold, name)
		}
	}
	return cold
}

func noEvents(rs []Result) bool {
	for _, r := range rs {
		if r.Seen {
			return false
		}
	}
	return true
}

// findModule finds the exercises module from the working directory: the
// nearest directory above it that holds go.mod and score/points.json.
func findModule() (root, module string, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(PointsFile))); err == nil {
				return dir, modulePath(data), nil
			}
		}
		if filepath.Dir(dir) == dir {
			return "", "", fmt.Errorf("no exercises folder (go.mod beside %s) in %s or above: run go run ./score from the exercises folder", PointsFile, wd)
		}
	}
}

func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

func readPoints(file string) (*Points, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p Points
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &p, nil
}

// Select returns the exercises named by args (ids or numbers), or all of
// them when there are none.
func (p *Points) Select(args []string) ([]*Exercise, error) {
	if len(args) == 0 {
		var all []*Exercise
		for i := range p.Exercises {
			all = append(all, &p.Exercises[i])
		}
		return all, nil
	}
	var out []*Exercise
	for _, a := range args {
		var found *Exercise
		for i := range p.Exercises {
			e := &p.Exercises[i]
			if a == e.ID || a == strconv.Itoa(e.Number) || a == e.Dir {
				found = e
			}
		}
		if found == nil {
			var ids []string
			for _, e := range p.Exercises {
				ids = append(ids, e.ID)
			}
			return nil, fmt.Errorf("no exercise %q (the exercises are %s)", a, strings.Join(ids, ", "))
		}
		out = append(out, found)
	}
	return out, nil
}

// A Result is how one exercise's visible tests went.
type Result struct {
	Exercise *Exercise
	Tests    []TestResult
	Score    float64
	// Seen is true when go test reported anything for the package.
	Seen bool
	// BuildFailed is true when the package or its tests did not compile.
	BuildFailed bool
}

// A TestResult is one visible test's outcome: "pass", "fail", "skip", or
// "missing" when go test never said how it ended (the test binary
// crashed, or hit go test's time limit, before the test finished).
type TestResult struct {
	Test   Test
	Status string
}

// event is the part of a "go test -json" event (cmd/test2json) that a
// score needs.
type event struct {
	Action      string
	Package     string
	Test        string
	FailedBuild string
}

// Tally reads a "go test -json" stream and scores every exercise: a
// visible test earns its points only when its last event is a pass.
// Lines that are not events are ignored.
func Tally(r io.Reader, module string, exs []*Exercise) []Result {
	final := map[string]map[string]string{} // package, test: last action
	seen := map[string]bool{}
	buildFailed := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev event
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Package == "" {
			continue
		}
		seen[ev.Package] = true
		if ev.FailedBuild != "" {
			buildFailed[ev.Package] = true
		}
		if ev.Test == "" || strings.Contains(ev.Test, "/") {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			if final[ev.Package] == nil {
				final[ev.Package] = map[string]string{}
			}
			final[ev.Package][ev.Test] = ev.Action
		}
	}
	var results []Result
	for _, ex := range exs {
		pkg := module + "/" + ex.Dir
		res := Result{Exercise: ex, Seen: seen[pkg], BuildFailed: buildFailed[pkg]}
		for _, t := range ex.Tests {
			status := final[pkg][t.Name]
			if status == "" {
				status = "missing"
			}
			if status == "pass" {
				res.Score += t.Points
			}
			res.Tests = append(res.Tests, TestResult{Test: t, Status: status})
		}
		results = append(results, res)
	}
	return results
}

// Print writes the results as a table, with what to do next.
func Print(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var score, visible, total float64
	var firstFailure string
	missing := false
	for _, r := range results {
		ex := r.Exercise
		fmt.Fprintf(tw, "%d %s\t%g/%g\t%s\n", ex.Number, ex.ID, r.Score, ex.Visible(), ex.Title)
		switch {
		case r.BuildFailed:
			fmt.Fprintf(tw, "    does not compile: go vet ./%s/ shows where\n", ex.Dir)
		case !r.Seen:
			fmt.Fprintf(tw, "    not tested: go test said nothing about ./%s/\n", ex.Dir)
		}
		for _, t := range r.Tests {
			mark, earned := "FAIL", 0.0
			switch t.Status {
			case "pass":
				mark, earned = "ok", t.Test.Points
			case "skip":
				mark = "SKIP"
			case "missing":
				mark = "?"
				missing = missing || !r.BuildFailed
			}
			if t.Status != "pass" && firstFailure == "" && !r.BuildFailed {
				firstFailure = fmt.Sprintf("go test -race -run '^%s$' -v ./%s/", t.Test.Name, ex.Dir)
			}
			fmt.Fprintf(tw, "    %s %s\t%g/%g\n", mark, t.Test.Name, earned, t.Test.Points)
		}
		score += r.Score
		visible += ex.Visible()
		total += ex.TotalPoints
	}
	tw.Flush()
	fmt.Fprintf(w, "\nvisible tests: %g/%g points\n", score, visible)
	if missing {
		fmt.Fprintf(w, "? marks a test that never finished: the test binary crashed, or hung until go test stopped it.\n")
	}
	if firstFailure != "" {
		fmt.Fprintf(w, "To see why a test failed, run it alone with its output:\n    %s\n", firstFailure)
	}
	fmt.Fprintf(w, "This is a preview. Your grade is out of %g: it adds hidden tests on the same API, and runs each test on its own with a time limit.\n", total)
}
