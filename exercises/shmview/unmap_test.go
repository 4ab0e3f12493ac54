//go:build unix

package shmview_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ipclab/ipclab/exercises/shmview"
)

// mapFile maps size bytes of a new file in the test's temporary
// directory, MAP_SHARED, as the shm exercise maps a segment, and returns
// the mapping and the file's path. The caller unmaps it.
func mapFile(t *testing.T, size int) ([]byte, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "segment")
	f, err := os.Create(path)
	require.NoError(t, err, "os.Create(%q)", path)
	defer f.Close()
	require.NoError(t, f.Truncate(int64(size)), "f.Truncate(%d)", size)
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	require.NoError(t, err, "unix.Mmap(%q, 0, %d, PROT_READ|PROT_WRITE, MAP_SHARED)", path, size)
	return b, path
}

// span is the address range a mapping of b covers: from &b[0] to the end
// of its last page.
func span(b []byte) (lo, hi uintptr) {
	page := uintptr(os.Getpagesize())
	lo = uintptr(unsafe.Pointer(&b[0]))
	return lo, lo + (uintptr(len(b))+page-1)&^(page-1)
}

// A region is one line of /proc/self/maps.
type region struct {
	lo, hi uintptr
	perms  string
	path   string // "" for anonymous memory
	line   string
}

func procMaps(t *testing.T) []region {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("only Linux has /proc/self/maps")
	}
	data, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err, `os.ReadFile("/proc/self/maps")`)
	var regions []region
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		// start-end perms offset dev inode [path]
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 5, "/proc/self/maps has a line that is not start-end perms offset dev inode [path]: %q", l)
		lo, hi, ok := strings.Cut(f[0], "-")
		require.True(t, ok, "/proc/self/maps has a line whose addresses are not start-end: %q", l)
		r := region{perms: f[1], line: l}
		for _, x := range []struct {
			s string
			p *uintptr
		}{{lo, &r.lo}, {hi, &r.hi}} {
			n, err := strconv.ParseUint(x.s, 16, 64)
			require.NoError(t, err, "/proc/self/maps: %q: %v", l, err)
			*x.p = uintptr(n)
		}
		if len(f) > 5 {
			r.path = strings.Join(f[5:], " ")
		}
		regions = append(regions, r)
	}
	return regions
}

// TestUnmapLetsTheFileGo: after Unmap the file is mapped nowhere, and
// its addresses are anonymous memory that can be neither read nor written.
func TestUnmapLetsTheFileGo(t *testing.T) {
	page := os.Getpagesize()
	b, path := mapFile(t, 3*page+100) // not whole pages: the last is mapped all the same
	copy(b[3*page:], "the last page")
	lo, hi := span(b)

	err := shmview.Unmap(b)
	require.NoError(t, err, "shmview.Unmap(b) = %v, want nil", err)
	covered := lo
	for _, r := range procMaps(t) {
		// the path, or the path and " (deleted)"
		assert.False(t, strings.HasPrefix(r.path, path), "after shmview.Unmap(b), /proc/self/maps still maps the file:\n\t%s", r.line)
		if r.hi <= lo || r.lo >= hi {
			continue
		}
		assert.True(t, r.perms[:3] == "---" && r.path == "", "after shmview.Unmap(b), b's addresses %#x-%#x are mapped by\n\t%s\nwant anonymous memory with no access (---p)", lo, hi, r.line)
		if r.lo <= covered {
			covered = max(covered, r.hi)
		}
	}
	assert.GreaterOrEqual(t, covered, hi, "after shmview.Unmap(b), /proc/self/maps maps b's addresses %#x-%#x only up to %#x, want them all reserved", lo, hi, covered)
}

// TestUnmapKeepsTheAddresses: the kernel does not hand b's addresses out
// again. Without the reservation, the next mapping of the same size
// usually lands exactly there.
func TestUnmapKeepsTheAddresses(t *testing.T) {
	const size = 5 * 4096
	b, _ := mapFile(t, size)
	lo, hi := span(b)
	err := shmview.Unmap(b)
	require.NoError(t, err, "shmview.Unmap(b) = %v, want nil", err)
	for i := range 8 {
		m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		require.NoError(t, err, "unix.Mmap(-1, 0, %d, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON)", size)
		t.Cleanup(func() { unix.Munmap(m) })
		mlo, mhi := span(m)
		require.False(t, mlo < hi && mhi > lo, "mapping %d made after shmview.Unmap(b) is at %#x-%#x, inside b's old addresses %#x-%#x: they were given back", i+1, mlo, mhi, lo, hi)
	}
}

