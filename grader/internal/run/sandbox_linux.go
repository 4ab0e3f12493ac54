package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sandboxEnv carries the sandbox's configuration to the trampoline: the
// binary that runs the grader re-executes itself with this variable set,
// sets up the sandbox from inside, and then executes the test binary.
const sandboxEnv = "IPCLAB_SANDBOX"

// sandboxConfig is what the trampoline needs.
type sandboxConfig struct {
	Binary     string
	Args       []string
	Env        []string
	Dir        string
	Namespaces bool
	// Hide lists directories to cover with an empty file system.
	Hide   []string
	Limits Limits
	// CPUSeconds bounds the CPU time of the test process.
	CPUSeconds uint64
	// Probe makes the trampoline stop, successfully, where it would
	// execute the binary.
	Probe bool
}

func init() {
	if v, ok := os.LookupEnv(sandboxEnv); ok {
		trampoline(v)
	}
}

// trampoline runs in the freshly started sandbox process, before the
// program's main: it finishes the sandbox and becomes the test binary.
// Whatever goes wrong is reported on stderr with exit status 125, which
// no test binary uses.
func trampoline(raw string) {
	// Credentials are per thread: set them up on the thread that execs.
	runtime.LockOSThread()
	var cfg sandboxConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		sandboxFail("bad configuration: %v", err)
	}
	if cfg.Namespaces {
		if err := enterNamespaces(&cfg); err != nil {
			sandboxFail("%v", err)
		}
	}
	if err := setLimits(&cfg); err != nil {
		sandboxFail("%v", err)
	}
	if cfg.Namespaces {
		if err := dropPrivileges(); err != nil {
			sandboxFail("%v", err)
		}
	}
	if cfg.Probe {
		os.Exit(0)
	}
	if err := os.Chdir(cfg.Dir); err != nil {
		sandboxFail("%v", err)
	}
	err := unix.Exec(cfg.Binary, cfg.Args, cfg.Env)
	sandboxFail("exec %s: %v", cfg.Binary, err)
}

const sandboxFailure = 125

func sandboxFail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ipclab sandbox: "+format+"\n", args...)
	os.Exit(sandboxFailure)
}

// enterNamespaces finishes the namespaces the process was started in:
// mounts stay private, /proc shows only the sandbox's processes, /dev/shm
// is empty and private, the course and the grader's home are hidden, and
// the loopback interface is up.
func enterNamespaces(cfg *sandboxConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if err := unix.Mount("tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=256m,mode=1777"); err != nil {
			return fmt.Errorf("mount /dev/shm: %w", err)
		}
	}
	for _, dir := range cfg.Hide {
		if !hideable(dir, cfg) {
			continue
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "size=4k,mode=0"); err != nil {
			return fmt.Errorf("hide %s: %w", dir, err)
		}
	}
	return loopbackUp()
}

// hideable reports whether dir can be covered without hiding what the
// test needs: its binary and its working directory.
func hideable(dir string, cfg *sandboxConfig) bool {
	if dir == "" || dir == "/" {
		return false
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return false
	}
	for _, need := range []string{cfg.Binary, cfg.Dir} {
		if rel, err := filepath.Rel(dir, need); err == nil && !strings.HasPrefix(rel, "..") {
			return false
		}
	}
	return true
}

// loopbackUp brings up lo, which a new network namespace has down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring loopback up: %w", err)
	}
	return nil
}

func setLimits(cfg *sandboxConfig) error {
	set := func(what string, res int, v uint64) error {
		if v == 0 {
			return nil
		}
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			return fmt.Errorf("limit %s to %d: %w", what, v, err)
		}
		return nil
	}
	noCore := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	if noCore != nil {
		noCore = fmt.Errorf("disable core dumps: %w", noCore)
	}
	return errors.Join(
		noCore,
		set("CPU seconds", unix.RLIMIT_CPU, cfg.CPUSeconds),
		set("file size", unix.RLIMIT_FSIZE, cfg.Limits.FileSize),
		set("open files", unix.RLIMIT_NOFILE, cfg.Limits.OpenFiles),
		set("processes", unix.RLIMIT_NPROC, cfg.Limits.Processes),
	)
}

// Secure bits (linux/securebits.h): exec as uid 0 grants no capabilities,
// and none of that can be undone.
const (
	secbitNoRoot                  = 1 << 0
	secbitNoRootLocked            = 1 << 1
	secbitNoSetuidFixup           = 1 << 2
	secbitNoSetuidFixupLocked     = 1 << 3
	secbitKeepCapsLocked          = 1 << 5
	secbitNoCapAmbientRaise       = 1 << 6
	secbitNoCapAmbientRaiseLocked = 1 << 7
)

