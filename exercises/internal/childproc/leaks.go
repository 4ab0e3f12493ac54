//go:build unix

package childproc

import (
	"fmt"
	"os"
	"strconv"
)

// A Child is a child process of the test.
type Child struct {
	PID int
	// Zombie is set for a child that exited and was never waited for.
	Zombie bool
}

func (c Child) String() string {
	if c.Zombie {
		return fmt.Sprintf("%d (zombie: exited, never waited for)", c.PID)
	}
	return fmt.Sprintf("%d (still running)", c.PID)
}

// OpenFDs lists the file descriptors this process has open. Compare the
// list before and after the code under test to find a leak.
func OpenFDs() ([]int, error) {
	f, err := os.Open(fdDir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	self := int(f.Fd())
	var fds []int
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd == self {
			continue
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

// LeakedFDs returns the descriptors open now that were not in before,
// each described with what it refers to where the system says ("7 ->
// pipe:[40213]").
func LeakedFDs(before []int) ([]string, error) {
	now, err := OpenFDs()
	if err != nil {
		return nil, err
	}
	had := map[int]bool{}
	for _, fd := range before {
		had[fd] = true
	}
	var leaked []string
	for _, fd := range now {
		if had[fd] {
			continue
		}
		d := strconv.Itoa(fd)
		if target, err := os.Readlink(fdDir + "/" + d); err == nil {
			d += " -> " + target
		}
		leaked = append(leaked, d)
	}
	return leaked, nil
}
