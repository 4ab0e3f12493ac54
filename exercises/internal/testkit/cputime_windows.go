//go:build windows

package testkit

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time, user plus system, that the whole process has
// used so far.
func CPUTime() time.Duration {
	var creation, exit, kernel, user syscall.Filetime
	h, err := syscall.GetCurrentProcess()
	if err == nil {
		err = syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user)
	}
	if err != nil {
		panic("testkit: GetProcessTimes: " + err.Error())
	}
	// A Filetime counts 100-nanosecond intervals.
	ticks := func(ft syscall.Filetime) int64 { return int64(ft.HighDateTime)<<32 | int64(ft.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100)
}
