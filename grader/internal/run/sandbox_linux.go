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

// This file is the outside of the sandbox: the grader's side, which
// configures the sandbox and starts its first process (the grader's own
// binary again, with sandboxEnv set), probes what the machine allows and
// watches the test's memory. trampoline_linux.go is the inside.

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
	// Root is an empty directory the trampoline builds the sandbox's root
	// file system on (namespaces only).
	Root string
	// Writable lists the directories the test may write: its working
	// directory, TMPDIR and HOME. They keep their paths inside.
	Writable []string
	// Hide lists directories to cover with an empty file system, should
	// the read-only view of the host show them.
	Hide   []string
	Limits Limits
	// CPUSeconds bounds the CPU time of the test process.
	CPUSeconds uint64
	// UID and GID, when UID is not -1, are the unprivileged user the test
	// runs as (limits only; under namespaces the user mapping does it).
	UID, GID int
	// Probe makes the trampoline stop, successfully, where it would
	// execute the binary.
	Probe bool
}

// sandboxUID is the user a test runs as when the grader is root: "nobody"
// on Debian, Ubuntu and Fedora, and the kernel's overflow user. It owns no
// file of the machine, so a test can read only what everyone may read and
// write only its own directories, even where the read-only view failed.
const sandboxUID = 65534

// asUnprivileged reports whether tests run as sandboxUID rather than as
// the grader's own user.
func asUnprivileged(iso Isolation) bool { return iso >= IsolateLimits && os.Getuid() == 0 }

// privateBase is where the tests' private directories go: the temporary
// directory, unless a test run as sandboxUID could not get through it
// (a TMPDIR inside root's own directories, say): then /tmp.
func privateBase() string {
	base := os.TempDir()
	if os.Getuid() != 0 {
		return base
	}
	for dir := base; ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if dir == filepath.Dir(dir) {
			return base
		}
	}
}

// prepare gives the test's user what it needs of the private directories
// and the binary placed in them, when that user is not the grader's: a way
// through the private directory (not a listing), its own writable
// directories, and a binary it may execute but not change.
func prepare(iso Isolation, p *privateDirs, binary string) error {
	if !asUnprivileged(iso) {
		return nil
	}
	if err := os.Chmod(p.dir, 0o711); err != nil {
		return err
	}
	// Not execute-only (0111), though that would keep the hidden tests'
	// strings in the binary from being read: a process whose binary it
	// cannot read is not dumpable, and the race detector then cannot halt
	// it at a race report (it exits with 0 instead of 66), which a
	// deliberate data race would use.
	if err := os.Chmod(binary, 0o555); err != nil {
		return err
	}
	for _, d := range p.writable() {
		if err := os.Chown(d, sandboxUID, sandboxUID); err != nil {
			return err
		}
	}
	return nil
}

// sandboxCommand wraps the test command in the trampoline for level iso.
func sandboxCommand(cmd *exec.Cmd, iso Isolation, s Spec, p *privateDirs) (*exec.Cmd, error) {
	if iso == IsolateNone {
		return cmd, nil
	}
	cfg, err := configure(cmd, iso, s, p)
	if err != nil {
		return nil, err
	}
	tr, err := trampolineCommand(cfg)
	if err != nil {
		return nil, err
	}
	tr.Stdout, tr.Stderr = cmd.Stdout, cmd.Stderr
	tr.WaitDelay = cmd.WaitDelay
	return tr, nil
}

// configure prepares the private directories and the binary for the
// test's user, and says what the trampoline must build.
func configure(cmd *exec.Cmd, iso Isolation, s Spec, p *privateDirs) (sandboxConfig, error) {
	if err := prepare(iso, p, cmd.Path); err != nil {
		return sandboxConfig{}, fmt.Errorf("prepare the sandbox: %w", err)
	}
	cfg := sandboxConfig{
		Binary:     cmd.Path,
		Args:       cmd.Args,
		Env:        cmd.Env,
		Dir:        cmd.Dir,
		Namespaces: iso >= IsolateNamespaces,
		Root:       p.root,
		Writable:   p.writable(),
		Hide:       s.Hide,
		Limits:     s.Limits,
		CPUSeconds: uint64((s.Timeout+DefaultKillGrace+QuitWait).Seconds())*uint64(runtime.NumCPU()) + 10,
		UID:        -1,
	}
	if !cfg.Namespaces && asUnprivileged(iso) {
		cfg.UID, cfg.GID = sandboxUID, sandboxUID
	}
	return cfg, nil
}

// trampolineCommand starts this very program as the sandbox's first
// process, in new namespaces if cfg asks for them. It is started through
// /proc/self/exe, so that the sandbox's unprivileged user can execute it
// wherever the grader's binary lies (go run builds it in a directory only
// its owner may enter).
func trampolineCommand(cfg sandboxConfig) (*exec.Cmd, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	tr := exec.Command("/proc/self/exe")
	tr.Args = []string{"ipclab-sandbox"}
	tr.Env = []string{sandboxEnv + "=" + string(raw)}
	tr.Dir = "/"
	// A session of its own, not only a process group: no controlling
	// terminal, so nothing in the sandbox can push input into the
	// terminal the grader runs in (TIOCSTI) or write to it. The group is
	// the session's, so killGroup still reaches it.
	tr.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if cfg.Namespaces {
		uid, gid := os.Getuid(), os.Getgid()
		if asUnprivileged(IsolateNamespaces) {
			uid, gid = sandboxUID, sandboxUID
		}
		tr.SysProcAttr.Cloneflags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID |
			unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS
		tr.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		tr.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		tr.SysProcAttr.GidMappingsEnableSetgroups = false
		// A child starts with its parent's user; only a change of user
		// inside the new namespace makes it the mapped one, root there.
		tr.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
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
// where it would run a test, with a file in place of the test binary, and
// reports what went wrong.
func tryIsolation(iso Isolation) error {
	p, err := newPrivateDirs()
	if err != nil {
		return err
	}
	defer p.remove()
	bin := filepath.Join(p.dir, "probe.test")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(bin)
	cmd.Dir = p.work
	cfg, err := configure(cmd, iso, Spec{Limits: DefaultLimits, Hide: []string{p.home}, Timeout: time.Second}, p)
	if err != nil {
		return err
	}
	cfg.Probe = true
	tr, err := trampolineCommand(cfg)
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

// watchMemory kills the test's processes once their resident memory
// passes limit, and reports whether it did. It returns when stop is
// closed.
func watchMemory(pid int, limit int64, stop <-chan struct{}, exceeded chan<- struct{}) {
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
		if sandboxRSS(pid)*page > limit {
			// Said before the kill, so that whoever sees the process
			// end already sees why.
			close(exceeded)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL) // takes its PID namespace with it
			return
		}
	}
}

// sandboxRSS adds up the resident pages of the test's processes: those in
// its process group and those descended from it, so that a child that
// moved to a group of its own still counts. (Under namespaces an orphan is
// adopted by the test process, the namespace's first, and stays a
// descendant.)
func sandboxRSS(pid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	type proc struct {
		ppid, pgrp int
		rss        int64
	}
	procs := map[int]proc{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
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
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		procs[p] = proc{ppid, pgrp, rss}
	}
	var total int64
	for p, pr := range procs {
		in := pr.pgrp == pid
		for q, hops := p, 0; !in && q > 1 && hops < len(procs); q, hops = procs[q].ppid, hops+1 {
			in = q == pid
		}
		if in {
			total += pr.rss
		}
	}
	return total
}
