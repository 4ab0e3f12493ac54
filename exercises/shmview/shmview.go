// Package shmview lets code use sync/atomic on bytes of a byte slice,
// such as a shared-memory segment, without importing unsafe, and end a
// mapping without giving its addresses back ([Unmap]).
//
//	head := shmview.Uint64(seg.Bytes(), off) // *atomic.Uint64 over seg.Bytes()[off:off+8]
//	n := head.Load()
//	head.Store(n + 8)
//
// # Why it exists
//
// A shared-memory segment is a []byte, and sync/atomic works on a
// *uint32, a *uint64 or its own Uint32 and Uint64 types. Turning the
// address of a byte into one of those takes unsafe.Pointer, and unsafe can
// do far more than that: a pointer converted the same way from a byte
// that sits next to a pointer field in a struct overwrites the pointer,
// and from there any memory of the process, the test binary's own
// included. The race detector's run-time pointer checks only make sure
// that the converted pointer stays inside one allocation, which a struct
// with a byte array and a pointer in it is, so they cannot tell the two
// uses apart, and neither can a look at the source.
//
// So no submission may import unsafe. This package, which is part of the
// course and never taken from a submission, does the one conversion the
// shm exercise needs, and checks it: the view must lie wholly inside b
// (0 <= off and off+size <= len(b)) and its address must be a multiple of
// its size, as the processor's atomic instructions require. A view covers
// nothing but bytes of b, and the memory behind a []byte holds bytes, not
// pointers, so whatever is stored through a view changes those bytes and
// nothing else.
//
// # Shared memory
//
// A view is a pointer into b's memory, not a copy: stores through it
// change b, and loads see what anyone stored in those bytes, through a
// view or otherwise. When b is a mapping of a shared-memory segment, two
// processes that each make a view of the same offset share one word, and
// sync/atomic's ordering guarantees hold between them, because both act
// on the same physical memory with the same instructions. A view lives
// only as long as b's memory: once the segment is unmapped with [Unmap],
// using a view of it crashes the process, as indexing the slice would.
//
// Memory that mmap returns starts at a page boundary, so an offset that is
// a multiple of 8 (of 4 for Uint32) is always aligned there; a view of a
// slice made with make is aligned at such offsets too.
//
// # Unmapping
//
// A mapping from unix.Mmap ends with [Unmap], not unix.Munmap. Both let
// the segment's pages go; Unmap also keeps the addresses reserved, so that
// a slice or a view that outlives the mapping crashes the process instead
// of reaching memory that the kernel hands out later at the same address.
package shmview

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Uint32 returns an atomic view of the 4 bytes b[off:off+4]. It panics
// unless they lie inside b and &b[off] is a multiple of 4.
func Uint32(b []byte, off int) *atomic.Uint32 {
	return (*atomic.Uint32)(at("Uint32", b, off, 4))
}

// Uint64 returns an atomic view of the 8 bytes b[off:off+8]. It panics
// unless they lie inside b and &b[off] is a multiple of 8.
func Uint64(b []byte, off int) *atomic.Uint64 {
	return (*atomic.Uint64)(at("Uint64", b, off, 8))
}

// at returns the address of b[off] once it has checked that size bytes
// from there lie inside b and that the address is a multiple of size.
func at(fn string, b []byte, off, size int) unsafe.Pointer {
	if off < 0 || off > len(b)-size { // not off+size > len(b), which can overflow
		panic(fmt.Sprintf("shmview.%s(b, %d): the %d bytes from offset %d are not all inside b, which has %d bytes", fn, off, size, off, len(b)))
	}
	p := unsafe.Pointer(&b[off])
	if a := uintptr(p); a%uintptr(size) != 0 {
		panic(fmt.Sprintf("shmview.%s(b, %d): &b[%d] is %#x, not a multiple of %d, and %d-bit atomics need an aligned address: use an offset that is a multiple of %d from an aligned start (a mapping starts at a page boundary)", fn, off, off, a, size, 8*size, size))
	}
	return p
}
