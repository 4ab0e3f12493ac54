package submission

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// MaxFileSize bounds an editable file. Solutions are a few kilobytes; a
// file of megabytes is a mistake or an attack on the grader's memory.
const MaxFileSize = 256 << 10

// A File is one editable file of a submission.
type File struct {
	// Name is the file's name inside the exercise directory ("counter.go").
	Name string
	Data []byte
}

// Collected is what a submission holds for one exercise.
type Collected struct {
	Files []File
	// Problems are files that are missing or unreadable; nothing can be
	// graded while there are any.
	Problems []Problem
	// Ignored lists Go files in the exercise directory, relative to the
	// submission root, that are not graded: files the course does not
	// ship, and course files (tests) the student changed.
	Ignored []string
}

// Collect reads the editable files of ex from the submission rooted at
// root; courseRoot is the course checkout the submission is compared with. It
// returns an error only when the submission itself cannot be read (root
// missing, permission denied); a missing or unusable editable file is a
// Problem of the student's.
func Collect(root, courseRoot string, ex *course.Exercise) (*Collected, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	c := &Collected{}
	// A directory on the way that is a symbolic link could lead anywhere
	// on the grader's machine: to the course's own solutions, say.
	if link := symlinkOnPath(root, ex.Dir); link != "" {
		c.Problems = append(c.Problems, Problem{File: link, Msg: "is a symbolic link: submit the directory itself, with the files in it"})
		return c, nil
	}
	editable := map[string]bool{}
	for _, name := range ex.Editable {
		editable[name] = true
		rel := path.Join(ex.Dir, name)
		data, prob := readEditable(filepath.Join(root, filepath.FromSlash(rel)), rel)
		if prob != nil {
			c.Problems = append(c.Problems, *prob)
			continue
		}
		c.Files = append(c.Files, File{Name: name, Data: data})
	}
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(ex.Dir)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, ent := range entries {
		name := ent.Name()
		if editable[name] || !strings.HasSuffix(name, ".go") {
			continue
		}
		rel := path.Join(ex.Dir, name)
		theirs, err1 := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		ours, err2 := os.ReadFile(filepath.Join(courseRoot, filepath.FromSlash(rel)))
		if err1 == nil && err2 == nil && bytes.Equal(theirs, ours) {
			continue // the course's own file, unchanged
		}
		c.Ignored = append(c.Ignored, rel)
	}
	sort.Strings(c.Ignored)
	return c, nil
}

// readEditable reads one editable file, refusing anything but a regular
// file of reasonable size: a symbolic link could point at the grader's own
// files and have them echoed back in a compiler message.
// symlinkOnPath returns the first directory of rel (a slash-separated
// path below root) that is a symbolic link, or "".
func symlinkOnPath(root, rel string) string {
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := path.Join(parts[:i+1]...)
		if st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p))); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return p
		}
	}
	return ""
}

func readEditable(file, rel string) ([]byte, *Problem) {
	st, err := os.Lstat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Problem{File: rel, Msg: "file is missing: the exercise is graded from this file, so restore it (git checkout -- " + rel + ") and implement it"}
	case err != nil:
		return nil, &Problem{File: rel, Msg: "cannot read: " + err.Error()}
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, &Problem{File: rel, Msg: "is a symbolic link: submit the file itself"}
	case !st.Mode().IsRegular():
		return nil, &Problem{File: rel, Msg: "is not a regular file"}
	case st.Size() > MaxFileSize:
		return nil, &Problem{File: rel, Msg: fmt.Sprintf("is %d bytes, over the limit of %d", st.Size(), MaxFileSize)}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, &Problem{File: rel, Msg: "cannot read: " + err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Problem{File: rel, Msg: "cannot read: " + err.Error()}
	}
	if len(data) > MaxFileSize {
		return nil, &Problem{File: rel, Msg: fmt.Sprintf("is over the limit of %d bytes", MaxFileSize)}
	}
	return data, nil
}

// ReadDir reads the editable files of ex from dir, a directory that holds
// them directly (a solution under solutions/<id>, a mutant). Files dir
// does not hold are skipped; it is an error for dir to hold a .go file
// that is not editable, since it would be silently dropped.
func ReadDir(dir string, ex *course.Exercise) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	editable := map[string]bool{}
	for _, n := range ex.Editable {
		editable[n] = true
	}
	var files []File
	for _, ent := range entries {
		if !strings.HasSuffix(ent.Name(), ".go") {
			continue
		}
		if !editable[ent.Name()] {
			return nil, fmt.Errorf("%s: %s is not an editable file of %s (editable: %s)", dir, ent.Name(), ex.ID, strings.Join(ex.Editable, ", "))
		}
		data, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: ent.Name(), Data: data})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds none of the editable files of %s", dir, ex.ID)
	}
	return files, nil
}
