package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// contentHash hashes what grading a submission rooted at root reads:
// every entry under its exercises folder, by path, kind and content. A
// link is hashed as its target, never followed. Two submissions with the
// same hash get the same grade from the same grader.
func contentHash(root string) (string, error) {
	h := sha256.New()
	err := hashTree(h, filepath.Join(root, course.ExercisesDir), "")
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree writes every entry under dir to h, each prefixed by its path
// below dir and its kind; a missing dir hashes as nothing.
func hashTree(h hash.Hash, dir, label string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			fmt.Fprintf(h, "%s%s/\x00dir\x00", label, rel)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s%s\x00link\x00%d\x00%s", label, rel, len(target), target)
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			st, err := f.Stat()
			if err == nil {
				fmt.Fprintf(h, "%s%s\x00file\x00%d\x00", label, rel, st.Size())
				_, err = io.CopyN(h, f, st.Size())
			}
			f.Close()
			if err != nil {
				return err
			}
		default:
			fmt.Fprintf(h, "%s%s\x00other\x00", label, rel)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

// graderFingerprint identifies the grading itself: the grader's own
// executable (its code, the manifests embedded in it), the course files a
// build reads (tests, hidden tests, shared helpers, modules) and the
// settings that change a score. A batch reuses a stored result only when
// both this and the submission's content hash are unchanged.
func graderFingerprint(repo *course.Repo, settings string) (string, error) {
	h := sha256.New()
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the grader's executable to fingerprint it: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("fingerprinting the grader: %w", err)
	}
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("fingerprinting the grader: %w", err)
	}
	for _, rel := range []string{course.ExercisesDir, course.HiddenDir} {
		if err := hashTree(h, repo.Path(rel), rel+"/"); err != nil {
			return "", fmt.Errorf("fingerprinting the course: %w", err)
		}
	}
	for _, rel := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(repo.Path(rel))
		if err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("fingerprinting the course: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00%s", rel, len(data), data)
	}
	fmt.Fprintf(h, "settings\x00%s", strings.TrimSpace(settings))
	return hex.EncodeToString(h.Sum(nil)), nil
}
