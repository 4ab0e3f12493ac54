package run

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// deniedSyscalls are the system calls by which one process reads or
// writes another's memory or takes its descriptors. With them, a child the
// submission started (a shell, a Python interpreter, anything on the
// machine) could attach to the test process and rewrite the verdict in its
// memory; no test needs them. The filter answers EPERM, as a kernel whose
// policy forbids tracing would.
var deniedSyscalls = []uint32{
	unix.SYS_PTRACE,
	unix.SYS_PROCESS_VM_READV,
	unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_PIDFD_GETFD,
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

// seccompFilter is the BPF program that enforces deniedSyscalls. A system
// call made under another architecture's convention (the 32-bit entry
// points of amd64, the x32 numbers) is refused whole: it would carry other
// numbers, and no Go program makes one.
func seccompFilter() ([]unix.SockFilter, error) {
	arch, err := auditArch()
	if err != nil {
		return nil, err
	}
	const (
		offNr   = 0 // struct seccomp_data: int nr; __u32 arch; ...
		offArch = 4
		x32Bit  = 0x40000000
	)
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
	}
	n := uint8(len(deniedSyscalls))
	// Layout: arch check, load nr, x32 check, one test per denied call,
	// allow, deny, foreign.
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch),
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, arch, 0, n+4), // to foreign
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr),
		jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, x32Bit, n+2, 0), // to foreign
	}
	for i, nr := range deniedSyscalls {
		prog = append(prog, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, nr, n-uint8(i), 0)) // to deny
	}
	prog = append(prog,
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)),
	)
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
