// Package shm is shared memory between processes: named segments that
// several processes map into their address spaces, a mutex that lives
// inside a segment and excludes every process that maps it, and a
// single-producer single-consumer ring of messages from one process to
// another.
//
// # Segments
//
// A segment is a piece of memory with a name. [Create] makes one, [Open]
// maps an existing one, [Segment.Bytes] is the mapping, [Segment.Close]
// unmaps it and [Unlink] removes the name. On Linux a segment's name is a
// file in /dev/shm, whose pages are memory and never go to a disk; on
// other Unix systems it is a file in the temporary directory (see [Dir]).
//
// # Synchronisation
//
// Nothing orders what two processes do to a segment: that is the
// programmer's job. A [Mutex] is a lock stored in the segment itself, and
// a [Ring] is a queue of messages whose indices are stored there; both
// use sync/atomic on the shared memory, through the atomic views of its
// bytes that the course's shmview package hands out.
//
// # Unix only
//
// The code of this exercise (segment.go, mutex.go and ring.go) is built
// on Linux and macOS only. On Windows, work in WSL or in the repository's
// dev container; there the tests stop with a line that says so.
//
// YOUR TASK is in segment.go, mutex.go and ring.go, which README.md
// explains. The tests in shm_test.go are the contract.
package shm
