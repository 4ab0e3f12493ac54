//go:build unix

// The second file you edit: a lock that lives in shared memory. Keep the
// exported names, signatures and MutexSize.

package shm

// MutexSize is the number of bytes of a segment that a Mutex uses.
const MutexSize = 4

// A Mutex is a lock whose state lives inside a shared-memory segment, at
// an offset of the caller's choice, so that it excludes every goroutine
// of every process that maps the segment. MutexSize zero bytes are an
// unlocked Mutex, so a Mutex in a new segment needs no set-up.
type Mutex struct {
	// TODO: where the lock's state is (not the state itself!), such as
	// the *atomic.Uint32 that shmview.Uint32 returns (see README.md)
}

// MutexAt returns the Mutex stored at seg.Bytes()[off:off+MutexSize].
// off must be a multiple of 4, and the Mutex must lie inside the
// segment; MutexAt panics otherwise. Each process (and each mapping)
// makes its own *Mutex for the same place; they are all the same lock.
func MutexAt(seg *Segment, off int) *Mutex {
	panic("TODO: implement MutexAt")
}

// TryLock locks m if it is unlocked, and reports whether it did. It
// never waits.
func (m *Mutex) TryLock() bool {
	panic("TODO: implement TryLock")
}

// Lock locks m, waiting while any goroutine of any process holds it. A
// Lock that waits must not keep a processor busy: see README.md.
func (m *Mutex) Lock() {
	panic("TODO: implement Lock")
}

// Unlock unlocks m. Any goroutine of any process may unlock a Mutex that
// another one locked; unlocking a Mutex that is not locked is a mistake.
func (m *Mutex) Unlock() {
	panic("TODO: implement Unlock")
}
