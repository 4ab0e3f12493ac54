package submission

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// A forbiddenFuncs row names functions a submission may not refer to, by
// package path and name, whatever the import is called: a call, a
// function value (var quit = os.Exit) and a dot-imported name (Exit) are
// all references to the same object.
type forbiddenFuncs struct {
	pkgs     []string
	names    []string
	prefixes []string
	// reason completes "<name> is not allowed: "; hint says what to do
	// instead.
	reason, hint string
}

const (
	xunix          = "golang.org/x/sys/unix"
	endsTheProcess = "a submission may not end or replace the test process itself"
)

var forbiddenTable = []forbiddenFuncs{
	{
		pkgs:   []string{"os", "syscall", xunix},
		names:  []string{"Exit"},
		reason: endsTheProcess,
		hint:   "return an error (or panic) instead: only the tests decide when the test process ends, and one that ends early after printing PASS earns nothing",
	},
	{
		pkgs:     []string{"syscall", xunix},
		names:    []string{"Fexecve"},
		prefixes: []string{"Exec"},
		reason:   endsTheProcess,
		hint:     "run another program in a child process with os/exec (exec.Command) and wait for it",
	},
	{
		// Not a way out of the test process, but os/exec is how the
		// course starts children: it waits for them and closes their
		// descriptors.
		pkgs:   []string{"syscall"},
		names:  []string{"ForkExec"},
		reason: "a submission starts child processes only through os/exec",
		hint:   "use exec.Command and Cmd.Start, which wait for the child and close its descriptors properly",
	},
	{
		pkgs:     []string{"syscall", xunix},
		prefixes: []string{"Syscall", "RawSyscall", "AllThreadsSyscall"},
		reason:   "a submission may not make raw system calls",
		hint:     "call the function named after the system call you need (unix.Mmap, syscall.Mkfifo, os.Pipe and the like), which passes its arguments and reports its errors correctly",
	},
	{
		pkgs:     []string{"syscall", xunix},
		names:    []string{"ProcessVMReadv", "ProcessVMWritev", "PidfdGetfd"},
		prefixes: []string{"Ptrace"},
		reason:   "a submission may not reach into another process's memory or descriptors",
		hint:     "exchange data with other processes only through the pipes, files, sockets or shared segments the exercise is about",
	},
	{
		// The tests' helpers run the code under test on goroutines of
		// their own; one ended this way looks, to a careless wait, like a
		// call that returned zero values.
		pkgs:   []string{"runtime"},
		names:  []string{"Goexit"},
		reason: "a submission may not end a goroutine it did not start",
		hint:   "return from the function instead (with an error, if it failed)",
	},
	{
		// A filter of the submission's own could make the test process's
		// exit with a failing status fail, so that it ends with 0.
		pkgs:     []string{"syscall", xunix},
		prefixes: []string{"Prctl", "Seccomp"},
		reason:   "a submission may not change how the kernel treats the test process (prctl, seccomp)",
		hint:     "nothing in the exercise needs it: leave the process's settings to the tests",
	},
	{
		pkgs:   []string{xunix},
		names:  []string{"MmapPtr", "MunmapPtr", "MremapPtr"},
		reason: "a submission may not map memory at an address of its own choosing",
		hint:   "map the segment with unix.Mmap, which hands you a []byte the runtime can bounds-check, and end the mapping with shmview.Unmap",
	},
	{
		// munmap hands the addresses back, the kernel maps the runtime's
		// or the race detector's memory there next, and a copy of the
		// slice kept from before reads and writes it.
		pkgs:   []string{"syscall", xunix},
		names:  []string{"Munmap"},
		reason: "a submission may not give a mapping's addresses back to the kernel: a copy of the slice kept from before would then reach whatever memory is mapped at those addresses next",
		hint:   "end the mapping with shmview.Unmap(b) (github.com/ipclab/ipclab/exercises/shmview), which lets the segment's pages go and keeps the addresses reserved, so a stale copy can only crash",
	},
	{
		// madvise(MADV_DONTNEED) on a Go []byte zeroes the whole pages
		// around it, other objects and their pointers included.
		pkgs:   []string{"syscall", xunix},
		names:  []string{"Madvise", "Mprotect", "Mremap", "Msync", "Mlock", "Munlock", "Mlockall", "Munlockall", "Mseal"},
		reason: "a submission may not change the pages behind a slice: these act on whole pages, and the pages of a Go slice hold other objects too",
		hint:   "nothing in the exercises needs it: map the segment with unix.Mmap, use it through its []byte and shmview's atomic views, and end the mapping with shmview.Unmap",
	},
}

