package submission

import (
	"context"
	"strings"
	"testing"
)

// TestHostileFixtures checks that the hostile fixture submissions under
// testdata/submissions are refused statically, at the line of the attack.
func TestHostileFixtures(t *testing.T) {
	repo := testRepo(t)
	tests := []struct {
		submission, exercise string
		want                 []string
	}{
		{"exit-var-initializer", "pipe", []string{"exercises/6-pipe/pipe.go:26:2: os.Exit is not allowed: a submission may not end or replace the test process itself; return an error (or panic) instead"}},
		{"exit-func-value", "pipe", []string{"exercises/6-pipe/pipe.go:20:12: os.Exit is not allowed: a submission may not end or replace the test process itself; return an error (or panic) instead"}},
		{"exit-dot-import", "pipe", []string{"exercises/6-pipe/pipe.go:21:15: Exit is not allowed: a submission may not end or replace the test process itself (Exit is syscall.Exit); return an error (or panic) instead"}},
		{"exit-in-init", "counter", []string{`exercises/1-counter/counter.go:4:8: import "os" is not allowed in counter`, "exercises/1-counter/counter.go:7:15: os.Exit is not allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.submission, func(t *testing.T) {
			ex, err := repo.Exercise(tt.exercise)
			if err != nil {
				t.Fatal(err)
			}
			col, err := Collect(repo.Path("testdata", "submissions", tt.submission), repo.Root, ex)
			if err != nil {
				t.Fatal(err)
			}
			if len(col.Problems) > 0 || len(col.Files) != len(ex.Editable) {
				t.Fatalf("Collect = %d files, problems %v; want every editable file", len(col.Files), col.Problems)
			}
			probs, err := Check(context.Background(), repo, ex, col.Files)
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) != len(tt.want) {
				t.Fatalf("Check found %d problems, want %d:\n%s", len(probs), len(tt.want), problemLines(probs))
			}
			for i, p := range probs {
				if !strings.HasPrefix(p.String(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start %q", i, p, tt.want[i])
				}
			}
		})
	}
}
