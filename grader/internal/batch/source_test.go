package batch

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTree writes files (slash-separated names) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

// zipEntry is one entry of a test archive; a link when link is set.
type zipEntry struct{ name, data, link string }

func writeZip(t *testing.T, file string, entries ...zipEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(0o644)
		data := e.data
		if e.link != "" {
			h.SetMode(os.ModeSymlink | 0o777)
			data = e.link
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = io.WriteString(w, data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
}

// gitRun runs git in dir with a fixed identity and date, and none of the
// user's configuration.
func gitRun(t *testing.T, dir, date string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=student", "GIT_AUTHOR_EMAIL=s@example.invalid", "GIT_COMMITTER_NAME=student", "GIT_COMMITTER_EMAIL=s@example.invalid",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

func readFile(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	return string(data)
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"alice/exercises/1-counter/counter.go": "package counter",
		"bob/.git/HEAD":                        "ref: refs/heads/main\n",
		"notes.txt":                            "not a submission",
		".hidden/exercises/x":                  "",
		"_drafts/exercises/x":                  "",
	})
	writeZip(t, filepath.Join(dir, "carol.ZIP"), zipEntry{name: "exercises/1-counter/counter.go", data: "package counter"})

	srcs, ignored, err := Discover(dir)
	require.NoError(t, err)
	assert.Equal(t, []Source{
		{Name: "alice", Path: filepath.Join(dir, "alice"), Kind: Folder},
		{Name: "bob", Path: filepath.Join(dir, "bob"), Kind: Git},
		{Name: "carol", Path: filepath.Join(dir, "carol.ZIP"), Kind: Zip},
	}, srcs)
	assert.Equal(t, []string{"notes.txt (neither a directory nor a .zip)"}, ignored)

	writeZip(t, filepath.Join(dir, "alice.zip"))
	_, _, err = Discover(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `both submissions named "alice"`)
}

func TestUnzipLooksThroughOneFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.zip")
	writeZip(t, file,
		zipEntry{name: "repo-main/README.md", data: "hello"},
		zipEntry{name: "repo-main/exercises/1-counter/counter.go", data: "package counter // mine"},
		zipEntry{name: "repo-main/exercises/6-pipe/pipe.go", link: "/etc/passwd"},
	)
	c, err := open(context.Background(), Source{Name: "s", Path: file, Kind: Zip}, dir, time.Time{})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "package counter // mine", readFile(t, filepath.Join(c.Root, "exercises", "1-counter", "counter.go")))
	assert.NoFileExists(t, filepath.Join(c.Root, "README.md"), "only the exercises folder is unpacked")
	_, err = os.Lstat(filepath.Join(c.Root, "exercises", "6-pipe", "pipe.go"))
	assert.True(t, os.IsNotExist(err), "a link is not unpacked")
	assert.Contains(t, c.Note, "symbolic links are not unpacked: repo-main/exercises/6-pipe/pipe.go")

	root := c.Root
	c.Close()
	assert.NoDirExists(t, root, "Close removes what was unpacked")
}

