//go:build unix

package shm

// Hidden test of the life cycle: what a segment leaves behind.

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

// mappings returns the lines of /proc/self/maps that map the segment's
// file, unlinked or not. Only Linux has /proc/self/maps; elsewhere it
// returns nothing.
func mappings(t *testing.T, name string) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		return nil
	}
	maps, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err, "reading /proc/self/maps")
	path := filepath.Join(segmentDir(), name)
	var found []string
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(l, " "+path) || strings.HasSuffix(l, " "+path+" (deleted)") {
			found = append(found, l)
		}
	}
	return found
}

// TestNothingLeftBehind: Unlink removes the name from the segment
// directory, Close unmaps and releases the descriptor, and a Create that
// fails leaves no segment.
func TestNothingLeftBehind(t *testing.T) {
	before, err := childproc.OpenFDs()
	require.NoError(t, err, "childproc.OpenFDs()")

	name := newName(t)
	a := create(t, name, 4096)
	b := open(t, name)
	copy(a.Bytes(), "data")
	for _, s := range []*Segment{a, b} {
		err := s.Close()
		require.NoError(t, err, "seg.Close() = %s, want nil", errName(err))
	}
	require.True(t, exists(t, name), "the segment %q is gone from %s after Close: only Unlink removes the name", name, segmentDir())
	m := mappings(t, name)
	assert.Empty(t, m, "after both Segments of %q were closed, the process still maps it (/proc/self/maps):\n\t%s\nClose must unmap (munmap)", name, strings.Join(m, "\n\t"))
	err = Unlink(name)
	require.NoError(t, err, "Unlink(%q) = %s, want nil", name, errName(err))
	assert.False(t, exists(t, name), "Unlink(%q) returned nil, but %s is still there: the segment was left behind", name, filepath.Join(segmentDir(), name))

	// A Create that fails must not leave a segment of its own.
	for _, size := range []int{0, -1} {
		bad := newName(t)
		seg, err := Create(bad, size)
		if !assert.Error(t, err, "Create(%q, %d) = nil error, want an error: a segment needs at least one byte", bad, size) {
			seg.Close()
		}
		assert.False(t, exists(t, bad), "Create(%q, %d) failed, but left %s behind: a Create that fails must remove what it made", bad, size, filepath.Join(segmentDir(), bad))
	}

	// Unlinked while mapped: the name goes at once, the mapping when it is
	// closed.
	name = newName(t)
	a = create(t, name, 8192)
	err = Unlink(name)
	require.NoError(t, err, "Unlink(%q) = %s, want nil", name, errName(err))
	assert.False(t, exists(t, name), "Unlink(%q) of a mapped segment returned nil, but %s is still there", name, filepath.Join(segmentDir(), name))
	copy(a.Bytes()[8000:], "fine")
	err = a.Close()
	require.NoError(t, err, "seg.Close() = %s, want nil", errName(err))
	m = mappings(t, name)
	assert.Empty(t, m, "after the Segment of the unlinked %q was closed, the process still maps it (/proc/self/maps):\n\t%s\nClose must unmap (munmap); until then the memory cannot be freed", name, strings.Join(m, "\n\t"))

	// Many segments opened and closed: no descriptor may stay open.
	name = newName(t)
	create(t, name, 4096).Close()
	for i := 0; i < 20; i++ {
		var seg *Segment
		testkit.Within(t, testkit.Patience, "Open(name)", func() { seg, err = Open(name) })
		require.NoError(t, err, "Open(%q) = %s, want nil", name, errName(err))
		seg.Close()
	}
	err = Unlink(name)
	require.NoError(t, err, "Unlink(%q) = %s, want nil", name, errName(err))
	leaked, err := childproc.LeakedFDs(before)
	require.NoError(t, err, "childproc.LeakedFDs(before)")
	assert.Empty(t, leaked, "after every Segment was closed, these file descriptors are still open: %v\nclose the file once it is mapped (the mapping does not need it), or in Close at the latest", leaked)
}
