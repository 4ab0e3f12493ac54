package submission

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/gocmd"
)

// alwaysImportable are the packages whose functions the forbidden table
// names. The type checker can always load them, so that a forbidden call
// is named even where its package is not on the allow-list (which is a
// problem of its own).
var alwaysImportable = []string{"os", "syscall", "golang.org/x/sys/unix"}

// exportKey identifies one set of export data: the course checkout whose
// exercises module resolves the imports, and the imports, sorted and
// joined.
type exportKey struct{ root, imports string }

// exportCache keeps the export data files of each set of imports for the
// life of the process: the go command takes a fraction of a second to
// list them with a warm build cache, and a class's worth of submissions
// asks for the same few sets over and over.
var exportCache struct {
	sync.Mutex
	m map[exportKey]*exportEntry
}

type exportEntry struct {
	mu    sync.Mutex
	files map[string]string // import path to export data file; nil until listed
}

// importerFor returns a types.Importer for the packages ex may import (and
// alwaysImportable), and those the exercise's own trusted files import
// (its tests are type-checked with the submission), reading export data
// that the go command compiles in the course's exercises module, offline.
// A submission may still import only what its manifest allows: Check says
// so on its own. An error is the grader's own failure: the toolchain or
// the module cache is not as the course needs.
func importerFor(ctx context.Context, repo *course.Repo, ex *course.Exercise, fset *token.FileSet, trusted []*ast.File) (types.Importer, error) {
	var extra []string
	for _, f := range trusted {
		for _, imp := range f.Imports {
			if p, err := strconv.Unquote(imp.Path.Value); err == nil {
				extra = append(extra, p)
			}
		}
	}
	files, err := exportFiles(ctx, repo, ex, extra)
	if err != nil {
		return nil, err
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := files[path]
		if !ok || f == "" {
			// Not on the allow-list: a problem Check reports on its own.
			return nil, fmt.Errorf("package %s is not available to this exercise", path)
		}
		return os.Open(f)
	}), nil
}

func exportFiles(ctx context.Context, repo *course.Repo, ex *course.Exercise, extra []string) (map[string]string, error) {
	var imports []string
	for _, p := range append(append(slices.Clone(ex.Imports), alwaysImportable...), extra...) {
		if p != "unsafe" && p != "C" {
			imports = append(imports, p)
		}
	}
	slices.Sort(imports)
	imports = slices.Compact(imports)
	key := exportKey{repo.Root, strings.Join(imports, " ")}

	exportCache.Lock()
	if exportCache.m == nil {
		exportCache.m = map[exportKey]*exportEntry{}
	}
	e := exportCache.m[key]
	if e == nil {
		e = &exportEntry{}
		exportCache.m[key] = e
	}
	exportCache.Unlock()

	// One listing per key at a time; a failed one (a cancelled context,
	// say) is not remembered, so the next caller tries again.
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.files != nil {
		return e.files, nil
	}
	files, err := listExports(ctx, repo.Path(course.ExercisesDir), imports)
	if err != nil {
		return nil, err
	}
	e.files = files
	return files, nil
}

// listExports runs go list -export in the exercises module dir and
// returns the export data file of every package imports need.
func listExports(ctx context.Context, dir string, imports []string) (map[string]string, error) {
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, imports...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = gocmd.OfflineEnv("GOOS=linux")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("list export data for the type checker (go list -export in %s): %w\n%s", dir, err, bytes.TrimSpace(stderr.Bytes()))
	}
	files := map[string]string{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		path, file, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return nil, fmt.Errorf("go list -export: unexpected line %q", sc.Text())
		}
		files[path] = file
	}
	for _, p := range imports {
		if files[p] == "" {
			return nil, fmt.Errorf("go list -export in %s: no export data for %s", dir, p)
		}
	}
	return files, nil
}
