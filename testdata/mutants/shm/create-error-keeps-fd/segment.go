//go:build unix

// MUTANT create-error-keeps-fd (left-behind): Create closes the file only
// when everything went well. When sizing or mapping the new segment fails,
// it removes the file but returns without closing it: every failed Create
// leaks a file descriptor.

// Package shm is shared memory between processes: named segments that
// several processes map into their address spaces, a mutex that lives
// inside a segment, and a single-producer single-consumer ring of messages.
//
// This is the reference solution. A segment is a file in /dev/shm on
// Linux (a tmpfs: its pages are memory, never written to a disk) and in
// os.TempDir() on other Unix systems; it is sized with ftruncate and
// mapped with mmap(MAP_SHARED), so every process that maps it sees the
// same physical pages. The descriptor is closed as soon as the mapping
// exists: the mapping keeps the pages alive by itself.
package shm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ipclab/ipclab/exercises/shmview"
)

var (
	// ErrExists is returned (wrapped) by Create when a segment of that
	// name exists already.
	ErrExists = errors.New("shm: segment already exists")
	// ErrNotExist is returned (wrapped) by Open and Unlink when there is
	// no segment of that name.
	ErrNotExist = errors.New("shm: no such segment")
	// ErrBadName is returned (wrapped) by Create, Open and Unlink for a
	// name that is empty, longer than MaxName, ".", "..", or holds a '/'
	// or a NUL byte.
	ErrBadName = errors.New("shm: bad segment name")
)

// MaxName is the longest segment name, in bytes.
const MaxName = 200

// Dir returns the directory that holds the segments' names: /dev/shm on
// Linux, os.TempDir() on other Unix systems.
func Dir() string {
	if runtime.GOOS == "linux" {
		return "/dev/shm"
	}
	return os.TempDir()
}

// A Segment is one process's mapping of a named shared-memory segment.
// Make one with Create or Open.
type Segment struct {
	data []byte // the mapping; nil once closed
}

// path checks name and returns the file that holds the segment.
func path(name string) (string, error) {
	if name == "" || len(name) > MaxName || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return filepath.Join(Dir(), name), nil
}

// Create makes a new segment of size bytes, all zero, and maps it. It
// fails with an error wrapping ErrExists when the name is taken, and with
// an error when size is not positive; a Create that fails leaves no
// segment behind.
func Create(name string, size int) (*Segment, error) {
	p, err := path(name)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("shm: create %q: size %d, want at least 1 byte", name, size)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%w: %q", ErrExists, name)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	seg, err := mapFile(f, size)
	if err != nil {
		// BUG: f is never closed on this path.
		os.Remove(p)
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	f.Close()
	return seg, nil
}

// mapFile sizes f (when size > 0) and maps all of it.
func mapFile(f *os.File, size int) (*Segment, error) {
	if size > 0 {
		if err := f.Truncate(int64(size)); err != nil {
			return nil, err
		}
	} else {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if st.Size() == 0 {
			return nil, errors.New("the segment is empty (its creator has not sized it yet?)")
		}
		size = int(st.Size())
	}
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return &Segment{data: data}, nil
}

// Open maps an existing segment, all of it. It fails with an error
// wrapping ErrNotExist when there is no segment of that name.
func Open(name string) (*Segment, error) {
	p, err := path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q", ErrNotExist, name)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: open %q: %w", name, err)
	}
	defer f.Close()
	seg, err := mapFile(f, 0)
	if err != nil {
		return nil, fmt.Errorf("shm: open %q: %w", name, err)
	}
	return seg, nil
}

// Bytes returns the mapping: len(Bytes()) is the segment's size, and what
// one process writes there every other process that maps the segment
// sees. It returns nil after Close.
func (s *Segment) Bytes() []byte { return s.data }

// Close unmaps the segment. The segment itself, and other mappings of it,
// are not affected. Closing a closed Segment does nothing.
//
// shmview.Unmap lets the pages go but keeps the addresses reserved, where
// unix.Munmap would give them back: a copy of the slice that someone kept
// can then only crash, never reach memory mapped there later.
func (s *Segment) Close() error {
	if s.data == nil {
		return nil
	}
	err := shmview.Unmap(s.data)
	s.data = nil
	if err != nil {
		return fmt.Errorf("shm: unmap: %w", err)
	}
	return nil
}

// Unlink removes the segment's name, so that Open no longer finds it and
// Create may make a new segment of that name. Mappings that exist stay
// valid; the memory is freed when the last of them is closed. It fails
// with an error wrapping ErrNotExist when there is no segment of that
// name.
func Unlink(name string) error {
	p, err := path(name)
	if err != nil {
		return err
	}
	err = os.Remove(p)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %q", ErrNotExist, name)
	}
	if err != nil {
		return fmt.Errorf("shm: unlink %q: %w", name, err)
	}
	return nil
}
