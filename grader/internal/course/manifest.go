package course

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

//go:embed manifests/*.json
var manifestFS embed.FS

// An Exercise is one exercise's manifest.
type Exercise struct {
	// ID is the exercise's short name and its Go package name ("counter").
	ID string `json:"id"`
	// Number orders the exercises as the lecture does.
	Number int `json:"number"`
	// Title is a few words for tables.
	Title string `json:"title"`
	// Teaches is one line on what the exercise is about.
	Teaches string `json:"teaches"`
	// Dir is the exercise's directory, relative to the repository root
	// ("exercises/1-counter").
	Dir string `json:"dir"`
	// Editable lists the files, relative to Dir, that a student may edit.
	// Nothing else is ever taken from a submission.
	Editable []string `json:"editable"`
	// Imports is the allow-list for the editable files. It never holds
	// unsafe.
	Imports []string `json:"imports"`
	// ImportsHint explains the allow-list to a student.
	ImportsHint string `json:"imports_hint"`
	// Forbid lists language constructs the editable files may not use.
	Forbid []Forbidden `json:"forbid,omitempty"`
	// UnixOnly marks exercises that need a Unix kernel (shm, pipes, FIFOs).
	UnixOnly bool `json:"unix_only,omitempty"`
	// BuildConstraint is the one build constraint the editable files may
	// carry, as in the stubs ("unix" for a Unix-only exercise, so that
	// its package still builds, and its tests say what to do, on Windows).
	BuildConstraint string `json:"build_constraint,omitempty"`
	// Timeout is the time limit of a test that sets none of its own.
	Timeout Duration `json:"timeout"`
	// Tests lists every top-level test function, visible and hidden.
	Tests []Test `json:"tests"`
	// Catalogue is the exercise's bug catalogue.
	Catalogue []Bug `json:"catalogue"`
}

// Forbidden is a language construct an exercise does not allow.
type Forbidden struct {
	// Construct is "channels" or "goroutines".
	Construct string `json:"construct"`
	// Hint tells the student why.
	Hint string `json:"hint"`
}

// Constructs the static checks know how to find.
const (
	ConstructChannels   = "channels"
	ConstructGoroutines = "goroutines"
)

// A Test is one top-level test function and what it is worth.
type Test struct {
	Name    string   `json:"name"`
	Points  float64  `json:"points"`
	Hidden  bool     `json:"hidden,omitempty"`
	Timeout Duration `json:"timeout,omitempty"`
}

// A Bug is one entry of an exercise's bug catalogue.
type Bug struct {
	// ID names the entry; mutants are usually named after it.
	ID string `json:"id"`
	// Bug describes the mistake.
	Bug string `json:"bug"`
	// Tests are the tests written to catch the mistake. Every mutant of
	// the entry must fail at least one of them.
	Tests []string `json:"tests"`
	// Mutants name patches testdata/mutants/<exercise id>/<name>.patch,
	// each a version of the solution with this mistake in it (package
	// mutant reads them).
	Mutants []string `json:"mutants"`
}

// Duration is a time.Duration written as a string ("30s") in JSON.
type Duration time.Duration

// UnmarshalJSON reads a duration such as "30s" or "1m30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// MaxScore is what the exercise is worth in a run: the points of its
// visible tests, and of its hidden tests too when hidden is true.
func (e *Exercise) MaxScore(hidden bool) float64 {
	var sum float64
	for _, t := range e.Tests {
		if hidden || !t.Hidden {
			sum += t.Points
		}
	}
	return sum
}

// TestsFor returns the tests graded in a run: the visible ones, and the
// hidden ones too when hidden is true.
func (e *Exercise) TestsFor(hidden bool) []Test {
	var ts []Test
	for _, t := range e.Tests {
		if hidden || !t.Hidden {
			ts = append(ts, t)
		}
	}
	return ts
}

// TimeoutOf returns the time limit of a test.
func (e *Exercise) TimeoutOf(t Test) time.Duration {
	if t.Timeout > 0 {
		return time.Duration(t.Timeout)
	}
	return time.Duration(e.Timeout)
}

// PackageDir is the exercise's directory relative to the exercises module
// root ("1-counter").
func (e *Exercise) PackageDir() string {
	return strings.TrimPrefix(e.Dir, ExercisesDir+"/")
}

