//go:build unix

// MUTANT process-local-mutex (lost-updates): the lock is a sync.Mutex in
// the process's own memory, one per offset. The goroutines of one process
// exclude each other, and two mappings in one process share the lock, but
// every other process has a map and sync.Mutexes of its own: nothing of
// the lock is in the segment, so processes do not exclude each other.

package shm

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// MutexSize is the number of bytes of a segment that a Mutex uses.
const MutexSize = 4

// A Mutex is a lock whose state lives inside a shared-memory segment, so
// that it excludes every goroutine of every process that maps the
// segment. Four zero bytes are an unlocked Mutex, so a Mutex in a new
// segment needs no set-up.
//
// The state is one 32-bit word: 0 unlocked, 1 locked. Lock takes it with
// a compare-and-swap, which reads the word and writes it in one
// indivisible step, and Unlock gives it back with an atomic store, which
// also publishes everything written in the critical section.
type Mutex struct {
	mu *sync.Mutex
}

// locks holds one sync.Mutex per offset, so that every Mutex at the same
// offset is the same lock. BUG: the map lives in this process's memory.
var (
	locksMu sync.Mutex
	locks   = map[int]*sync.Mutex{}
)

// MutexAt returns the Mutex stored at seg.Bytes()[off:off+MutexSize].
// off must be a multiple of 4 and the Mutex must lie inside the segment;
// MutexAt panics otherwise.
func MutexAt(seg *Segment, off int) *Mutex {
	b := seg.Bytes()
	if off < 0 || off%4 != 0 || off+MutexSize > len(b) {
		panic(fmt.Sprintf("shm: MutexAt(seg, %d): want a multiple of 4 with room for %d bytes in a segment of %d", off, MutexSize, len(b)))
	}
	locksMu.Lock()
	defer locksMu.Unlock()
	if locks[off] == nil {
		locks[off] = new(sync.Mutex)
	}
	return &Mutex{mu: locks[off]}
}

// TryLock locks m if it is unlocked, and reports whether it did. It never
// waits.
func (m *Mutex) TryLock() bool {
	return m.mu.TryLock()
}

// Lock locks m, waiting while another goroutine or process holds it.
// Waiting costs little CPU time: Lock backs off from yielding to sleeping.
func (m *Mutex) Lock() {
	m.mu.Lock()
}

// Unlock unlocks m. Unlocking a Mutex that is not locked is a mistake;
// Unlock panics then.
func (m *Mutex) Unlock() {
	m.mu.Unlock()
}

// A backoff paces a loop that waits for another process to change shared
// memory. Nothing can wake a process that waits on plain memory, so it
// has to look again from time to time: first at once (yielding to other
// goroutines), then after sleeps that double up to maxSleep, so that a
// long wait costs a few hundred wake-ups a second and no more.
type backoff struct{ n int }

const (
	yields   = 64
	maxSleep = 2 * time.Millisecond
)

func (b *backoff) wait() {
	b.n++
	if b.n <= yields {
		runtime.Gosched()
		return
	}
	d := maxSleep
	if shift := b.n - yields - 1; shift < 10 {
		d = min(time.Microsecond<<shift, maxSleep)
	}
	time.Sleep(d)
}
