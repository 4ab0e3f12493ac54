// Command grader grades ipclab submissions and proves the course's tests.
//
// Usage:
//
//	go run ./grader <command> [flags] [arguments]
//
// The commands:
//
//	list                 the exercises, their points and what each teaches
//	test [EX...]         a student's check: the visible tests on this working copy
//	grade SUBMISSION     visible and hidden tests on one submission
//	batch DIR            every submission under DIR, into a gradebook; batch merge joins shards
//	verify               solutions earn full marks, stubs nothing, every mutant is caught
//	release [OUT]        the student repository, with -git its solutions branch,
//	                     and with -gradescope ZIP Gradescope's autograder
//	bench                how fast shared memory, pipes, FIFOs and sockets are here,
//	                     and the exercises' code beside Go's own
//
// Run "go run ./grader help <command>" for a command's flags.
//
// Exit status: 0 when the command did its work, whatever the score; 1 when
// the score is under -fail-under, or verify found a problem; 2 for bad
// usage; 3 when the grader itself failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ipclab/ipclab/grader/internal/batch"
	"github.com/ipclab/ipclab/grader/internal/build"
	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/gradebench"
	"github.com/ipclab/ipclab/grader/internal/grading"
	"github.com/ipclab/ipclab/grader/internal/ipcbench"
	"github.com/ipclab/ipclab/grader/internal/release"
	"github.com/ipclab/ipclab/grader/internal/report"
	"github.com/ipclab/ipclab/grader/internal/run"
	"github.com/ipclab/ipclab/grader/internal/score"
	"github.com/ipclab/ipclab/grader/internal/verify"
)

// Exit statuses.
const (
	exitOK       = 0
	exitLow      = 1
	exitUsage    = 2
	exitInternal = 3
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// A command is one of the grader's subcommands.
type command struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet, o *options)
	run                 func(ctx context.Context, o *options, args []string, stdout io.Writer) error
}

// options holds every flag; each command registers the ones it takes.
type options struct {
	root      string
	format    string
	jobs      int
	failUnder float64
	exercises string
	runs      int
	short     bool
	mutants   string
	isolation string
	budget    time.Duration
	also      []alsoOutput
	git       bool
	force     bool
	out       string
	parallel  int
	shard     batch.Shard
	deadline  time.Time
	// gradescopeHidden is when Gradescope shows students the hidden
	// tests (-gradescope-hidden); "" is the format's default.
	gradescopeHidden string
	// gradescopeZip is where release writes Gradescope's autograder.
	gradescopeZip string
	// bench's flags.
	student   bool
	benchTime string
	chart     string
	noDD      bool
	grading   bool
	latency   string
	rounds    int
	stderr    io.Writer
}

// An alsoOutput is one -also FORMAT=FILE: the result appended to FILE,
// which may be one of GitHub Actions' files ($GITHUB_STEP_SUMMARY,
// $GITHUB_ENV) that other steps read.
type alsoOutput struct{ format, file string }

