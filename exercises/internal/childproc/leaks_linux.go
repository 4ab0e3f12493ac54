package childproc

import (
	"os"
	"strconv"
	"strings"
)

// Children lists the child processes of this process, running or zombie
// (exited but never waited for).
func Children() ([]Child, error) {
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []Child
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err != nil || ppid != self {
			continue
		}
		kids = append(kids, Child{PID: pid, Zombie: fields[0] == "Z"})
	}
	return kids, nil
}

const fdDir = "/proc/self/fd"
