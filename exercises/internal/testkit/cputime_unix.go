//go:build unix

package testkit

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time, user plus system, that the whole process has
// used so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic("testkit: getrusage: " + err.Error())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