func (a alsoOutput) write(res *score.Result, o *options) error {
	f, err := os.OpenFile(a.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := report.WriteWith(f, a.format, res, o.reportOptions()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// defaultBudget bounds the wall time of grading one submission (-budget).
// GitHub Classroom stops an autograding step after 10 minutes by default,
// and a step killed by that timeout reports nothing at all. The step also
// checks out the repository, sets up Go, fetches modules and compiles the
// grader before grading starts; 8 minutes leaves 2 for that, so that a
// submission that hangs still gets its score, with the tests that never
// ran named, instead of a bare time-out. A correct submission needs a
// small fraction of it.
const defaultBudget = 8 * time.Minute

var commands []*command

func init() {
	commands = []*command{
		{name: "list", summary: "list the exercises, their points and what each teaches",
			flags: func(fs *flag.FlagSet, o *options) { rootFlag(fs, o) },
			run:   list},
		{name: "test", args: "[EX...]", summary: "run the visible tests on this working copy and print a score (for students)",
			flags: func(fs *flag.FlagSet, o *options) { rootFlag(fs, o); outputFlags(fs, o); exerciseFlag(fs, o) },
			run:   test},
		{name: "grade", args: "SUBMISSION", summary: "grade one submission with the visible and hidden tests",
			flags: func(fs *flag.FlagSet, o *options) {
				rootFlag(fs, o)
				outputFlags(fs, o)
				exerciseFlag(fs, o)
				gradescopeHiddenFlag(fs, o)
			},
			run: grade},
		{name: "batch", args: "DIR | merge -out OUT SHARD...", summary: "grade every submission under DIR into a gradebook (grades.csv) and feedback files; batch merge joins the outputs of shards",
			flags: func(fs *flag.FlagSet, o *options) {
				rootFlag(fs, o)
				gradingFlags(fs, o)
				exerciseFlag(fs, o)
				fs.StringVar(&o.out, "out", "grades", "write the gradebook, results and feedback to `DIR`")
				fs.IntVar(&o.parallel, "j", 0, "submissions to grade at once (default: twice the number of CPUs)")
				fs.BoolVar(&o.force, "force", false, "grade again submissions whose stored result is still good")
				fs.Func("shard", "grade only one n-th of the submissions, as `i/n` (a stable split by name; batch merge joins the shards)", func(v string) error {
					sh, err := batch.ParseShard(v)
					o.shard = sh
					return err
				})
				fs.Func("deadline", "grade each git repository at its last commit before `TIME` (RFC 3339, or 2006-01-02T15:04 in local time)", func(v string) error {
					t, err := parseDeadline(v)
					o.deadline = t
					return err
				})
			},
			run: batchCmd},
		{name: "verify", summary: "check that solutions earn full marks, stubs nothing, and every mutant is caught",
			flags: func(fs *flag.FlagSet, o *options) {
				rootFlag(fs, o)
				exerciseFlag(fs, o)
				isolationFlag(fs, o)
				jobsFlag(fs, o)
				fs.IntVar(&o.runs, "runs", 1, "run every test `N` times and name any verdict that changed (the determinism check)")
				fs.BoolVar(&o.short, "short", false, "check solutions and stubs only, not the mutants")
				fs.StringVar(&o.mutants, "mutants", "", "comma-separated mutant `names`: sweep only these (default: every mutant)")
			},
			run: verifyCmd},
		{name: "release", args: "[OUT]", summary: "write the student repository to OUT, with -git its solutions branch, and with -gradescope ZIP Gradescope's autograder",
			flags: func(fs *flag.FlagSet, o *options) {
				rootFlag(fs, o)
				fs.BoolVar(&o.git, "git", false, "make OUT a git repository: the template on branch main, the reference solutions on branch solutions")
				fs.BoolVar(&o.force, "force", false, "replace an earlier release in OUT, and an existing ZIP")
				fs.StringVar(&o.gradescopeZip, "gradescope", "", "write Gradescope's autograder, setup.sh, run_autograder and the course's grader and hidden tests, to the zip file `ZIP` (without OUT: the zip only)")
				gradescopeHiddenFlag(fs, o)
			},
			run: releaseCmd},
		{name: "bench", summary: "measure shared memory, pipes, FIFOs, sockets, the exercise RPC and the bounded buffer on this machine, and print a table with ratios",
			flags: func(fs *flag.FlagSet, o *options) {
				rootFlag(fs, o)
				fs.BoolVar(&o.student, "student", false, "measure the working copy's code (yours) instead of the reference solutions")
				fs.StringVar(&o.benchTime, "benchtime", "1s", "how long each benchmark runs, as go test's -benchtime (`D`: 1s, or 1000x)")
				fs.StringVar(&o.chart, "chart", "", "also draw the figures to `FILE` (.svg or .png)")
				fs.BoolVar(&o.noDD, "no-dd", false, "leave out the dd pipeline (a machine without dd)")
				fs.BoolVar(&o.grading, "grading", false, "instead, time grade of the reference solutions against plain go test -race on the same files, and a student's edit-to-score against go test")
				fs.StringVar(&o.latency, "latency", "counter", "with -grading, the exercise `EX` whose edit-to-score is timed (\"\" to leave it out)")
				fs.IntVar(&o.rounds, "rounds", 1, "with -grading, timed `rounds` of each comparison, after one to warm the cache")
				exerciseFlag(fs, o)
				jobsFlag(fs, o)
			},
			run: benchCmd},
	}
}

func benchCmd(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError{"bench takes no arguments"}
	}
	repo, err := openRepo(o)
	if err != nil {
		return err
	}
	if !o.student && !repo.HasSolutions() {
		return usageError{"this repository has no reference solutions: measure your own code with -student"}
	}
	if o.grading {
		return gradingBench(ctx, o, repo, stdout)
	}
	res, err := ipcbench.Run(ctx, repo, ipcbench.Options{Student: o.student, BenchTime: o.benchTime, NoDD: o.noDD, Progress: o.stderr})
	if err != nil {
		return err
	}
	if err := res.Table(stdout); err != nil {
		return err
	}
	if o.chart != "" {
		title := fmt.Sprintf("IPC on this machine (%s/%s, %d CPUs, %s code)", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), res.Code)
		if err := res.Chart(o.chart, title); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nchart: %s\n", o.chart)
	}
	return nil
}

// gradingBench is bench -grading.
func gradingBench(ctx context.Context, o *options, repo *course.Repo, stdout io.Writer) error {
	exs, err := selected(repo, o)
	if err != nil {
		return err
	}
	opts := gradebench.Options{Exercises: exs, Rounds: o.rounds, Jobs: o.jobs, Progress: o.stderr}
	if o.latency != "" {
		ex, err := repo.Exercise(o.latency)
		if err != nil {
			return usageError{err.Error()}
		}
		opts.Latency = ex
	}
	res, err := gradebench.Run(ctx, repo, opts)
	if err != nil {
		return err
	}
	return res.Table(stdout)
}

func isolationFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.isolation, "isolation", "auto", "how tests are fenced off: auto (the best this machine allows), namespaces, limits or none")
}

func rootFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.root, "root", "", "the course checkout (default: found from the current directory)")
}

// gradingFlags are the flags of every command that grades submissions.
func gradingFlags(fs *flag.FlagSet, o *options) {
	isolationFlag(fs, o)
	jobsFlag(fs, o)
	fs.DurationVar(&o.budget, "budget", defaultBudget, "grade the whole submission, builds included, within `DURATION`: tests whose turn comes later are not run and score nothing (0: no limit)")
}

func outputFlags(fs *flag.FlagSet, o *options) {
	gradingFlags(fs, o)
	fs.StringVar(&o.format, "format", "table", "output `format`: "+strings.Join(report.Formats, ", "))
	fs.Float64Var(&o.failUnder, "fail-under", 0, "exit with status 1 when the score is under `PERCENT` of the maximum")
	fs.Func("also", "also append the result in another format to a file, as `FORMAT=FILE` (repeatable): -also markdown=\"$GITHUB_STEP_SUMMARY\" grades once for two outputs", func(v string) error {
		format, file, ok := strings.Cut(v, "=")
		if !ok || file == "" || !report.ValidFormat(format) {
			return fmt.Errorf("want FORMAT=FILE with a format of %s", strings.Join(report.Formats, ", "))
		}
		o.also = append(o.also, alsoOutput{format, file})
		return nil
	})
}

func gradescopeHiddenFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.gradescopeHidden, "gradescope-hidden", "", "when Gradescope shows students the hidden tests: `VIS` is one of "+strings.Join(report.GradescopeVisibilities, ", ")+" (default "+report.VisibilityAfterDueDate+")")
}

// reportOptions are the formats' options the flags set.
func (o *options) reportOptions() report.Options {
	return report.Options{Gradescope: report.GradescopeOptions{HiddenVisibility: o.gradescopeHidden}}
}

// writesGradescope reports whether anything the flags ask for is for
// Gradescope.
func (o *options) writesGradescope() bool {
	if o.format == "gradescope" || o.gradescopeZip != "" {
		return true
	}
	for _, a := range o.also {
		if a.format == "gradescope" {
			return true
		}
	}
	return false
}

