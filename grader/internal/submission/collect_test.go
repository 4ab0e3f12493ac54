package submission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCollect(t *testing.T) {
	courseRoot, sub := t.TempDir(), t.TempDir()
	write(t, courseRoot, "exercises/3-buffer/buffer_test.go", "package buffer // the course's tests\n")
	write(t, courseRoot, "exercises/3-buffer/buffer.go", "package buffer // stub\n")

	write(t, sub, "exercises/3-buffer/buffer.go", "package buffer // mine\n")
	write(t, sub, "exercises/3-buffer/buffer_test.go", "package buffer // tests I weakened\n")
	write(t, sub, "exercises/3-buffer/extra_test.go", "package buffer\n")
	write(t, sub, "exercises/3-buffer/notes.txt", "not Go\n")

	c, err := Collect(sub, courseRoot, buffer)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) != 0 {
		t.Errorf("Problems = %v, want none", c.Problems)
	}
	if len(c.Files) != 1 || string(c.Files[0].Data) != "package buffer // mine\n" {
		t.Errorf("Files = %+v, want the submitted buffer.go only", c.Files)
	}
	want := "exercises/3-buffer/buffer_test.go exercises/3-buffer/extra_test.go"
	if got := strings.Join(c.Ignored, " "); got != want {
		t.Errorf("Ignored = %q, want %q", got, want)
	}

	// An unchanged copy of the course's test file is not worth a mention.
	write(t, sub, "exercises/3-buffer/buffer_test.go", "package buffer // the course's tests\n")
	c, _ = Collect(sub, courseRoot, buffer)
	if got := strings.Join(c.Ignored, " "); got != "exercises/3-buffer/extra_test.go" {
		t.Errorf("Ignored = %q, want only extra_test.go", got)
	}
}

func TestCollectRefuses(t *testing.T) {
	courseRoot := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.go")
	if err := os.WriteFile(secret, []byte("package buffer // the instructor's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, sub string)
		want  string
	}{
		{"missing", func(t *testing.T, sub string) { write(t, sub, "exercises/3-buffer/other.go", "package buffer\n") }, "file is missing"},
		{"symlink", func(t *testing.T, sub string) {
			os.MkdirAll(filepath.Join(sub, "exercises/3-buffer"), 0o755)
			if err := os.Symlink(secret, filepath.Join(sub, "exercises/3-buffer/buffer.go")); err != nil {
				t.Skip("no symbolic links here:", err)
			}
		}, "is a symbolic link"},
		{"symlinked directory", func(t *testing.T, sub string) {
			elsewhere := filepath.Dir(secret)
			if err := os.Rename(secret, filepath.Join(elsewhere, "buffer.go")); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Rename(filepath.Join(elsewhere, "buffer.go"), secret) })
			os.MkdirAll(filepath.Join(sub, "exercises"), 0o755)
			if err := os.Symlink(elsewhere, filepath.Join(sub, "exercises/3-buffer")); err != nil {
				t.Skip("no symbolic links here:", err)
			}
		}, "is a symbolic link: submit the directory itself"},
		{"directory", func(t *testing.T, sub string) { os.MkdirAll(filepath.Join(sub, "exercises/3-buffer/buffer.go"), 0o755) }, "is not a regular file"},
		{"huge", func(t *testing.T, sub string) {
			write(t, sub, "exercises/3-buffer/buffer.go", "package buffer\n"+strings.Repeat("//\n", MaxFileSize))
		}, "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := t.TempDir()
			tt.setup(t, sub)
			c, err := Collect(sub, courseRoot, buffer)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Files) != 0 || len(c.Problems) != 1 || !strings.Contains(c.Problems[0].Msg, tt.want) {
				t.Errorf("Collect = files %d, problems %v; want no files and one problem containing %q", len(c.Files), c.Problems, tt.want)
			}
		})
	}
}

func TestCollectNoSubmission(t *testing.T) {
	if _, err := Collect(filepath.Join(t.TempDir(), "nope"), t.TempDir(), buffer); err == nil {
		t.Error("Collect of a missing directory succeeded, want an error")
	}
}