func TestUnzipRefuses(t *testing.T) {
	big := strings.Repeat("0", maxUnpackedBytes+1)
	for _, tc := range []struct {
		name    string
		entries []zipEntry
		want    string
	}{
		{"escape", []zipEntry{{name: "exercises/../../evil.go", data: "x"}}, "points outside it"},
		{"absolute", []zipEntry{{name: "/exercises/evil.go", data: "x"}}, "points outside it"},
		{"twice", []zipEntry{{name: "exercises/a.go", data: "x"}, {name: "exercises/./a.go", data: "y"}}, "twice"},
		{"bomb", []zipEntry{{name: "exercises/big.go", data: big}}, "more than 64 MiB"},
		{"file and folder", []zipEntry{{name: "exercises/a", data: "x"}, {name: "exercises/a/b.go", data: "y"}}, `unpacking "exercises/a/b.go"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "s.zip")
			writeZip(t, file, tc.entries...)
			scratch := t.TempDir()
			_, err := open(context.Background(), Source{Name: "s", Path: file, Kind: Zip}, scratch, time.Time{})
			var bad *unreadableError
			require.ErrorAs(t, err, &bad)
			assert.Contains(t, err.Error(), tc.want)
			assert.NoFileExists(t, filepath.Join(dir, "evil.go"))
			entries, err := os.ReadDir(scratch)
			require.NoError(t, err)
			assert.Empty(t, entries, "a refused archive leaves nothing behind")
		})
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "s.zip")
	require.NoError(t, os.WriteFile(file, []byte("not a zip"), 0o644))
	_, err := open(context.Background(), Source{Name: "s", Path: file, Kind: Zip}, dir, time.Time{})
	assert.ErrorContains(t, err, "not a readable zip archive")
}

// TestGitCommitGraded: a repository is graded at HEAD, or at the last
// commit before the deadline, never at its working tree; and nothing the
// repository's own configuration names is run.
func TestGitCommitGraded(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "student")
	file := filepath.Join(repo, "exercises", "1-counter", "counter.go")
	writeTree(t, repo, map[string]string{"exercises/1-counter/counter.go": "one"})
	gitRun(t, repo, "2026-12-01T10:00:00Z", "init", "-q", "-b", "main")
	gitRun(t, repo, "2026-12-01T10:00:00Z", "add", "-A")
	gitRun(t, repo, "2026-12-01T10:00:00Z", "commit", "-qm", "one")
	first := gitRun(t, repo, "", "rev-parse", "HEAD")
	require.NoError(t, os.WriteFile(file, []byte("two"), 0o644))
	gitRun(t, repo, "2026-12-03T10:00:00Z", "commit", "-qam", "two")
	second := gitRun(t, repo, "", "rev-parse", "HEAD")
	writeTree(t, repo, map[string]string{".gitattributes": "* filter=evil\n"})
	gitRun(t, repo, "2026-12-03T11:00:00Z", "add", ".gitattributes")
	gitRun(t, repo, "2026-12-03T11:00:00Z", "commit", "-qm", "attributes")
	second = gitRun(t, repo, "", "rev-parse", "HEAD")
	require.NoError(t, os.WriteFile(file, []byte("uncommitted"), 0o644))
	// A file-system monitor, hooks and a smudge filter (which git archive
	// would run on every file the attributes name) that would leave a
	// mark if run.
	mark := filepath.Join(t.TempDir(), "ran")
	gitRun(t, repo, "", "config", "core.fsmonitor", "touch "+mark)
	gitRun(t, repo, "", "config", "core.hooksPath", filepath.Join(repo, "hooks"))
	gitRun(t, repo, "", "config", "filter.evil.smudge", "touch "+mark+"; cat")
	writeTree(t, repo, map[string]string{"hooks/post-checkout": "#!/bin/sh\ntouch " + mark + "\n"})
	require.NoError(t, os.Chmod(filepath.Join(repo, "hooks", "post-checkout"), 0o755))

	src := Source{Name: "student", Path: repo, Kind: Git}
	for _, tc := range []struct {
		deadline     time.Time
		commit, want string
	}{
		{time.Time{}, second, "two"},
		{time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), first, "one"},
	} {
		c, err := open(context.Background(), src, t.TempDir(), tc.deadline)
		require.NoError(t, err)
		assert.Equal(t, tc.commit, c.Commit)
		assert.Equal(t, tc.want, readFile(t, filepath.Join(c.Root, "exercises", "1-counter", "counter.go")))
		c.Close()
	}
	_, err := open(context.Background(), src, t.TempDir(), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	var bad *unreadableError
	require.ErrorAs(t, err, &bad)
	assert.Contains(t, err.Error(), "no commit before the deadline 2026-11-01T00:00:00Z")
	assert.NoFileExists(t, mark, "the repository's fsmonitor, hooks or filter ran")

	empty := filepath.Join(t.TempDir(), "empty")
	gitRun(t, t.TempDir(), "", "init", "-q", empty)
	_, err = open(context.Background(), Source{Name: "empty", Path: empty, Kind: Git}, t.TempDir(), time.Time{})
	require.ErrorAs(t, err, &bad)
	assert.EqualError(t, err, "the repository has no commit")
}

func TestShardSplit(t *testing.T) {
	var names []string
	for i := range 200 {
		names = append(names, "student-"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10))+string(rune('A'+i/26)))
	}
	for n := 1; n <= 5; n++ {
		sizes := make([]int, n)
		for _, name := range names {
			in := 0
			for i := 1; i <= n; i++ {
				if (Shard{i, n}).Has(name) {
					in++
					sizes[i-1]++
				}
			}
			require.Equal(t, 1, in, "%s is in %d of %d shards, want exactly one", name, in, n)
		}
		for i, size := range sizes {
			assert.Greater(t, size, len(names)/n/3, "shard %d/%d has %d of %d names", i+1, n, size, len(names))
		}
	}
	assert.True(t, Shard{}.Has("anyone"), "no shard holds everyone")

	for _, bad := range []string{"", "1", "0/2", "3/2", "a/b", "1/0", "-1/2"} {
		_, err := ParseShard(bad)
		assert.Error(t, err, "ParseShard(%q)", bad)
	}
	sh, err := ParseShard("2/4")
	require.NoError(t, err)
	assert.Equal(t, Shard{2, 4}, sh)
	assert.Equal(t, "2/4", sh.String())
}

func TestContentHash(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"exercises/1-counter/counter.go": "a", "README.md": "x"})
	h1, err := contentHash(dir)
	require.NoError(t, err)
	writeTree(t, dir, map[string]string{"README.md": "changed outside the exercises"})
	h2, err := contentHash(dir)
	require.NoError(t, err)
	assert.Equal(t, h1, h2)
	writeTree(t, dir, map[string]string{"exercises/1-counter/counter.go": "b"})
	h3, err := contentHash(dir)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h3)
	require.NoError(t, os.Remove(filepath.Join(dir, "exercises", "1-counter", "counter.go")))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "exercises", "1-counter", "counter.go")))
	h4, err := contentHash(dir)
	require.NoError(t, err)
	assert.NotEqual(t, h3, h4)
}