// systemFuncs are the only functions of the system-call packages a
// submission may call: those the course's own solutions, stubs and
// READMEs use, and no more. A deny-list cannot keep up with them: among
// the hundreds of wrappers some take raw memory from the caller
// (unix.Vmsplice with an Iovec whose length was set by hand lets the
// kernel write past a Go object, and so rewrite a pointer), some act on
// whole pages, which a Go []byte shares with other objects (unix.Madvise
// with MADV_DONTNEED zeroes them), and others change the process itself.
// These take only slices, strings and numbers, and act on descriptors or
// on a new mapping. syscall's Mkfifo and Open make and open a FIFO
// (fifo); Close, Read and Write go with a descriptor from Open. unix.Mmap
// maps a segment (shm), which shmview.Unmap ends. Their constants, types
// and methods stay free to use.
var systemFuncs = map[string][]string{
	"syscall": {"Close", "Mkfifo", "Open", "Read", "Write"},
	xunix:     {"Mmap"},
}

// forbiddenProcAttrs are the fields of syscall.SysProcAttr that change
// what a child is rather than how it is grouped: with Cloneflags
// CLONE_THREAD, say, the "child" is a thread of the test process, whose
// exec replaces the test process itself.
var forbiddenProcAttrs = []string{
	"Cloneflags", "Unshareflags", "UidMappings", "GidMappings", "GidMappingsEnableSetgroups",
	"Chroot", "Ptrace", "UseCgroupFD", "CgroupFD", "AmbientCaps", "Credential",
}

// isProcAttr reports whether t is syscall.SysProcAttr or a pointer to it.
func isProcAttr(t types.Type) bool {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "syscall" && n.Obj().Name() == "SysProcAttr"
}

// forbiddenFunc returns the row that forbids fn, if any.
func forbiddenFunc(fn *types.Func) *forbiddenFuncs {
	if fn.Pkg() == nil || fn.Signature().Recv() != nil {
		return nil
	}
	for i := range forbiddenTable {
		row := &forbiddenTable[i]
		if !slices.Contains(row.pkgs, fn.Pkg().Path()) {
			continue
		}
		if slices.Contains(row.names, fn.Name()) || slices.ContainsFunc(row.prefixes, func(p string) bool { return strings.HasPrefix(fn.Name(), p) }) {
			return row
		}
	}
	return nil
}

// checkTypes type-checks files (the editable files, parsed into fset)
// together with the exercise's trusted non-test files, and reports every
// reference in files to a forbidden function. Type errors are ignored: the
// compiler reports them better, and whatever did type-check is still
// looked at. An error is the grader's own failure.
func checkTypes(ctx context.Context, repo *course.Repo, ex *course.Exercise, fset *token.FileSet, files []*ast.File) ([]Problem, error) {
	info, _, err := typeCheck(ctx, repo, ex, fset, files)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	at := func(pos token.Pos, format string, args ...any) {
		p := fset.Position(pos)
		probs = append(probs, Problem{File: p.Filename, Line: p.Line, Col: p.Column, Msg: fmt.Sprintf(format, args...)})
	}
	pkgPath := path.Join(course.ModulePath, ex.Dir)
	for _, file := range files {
		// The submission shares a package with the tests: a name it
		// declares at package level that the universe also defines
		// (len, copy, min, true, error...) would change what the tests'
		// own code means.
		for _, name := range packageLevelNames(file) {
			if types.Universe.Lookup(name.Name) != nil {
				at(name.Pos(), "%s is not allowed as a package-level name: it would hide Go's built-in %s from the tests, which share the package; choose another name", name.Name, name.Name)
			}
		}
		sels := map[*ast.Ident]*ast.SelectorExpr{}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				sels[n.Sel] = n
			case *ast.CompositeLit:
				// Fields set without their names are fields the check
				// below cannot see.
				if tv, ok := info.Types[n]; ok && isProcAttr(tv.Type) && len(n.Elts) > 0 {
					if _, keyed := n.Elts[0].(*ast.KeyValueExpr); !keyed {
						at(n.Pos(), "a syscall.SysProcAttr must name its fields (SysProcAttr{Setpgid: true}): only Setpgid, Setsid, Pdeathsig and the like are allowed, and a field without its name could be any of them")
					}
				}
			case *ast.CallExpr:
				if tv, ok := info.Types[n.Fun]; ok && tv.IsType() && isProcAttr(tv.Type) {
					at(n.Pos(), "a conversion to syscall.SysProcAttr is not allowed: it sets fields the check cannot see; write a SysProcAttr literal that names its fields")
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			obj := info.Uses[id]
			if obj == nil || obj.Pkg() == nil {
				return true
			}
			name, aka, pos := spelled(info, id, sels[id])
			if decl := fset.Position(obj.Pos()).Filename; strings.HasSuffix(decl, "_test.go") && obj.Pkg().Path() == pkgPath {
				at(pos, "%s is not allowed: it is declared by the tests, and the code under test may not read or change what the tests use to judge it", id.Name)
				return true
			}
			if fn, ok := obj.(*types.Func); ok {
				if row := forbiddenFunc(fn); row != nil {
					at(pos, "%s is not allowed: %s%s; %s", name, row.reason, aka, row.hint)
				} else if allowed, listed := systemFuncs[fn.Pkg().Path()]; listed && fn.Signature().Recv() == nil && !slices.Contains(allowed, fn.Name()) {
					at(pos, "%s is not allowed: of package %s a submission may call only %s%s; the others hand the kernel raw memory or change the process in ways no exercise needs", name, fn.Pkg().Path(), strings.Join(allowed, ", "), aka)
				}
			}
			if v, ok := obj.(*types.Var); ok && v.IsField() && v.Pkg().Path() == "syscall" && slices.Contains(forbiddenProcAttrs, v.Name()) {
				at(pos, "the SysProcAttr field %s is not allowed: it makes a child share the test process, or leave its sandbox, in ways no exercise needs; Setpgid, Setsid and Pdeathsig are enough to manage children", v.Name())
			}
			return true
		})
	}
	return probs, nil
}

