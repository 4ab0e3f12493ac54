package course

import (
	"strings"
	"testing"
)

const good = `{
  "id": "demo", "number": 7, "title": "Demo", "teaches": "nothing much",
  "dir": "exercises/7-demo", "editable": ["demo.go"],
  "imports": ["sync"], "imports_hint": "sync is enough",
  "timeout": "30s",
  "tests": [{"name": "TestA", "points": 40}, {"name": "TestB", "points": 60, "hidden": true, "timeout": "1m"}],
  "catalogue": [{"id": "bug", "bug": "a bug", "tests": ["TestB"], "mutants": ["bug"]}]
}`

func TestParseManifest(t *testing.T) {
	ex, err := ParseManifest([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := ex.MaxScore(false); got != 40 {
		t.Errorf("MaxScore(visible) = %g, want 40", got)
	}
	if got := ex.MaxScore(true); got != 100 {
		t.Errorf("MaxScore(hidden) = %g, want 100", got)
	}
	b, _ := ex.Test("TestB")
	if got := ex.TimeoutOf(b).String(); got != "1m0s" {
		t.Errorf("TimeoutOf(TestB) = %s, want 1m0s", got)
	}
	a, _ := ex.Test("TestA")
	if got := ex.TimeoutOf(a).String(); got != "30s" {
		t.Errorf("TimeoutOf(TestA) = %s, want the exercise's 30s", got)
	}
	if got := ex.PackageDir(); got != "7-demo" {
		t.Errorf("PackageDir() = %q, want 7-demo", got)
	}
}

func TestParseManifestRejects(t *testing.T) {
	tests := []struct{ from, to, want string }{
		{`"id": "demo"`, `"id": "de-mo"`, "not a valid Go package name"},
		{`"dir": "exercises/7-demo"`, `"dir": "exercises/demo"`, `want "exercises/7-demo"`},
		{`"editable": ["demo.go"]`, `"editable": ["demo_test.go"]`, "must be a plain .go file"},
		{`"editable": ["demo.go"]`, `"editable": ["../grader/main.go"]`, "must be a plain .go file"},
		{`"points": 40`, `"points": 30`, "worth 90 points in all, want 100"},
		{`"tests": ["TestB"]`, `"tests": ["TestC"]`, "names test TestC, which is not in tests"},
		{`"mutants": ["bug"]`, `"mutants": []`, "needs bug, tests and at least one mutant"},
		{`"timeout": "30s"`, `"timeout": "soon"`, "invalid duration"},
		{`"timeout": "30s"`, `"timeout": "30s", "timeuot": "1s"`, "unknown field"},
		{`"imports_hint": "sync is enough"`, `"imports_hint": ""`, "imports_hint is required"},
		{`"imports": ["sync"]`, `"imports": ["sync", "unsafe"]`, "imports lists unsafe, which no exercise may allow"},
	}
	for _, tt := range tests {
		src := strings.Replace(good, tt.from, tt.to, 1)
		if src == good {
			t.Fatalf("%q is not in the manifest", tt.from)
		}
		_, err := ParseManifest([]byte(src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("with %s: ParseManifest error = %v, want one containing %q", tt.to, err, tt.want)
		}
	}
}

func TestEmbeddedManifests(t *testing.T) {
	exs, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) == 0 {
		t.Fatal("no manifests embedded")
	}
	for i, ex := range exs {
		if i > 0 && ex.Number <= exs[i-1].Number {
			t.Errorf("manifests out of lecture order: %s (%d) after %s (%d)", ex.ID, ex.Number, exs[i-1].ID, exs[i-1].Number)
		}
	}
}
