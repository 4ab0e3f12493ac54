//go:build unix && !linux

package childproc

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Children lists the child processes of this process, running or zombie
// (exited but never waited for).
func Children() ([]Child, error) {
	ps := exec.Command("ps", "-A", "-o", "pid=,ppid=,stat=")
	out, err := ps.Output()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var kids []Child
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		// ps was our child while it looked.
		if err1 != nil || err2 != nil || ppid != self || pid == ps.Process.Pid {
			continue
		}
		kids = append(kids, Child{PID: pid, Zombie: strings.HasPrefix(f[2], "Z")})
	}
	return kids, nil
}

const fdDir = "/dev/fd"
