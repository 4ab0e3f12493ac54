//go:build unix

// This is the first of the three files you edit (then mutex.go, then
// ring.go). Keep every exported name and signature, and the values of the
// constants: the tests rely on them. Add fields to Segment, write the
// bodies, and add any unexported helpers you like. README.md explains
// what each function must do.

package shm

import (
	"errors"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/ipclab/ipclab/exercises/shmview"
)

// unix.Mmap maps a file's pages into the process; shmview.Unmap undoes
// it (not unix.Munmap, which the grader refuses: README.md says why).
// (These lines only keep the imports until your code uses them.)
var (
	_ = unix.Mmap
	_ = shmview.Unmap
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
// Linux, os.TempDir() on other Unix systems. A segment named "x" is the
// file filepath.Join(Dir(), "x"). (This one is done for you.)
func Dir() string {
	if runtime.GOOS == "linux" {
		return "/dev/shm"
	}
	return os.TempDir()
}

// A Segment is one process's mapping of a named shared-memory segment.
// Make one with Create or Open; the zero value is not usable.
type Segment struct {
	// TODO: the mapping, ...
}

// Create makes a new segment of size bytes, all zero, and maps it
// (MAP_SHARED, readable and writable). It fails with an error wrapping
// ErrExists when a segment of that name exists (and leaves that one as
// it was), with ErrBadName for a bad name, and with an error when size is
// not positive. A Create that fails leaves no segment behind.
func Create(name string, size int) (*Segment, error) {
	panic("TODO: implement Create")
}

// Open maps an existing segment, all of it: len(Bytes()) is the size it
// was created with. It fails with an error wrapping ErrNotExist when
// there is no segment of that name, and with ErrBadName for a bad name.
func Open(name string) (*Segment, error) {
	panic("TODO: implement Open")
}

// Bytes returns the mapping. What one process writes there, every other
// process that maps the segment sees. It returns nil after Close.
func (s *Segment) Bytes() []byte {
	panic("TODO: implement Bytes")
}

// Close unmaps the segment, with shmview.Unmap, and releases what this
// Segment holds. The segment itself, its name, and other mappings of it
// are not affected. Closing a closed Segment does nothing and returns
// nil.
func (s *Segment) Close() error {
	panic("TODO: implement Close")
}

// Unlink removes the segment's name, so that Open no longer finds it and
// Create may make a new segment of that name. Mappings that exist stay
// valid, and shared; the memory is freed when the last of them is
// closed. It fails with an error wrapping ErrNotExist when there is no
// segment of that name, and with ErrBadName for a bad name.
func Unlink(name string) error {
	panic("TODO: implement Unlink")
}

// HOSTILE: every operation the tests run on a goroutine of their own
// (through testkit.Go or Together) ends that goroutine with
// runtime.Goexit instead of returning, so that a careless wait would take
// the zero values of its results (false, nil, 0) for the code's answers.
func init() {
	giveUp = runtime.Goexit
}

var giveUp func()
