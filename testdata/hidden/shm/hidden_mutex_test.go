//go:build unix

package shm

// Hidden tests of the Mutex: many processes at once, and a lock held by
// another process.

import (
	"bufio"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/exercises/internal/childproc"
	"github.com/ipclab/ipclab/exercises/internal/testkit"
)

func init() {
	childproc.Register("hold", holdRole)
}

// TestMutexManyProcesses: for most of a second, four processes of three
// goroutines each increment a counter in the segment under the Mutex, in two steps (read,
// then write the value plus one), and check that nobody else is in the
// critical section while they are. A lock that is not one indivisible
// step across processes (a load and then a store, or a sync.Mutex in each
// process's own memory) lets two of them in at once, and updates are lost.
func TestMutexManyProcesses(t *testing.T) {
	countTogether(t, 4, 3, 800*time.Millisecond)
}

// holdRole: args name. The child locks MutexAt(seg, 0) and prints
// "locked"; on a line from the test it unlocks and prints "unlocked"; on
// the next line it prints "locking", locks again, prints "locked again",
// unlocks, and prints "done".
func holdRole(args []string) int {
	seg, ok := openInChild(args[0])
	if !ok {
		return 1
	}
	in := bufio.NewReader(os.Stdin)
	m := MutexAt(seg, 0)
	m.Lock()
	fmt.Println("locked")
	readLine(in)
	m.Unlock()
	fmt.Println("unlocked")
	readLine(in)
	fmt.Println("locking")
	m.Lock()
	fmt.Println("locked again")
	m.Unlock()
	fmt.Println("done")
	return 0
}

// TestMutexHeldByAnotherProcess: a lock taken in one process holds off
// the others, and its Unlock lets them in, both ways round.
func TestMutexHeldByAnotherProcess(t *testing.T) {
	testkit.AtLeastProcs(t, 2)
	name := newName(t)
	seg := create(t, name, 4096)
	m := MutexAt(seg, 0)
	c := startChild(t, "the child process", "hold", name)
	c.waitLine(t, testkit.Patience, "locked")

	require.False(t, m.TryLock(), "MutexAt(seg, 0).TryLock() = true while a child process holds that Mutex, want false: the lock's state must live in the segment, where every process sees it")
	op := testkit.Go(m.Lock)
	op.StaysBlocked(t, testkit.Grace, "m.Lock() (a child process holds the Mutex)")
	c.tell(t, "unlock")
	c.waitLine(t, testkit.Patience, "unlocked")
	op.Finishes(t, testkit.Patience, "m.Lock() after the child process unlocked the Mutex")

	// Now the test holds it, and the child waits.
	c.tell(t, "lock")
	c.waitLine(t, testkit.Patience, "locking")
	c.quiet(t, testkit.Grace, "locked again", "the child's m.Lock() (the test process holds the Mutex)")
	m.Unlock()
	c.waitLine(t, testkit.Patience, "locked again")
	c.waitLine(t, testkit.Patience, "done")
	c.wait(t, testkit.Patience)
	assert.True(t, m.TryLock(), "MutexAt(seg, 0).TryLock() = false after the child process locked and unlocked the Mutex, want true")
}
