//go:build unix

package shm

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab/exercises/shmview"
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
	state *atomic.Uint32
}

// MutexAt returns the Mutex stored at seg.Bytes()[off:off+MutexSize].
// off must be a multiple of 4 and the Mutex must lie inside the segment;
// MutexAt panics otherwise.
func MutexAt(seg *Segment, off int) *Mutex {
	b := seg.Bytes()
	if off < 0 || off%4 != 0 || off+MutexSize > len(b) {
		panic(fmt.Sprintf("shm: MutexAt(seg, %d): want a multiple of 4 with room for %d bytes in a segment of %d", off, MutexSize, len(b)))
	}
	return &Mutex{state: shmview.Uint32(b, off)}
}

// TryLock locks m if it is unlocked, and reports whether it did. It never
// waits.
func (m *Mutex) TryLock() bool {
	return m.state.CompareAndSwap(0, 1)
}

// Lock locks m, waiting while another goroutine or process holds it.
// Waiting costs little CPU time: Lock backs off from yielding to sleeping.
func (m *Mutex) Lock() {
	var b backoff
	for !m.TryLock() {
		b.wait()
	}
}

// Unlock unlocks m. Unlocking a Mutex that is not locked is a mistake;
// Unlock panics then.
func (m *Mutex) Unlock() {
	if m.state.Swap(0) != 1 {
		panic("shm: Unlock of an unlocked Mutex")
	}
}

// A backoff paces a loop that waits for another process to change shared
// memory. Nothing can wake a process that waits on plain memory, so it
// has to look again from time to time. The other process is often about
// to finish, so first it looks again at once, for up to spinFor: then a
// round trip through the ring costs about as long as the two processors
// take to pass its cache lines back and forth, far less than any sleep.
// Then it yields to the other goroutines of this process, and then it
// sleeps, doubling the sleep up to maxSleep, so that a long wait costs a
// few hundred wake-ups a second and no more.
type backoff struct {
	n     int
	start time.Time // of the first wait
	spin  bool      // whether looking at once is worth it
}

const (
	// spinFor is how long a wait looks again at once. The other process
	// can lose its processor for tens of microseconds now and then (to
	// the kernel, or to the hypervisor of a virtual machine), and a
	// waiter that falls asleep then pays at least as long again: Go's
	// shortest sleep lasts 50 µs or more. Measured on a 2-core virtual
	// machine, a ring's round trip between two processes: 20 µs of
	// looking, 1.0-1.4 µs; 50 µs, 0.62-0.71; 200 µs, 0.59-0.63; 1 ms,
	// 0.54. It is spent only when this process can run another
	// goroutine meanwhile (GOMAXPROCS above 1): with one, the goroutine
	// waited for may be this process's, and could not run while this one
	// spins.
	spinFor  = 200 * time.Microsecond
	yields   = 64
	maxSleep = 2 * time.Millisecond
)

func (b *backoff) wait() {
	if b.start.IsZero() {
		b.start = time.Now()
		b.spin = runtime.GOMAXPROCS(0) > 1
	}
	if b.spin {
		if time.Since(b.start) < spinFor {
			return
		}
		b.spin = false
	}
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