// packageLevelNames returns the names a file declares at package level
// (methods are not: they live in their type).
func packageLevelNames(file *ast.File) []*ast.Ident {
	var names []*ast.Ident
	for _, d := range file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names = append(names, d.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.ValueSpec:
					names = append(names, spec.Names...)
				case *ast.TypeSpec:
					names = append(names, spec.Name)
				}
			}
		}
	}
	return names
}

// typeCheck type-checks files with the exercise's trusted files and
// returns what it learnt, and the type errors, which callers other than
// tests ignore. An error is the grader's own failure.
func typeCheck(ctx context.Context, repo *course.Repo, ex *course.Exercise, fset *token.FileSet, files []*ast.File) (*types.Info, []error, error) {
	trusted, err := trustedFiles(repo, ex, fset)
	if err != nil {
		return nil, nil, err
	}
	imp, err := importerFor(ctx, repo, ex, fset, trusted)
	if err != nil {
		return nil, nil, err
	}
	var typeErrs []error
	conf := types.Config{
		Importer: imp,
		Sizes:    types.SizesFor("gc", runtime.GOARCH),
		// Keep going past the first error, to look at all that does
		// type-check.
		Error: func(err error) { typeErrs = append(typeErrs, err) },
	}
	info := &types.Info{
		Types: map[ast.Expr]types.TypeAndValue{},
		Uses:  map[*ast.Ident]types.Object{},
	}
	conf.Check(path.Join(course.ModulePath, ex.Dir), fset, append(slices.Clone(files), trusted...), info) // the errors are in typeErrs
	return info, typeErrs, nil
}

// spelled returns how a reference to a package-level object reads in the
// source ("sc.Exit"), what it means when that reads differently
// (" (sc.Exit is syscall.Exit)"), and where the reference starts.
func spelled(info *types.Info, id *ast.Ident, sel *ast.SelectorExpr) (name, aka string, pos token.Pos) {
	obj := info.Uses[id]
	name, pos = id.Name, id.Pos()
	if sel != nil {
		if x, ok := sel.X.(*ast.Ident); ok {
			if _, ok := info.Uses[x].(*types.PkgName); ok {
				name, pos = x.Name+"."+id.Name, sel.Pos()
			}
		}
	}
	meaning := obj.Pkg().Name() + "." + obj.Name()
	if name == meaning {
		return name, "", pos
	}
	if obj.Pkg().Path() != obj.Pkg().Name() {
		meaning = obj.Pkg().Path() + "." + obj.Name()
	}
	return name, " (" + name + " is " + meaning + ")", pos
}

// trustedFiles parses the exercise's own files that are compiled with the
// submission into one package: the non-editable files of its directory,
// its visible tests and its hidden tests (those of the package itself,
// not of an external _test package), as the go command would select them
// on Linux.
func trustedFiles(repo *course.Repo, ex *course.Exercise, fset *token.FileSet) ([]*ast.File, error) {
	var files []*ast.File
	for _, dir := range []string{filepath.FromSlash(ex.Dir), filepath.Join(filepath.FromSlash(course.HiddenDir), ex.ID)} {
		abs := repo.Path(dir)
		entries, err := os.ReadDir(abs)
		if errors.Is(err, fs.ErrNotExist) && dir != filepath.FromSlash(ex.Dir) {
			continue // no hidden tests
		}
		if err != nil {
			return nil, fmt.Errorf("the course's %s: %w", filepath.ToSlash(dir), err)
		}
		bctx := build.Default
		bctx.GOOS = "linux"
		for _, ent := range entries {
			name := ent.Name()
			if !ent.Type().IsRegular() || !strings.HasSuffix(name, ".go") || slices.Contains(ex.Editable, name) {
				continue
			}
			if match, err := bctx.MatchFile(abs, name); err != nil || !match {
				continue
			}
			data, err := os.ReadFile(filepath.Join(abs, name))
			if err != nil {
				return nil, fmt.Errorf("the course's %s: %w", path.Join(filepath.ToSlash(dir), name), err)
			}
			// Named as the build lays it: every file in the exercise's
			// directory.
			f, err := parser.ParseFile(fset, path.Join(ex.Dir, name), data, parser.SkipObjectResolution)
			if err != nil {
				return nil, fmt.Errorf("the course's own file does not parse: %w", err)
			}
			if f.Name.Name != ex.ID {
				continue // an external test package
			}
			files = append(files, f)
		}
	}
	return files, nil
}
