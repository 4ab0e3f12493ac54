package submission

import (
	"context"
	"github.com/ipclab/ipclab/grader/internal/mutant"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipclab/ipclab/grader/internal/course"
)

func exercise(t *testing.T, id string) *course.Exercise {
	t.Helper()
	ex, err := testRepo(t).Exercise(id)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestCheckByMeaning runs the type-checked part of Check: references to
// forbidden functions however they are spelled.
func TestCheckByMeaning(t *testing.T) {
	const pipe, shm = "//go:build unix\n\npackage pipe\n\n", "//go:build unix\n\npackage shm\n\n"
	const exits = "os.Exit is not allowed: a submission may not end or replace the test process itself; return an error (or panic) instead"
	tests := []struct {
		name string
		ex   string // exercise id
		src  string
		want []string // substrings of the problems, in order; none for a clean file
	}{
		// Ending the process, every way a reference can be made.
		{"os.Exit in a function", "pipe", pipe + "import \"os\"\n\nfunc f() { os.Exit(0) }\n",
			[]string{"exercises/6-pipe/pipe.go:7:12: " + exits}},
		{"os.Exit in init", "pipe", pipe + "import \"os\"\n\nfunc init() { os.Exit(0) }\n",
			[]string{"7:15: " + exits}},
		{"os.Exit in a package-level initializer", "pipe", pipe + "import \"os\"\n\nvar _ = func() int { os.Exit(0); return 0 }()\n",
			[]string{"7:22: " + exits}},
		{"os.Exit as a function value", "pipe", pipe + "import \"os\"\n\nvar quit = os.Exit\n\nfunc init() { quit(0) }\n",
			[]string{"7:12: " + exits}},
		{"os.Exit as an argument", "pipe", pipe + "import \"os\"\n\nfunc call(f func(int)) { f(0) }\n\nfunc init() { call(os.Exit) }\n",
			[]string{"9:20: " + exits}},
		{"os.Exit in a struct field", "pipe", pipe + "import \"os\"\n\ntype hooks struct{ done func(int) }\n\nvar h = hooks{done: os.Exit}\n",
			[]string{"9:21: " + exits}},
		{"os.Exit deferred", "pipe", pipe + "import \"os\"\n\nfunc f() { defer os.Exit(0) }\n",
			[]string{"7:18: " + exits}},
		{"syscall.Exit through an alias", "pipe", pipe + "import sc \"syscall\"\n\nfunc f() { sc.Exit(0) }\n",
			[]string{"7:12: sc.Exit is not allowed: a submission may not end or replace the test process itself (sc.Exit is syscall.Exit); return an error"}},
		{"syscall.Exit dot-imported", "pipe", pipe + "import . \"syscall\"\n\nfunc init() { Exit(0) }\n\nvar _ = EPIPE\n",
			[]string{"7:15: Exit is not allowed: a submission may not end or replace the test process itself (Exit is syscall.Exit)"}},
		{"syscall imported blank", "pipe", pipe + "import _ \"syscall\"\n", nil},
		{"a seccomp filter of its own", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nfunc init() { unix.Prctl(unix.PR_SET_SECCOMP, 2, 0, 0, 0) }\n",
			[]string{"7:15: unix.Prctl is not allowed: a submission may not change how the kernel treats the test process"}},
		{"a thread that execs", "pipe", pipe + "import \"syscall\"\n\nvar attr = syscall.SysProcAttr{Cloneflags: syscall.CLONE_THREAD}\n",
			[]string{"7:32: the SysProcAttr field Cloneflags is not allowed"}},
		{"a field set by assignment", "pipe", pipe + "import (\n\t\"os/exec\"\n\t\"syscall\"\n)\n\nfunc f(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}; c.SysProcAttr.Unshareflags = 1 }\n",
			[]string{"the SysProcAttr field Unshareflags is not allowed"}},
		{"vmsplice writes past a Go object", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nfunc f(iov []unix.Iovec) { unix.Vmsplice(3, iov, 0) }\n",
			[]string{"7:28: unix.Vmsplice is not allowed: of package golang.org/x/sys/unix a submission may call only Mmap; "}},
		{"a system call the course's code does not use", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nvar pid = unix.Getpid()\n",
			[]string{"7:11: unix.Getpid is not allowed: of package golang.org/x/sys/unix a submission may call only Mmap; "}},
		{"a system call outside the list", "pipe", pipe + "import \"syscall\"\n\nfunc f() { syscall.Sync() }\n",
			[]string{"7:12: syscall.Sync is not allowed: of package syscall a submission may call only "}},
		{"the listed system calls are fine", "pipe", pipe + "import \"syscall\"\n\nfunc f() error { fd, err := syscall.Open(\"f\", syscall.O_RDONLY, 0); syscall.Close(fd); return syscall.Mkfifo(\"p\", 0o600) }\n\nvar _ = err\n\nvar err error\n", nil},
		{"runtime.Goexit", "shm", shm + "import \"runtime\"\n\nfunc f() { runtime.Goexit() }\n",
			[]string{"7:12: runtime.Goexit is not allowed: a submission may not end a goroutine it did not start"}},
		{"the tests' own helpers", "pipe", pipe + "func init() { _ = describe }\n",
			[]string{"5:19: describe is not allowed: it is declared by the tests"}},
		{"a package-level name that hides a built-in", "pipe", pipe + "func len(s string) int { return 0 }\n\nvar copy = 1\n",
			[]string{"5:6: len is not allowed as a package-level name: it would hide Go's built-in len", "7:5: copy is not allowed as a package-level name"}},
		{"a local name may shadow a built-in", "pipe", pipe + "func f() int { len := 3; return len }\n", nil},
		{"a SysProcAttr without field names", "pipe", pipe + "import \"syscall\"\n\nvar attr = &syscall.SysProcAttr{\"\", nil, false, false, false, false, 0, false, false, false, 0, 0, 0, 0, false, 0, 0}\n",
			[]string{"7:13: a syscall.SysProcAttr must name its fields"}},
		{"a conversion to SysProcAttr", "pipe", pipe + "import \"syscall\"\n\ntype mine syscall.SysProcAttr\n\nvar attr = syscall.SysProcAttr(mine{})\n",
			[]string{"9:12: a conversion to syscall.SysProcAttr is not allowed"}},
		{"process group fields are fine", "pipe", pipe + "import \"syscall\"\n\nvar attr = syscall.SysProcAttr{Setpgid: true, Setsid: false}\n", nil},
		{"unix.Exit through an alias", "shm", shm + "import u \"golang.org/x/sys/unix\"\n\nfunc init() { u.Exit(0) }\n",
			[]string{"7:15: u.Exit is not allowed: a submission may not end or replace the test process itself (u.Exit is golang.org/x/sys/unix.Exit)"}},

		// Replacing the process, raw system calls, other processes.
		{"syscall.Exec", "pipe", pipe + "import \"syscall\"\n\nfunc init() { syscall.Exec(\"/bin/true\", nil, nil) }\n",
			[]string{"7:15: syscall.Exec is not allowed: a submission may not end or replace the test process itself; run another program in a child process with os/exec"}},
		{"syscall.ForkExec", "pipe", pipe + "import \"syscall\"\n\nvar fork = syscall.ForkExec\n",
			[]string{"7:12: syscall.ForkExec is not allowed: a submission starts child processes only through os/exec"}},
		{"unix.RawSyscall", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nfunc init() { unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0) }\n",
			[]string{"7:15: unix.RawSyscall is not allowed: a submission may not make raw system calls; call the function named after the system call"}},
		{"unix.SyscallNoError", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nvar call = unix.SyscallNoError\n",
			[]string{"7:12: unix.SyscallNoError is not allowed: a submission may not make raw system calls"}},
		{"syscall.AllThreadsSyscall", "pipe", pipe + "import \"syscall\"\n\nvar call = syscall.AllThreadsSyscall\n",
			[]string{"7:12: syscall.AllThreadsSyscall is not allowed: a submission may not make raw system calls"}},
		{"syscall.PtraceAttach", "pipe", pipe + "import \"syscall\"\n\nfunc f(pid int) error { return syscall.PtraceAttach(pid) }\n",
			[]string{"7:32: syscall.PtraceAttach is not allowed: a submission may not reach into another process's memory or descriptors"}},
		{"unix.PidfdGetfd and ProcessVMReadv", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nvar a, b = unix.PidfdGetfd, unix.ProcessVMReadv\n",
			[]string{"7:12: unix.PidfdGetfd is not allowed: a submission may not reach into another process's memory", "7:29: unix.ProcessVMReadv is not allowed"}},
		{"unix.MmapPtr", "shm", shm + "import \"golang.org/x/sys/unix\"\n\nvar m = unix.MmapPtr\n",
			[]string{"7:9: unix.MmapPtr is not allowed: a submission may not map memory at an address of its own choosing; map the segment with unix.Mmap"}},
		{"the functions a solution needs", "shm", shm + "import (\n\t\"golang.org/x/sys/unix\"\n\n\t\"github.com/ipclab/ipclab/exercises/shmview\"\n)\n\nfunc f(fd int) error { b, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ, unix.MAP_SHARED); if err != nil { return err }; return shmview.Unmap(b) }\n", nil},

		// Names that merely look alike.
		{"a local type with an Exit method", "pipe", pipe + "type t struct{}\n\nfunc (t) Exit(int) {}\n\nfunc f() { var os t; os.Exit(0) }\n", nil},
		{"a local func named Exit", "pipe", pipe + "func Exit(int) {}\n\nfunc init() { Exit(0) }\n", nil},

		// Code that does not compile is the compiler's to report.
		{"unknown identifier", "pipe", pipe + "func f() { x := undefinedThing; _ = x }\n", nil},
		{"unknown identifier beside os.Exit", "pipe", pipe + "import \"os\"\n\nfunc f() { undefinedThing() }\n\nfunc g() { os.Exit(0) }\n",
			[]string{"9:12: " + exits}},
		{"wrong package clause beside os.Exit", "pipe", "//go:build unix\n\npackage main\n\nimport \"os\"\n\nfunc g() { os.Exit(0) }\n",
			[]string{"3:9: package main, want package pipe", "7:12: " + exits}},
		{"an import the exercise does not allow", "pipe", pipe + "import \"net\"\n\nvar _, _ = net.Dial(\"tcp\", \"x\")\n",
			[]string{`5:8: import "net" is not allowed in pipe`}},

		// unsafe: importable in no exercise. shm has shmview instead.
		{"unsafe in shm", "shm", shm + "import \"unsafe\"\n\nfunc f(b []byte) *uint64 { return (*uint64)(unsafe.Pointer(&b[8])) }\n",
			[]string{`5:8: import "unsafe" is not allowed in shm: `}},
		{"unsafe in shm, dot-imported", "shm", shm + "import . \"unsafe\"\n\nvar p Pointer\n",
			[]string{`5:8: import "unsafe" is not allowed in shm: `}},
		{"unsafe in rpc", "rpc", "package rpc\n\nimport \"unsafe\"\n\nvar p unsafe.Pointer\n",
			[]string{`3:8: import "unsafe" is not allowed in rpc`}},
		{"shmview in shm", "shm", shm + "import (\n\t\"sync/atomic\"\n\n\t\"github.com/ipclab/ipclab/exercises/shmview\"\n)\n\nfunc f(b []byte, off int) *atomic.Uint64 { return shmview.Uint64(b, off) }\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exercise(t, tt.ex)
			probs := check(t, ex, tt.src)
			if len(probs) != len(tt.want) {
				t.Fatalf("Check found %d problems, want %d:\n%v", len(probs), len(tt.want), problemLines(probs))
			}
			for i, p := range probs {
				if !strings.Contains(p.String(), tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p, tt.want[i])
				}
			}
		})
	}
}

