package run

// This file is the inside of the sandbox: the code that runs in the
// sandbox's first process, before the program's main, and turns itself
// into the test binary. sandbox_linux.go is the outside, which starts that
// process.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

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
