// Package run runs one test of a compiled test binary in a process of its
// own, and reads back what happened as test2json events.
//
// Each run is a separate process, so a panic, an os.Exit, a deadlock or an
// endless loop in a submission costs the test that provoked it and nothing
// else. The process:
//
//   - starts in a process group of its own, and the whole group is killed
//     when the time limit passes, when the output limit is reached, and
//     once more when the test has ended, so that no child it started is
//     left running;
//   - gets a scrubbed environment: no tokens, no GITHUB_* files, only what
//     a test needs (PATH, a private HOME and TMPDIR, GORACE);
//   - works in directories of its own (working directory, TMPDIR, HOME),
//     empty at the start and removed at the end;
//   - runs with -test.paniconexit0 and with -test.timeout set to the time
//     limit, so a hang ends with the goroutine dump that explains it;
//   - is fenced off from the machine at the strongest [Isolation] level
//     the machine allows ([Probe]).
//
// # The sandbox's first process, and the init hook
//
// On Linux the sandbox is entered by the grader's own executable: to run a
// test, the grader starts /proc/self/exe again (argv[0] "ipclab-sandbox")
// with nothing in its environment but IPCLAB_SANDBOX, which holds the
// sandbox's configuration as JSON, in new namespaces (under
// [IsolateNamespaces]). This package's init function looks for that
// variable: when it is set, init never returns. It builds the test's view
// of the machine, sets the limits, drops privileges, installs the seccomp
// filter and executes the test binary in its place, before the program's
// main and the init functions of the packages that import this one (a
// failure there exits with status 125). sandbox_linux.go holds the grader's side of
// this, trampoline_linux.go the side that runs inside.
//
// A program that imports this package therefore gets the hook too: the
// grader's main, and the test binaries of the packages that import run
// (their tests start sandboxes the same way). A program that set
// IPCLAB_SANDBOX itself would turn into a sandbox at start; nothing but
// this package sets it.
//
// # When a test counts as passed
//
// A submission is arbitrary Go code linked into the test binary: it runs
// inside the test process, with everything that process can reach — its
// own memory and descriptors (stdout among them), the files it can open,
// the processes it can start. Anything it prints can look like the testing
// package's own lines. The protocol below decides a pass from things that
// code cannot produce, and each step says what enforces it.
//
//  1. The binary is the one the grader built. The grader compiled it from
//     the course's files with the submission's editable files on top, and
//     records its SHA-256; [Test] refuses to start a binary whose sum has
//     changed ([Outcome.Tampered]). Under namespaces the test sees the
//     binary only through a read-only mount, and never sees where the
//     grader keeps it; as root, tests run as an unprivileged user that
//     cannot write it.
//  2. The binary runs exactly one named test. The grader asks for
//     -test.run=^Name$. The course's trusted test harness (a package the
//     tests import, so Go initialises it before any of the submission's
//     code) parses the test flags from the command line as given, before
//     the submission could rewrite os.Args, and decides a child process's
//     role from the environment as it was at start. The test exists: the
//     manifest's names are checked against the test files.
//  3. The process exits with status 0 only through the testing package.
//     The testing package's main returns status 0 only when every test it
//     ran passed; the graded tests never skip except on Windows (a rule
//     the course's own checks enforce), so status 0 means the named test
//     ran to its end and passed. The submission cannot exit by itself:
//     the static checks, type-checked, refuse any reference to a function
//     that ends or replaces the process (os.Exit, syscall.Exit, exec),
//     however the package is imported or the function reached; of the
//     system-call packages only a short list of functions that take
//     slices, strings and numbers may be called at all; and the
//     SysProcAttr fields that would make a child a thread of the test
//     process are refused. The sandbox's seccomp filter refuses from
//     outside what would make a failing exit succeed or let another
//     program replace the test process: a seccomp filter of the
//     submission's own, and clone with CLONE_THREAD|CLONE_VFORK. A panic,
//     a signal, a kill or a runtime fatal error ends the process with
//     another status.
//  4. Nothing changes the testing package's state but the testing
//     package. Safe Go cannot reach another package's unexported state:
//     the static checks refuse cgo, every compiler directive (//go:norace
//     would hide a race, //go:linkname reaches into the runtime), an
//     import of unsafe in every exercise (shm's atomics on a segment go
//     through the course's shmview package, whose views stay inside a
//     []byte's own bytes), and the system calls that act on the pages
//     behind a slice (munmap would give a segment's addresses back, for a
//     stale copy of the slice to reach whatever is mapped there next, so
//     shm ends its mappings with shmview.Unmap, which keeps them
//     reserved; madvise could zero pages of the heap). A data race, the
//     one way safe Go can corrupt memory, ends the process at the race
//     detector's first report
//     (GORACE=halt_on_error=1), before the racy value is used; and a race
//     report in the output fails the test whatever the exit status. The
//     ways around the language that the operating system offers are
//     closed from outside: /proc is mounted read-only (no writing to
//     /proc/self/mem), and the seccomp filter refuses ptrace,
//     process_vm_readv/writev and pidfd_getfd to the test and everything
//     it starts, so no helper program can rewrite the test's memory.
//  5. The grader reads the verdict from outside: the process's exit status
//     from the kernel, and the events the toolchain's test2json makes of
//     its output after it ended. [Outcome.Passed] requires a pass event
//     for the named test, the package's final pass, exit status 0, no
//     race report, and no time-out, output or memory limit hit. Lines the
//     submission prints can add events, but cannot change the exit status
//     the kernel reports; forged lines with an honest failure fail.
//
// The argument rests on three things outside this package: the Go
// compiler and runtime keep safe Go memory-safe; the race detector reports
// a data race before a torn value is used (it sees every race between two
// accesses it still remembers, and an attack needs many); and the kernel
// enforces its namespaces, mounts and filters. A weakness in any of them
// is a way round, which is why every attack tried so far is in the
// hostile corpus.
//
// Each step is tested: the read-only world and the refused system calls
// by the fixture under testdata/fixture, the tampered binary here, the
// harness and the static checks in their packages, and every attack end
// to end by the hostile submissions under testdata/submissions.
//
// # What the lower levels do not guarantee
//
// Only [IsolateNamespaces] holds steps 1 and 4 against a determined
// submission. Under [IsolateLimits] the test shares the host's /tmp and
// /dev/shm (what it writes there stays), /proc/self/mem is writable, a
// process it starts in a session of its own outlives the test, and
// when the grader is not root the test runs as the grader's own user,
// which could rewrite the binary between the grader's check and its
// start; as root the grader runs tests as an unprivileged user. Under
// [IsolateNone] only the process group, the environment and the time and
// output limits remain. Every report says which level graded it.
package run