// TestUnsafeIsRefusedEverywhere: no exercise lets a submission import
// unsafe, which can overwrite any memory of the test process; shm's
// refusal points to shmview, which does the one thing unsafe was wanted
// for there.
func TestUnsafeIsRefusedEverywhere(t *testing.T) {
	for _, ex := range testRepo(t).Exercises {
		src := "package " + ex.ID + "\n\nimport \"unsafe\"\n\nvar _ unsafe.Pointer\n"
		_, probs := checkFile(token.NewFileSet(), ex, File{Name: ex.Editable[0], Data: []byte(src)})
		want := `3:8: import "unsafe" is not allowed in ` + ex.ID
		if len(probs) != 1 || !strings.Contains(probs[0].String(), want) {
			t.Errorf("%s: checkFile of a file that imports unsafe found %v, want one problem containing %q", ex.ID, problemLines(probs), want)
			continue
		}
		if ex.ID == "shm" && !strings.Contains(probs[0].Msg, "shmview.Uint32 and shmview.Uint64") {
			t.Errorf("shm: the refusal of unsafe does not point to shmview.Uint32 and shmview.Uint64:\n%s", probs[0].Msg)
		}
	}
}

// TestWholePagesAreRefused: nothing that acts on the pages behind a
// slice may be called. unix.Munmap gives the addresses back, and a copy
// of the slice then reaches whatever the kernel maps there next;
// unix.Madvise(MADV_DONTNEED) on a Go []byte zeroes the whole pages
// around it. Each refusal says why, and what to use instead.
func TestWholePagesAreRefused(t *testing.T) {
	const (
		shm         = "//go:build unix\n\npackage shm\n\nimport \"golang.org/x/sys/unix\"\n\n"
		pipe        = "//go:build unix\n\npackage pipe\n\nimport \"syscall\"\n\n"
		givesBack   = "a submission may not give a mapping's addresses back to the kernel"
		pages       = "a submission may not change the pages behind a slice"
		useUnmap    = "end the mapping with shmview.Unmap(b) (github.com/ipclab/ipclab/exercises/shmview)"
		unmapAtEnd  = "end the mapping with shmview.Unmap"
		notInBudget = "may call only"
	)
	tests := []struct {
		name, ex, src string
		want          []string // substrings of the one problem
	}{
		{"unix.Munmap", "shm", shm + "func f(b []byte) error { return unix.Munmap(b) }\n",
			[]string{"7:33: unix.Munmap is not allowed: " + givesBack, useUnmap}},
		{"unix.Munmap as a value", "shm", shm + "var unmap = unix.Munmap\n",
			[]string{"7:13: unix.Munmap is not allowed: " + givesBack, useUnmap}},
		{"syscall.Munmap", "pipe", pipe + "func f(b []byte) error { return syscall.Munmap(b) }\n",
			[]string{"7:33: syscall.Munmap is not allowed: " + givesBack, useUnmap}},
		{"unix.Madvise", "shm", shm + "func f(b []byte) error { return unix.Madvise(b, unix.MADV_DONTNEED) }\n",
			[]string{"7:33: unix.Madvise is not allowed: " + pages, unmapAtEnd}},
		{"syscall.Madvise", "pipe", pipe + "func f(b []byte) error { return syscall.Madvise(b, syscall.MADV_DONTNEED) }\n",
			[]string{"7:33: syscall.Madvise is not allowed: " + pages, unmapAtEnd}},
		{"unix.Mprotect", "shm", shm + "func f(b []byte) error { return unix.Mprotect(b, unix.PROT_READ) }\n",
			[]string{"7:33: unix.Mprotect is not allowed: " + pages}},
		{"unix.Msync", "shm", shm + "func f(b []byte) error { return unix.Msync(b, unix.MS_SYNC) }\n",
			[]string{"7:33: unix.Msync is not allowed: " + pages}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := check(t, exercise(t, tt.ex), tt.src)
			if len(probs) != 1 {
				t.Fatalf("Check found %d problems, want 1:\n%v", len(probs), problemLines(probs))
			}
			for _, w := range tt.want {
				if !strings.Contains(probs[0].String(), w) {
					t.Errorf("problem = %q, want it to contain %q", probs[0], w)
				}
			}
			if strings.Contains(probs[0].Msg, notInBudget) {
				t.Errorf("problem = %q, want the reason of its own row, not the allow-list's", probs[0])
			}
		})
	}
}