func jobsFlag(fs *flag.FlagSet, o *options) {
	fs.IntVar(&o.jobs, "jobs", 0, "builds and tests to run at once, for each submission (default: four per CPU, since most tests wait rather than compute; one per CPU for each submission of a batch)")
}

func exerciseFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.exercises, "exercise", "", "comma-separated exercise `ids` (default: all)")
}

// usageError is bad usage: exit status 2 and the command's usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// lowScore is a score under -fail-under, or a failed verification.
type lowScore struct{ msg string }

func (e lowScore) Error() string { return e.msg }

// Main runs the grader with the given arguments and returns its exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				commandUsage(stdout, c)
				return exitOK
			}
		}
		usage(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "grader: error: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	o := &options{stderr: stderr, runs: 1}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.flags(fs, o)
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, c)
		return exitOK
	}
	if err == nil {
		err = checkOptions(o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "grader: error: %v\n\n", err)
		commandUsage(stderr, c)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = c.run(ctx, o, pos, stdout)
	var ue usageError
	var low lowScore
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "grader: error: %v\n\n", err)
		commandUsage(stderr, c)
		return exitUsage
	case errors.As(err, &low):
		fmt.Fprintf(stderr, "grader: %v\n", err)
		return exitLow
	}
	fmt.Fprintf(stderr, "grader: error: %v\n", err)
	return exitInternal
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parseInterspersed parses flags wherever they appear among the
// arguments, so that "grade DIR -format json" works as well as
// "grade -format json DIR".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func checkOptions(o *options) error {
	if o.format != "" && !report.ValidFormat(o.format) {
		return fmt.Errorf("unknown format %q (formats: %s)", o.format, strings.Join(report.Formats, ", "))
	}
	if o.failUnder < 0 || o.failUnder > 100 {
		return fmt.Errorf("-fail-under is a percentage, from 0 to 100; got %g", o.failUnder)
	}
	if o.runs < 1 {
		return fmt.Errorf("-runs must be at least 1; got %d", o.runs)
	}
	if o.isolation != "" {
		if _, err := run.ParseIsolation(o.isolation); err != nil {
			return err
		}
	}
	if o.parallel < 0 {
		return fmt.Errorf("-j must not be negative; got %d", o.parallel)
	}
	if o.jobs < 0 {
		return fmt.Errorf("-jobs must not be negative; got %d", o.jobs)
	}
	if o.budget < 0 {
		return fmt.Errorf("-budget must not be negative; got %v", o.budget)
	}
	if o.gradescopeHidden != "" {
		if !report.ValidVisibility(o.gradescopeHidden) {
			return fmt.Errorf("-gradescope-hidden %q is not one of Gradescope's visibilities: %s", o.gradescopeHidden, strings.Join(report.GradescopeVisibilities, ", "))
		}
		if !o.writesGradescope() {
			return fmt.Errorf("-gradescope-hidden is for Gradescope's results, and nothing here writes them: add -format gradescope or -also gradescope=FILE (or, for release, -gradescope ZIP)")
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: go run ./grader <command> [flags] [arguments]\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun \"go run ./grader help <command>\" for a command's flags.\n")
}

func commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: go run ./grader %s [flags] %s\n\n%s.\n\nFlags:\n", c.name, c.args, upperFirst(c.summary))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs, &options{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func openRepo(o *options) (*course.Repo, error) {
	if o.root != "" {
		return course.Open(o.root)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return course.FindRepo(wd)
}

// selected returns the exercises that -exercise and the arguments named
// (the commands that take exercise arguments: test, verify), or all.
func selected(repo *course.Repo, o *options, args ...string) ([]*course.Exercise, error) {
	exs, err := repo.Select(append(splitList(o.exercises), args...))
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return exs, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func list(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError{"list takes no arguments"}
	}
	repo, err := openRepo(o)
	if err != nil {
		return err
	}
	return report.List(stdout, repo.Exercises)
}

func test(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	repo, err := openRepo(o)
	if err != nil {
		return err
	}
	exs, err := selected(repo, o, args...)
	if err != nil {
		return err
	}
	g, err := newGrader(o, repo, grading.Options{FallBackToNoRace: true})
	if err != nil {
		return err
	}
	warmUp(ctx, o, repo)
	res, err := g.Submission(ctx, repo.Root, exs)
	if err != nil {
		return err
	}
	return finish(o, res, stdout)
}