// dropPrivileges leaves the sandbox's root user with no capabilities at
// all, for good, before the test binary runs: it cannot undo the mounts
// that hide the course, nor change the network.
func dropPrivileges() error {
	bits := secbitNoRoot | secbitNoRootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLocked |
		secbitKeepCapsLocked | secbitNoCapAmbientRaise | secbitNoCapAmbientRaiseLocked
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
		return fmt.Errorf("set secure bits: %w", err)
	}
	last := unix.CAP_LAST_CAP
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = n
		}
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("clear capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no new privileges: %w", err)
	}
	return nil
}

// sandboxCommand wraps the test command in the trampoline for level iso.
func sandboxCommand(cmd *exec.Cmd, iso Isolation, s Spec) (*exec.Cmd, error) {
	if iso == IsolateNone {
		return cmd, nil
	}
	tr, err := trampolineCommand(sandboxConfig{
		Binary:     cmd.Path,
		Args:       cmd.Args,
		Env:        cmd.Env,
		Dir:        cmd.Dir,
		Namespaces: iso >= IsolateNamespaces,
		Hide:       s.Hide,
		Limits:     s.Limits,
		CPUSeconds: uint64((s.Timeout+DefaultKillGrace).Seconds())*uint64(runtime.NumCPU()) + 10,
	})
	if err != nil {
		return nil, err
	}
	tr.Stdout, tr.Stderr = cmd.Stdout, cmd.Stderr
	tr.WaitDelay = cmd.WaitDelay
	return tr, nil
}

// trampolineCommand starts this very program as the sandbox's first
// process, in new namespaces if cfg asks for them.
func trampolineCommand(cfg sandboxConfig) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	tr := exec.Command(self)
	tr.Args = []string{"ipclab-sandbox"}
	tr.Env = []string{sandboxEnv + "=" + string(raw)}
	tr.Dir = "/"
	tr.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cfg.Namespaces {
		uid, gid := os.Getuid(), os.Getgid()
		tr.SysProcAttr.Cloneflags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID |
			unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS
		tr.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		tr.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		tr.SysProcAttr.GidMappingsEnableSetgroups = false
	}
	return tr, nil
}

var probe struct {
	sync.Once
	level  Isolation
	reason string
}

// Probe returns the strongest isolation this machine allows, and, when
// that is not IsolateNamespaces, why not. It starts the sandbox once for
// real to find out, and remembers the answer.
func Probe() (Isolation, string) {
	probe.Do(func() {
		probe.level, probe.reason = IsolateNone, ""
		var reasons []string
		for _, iso := range []Isolation{IsolateNamespaces, IsolateLimits} {
			err := tryIsolation(iso)
			if err == nil {
				probe.level = iso
				break
			}
			reasons = append(reasons, fmt.Sprintf("%s: %v", iso, err))
		}
		probe.reason = strings.Join(reasons, "; ")
	})
	return probe.level, probe.reason
}

// tryIsolation starts the sandbox at level iso, all the way to the point
// where it would run a test, and reports what went wrong.
func tryIsolation(iso Isolation) error {
	hidden, err := os.MkdirTemp("", "ipclab-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(hidden)
	tr, err := trampolineCommand(sandboxConfig{
		Dir:        "/",
		Namespaces: iso >= IsolateNamespaces,
		Hide:       []string{hidden},
		Limits:     DefaultLimits,
		CPUSeconds: 10,
		Probe:      true,
	})
	if err != nil {
		return err
	}
	var out strings.Builder
	tr.Stdout, tr.Stderr = &out, &out
	if err := tr.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- tr.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-tr.Process.Pid, syscall.SIGKILL)
		<-done
		return errors.New("the probe did not finish within 10s")
	}
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// watchMemory kills the process group of pid once the resident memory of
// its processes passes limit, and reports whether it did. It returns when
// stop is closed.
func watchMemory(pgid int, limit int64, stop <-chan struct{}, exceeded chan<- struct{}) {
	if limit <= 0 {
		return
	}
	page := int64(os.Getpagesize())
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if groupRSS(pgid)*page > limit {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			close(exceeded)
			return
		}
	}
}

// groupRSS adds up the resident pages of the processes in a process group.
func groupRSS(pgid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		if end < 0 {
			continue
		}
		// After the command: state ppid pgrp session tty tpgid flags
		// minflt cminflt majflt cmajflt utime stime cutime cstime
		// priority nice threads itrealvalue starttime vsize rss ...
		f := strings.Fields(s[end+1:])
		if len(f) < 22 {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err != nil || g != pgid {
			continue
		}
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		total += rss
	}
	return total
}