func problemLines(probs []Problem) string {
	var b strings.Builder
	for _, p := range probs {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

// TestCourseIsClean runs Check over what the course itself ships: every
// exercise's stub, its reference solution and every mutant, each laid
// over the stub as grading lays them. Mutants must pass the static checks
// unchanged, or verify could not prove that the tests catch them.
func TestCourseIsClean(t *testing.T) {
	repo := testRepo(t)
	for _, ex := range repo.Exercises {
		t.Run(ex.ID, func(t *testing.T) {
			t.Parallel()
			var stub []File
			for _, name := range ex.Editable {
				data, err := os.ReadFile(repo.Path(filepath.FromSlash(ex.Dir), name))
				if err != nil {
					t.Fatal(err)
				}
				stub = append(stub, File{Name: name, Data: data})
			}
			clean := func(what string, layers ...[]File) {
				t.Helper()
				files := overlay(ex, stub, layers...)
				probs, err := Check(context.Background(), repo, ex, files)
				if err != nil {
					t.Fatalf("Check(%s): %v", what, err)
				}
				if len(probs) > 0 {
					t.Errorf("Check(%s) found problems, want none:\n%s", what, problemLines(probs))
				}
				// Clean must not mean unseen: what the course ships
				// compiles, so the type checker must understand all of it.
				if errs := typeErrors(t, repo, ex, files); len(errs) > 0 {
					t.Errorf("type-checking %s: %v, want no error", what, errs)
				}
			}
			clean("stub")
			if !repo.HasSolutions() {
				return
			}
			sol, err := ReadDir(repo.Path(course.SolutionsDir, ex.ID), ex)
			if err != nil {
				t.Fatal(err)
			}
			clean("solution", sol)
			for _, m := range ex.Mutants() {
				changed, err := mutant.Files(repo, ex, m.Name)
				if err != nil {
					t.Fatal(err)
				}
				var files []File
				for name, data := range changed {
					files = append(files, File{Name: name, Data: data})
				}
				clean("mutant "+m.Name, sol, files)
			}
		})
	}
}

func typeErrors(t *testing.T, repo *course.Repo, ex *course.Exercise, files []File) []error {
	t.Helper()
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		file, err := parser.ParseFile(fset, f.Name, f.Data, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, file)
	}
	_, errs, err := typeCheck(context.Background(), repo, ex, fset, parsed)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// overlay lays layers over base, as grading does, and returns the
// editable files in manifest order.
func overlay(ex *course.Exercise, base []File, layers ...[]File) []File {
	byName := map[string][]byte{}
	for _, layer := range append([][]File{base}, layers...) {
		for _, f := range layer {
			byName[f.Name] = f.Data
		}
	}
	var files []File
	for _, name := range ex.Editable {
		if data, ok := byName[name]; ok {
			files = append(files, File{Name: name, Data: data})
		}
	}
	return files
}