// warmUp says on stderr, before a first build, why it will be slow: the
// libraries the tests use are downloaded, or compiled with the race
// detector, once per machine, and nothing else is printed meanwhile.
func warmUp(ctx context.Context, o *options, repo *course.Repo) {
	cold, err := build.ColdLibraries(ctx, repo)
	switch {
	case err != nil:
		fmt.Fprintln(o.stderr, "grader: downloading the test libraries and compiling them with the race detector; the first run takes a few minutes, later runs reuse them")
	case len(cold) > 0:
		fmt.Fprintf(o.stderr, "grader: compiling %s with the race detector, once; the first run takes a minute or two, later runs reuse them\n", strings.Join(cold, ", "))
	}
}

func grade(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{"grade takes one submission directory"}
	}
	repo, exs, err := instructorRepo(o)
	if err != nil {
		return err
	}
	st, err := os.Stat(args[0])
	if err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("submission %s is not a directory", args[0])}
	}
	sub, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	g, err := newGrader(o, repo, grading.Options{Hidden: true, Hide: []string{sub}})
	if err != nil {
		return err
	}
	warmUp(ctx, o, repo)
	res, err := g.Submission(ctx, args[0], exs)
	if err != nil {
		return err
	}
	res.Submission = args[0]
	return finish(o, res, stdout)
}

// instructorRepo opens the course checkout for grading with the hidden
// tests, which only the instructor's has, and the exercises -exercise
// selects.
func instructorRepo(o *options) (*course.Repo, []*course.Exercise, error) {
	repo, err := openRepo(o)
	if err != nil {
		return nil, nil, err
	}
	if !repo.HasSolutions() {
		return nil, nil, fmt.Errorf("%s has no hidden tests: grade from the instructor's repository", repo.Root)
	}
	exs, err := selected(repo, o)
	if err != nil {
		return nil, nil, err
	}
	return repo, exs, nil
}

// newGrader makes the grader the flags ask for. With -isolation auto it
// takes the best the machine allows and says on stderr when that is less
// than namespaces; a level named explicitly is a requirement, and a
// machine that cannot meet it is an error rather than a quieter score.
func newGrader(o *options, repo *course.Repo, opts grading.Options) (*grading.Grader, error) {
	if o.jobs > 0 {
		opts.Jobs = o.jobs
	}
	opts.Budget = o.budget
	want, _ := run.ParseIsolation(o.isolation)
	opts.Isolation = want
	g := grading.New(repo, opts)
	if want >= 0 && g.Opts.Isolation < want {
		return nil, fmt.Errorf("-isolation %s is not available here (%s); see the README's section on isolation levels, or pass -isolation auto to grade with what this machine allows", want, g.Fallback)
	}
	if g.Fallback != "" {
		fmt.Fprintf(o.stderr, "grader: note: %s\n", g.Fallback)
	}
	return g, nil
}

// finish prints a result and applies -fail-under.
func finish(o *options, res *score.Result, stdout io.Writer) error {
	if err := report.WriteWith(stdout, o.format, res, o.reportOptions()); err != nil {
		return err
	}
	for _, a := range o.also {
		if err := a.write(res, o); err != nil {
			return err
		}
	}
	if o.failUnder > 0 && res.MaxScore > 0 && res.Score*100 < o.failUnder*res.MaxScore {
		return lowScore{fmt.Sprintf("score %g/%g is under %g%%", res.Score, res.MaxScore, o.failUnder)}
	}
	return nil
}

