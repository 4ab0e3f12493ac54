package batch

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// Kind is how a submission reached the instructor.
type Kind string

// Kinds of submission.
const (
	// Folder: a directory laid out like the student repository, graded
	// as it is on disk.
	Folder Kind = "folder"
	// Git: a git repository, graded at HEAD or at the last commit before
	// the deadline, never its working tree.
	Git Kind = "git"
	// Zip: a .zip of a folder (GitHub's "Download ZIP" wraps it in one
	// top-level folder, which is looked through).
	Zip Kind = "zip"
)

// A Source is one submission found under the class directory.
type Source struct {
	// Name is the entry's name, without ".zip": the gradebook's row.
	Name string
	Path string
	Kind Kind
}

// Limits on what an archive may unpack to. A student repository's
// exercises are a few hundred kilobytes; these bound a zip bomb or a
// repository full of junk, not an honest submission.
const (
	maxUnpackedBytes = 64 << 20
	maxUnpackedFiles = 20000
)

// Discover lists the submissions directly under dir, sorted by name:
// every directory (a git repository when it has .git) and every .zip
// file. Entries whose names start with "." or "_" are passed over;
// anything else is returned in ignored, for a warning.
func Discover(dir string) (srcs []Source, ignored []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	byName := map[string]string{}
	for _, ent := range entries {
		name := ent.Name()
		p := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		st, err := os.Stat(p) // a link to a submission is fine: the instructor made it
		if err != nil {
			ignored = append(ignored, name+" ("+err.Error()+")")
			continue
		}
		var src Source
		switch {
		case st.IsDir() && isGitRepo(p):
			src = Source{Name: name, Path: p, Kind: Git}
		case st.IsDir():
			src = Source{Name: name, Path: p, Kind: Folder}
		case st.Mode().IsRegular() && strings.EqualFold(filepath.Ext(name), ".zip"):
			src = Source{Name: strings.TrimSuffix(name, filepath.Ext(name)), Path: p, Kind: Zip}
		default:
			ignored = append(ignored, name+" (neither a directory nor a .zip)")
			continue
		}
		if other, dup := byName[src.Name]; dup {
			return nil, nil, fmt.Errorf("%s and %s are both submissions named %q: rename one", other, name, src.Name)
		}
		byName[src.Name] = name
		srcs = append(srcs, src)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	return srcs, ignored, nil
}

// isGitRepo reports whether dir has a .git directory of its own. A .git
// file (a linked worktree, a submodule) or link names a repository
// elsewhere, perhaps another student's: such a folder is graded as it is
// on disk.
func isGitRepo(dir string) bool {
	st, err := os.Lstat(filepath.Join(dir, ".git"))
	return err == nil && st.IsDir()
}

// An unreadableError is a submission that cannot be read as one: a broken
// archive, a repository without a commit before the deadline. It is the
// submission's problem, recorded in its row, not the grader's.
type unreadableError struct{ msg string }

func (e *unreadableError) Error() string { return e.msg }

func unreadable(format string, args ...any) error {
	return &unreadableError{fmt.Sprintf(format, args...)}
}

// A checkout is a submission's files on disk, ready to grade.
type checkout struct {
	// Root is laid out like the student repository.
	Root string
	// Commit is the commit graded, for a git repository.
	Commit string
	// Note says something the instructor should know about how the
	// submission was read ("" when nothing).
	Note    string
	cleanup func()
}

func (c *checkout) Close() {
	if c.cleanup != nil {
		c.cleanup()
	}
}

// open makes src's files available under a directory of their own (for
// archives and repositories, a new directory in scratch). deadline, when
// not zero, picks a repository's last commit before it.
func open(ctx context.Context, src Source, scratch string, deadline time.Time) (*checkout, error) {
	switch src.Kind {
	case Folder:
		c := &checkout{Root: src.Path}
		if !deadline.IsZero() {
			c.Note = "not a git repository: graded as it is on disk, whatever the deadline"
		}
		return c, nil
	case Zip, Git:
	default:
		return nil, fmt.Errorf("unknown kind of submission %q", src.Kind)
	}
	dir, err := os.MkdirTemp(scratch, "submission-")
	if err != nil {
		return nil, err
	}
	c := &checkout{Root: dir, cleanup: func() { os.RemoveAll(dir) }}
	var links []string
	if src.Kind == Zip {
		links, err = unzip(src.Path, dir)
		if !deadline.IsZero() {
			c.Note = "a zip has no history: graded as it is, whatever the deadline"
		}
	} else {
		c.Commit, links, err = gitExport(ctx, src.Path, dir, deadline)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	if len(links) > 0 {
		sort.Strings(links)
		c.Note = join(c.Note, "symbolic links are not unpacked: "+strings.Join(links, ", "))
	}
	return c, nil
}

// unpacker writes the regular files of an archive under dir, keeping only
// what lies under exercises/ (after looking through one wrapping folder,
// as GitHub's "Download ZIP" makes), and refusing what could write
// outside dir or fill the disk. Links are not unpacked at all: an editable
// file that was a link is then missing, which the submission's row says.
type unpacker struct {
	dir    string
	prefix string // the wrapping folder to look through, with its slash
	files  int
	bytes  int64
	links  []string
}

// prefixOf returns the folder that wraps every name, when there is one and
// the exercises folder is not at the top already.
func prefixOf(names []string) string {
	var top string
	for _, n := range names {
		n = strings.TrimPrefix(n, "./")
		first, _, _ := strings.Cut(n, "/")
		if first == course.ExercisesDir {
			return ""
		}
		if n == "" || (top != "" && first != top) {
			return ""
		}
		top = first
	}
	if top == "" {
		return ""
	}
	return top + "/"
}

// place returns where an archive entry goes under u.dir, or "" when it
// is not part of the exercises.
func (u *unpacker) place(name string) (string, error) {
	name = strings.TrimPrefix(name, "./")
	if !strings.HasPrefix(name, u.prefix) {
		return "", nil
	}
	rel := strings.TrimPrefix(name, u.prefix)
	if rel == "" {
		return "", nil
	}
	clean := path.Clean(rel)
	if path.IsAbs(rel) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(rel, `\`) {
		return "", unreadable("the archive holds %q, a name that points outside it", name)
	}
	if clean != course.ExercisesDir && !strings.HasPrefix(clean, course.ExercisesDir+"/") {
		return "", nil
	}
	return filepath.Join(u.dir, filepath.FromSlash(clean)), nil
}

func (u *unpacker) file(name string, r io.Reader) error {
	dst, err := u.place(name)
	if dst == "" || err != nil {
		return err
	}
	u.files++
	if u.files > maxUnpackedFiles {
		return unreadable("the archive holds more than %d files under %s/", maxUnpackedFiles, course.ExercisesDir)
	}
	// An entry that is both a file and a folder, or a name the file
	// system refuses, is the archive's fault.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return unreadable("unpacking %q: %v", name, err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return unreadable("the archive holds %q twice", name)
	}
	if err != nil {
		return unreadable("unpacking %q: %v", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(r, maxUnpackedBytes-u.bytes+1))
	u.bytes += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return unreadable("reading %q from the archive: %v", name, err)
	}
	if u.bytes > maxUnpackedBytes {
		return unreadable("the archive unpacks to more than %d MiB under %s/", maxUnpackedBytes>>20, course.ExercisesDir)
	}
	return nil
}

func (u *unpacker) link(name string) {
	if dst, err := u.place(name); dst != "" && err == nil {
		u.links = append(u.links, name)
	}
}

func unzip(file, dir string) (links []string, err error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, unreadable("not a readable zip archive: %v", err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	u := &unpacker{dir: dir, prefix: prefixOf(names)}
	for _, f := range zr.File {
		switch mode := f.Mode(); {
		case mode.IsDir():
		case mode&os.ModeSymlink != 0:
			u.link(f.Name)
		case mode.IsRegular():
			rc, err := f.Open()
			if err != nil {
				return nil, unreadable("reading %q from the archive: %v", f.Name, err)
			}
			err = u.file(f.Name, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	return u.links, nil
}

// gitCmd is git on the repository in dir, reading nothing but that
// repository's own .git directory and none of the user's or the system's
// configuration: GIT_DIR and GIT_COMMON_DIR name it, so that neither a
// .git file nor a commondir file inside it can send git to another
// repository (another student's, say); no hooks, no file-system monitor.
// The commands run on it (rev-parse, rev-list, ls-tree, cat-file) run no
// filter or other command the repository's own configuration names.
func gitCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	base := []string{"-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "safe.directory=*"}
	cmd := exec.CommandContext(ctx, "git", append(base, args...)...)
	gitDir := filepath.Join(dir, ".git")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_DIR="+gitDir, "GIT_COMMON_DIR="+gitDir, "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
	return cmd
}

// git runs gitCmd, its output to stdout; a failure is the repository's.
func git(ctx context.Context, dir string, stdout io.Writer, args ...string) error {
	cmd := gitCmd(ctx, dir, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	return gitFailure(ctx, cmd.Run(), args[0], &stderr)
}

func gitFailure(ctx context.Context, err error, what string, stderr *bytes.Buffer) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	return unreadable("git %s: %s", what, firstLine(msg))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// gitExport writes the exercises of a repository's commit into dir and
// returns the commit: HEAD, or the last commit on HEAD's first-parent
// line committed before deadline. Commit dates are the student's own
// claims (git lets anyone set them); a deadline the student cannot bend
// is the time the host received the push, which only the host records.
func gitExport(ctx context.Context, repo, dir string, deadline time.Time) (commit string, links []string, err error) {
	// An empty repository, such as the grade-class workflow leaves for
	// a student repository it could not clone, gets a row that says so,
	// not rev-list's "bad revision 'HEAD'".
	var bad *unreadableError
	if err := git(ctx, repo, io.Discard, "rev-parse", "-q", "--verify", "HEAD^{commit}"); errors.As(err, &bad) {
		return "", nil, unreadable("the repository has no commit")
	} else if err != nil {
		return "", nil, err
	}
	args := []string{"rev-list", "-1", "--first-parent"}
	if !deadline.IsZero() {
		args = append(args, "--before="+strconv.FormatInt(deadline.Unix(), 10))
	}
	var out bytes.Buffer
	if err := git(ctx, repo, &out, append(args, "HEAD", "--")...); err != nil {
		return "", nil, err
	}
	commit = strings.TrimSpace(out.String())
	if commit == "" {
		return "", nil, unreadable("no commit before the deadline %s", deadline.Format(time.RFC3339))
	}
	links, err = exportTree(ctx, repo, commit, dir)
	if err != nil {
		return "", nil, err
	}
	return commit, links, nil
}

// exportTree writes the regular files of commit's tree that lie under
// exercises/ into dir, as the unpacker does an archive's, and returns the
// links it did not write. The blobs are read raw with cat-file: git
// archive would run them through the filters and text conversions the
// repository's attributes and configuration name, which a student's
// repository could make run any command on the grader's machine.
func exportTree(ctx context.Context, repo, commit, dir string) (links []string, err error) {
	var list bytes.Buffer
	if err := git(ctx, repo, &list, "ls-tree", "-r", "-z", "--full-tree", commit); err != nil {
		return nil, err
	}
	u := &unpacker{dir: dir}
	type blob struct{ name, id string }
	var blobs []blob
	for _, entry := range strings.Split(strings.TrimSuffix(list.String(), "\x00"), "\x00") {
		if entry == "" {
			continue
		}
		meta, name, ok := strings.Cut(entry, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 {
			return nil, unreadable("git ls-tree: unexpected line %q", entry)
		}
		switch mode, typ, id := fields[0], fields[1], fields[2]; {
		case mode == "120000":
			u.link(name)
		case typ == "blob" && (mode == "100644" || mode == "100755"):
			if dst, err := u.place(name); err != nil {
				return nil, err
			} else if dst != "" {
				blobs = append(blobs, blob{name, id})
			}
		}
	}
	if len(blobs) == 0 {
		return u.links, nil
	}
	var ids strings.Builder
	for _, b := range blobs {
		ids.WriteString(b.id + "\n")
	}
	cmd := gitCmd(ctx, repo, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(ids.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	err = readBlobs(bufio.NewReader(out), u, func(i int) string { return blobs[i].name }, len(blobs))
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	if err := gitFailure(ctx, cmd.Wait(), "cat-file", &stderr); err != nil {
		return nil, err
	}
	return u.links, nil
}

// readBlobs reads n objects in cat-file --batch's format ("<id> blob
// <size>", the content, a newline) and writes the i-th as name(i).
func readBlobs(r *bufio.Reader, u *unpacker, name func(int) string, n int) error {
	for i := 0; i < n; i++ {
		head, err := r.ReadString('\n')
		if err != nil {
			return unreadable("git cat-file: %v", err)
		}
		f := strings.Fields(head)
		if len(f) != 3 || f[1] != "blob" {
			return unreadable("git cat-file: unexpected %q", strings.TrimSpace(head))
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return unreadable("git cat-file: unexpected %q", strings.TrimSpace(head))
		}
		if err := u.file(name(i), io.LimitReader(r, size)); err != nil {
			return err
		}
		if _, err := r.Discard(1); err != nil { // the newline after the content
			return unreadable("git cat-file: %v", err)
		}
	}
	return nil
}

// join joins non-empty notes with "; ".
func join(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
