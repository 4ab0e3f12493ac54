package run

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system-call filter every test process and everything it starts runs
// under. Each rule closes a way for code inside the sandbox to change the
// verdict from outside the Go language; none is something a test needs.
// The filter answers EPERM (ENOSYS for clone3, so that callers fall back
// to clone, whose flags the filter can read), as a kernel whose policy
// forbids the call would.
//
//   - ptrace, process_vm_readv, process_vm_writev, pidfd_getfd: a child
//     (a shell, a Python interpreter, anything on the machine) could
//     attach to the test process and rewrite the verdict in its memory, or
//     take its descriptors.
//   - seccomp, and prctl(PR_SET_SECCOMP): a filter of the submission's own
//     could make the testing package's exit with a failing status fail,
//     and the process would end with status 0.
//   - clone with both CLONE_THREAD and CLONE_VFORK: the child of an exec
//     would be a thread of the test process, and its exec would replace
//     the test process itself. The Go runtime's own threads never ask for
//     CLONE_VFORK.
//   - clone with CLONE_VM but neither CLONE_THREAD nor CLONE_VFORK (a
//     child running on the test process's memory, at the same time as
//     it), and clone with CLONE_SIGHAND but not CLONE_THREAD (a child
//     that shares, and resets, the test process's signal handlers).
//   - a user namespace of its own (clone or unshare with CLONE_NEWUSER):
//     inside it a process may mount file systems, whose memory nothing
//     counts.
//   - memfd_create: memory held in a file, which the memory watch, adding
//     up resident pages, cannot see.
//   - clone3: its flags sit in memory, out of a filter's reach.
const (
	cloneThreadVfork = unix.CLONE_THREAD | unix.CLONE_VFORK
)

// A seccompRule matches one system call, with an optional test on the low
// 32 bits of its first argument.
type seccompRule struct {
	nr uint32
	// mask and value, when mask is not 0: the rule matches only when
	// arg0 & mask == value.
	mask, value uint32
	errno       unix.Errno
}

var seccompRules = []seccompRule{
	{nr: unix.SYS_PTRACE, errno: unix.EPERM},
	{nr: unix.SYS_PROCESS_VM_READV, errno: unix.EPERM},
	{nr: unix.SYS_PROCESS_VM_WRITEV, errno: unix.EPERM},
	{nr: unix.SYS_PIDFD_GETFD, errno: unix.EPERM},
	{nr: unix.SYS_SECCOMP, errno: unix.EPERM},
	{nr: unix.SYS_PRCTL, mask: 0xffffffff, value: unix.PR_SET_SECCOMP, errno: unix.EPERM},
	{nr: unix.SYS_CLONE, mask: cloneThreadVfork, value: cloneThreadVfork, errno: unix.EPERM},
	{nr: unix.SYS_CLONE, mask: unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_VFORK, value: unix.CLONE_VM, errno: unix.EPERM},
	{nr: unix.SYS_CLONE, mask: unix.CLONE_SIGHAND | unix.CLONE_THREAD, value: unix.CLONE_SIGHAND, errno: unix.EPERM},
	{nr: unix.SYS_CLONE, mask: unix.CLONE_NEWUSER, value: unix.CLONE_NEWUSER, errno: unix.EPERM},
	{nr: unix.SYS_UNSHARE, mask: unix.CLONE_NEWUSER, value: unix.CLONE_NEWUSER, errno: unix.EPERM},
	{nr: unix.SYS_CLONE3, errno: unix.ENOSYS},
	{nr: unix.SYS_MEMFD_CREATE, errno: unix.EPERM},
}

// auditArch is the architecture a seccomp filter sees for this program's
// own system calls.
func auditArch() (uint32, error) {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64, nil
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64, nil
	}
	return 0, fmt.Errorf("no system-call filter for %s", runtime.GOARCH)
}

// seccompFilter compiles seccompRules to a BPF program. A system call made
// under another architecture's convention (the 32-bit entry points of
// amd64, the x32 numbers) is refused whole: it would carry other numbers,
// and no Go program makes one.
func seccompFilter() ([]unix.SockFilter, error) {
	arch, err := auditArch()
	if err != nil {
		return nil, err
	}
	const (
		offNr   = 0 // struct seccomp_data: int nr; __u32 arch; __u64 ip; __u64 args[6]
		offArch = 4
		offArg0 = 16 // the low half on the little-endian machines above
		x32Bit  = 0x40000000
	)
	var prog []unix.SockFilter
	// jumps to the final "foreign" verdict, patched once its place is known.
	var toForeign []int
	emit := func(code uint16, k uint32, jt, jf uint8) int {
		prog = append(prog, unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k})
		return len(prog) - 1
	}
	ret := func(k uint32) { emit(unix.BPF_RET|unix.BPF_K, k, 0, 0) }
	emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch, 0, 0)
	toForeign = append(toForeign, emit(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, arch, 0, 0)) // jf: foreign
	emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr, 0, 0)
	x32 := emit(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, x32Bit, 0, 0) // jt: foreign
	for _, r := range seccompRules {
		verdict := unix.SECCOMP_RET_ERRNO | uint32(r.errno)
		if r.mask == 0 {
			emit(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, r.nr, 0, 1)
			ret(verdict)
			continue
		}
		// nr matches: load arg0, mask it, compare; the accumulator
		// must hold nr again for the next rule.
		emit(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, r.nr, 0, 5)
		emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArg0, 0, 0)
		emit(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, r.mask, 0, 0)
		emit(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, r.value, 0, 1)
		ret(verdict)
		emit(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr, 0, 0)
	}
	ret(unix.SECCOMP_RET_ALLOW)
	foreign := len(prog)
	ret(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	for _, i := range toForeign {
		prog[i].Jf = uint8(foreign - i - 1)
	}
	prog[x32].Jt = uint8(foreign - x32 - 1)
	if len(prog) > 255 {
		return nil, errors.New("system-call filter too long for its jumps")
	}
	return prog, nil
}

// installSeccomp applies the filter to the calling thread, which is the
// one that executes the test binary: the filter passes to the new program
// and to every process it starts, and nothing can remove it. The thread
// must already have no_new_privs.
func installSeccomp() error {
	prog, err := seccompFilter()
	if err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("system-call filter: the kernel has no seccomp filters: %w", err)
		}
		return fmt.Errorf("system-call filter: %w", err)
	}
	runtime.KeepAlive(prog)
	return nil
}