var sink uint64

// faultAt runs f on a goroutine of its own that turns a memory fault into
// a panic, and returns the faulting address; ok is false if f returned
// without a fault.
func faultAt(f func()) (addr uintptr, ok bool, other any) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true)
		defer func() {
			r := recover()
			if e, isFault := r.(interface{ Addr() uintptr }); isFault {
				addr, ok = e.Addr(), true
			} else {
				other = r
			}
		}()
		f()
	}()
	<-done
	return addr, ok, other
}

// TestStaleCopyFaults: a copy of b, and a view made from it, kept past
// Unmap, fault at the address they point to, even after new memory was
// mapped, as an attack would map it to land at that address.
func TestStaleCopyFaults(t *testing.T) {
	const size = 4096
	b, _ := mapFile(t, size)
	stale := b
	view := shmview.Uint64(b, 64)
	view.Store(7)
	err := shmview.Unmap(b)
	require.NoError(t, err, "shmview.Unmap(b) = %v, want nil", err)
	for range 8 {
		m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		require.NoError(t, err, "unix.Mmap(-1, 0, %d, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON)", size)
		t.Cleanup(func() { unix.Munmap(m) })
	}
	tests := []struct {
		name string
		at   uintptr
		use  func()
	}{
		{"stale[0] read", uintptr(unsafe.Pointer(&stale[0])), func() { sink = uint64(stale[0]) }},
		{"stale[100] = 1", uintptr(unsafe.Pointer(&stale[100])), func() { stale[100] = 1 }},
		{"view.Load()", uintptr(unsafe.Pointer(view)), func() { sink = view.Load() }},
		{"view.Store(8)", uintptr(unsafe.Pointer(view)), func() { view.Store(8) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, faulted, other := faultAt(tt.use)
			require.Nil(t, other, "%s after shmview.Unmap(b) panicked with %v, want a memory fault", tt.name, other)
			require.True(t, faulted, "%s after shmview.Unmap(b) did not fault, want a fault at %#x", tt.name, tt.at)
			require.Equal(t, tt.at, addr, "%s after shmview.Unmap(b) faulted at %#x, want %#x", tt.name, addr, tt.at)
		})
	}
}

func TestUnmapTwice(t *testing.T) {
	b, _ := mapFile(t, 4096)
	for i := range 2 {
		err := shmview.Unmap(b)
		require.NoError(t, err, "shmview.Unmap(b) the %s time = %v, want nil", []string{"first", "second"}[i], err)
	}
}

// TestUnmapRefusesWhatIsNotAMapping: what cannot be a whole mapping is
// refused, and the mapping it came from stays as it was.
func TestUnmapRefusesWhatIsNotAMapping(t *testing.T) {
	m, _ := mapFile(t, 2*4096)
	t.Cleanup(func() {
		err := shmview.Unmap(m)
		assert.NoError(t, err, "shmview.Unmap(m) = %v, want nil", err)
	})
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"nil", nil, "b is empty"},
		{"empty", m[:0:0], "b is empty"},
		{"a shorter slice", m[:4096], "len(b) = 4096 but cap(b) = 8192"},
		{"from the second byte", m[1:], "not at a page boundary"},
		// m[4096:] starts at a page boundary and has len == cap: Unmap
		// cannot tell it from a mapping, which is why its doc says what b
		// must be.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := shmview.Unmap(tt.b)
			call := fmt.Sprintf("shmview.Unmap(b) with len(b) = %d, cap(b) = %d", len(tt.b), cap(tt.b))
			require.Error(t, err, "%s = nil, want an error saying %q", call, tt.want)
			require.ErrorContains(t, err, tt.want, "%s = %q, want an error that names the call and says %q", call, err, tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "shmview.Unmap(b): "), "%s = %q, want an error that names the call and says %q", call, err, tt.want)
		})
	}
	copy(m, "still mapped")
	copy(m[len(m)-5:], "there")
	require.Equal(t, "still mapped", string(m[:12]), "after the refused calls, m no longer holds what was just written to it")
	require.Equal(t, "there", string(m[len(m)-5:]), "after the refused calls, m no longer holds what was just written to it")
}
