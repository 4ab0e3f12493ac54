//go:build unix

package shmview_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/ipclab/ipclab/exercises/shmview"
)

// mapShared maps size bytes of a new file in the test's temporary
// directory, MAP_SHARED, twice: two addresses for the same memory, as two
// processes that map one segment have. Both start at a page boundary.
func mapShared(t *testing.T, size int) (a, b []byte) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "segment"))
	require.NoError(t, err, "os.Create(segment)")
	defer f.Close()
	require.NoError(t, f.Truncate(int64(size)), "f.Truncate(%d)", size)
	for _, m := range []*[]byte{&a, &b} {
		*m, err = unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		require.NoError(t, err, "unix.Mmap(segment, 0, %d, PROT_READ|PROT_WRITE, MAP_SHARED)", size)
		t.Cleanup(func() { unix.Munmap(*m) })
	}
	require.NotSame(t, &a[0], &b[0], "two mmap calls of one file returned the same address")
	return a, b
}

// view names a function of the package, to call it in a table.
type view struct {
	name string
	call func(b []byte, off int)
}

var (
	uint32View = view{"Uint32", func(b []byte, off int) { shmview.Uint32(b, off) }}
	uint64View = view{"Uint64", func(b []byte, off int) { shmview.Uint64(b, off) }}
)

// panics calls f and returns what it panicked with, as a string; "" if
// it returned.
func panics(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "(an empty panic)"
			}
		}
	}()
	f()
	return ""
}

func TestBoundsAndAlignment(t *testing.T) {
	m, _ := mapShared(t, 4096) // m[0] is at a page boundary
	const (
		outside   = "are not all inside b"
		unaligned = "not a multiple of"
	)
	tests := []struct {
		name string
		view view
		b    []byte
		off  int
		want string // a part of the panic's message; "" for no panic
	}{
		{"first word", uint32View, m, 0, ""},
		{"last word", uint32View, m, 4092, ""},
		{"first double word", uint64View, m, 0, ""},
		{"last double word", uint64View, m, 4088, ""},

		{"one byte past the end", uint32View, m, 4093, outside},
		{"at the end", uint32View, m, 4096, outside},
		{"half past the end", uint64View, m, 4092, outside},
		{"past a shorter slice's end", uint64View, m[:4095], 4088, outside},
		{"a slice shorter than the view", uint32View, m[:3], 0, outside},
		{"an empty slice", uint64View, m[:0], 0, outside},
		{"nil", uint32View, nil, 0, outside},
		{"a negative offset", uint32View, m, -4, outside},
		{"the largest offset", uint64View, m, math.MaxInt, outside},
		{"the smallest offset", uint64View, m, math.MinInt, outside},

		{"Uint32 at 2", uint32View, m, 2, unaligned},
		{"Uint32 at 1", uint32View, m, 1, unaligned},
		{"Uint64 at 4", uint64View, m, 4, unaligned},
		{"Uint64 at 12", uint64View, m, 12, unaligned},
		// The address decides, not the offset.
		{"Uint64 at 4 of m[4:]", uint64View, m[4:], 4, ""},
		{"Uint64 at 0 of m[4:]", uint64View, m[4:], 0, unaligned},
		{"Uint32 at 3 of m[1:]", uint32View, m[1:], 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := panics(func() { tt.view.call(tt.b, tt.off) })
			call := fmt.Sprintf("shmview.%s(b, %d) with len(b) = %d", tt.view.name, tt.off, len(tt.b))
			if tt.want == "" {
				require.Empty(t, got, "%s panicked: %s; want a view", call, got)
				return
			}
			require.NotEmpty(t, got, "%s returned a view; want a panic saying %q", call, tt.want)
			require.Contains(t, got, tt.want, "%s panicked with %q; want it to say %q", call, got, tt.want)
			require.True(t, strings.HasPrefix(got, "shmview."+tt.view.name+"(b, "), "%s panicked with %q; want it to name the call", call, got)
		})
	}
}

func TestViewIsTheBytes(t *testing.T) {
	m, _ := mapShared(t, 64)
	shmview.Uint32(m, 8).Store(0x01020304)
	got32 := binary.NativeEndian.Uint32(m[8:12])
	assert.Equal(t, uint32(0x01020304), got32, "after shmview.Uint32(m, 8).Store(0x01020304), m[8:12] holds %#x, want 0x01020304", got32)
	binary.NativeEndian.PutUint64(m[16:], 0x1122334455667788)
	got64 := shmview.Uint64(m, 16).Load()
	assert.Equal(t, uint64(0x1122334455667788), got64, "shmview.Uint64(m, 16).Load() = %#x, want 0x1122334455667788, written into m[16:24]", got64)
	shmview.Uint64(m, 16).Store(0)
	shmview.Uint32(m, 8).Store(0)
	for i, v := range m {
		require.Zero(t, v, "m[%d] = %d after every view was set back to 0, want 0: a view wrote outside its bytes", i, v)
	}
}

func TestTwoViewsShareAWord(t *testing.T) {
	a, b := mapShared(t, 4096)
	cases := []struct {
		name string
		x, y []byte // two slices over the same memory
		off  int    // the word's offset in x; in y it is at off-(len(x)-len(y))
	}{
		{"one slice", a, a, 64},
		{"a slice and a sub-slice", a, a[32:], 64},
		{"two mappings", a, b, 64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yoff := c.off - (len(c.x) - len(c.y))
			x64, y64 := shmview.Uint64(c.x, c.off), shmview.Uint64(c.y, yoff)
			x64.Store(7)
			got64 := y64.Load()
			assert.Equal(t, uint64(7), got64, "after x.Store(7), y.Load() = %d, want 7 (two Uint64 views of the same bytes)", got64)
			assert.True(t, y64.CompareAndSwap(7, 8), "y.CompareAndSwap(7, 8) = false after x.Store(7), want true")
			got64 = x64.Load()
			assert.Equal(t, uint64(8), got64, "after y.CompareAndSwap(7, 8), x.Load() = %d, want 8", got64)
			x64.Store(0)

			x32, y32 := shmview.Uint32(c.x, c.off+8), shmview.Uint32(c.y, yoff+8)
			x32.Store(3)
			got32 := y32.Swap(4)
			assert.Equal(t, uint32(3), got32, "after x.Store(3), y.Swap(4) = %d, want 3 (two Uint32 views of the same bytes)", got32)
			got32 = x32.Load()
			assert.Equal(t, uint32(4), got32, "after y.Swap(4), x.Load() = %d, want 4", got32)
			x32.Store(0)
		})
	}
}

// TestViewsAddUp has goroutines add through views of their own, half of
// them through one mapping and half through the other: no update may be
// lost, as none is when the views are the processes of a segment.
func TestViewsAddUp(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	a, b := mapShared(t, 4096)
	const workers, adds = 8, 10000
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		m := a
		if w%2 == 1 {
			m = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range adds {
				shmview.Uint64(m, 128).Add(1)
				shmview.Uint32(m, 136).Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	got64 := shmview.Uint64(a, 128).Load()
	assert.Equal(t, uint64(workers*adds), got64, "Uint64 total = %d after %d goroutines each added 1 %d times, want %d", got64, workers, adds, workers*adds)
	got32 := shmview.Uint32(b, 136).Load()
	assert.Equal(t, uint32(workers*adds), got32, "Uint32 total = %d after %d goroutines each added 1 %d times, want %d", got32, workers, adds, workers*adds)
}