func verifyCmd(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	repo, err := openRepo(o)
	if err != nil {
		return err
	}
	exs, err := selected(repo, o, args...)
	if err != nil {
		return err
	}
	g, err := newGrader(o, repo, grading.Options{Hidden: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.stderr, "verifying %d exercises, %d run(s) each, %d jobs on %s/%s\n", len(exs), o.runs, g.Opts.Jobs, runtime.GOOS, runtime.GOARCH)
	rep, err := verify.Run(ctx, g, exs, verify.Options{Runs: o.runs, SkipMutants: o.short, Mutants: splitList(o.mutants), Progress: o.stderr})
	if err != nil {
		return err
	}
	if err := report.Verify(stdout, rep); err != nil {
		return err
	}
	if !rep.OK() {
		return lowScore{"verify failed"}
	}
	return nil
}

// parseDeadline reads -deadline: RFC 3339, or a date and time without a
// zone, taken as local time.
func parseDeadline(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-deadline wants a time such as 2026-12-01T23:59:00+01:00 or 2026-12-01T23:59 (local time); got %q", v)
}

func batchCmd(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		sum, err := batch.Merge(o.out, args[1:], o.stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "merged %d submissions into %s\n", len(sum.Rows), filepath.Join(o.out, batch.GradebookFile))
		return nil
	}
	if len(args) != 1 {
		return usageError{"batch takes one directory of submissions (or: batch merge -out OUT SHARD...)"}
	}
	if err := batch.CheckDirs(args[0], o.out); err != nil {
		return usageError{err.Error()}
	}
	repo, exs, err := instructorRepo(o)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	// Several submissions are graded side by side: one job per CPU each,
	// unless -jobs says otherwise.
	opts := grading.Options{Hidden: true, Hide: []string{dir, out}, Jobs: runtime.NumCPU()}
	g, err := newGrader(o, repo, opts)
	if err != nil {
		return err
	}
	settings := fmt.Sprintf("exercises=%s budget=%v isolation=%v", strings.Join(splitList(o.exercises), ","), o.budget, g.Opts.Isolation)
	sum, err := batch.Run(ctx, g, batch.Options{
		Dir: dir, Out: out, Exercises: exs, Parallel: o.parallel, Shard: o.shard,
		Force: o.force, Deadline: o.deadline, Settings: settings, Progress: o.stderr,
	})
	if sum != nil {
		fmt.Fprintf(stdout, "%d submissions in %v: %d graded, %d unchanged; %d out of time, %d unreadable, %d failed; gradebook %s\n",
			len(sum.Rows), sum.Wall.Round(time.Second), sum.Graded, sum.Reused,
			sum.Count(batch.OutOfTime), sum.Count(batch.Unreadable), sum.Count(batch.Failed), filepath.Join(o.out, batch.GradebookFile))
	}
	if err != nil {
		return err
	}
	if sum.Count(batch.Failed) > 0 {
		return fmt.Errorf("the grader failed on %d submissions (status \"failed\" in the gradebook): run the same command again to grade them", sum.Count(batch.Failed))
	}
	return nil
}

func releaseCmd(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	switch {
	case len(args) > 1:
		return usageError{"release takes one output directory"}
	case len(args) == 0 && o.gradescopeZip == "":
		return usageError{"release takes an output directory, -gradescope ZIP, or both"}
	case len(args) == 0 && o.git:
		return usageError{"-git makes the output directory a git repository: name one"}
	}
	repo, err := openRepo(o)
	if err != nil {
		return err
	}
	// A usage error, such as a ZIP that exists, stops both outputs before
	// either is written.
	outputError := func(err error) error {
		var bad *release.OutputError
		if errors.As(err, &bad) {
			return usageError{err.Error()}
		}
		return err
	}
	gs := release.GradescopeOptions{HiddenVisibility: o.gradescopeHidden, Force: o.force}
	if o.gradescopeZip != "" {
		if err := release.CheckGradescopeZip(repo, o.gradescopeZip, o.force); err != nil {
			return outputError(err)
		}
	}
	if len(args) == 1 {
		sum, err := release.Write(ctx, repo, args[0], release.Options{Git: o.git, Force: o.force})
		if err != nil {
			return outputError(err)
		}
		fmt.Fprintln(stdout, sum)
	}
	if o.gradescopeZip != "" {
		sum, err := release.WriteGradescope(repo, o.gradescopeZip, gs)
		if err != nil {
			return outputError(err)
		}
		fmt.Fprintln(stdout, sum)
	}
	return nil
}
