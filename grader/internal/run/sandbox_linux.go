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
	// Credentials, no_new_privs and the system-call filter are per
	// thread: set them up on the thread that execs.
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
	} else if cfg.UID >= 0 {
		if err := becomeUser(cfg.UID, cfg.GID); err != nil {
			sandboxFail("%v", err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		sandboxFail("no new privileges: %v", err)
	}
	if err := installSeccomp(); err != nil {
		sandboxFail("%v", err)
	}
	closeInherited()
	if cfg.Probe {
		os.Exit(0)
	}
	if err := os.Chdir(cfg.Dir); err != nil {
		sandboxFail("%v", err)
	}
	err := unix.Exec(cfg.Binary, cfg.Args, cfg.Env)
	sandboxFail("exec %s: %v", cfg.Binary, err)
}

// closeInherited marks every descriptor above standard error close-on-exec:
// whatever the grader's own parent left open (a pipe, a log file) must not
// reach the test.
func closeInherited() {
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	for fd := 3; fd < 1<<16; fd++ { // kernels before 5.11
		unix.CloseOnExec(fd)
	}
}

const sandboxFailure = 125

func sandboxFail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ipclab sandbox: "+format+"\n", args...)
	os.Exit(sandboxFailure)
}

// systemDirs are the parts of the host the test sees, read-only: programs
// and their libraries (a test may start /bin/sh, cat or its own binary)
// and /etc (name resolution for "localhost"). Everything else (/home,
// /root, /srv, /opt, /var, the host's /tmp, where the grader works and the
// course and other submissions live) is simply not there.
var systemDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc"}

// devices are bound from the host's /dev, one by one.
// Not tty: the sandbox has no terminal, and a test needs none.
var devices = []string{"null", "zero", "full", "random", "urandom"}

// enterNamespaces builds the test's view of the machine and moves into it.
// The new root is an empty tmpfs holding: the system directories,
// read-only; a /dev of a few devices and a private /dev/shm; a /proc of
// the sandbox's own processes, read-only (so that no process can open
// /proc/*/mem for writing); a private /tmp; the test binary at its own
// path, read-only; and the writable directories at their own paths, each
// a size-limited tmpfs of its own (nothing the test writes reaches the
// host's disks). The old root is then detached, so nothing else of the
// host is reachable by any path. The private file systems vanish with the
// mount namespace when the sandbox's last process ends.
func enterNamespaces(cfg *sandboxConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	root := cfg.Root
	in := func(p string) string { return filepath.Join(root, p) }
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m,mode=0755"); err != nil {
		return fmt.Errorf("new root: %w", err)
	}
	for _, name := range systemDirs {
		if err := exposeSystemDir(root, "/"+name); err != nil {
			return err
		}
	}
	if err := makeDev(in("dev")); err != nil {
		return err
	}
	if err := os.Mkdir(in("proc"), 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", in("proc"), "proc", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := os.Mkdir(in("tmp"), 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", in("tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=256m,mode=1777"); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	var hidden []string
	for _, dir := range cfg.Hide {
		if st, err := os.Lstat(in(dir)); err != nil || !st.IsDir() || dir == "/" {
			continue
		}
		if err := unix.Mount("tmpfs", in(dir), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
			return fmt.Errorf("hide %s: %w", dir, err)
		}
		hidden = append(hidden, in(dir))
	}
	for _, dir := range cfg.Writable {
		if err := os.MkdirAll(in(dir), 0o700); err != nil {
			return fmt.Errorf("mount point for %s: %w", dir, err)
		}
		if err := unix.Mount("tmpfs", in(dir), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=128m,mode=0700"); err != nil {
			return fmt.Errorf("mount %s: %w", dir, err)
		}
	}
	if cfg.Binary != "" {
		if err := bindAt(cfg.Binary, in(cfg.Binary), true); err != nil {
			return err
		}
	}
	for _, p := range append(hidden, root) {
		if err := readOnly(p, false); err != nil {
			return err
		}
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root on the new one; detaching
	// it leaves the new root alone, with no way back.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	return loopbackUp()
}

// exposeSystemDir shows the host's dir at the same place under root,
// read-only with everything mounted below it; a symbolic link (/bin ->
// usr/bin on merged-/usr systems) is copied as a link.
func exposeSystemDir(root, dir string) error {
	st, err := os.Lstat(dir)
	switch {
	case err != nil:
		return nil // this system has no such directory
	case st.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(dir)
		if err != nil {
			return err
		}
		return os.Symlink(target, filepath.Join(root, dir))
	case !st.IsDir():
		return nil
	}
	at := filepath.Join(root, dir)
	if err := os.Mkdir(at, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(dir, at, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("show %s: %w", dir, err)
	}
	return readOnly(at, true)
}

// makeDev makes a small /dev: a few harmless devices bound from the
// host's, the usual links into /proc/self/fd, and a private /dev/shm.
func makeDev(dev string) error {
	if err := os.Mkdir(dev, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range devices {
		host := "/dev/" + d
		if _, err := os.Stat(host); err != nil {
			continue
		}
		if err := bindAt(host, filepath.Join(dev, d), false); err != nil {
			return err
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	shm := filepath.Join(dev, "shm")
	if err := os.Mkdir(shm, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=256m,mode=1777"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	return readOnly(dev, false)
}

// bindAt shows the host's file or directory src at dst, making the mount
// point first (on one of the sandbox's own file systems).
func bindAt(src, dst string, ro bool) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if st.IsDir() {
		err = os.MkdirAll(dst, 0o755)
	} else if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
		var f *os.File
		if f, err = os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			err = f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("mount point for %s: %w", src, err)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("show %s: %w", src, err)
	}
	if ro {
		return readOnly(dst, false)
	}
	return nil
}

// readOnly makes the mount at p read-only and set-user-ID-free, with the
// mounts below it when recursive is set. mount_setattr(2) (Linux 5.12)
// changes those two flags alone, which a remount in a user namespace could
// not do without knowing and repeating every flag the host locked.
func readOnly(p string, recursive bool) error {
	var flags uint
	if recursive {
		flags = unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID}
	if err := unix.MountSetattr(-1, p, flags, &attr); err != nil {
		return fmt.Errorf("make %s read-only (mount_setattr needs Linux 5.12): %w", p, err)
	}
	return nil
}

// becomeUser switches the calling thread to an unprivileged user for good
// (a grader running as root, at the limits level), and asks again to be
// killed with the grader, which the change of user forgot.
func becomeUser(uid, gid int) error {
	if err := unix.Setgroups(nil); err != nil {
		return fmt.Errorf("drop groups: %w", err)
	}
	if err := unix.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("become group %d: %w", gid, err)
	}
	if err := unix.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("become user %d: %w", uid, err)
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("die with the grader: %w", err)
	}
	return nil
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
	return nil
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
		CPUSeconds: uint64((s.Timeout+DefaultKillGrace).Seconds())*uint64(runtime.NumCPU()) + 10,
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
