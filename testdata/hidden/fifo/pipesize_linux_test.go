package fifo

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// shrinkFIFO makes the kernel buffer of the FIFO at path as small as
// Linux allows, one page (F_SETPIPE_SZ), and returns its new size. The
// buffer belongs to the FIFO for as long as someone holds it open, the
// server included, so it stays small while the server runs. Writes no
// larger than PIPE_BUF stay atomic whatever the size.
func shrinkFIFO(t *testing.T, path string) int {
	t.Helper()
	fd := openToWatch(t, path)
	defer unix.Close(fd)
	size, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, os.Getpagesize())
	require.NoError(t, err, "shrinking the server's FIFO %s to one page (F_SETPIPE_SZ): %v", path, err)
	return size
}

// fifoBacklog waits, for at most d, until the FIFO at path holds at
// least want unread bytes, and returns how many it holds then. It asks
// the kernel for the count (FIONREAD, which Linux also calls TIOCINQ) on
// a read end of its own, and reads nothing.
func fifoBacklog(t *testing.T, path string, want int, d time.Duration) (held int, counted bool) {
	t.Helper()
	fd := openToWatch(t, path)
	defer unix.Close(fd)
	deadline := time.Now().Add(d)
	for {
		n, err := unix.IoctlGetInt(fd, unix.TIOCINQ)
		require.NoError(t, err, "counting the bytes in the server's FIFO (FIONREAD): %v", err)
		if n >= want || time.Now().After(deadline) {
			return n, true
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// openToWatch opens a read end of the FIFO at path without waiting for a
// writer; reading nothing from it changes nothing for anyone else.
func openToWatch(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	require.NoError(t, err, "opening the server's FIFO %s to watch it: %v", path, err)
	return fd
}
