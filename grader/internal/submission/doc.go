// Package submission takes a student's files out of a submission and checks
// them before anything is compiled.
//
// A submission is a directory laid out like the student repository. Only
// the files an exercise's manifest marks editable are ever read from it
// ([Collect]); every other file, tests and go.mod included, comes from the
// course repository. Other files found beside the editable ones are listed
// as ignored, so the student learns that an edited test file does not
// count.
//
// [Check] then looks at each editable file without running it: it must
// parse, belong to the exercise's package, import only what the manifest
// allows, use no cgo, no //go:linkname or other compiler directive that
// reaches outside the language, no build constraint but the stub's own,
// and none of the constructs the exercise forbids (channels in the buffer
// exercise). A [Problem] names the file, line and column, and says what
// to do in words a student can follow.
//
// # Checks by meaning
//
// Some functions are refused wherever they are referred to: those that
// end or replace the test process (os.Exit, syscall.Exit, syscall.Exec and
// their golang.org/x/sys/unix twins), raw system calls (Syscall,
// RawSyscall and relatives), ptrace and the calls that reach into another
// process's memory or descriptors, and mapping memory at an address of the
// caller's choosing (unix.MmapPtr). A test binary that ends itself with
// status 0 after printing a forged PASS could otherwise earn points it did
// not, and it can do so before the testing package has even started: from
// init or from a package-level variable's initialiser.
//
// So are the calls that act on the whole pages behind a slice. Munmap
// gives a mapping's addresses back to the kernel, which maps the
// runtime's or the race detector's memory there next, and a copy of the
// slice kept from before then reads and writes it; shm ends its mappings
// with the course's shmview.Unmap, which keeps the addresses reserved.
// Madvise(MADV_DONTNEED), Mprotect and their kin act on whole pages,
// which a Go []byte shares with other objects. Beyond the rows that say
// why, the system-call packages are an allow-list: a submission may call
// only the few functions the course's own code uses (syscall's Open,
// Mkfifo, Read, Write and Close, unix.Mmap).
//
// These are found by meaning, not by spelling. Check type-checks the
// editable files together with the exercise's own non-test files (doc.go)
// with go/types, and looks up what every identifier refers to: a call, a
// function value (var quit = os.Exit), an aliased import (sc.Exit) and a
// dot-imported name (Exit) all refer to the same function, while a local
// variable that happens to be called os does not. The export data of the
// packages the exercise may import comes from the go command (go list
// -export), run offline in the course's exercises module and remembered for
// the life of the process.
//
// No exercise lets a submission import unsafe (a manifest that lists it
// is refused): unsafe can overwrite any memory of the test process, the
// testing package's state included, and no check, static or at run time,
// tells a harmless conversion from one that reaches a pointer. The shm
// exercise, which needs sync/atomic on a mapped segment, has the course's
// shmview package for that: it hands out checked atomic views of bytes
// of a []byte, which can reach nothing but those bytes.
//
// Code that does not type-check is not a problem of these checks: the
// compiler, which runs next, reports it better. Check ignores type errors
// and reports what it finds in whatever did type-check. Only the grader's
// own failures, such as the go command unable to list export data, are
// errors.
package submission
