//go:build unix

package shmview

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Unmap ends the mapping b, which must be a whole mapping that unix.Mmap
// returned, as it returned it (not a part of one, not a slice of it). The
// pages of the mapped file are let go at once: /proc/self/maps no longer
// lists the file, and an unlinked segment's memory can be freed. But the
// addresses that b covered are not given back. They stay reserved, with
// no memory behind them, for as long as the process lives, and any access
// through b, through a copy of b or through a view of it crashes the
// process.
//
// # Why not unix.Munmap
//
// unix.Munmap gives the addresses back to the kernel, which hands them out
// again to the next mapping of about that size, and the Go runtime (and
// the race detector) asks for new mappings all the time. A copy of the
// slice kept from before the munmap still holds the old address, so it
// then reads and writes whatever was put there: the runtime's own memory,
// say, with no unsafe and no data race anywhere in the code. That is why
// submissions may not call unix.Munmap, and call Unmap instead: a slice
// that outlives its mapping can only crash the process, never alias
// memory that came later.
//
// Unmap maps fresh anonymous memory that cannot be read or written
// (PROT_NONE) over b's pages with MAP_FIXED, which replaces the file's
// mapping in one step, so the addresses are never free in between. It
// covers len(b) rounded up to whole pages, as the kernel did when it made
// the mapping. The reserved addresses cost address space, of which a
// 64-bit process has plenty, and no memory.
//
// Unmap checks what it can: b must not be empty, must start at a page
// boundary and must have len(b) == cap(b), as every slice from unix.Mmap
// does; otherwise it returns an error and changes nothing. It cannot tell
// a mapping from other page-aligned memory, so giving it anything but a
// mapping breaks the process (the memory becomes unreadable). Unmapping
// the same mapping twice does nothing the second time.
//
// golang.org/x/sys/unix keeps a table of the mappings unix.Mmap made, for
// unix.Munmap to look b up in. Unmap cannot reach that table, so b stays
// in it. That is harmless: only unix.Munmap reads the table, and since b's
// addresses are never given back, no later mapping can be mistaken for
// it. Each entry costs a few bytes.
func Unmap(b []byte) error {
	if len(b) == 0 {
		return errors.New("shmview.Unmap(b): b is empty; want a whole mapping from unix.Mmap")
	}
	if len(b) != cap(b) {
		return fmt.Errorf("shmview.Unmap(b): len(b) = %d but cap(b) = %d; want a whole mapping from unix.Mmap, as it was returned, not a slice of it", len(b), cap(b))
	}
	page := uintptr(os.Getpagesize())
	start := unsafe.Pointer(&b[0])
	if uintptr(start)%page != 0 {
		return fmt.Errorf("shmview.Unmap(b): &b[0] is %#x, not at a page boundary (pages are %d bytes); want a whole mapping from unix.Mmap, which starts at one", uintptr(start), page)
	}
	length := (uintptr(len(b)) + page - 1) &^ (page - 1)
	// MAP_ANON is MAP_ANONYMOUS on Linux, and the name every Unix has.
	if _, err := unix.MmapPtr(-1, 0, start, length, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED); err != nil {
		return fmt.Errorf("shmview.Unmap(b): mapping PROT_NONE over %#x, %d bytes: %w", uintptr(start), length, err)
	}
	return nil
}