// Manifests returns every embedded manifest, checked, in lecture order.
func Manifests() ([]*Exercise, error) {
	entries, err := manifestFS.ReadDir("manifests")
	if err != nil {
		return nil, err
	}
	var exs []*Exercise
	for _, ent := range entries {
		name := "manifests/" + ent.Name()
		data, err := manifestFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ex, err := ParseManifest(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if want := ex.ID + ".json"; ent.Name() != want {
			return nil, fmt.Errorf("%s: manifest of %q must be named %s", name, ex.ID, want)
		}
		exs = append(exs, ex)
	}
	sort.Slice(exs, func(i, j int) bool { return exs[i].Number < exs[j].Number })
	for i := 1; i < len(exs); i++ {
		if exs[i].Number == exs[i-1].Number {
			return nil, fmt.Errorf("exercises %s and %s share number %d", exs[i-1].ID, exs[i].ID, exs[i].Number)
		}
	}
	return exs, nil
}

// ParseManifest decodes one manifest and checks that it is consistent.
// Unknown fields are an error, so that a typo cannot silently drop a rule.
func ParseManifest(data []byte) (*Exercise, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ex Exercise
	if err := dec.Decode(&ex); err != nil {
		return nil, err
	}
	if err := ex.check(); err != nil {
		return nil, err
	}
	return &ex, nil
}

// check reports the first inconsistency in a manifest.
func (e *Exercise) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !isIdent(e.ID) {
		bad("id %q is not a valid Go package name", e.ID)
	}
	if want := fmt.Sprintf("%s/%d-%s", ExercisesDir, e.Number, e.ID); e.Dir != want {
		bad("dir is %q, want %q", e.Dir, want)
	}
	if e.Title == "" || e.Teaches == "" {
		bad("title and teaches must be set")
	}
	if len(e.Editable) == 0 {
		bad("no editable files")
	}
	for _, f := range e.Editable {
		if path.Base(f) != f || !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			bad("editable file %q must be a plain .go file name inside the exercise directory", f)
		}
	}
	for _, f := range e.Forbid {
		if f.Construct != ConstructChannels && f.Construct != ConstructGoroutines {
			bad("forbid: unknown construct %q", f.Construct)
		}
		if f.Hint == "" {
			bad("forbid %q: a hint for the student is required", f.Construct)
		}
	}
	if len(e.Imports) > 0 && e.ImportsHint == "" {
		bad("imports_hint is required with an allow-list")
	}
	if slices.Contains(e.Imports, "unsafe") {
		bad("imports lists unsafe, which no exercise may allow: it can overwrite any memory of the test process, the testing package's included, and no check tells a harmless use from another; give the exercise a checked helper instead, as shmview is for shm")
	}
	if e.Timeout <= 0 {
		bad("timeout must be positive")
	}
	seen := map[string]bool{}
	var total float64
	for _, t := range e.Tests {
		if !strings.HasPrefix(t.Name, "Test") || !isIdent(t.Name) {
			bad("test %q is not a test function name", t.Name)
		}
		if seen[t.Name] {
			bad("test %s listed twice", t.Name)
		}
		seen[t.Name] = true
		if t.Points <= 0 {
			bad("test %s: points must be positive", t.Name)
		}
		total += t.Points
	}
	if total != 100 {
		bad("tests are worth %g points in all, want 100", total)
	}
	bugs := map[string]bool{}
	for _, b := range e.Catalogue {
		if bugs[b.ID] {
			bad("catalogue entry %s listed twice", b.ID)
		}
		bugs[b.ID] = true
		if b.Bug == "" || len(b.Tests) == 0 || len(b.Mutants) == 0 {
			bad("catalogue entry %s needs bug, tests and at least one mutant", b.ID)
		}
		for _, t := range b.Tests {
			if !seen[t] {
				bad("catalogue entry %s names test %s, which is not in tests", b.ID, t)
			}
		}
	}
	if len(e.Catalogue) == 0 {
		bad("the bug catalogue is empty")
	}
	return errors.Join(errs...)
}

// Mutants lists every mutant of the exercise with the entry it belongs to.
func (e *Exercise) Mutants() []Mutant {
	var ms []Mutant
	for i := range e.Catalogue {
		for _, m := range e.Catalogue[i].Mutants {
			ms = append(ms, Mutant{Name: m, Bug: &e.Catalogue[i]})
		}
	}
	return ms
}

// A Mutant is a known-wrong implementation of an exercise.
type Mutant struct {
	Name string
	Bug  *Bug
}

// Test returns the named test and whether the manifest lists it.
func (e *Exercise) Test(name string) (Test, bool) {
	i := slices.IndexFunc(e.Tests, func(t Test) bool { return t.Name == name })
	if i < 0 {
		return Test{}, false
	}
	return e.Tests[i], true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}
