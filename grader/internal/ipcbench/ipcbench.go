// Package ipcbench measures the course's ways for processes to talk on the
// machine at hand: how many messages per second each carries, how many
// megabytes per second, and how long a one-byte round trip takes. The
// lecture says that shared memory is fast; `go run ./grader bench` shows
// by how much, next to an anonymous pipe, a FIFO, a Unix-domain socket,
// TCP and UDP on loopback, and it sets the exercises' own code beside what
// Go gives: the RPC exercise beside net/rpc, the bounded buffer beside a
// buffered channel.
//
// The measuring code is Go benchmarks (harness/*.go.txt), laid into the
// shm, buffer and rpc exercise packages on top of the reference solutions
// (or, with Student, the student's working copy) and built without the
// race detector, which would measure itself. Each binary runs its
// benchmarks with -test.bench; this package reads their output, adds a
// `dd bs=64k | dd bs=64k` pipeline as the system's own pipe throughput,
// and checks the reference system's targets.
package ipcbench

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ipclab/ipclab/grader/internal/build"
	"github.com/ipclab/ipclab/grader/internal/course"
	"github.com/ipclab/ipclab/grader/internal/submission"
)

//go:embed harness/*.go.txt
var harness embed.FS

// benchFile is the name the harness gets in the exercise's package: a
// _test.go name, which no manifest can mark editable.
const benchFile = "zz_ipclab_bench_test.go"

// Exercises are the exercises whose packages carry benchmarks.
var Exercises = []string{"shm", "buffer", "rpc"}

// Options say what to measure.
type Options struct {
	// Student measures the working copy's editable files (the student's
	// code) instead of the reference solutions.
	Student bool
	// BenchTime is go test's -test.benchtime ("1s" when empty).
	BenchTime string
	// Progress, when set, gets a line as each exercise is measured.
	Progress io.Writer
	// NoDD leaves out the dd pipeline (a machine without dd).
	NoDD bool
}

// A Measure is one benchmark's figures; zero when not reported.
type Measure struct {
	// Name is the benchmark's name without "Benchmark" and the -N
	// suffix: "Throughput/shm/64", "RoundTrip/pipe", "Calls/net-rpc".
	Name     string
	NsPerOp  float64
	MsgsPerS float64
	MBPerS   float64
	CallsPer float64
}

// Results are every measure, by name, and the dd pipeline's MB/s.
type Results struct {
	Measures map[string]Measure
	// DDMBPerS is `dd bs=64k | dd bs=64k`'s throughput; 0 when not
	// measured.
	DDMBPerS float64
	// Code says whose code was measured: "reference" or "student".
	Code string
}

// Run builds and runs the benchmarks.
func Run(ctx context.Context, repo *course.Repo, opts Options) (*Results, error) {
	res := &Results{Measures: map[string]Measure{}, Code: "reference"}
	if opts.Student {
		res.Code = "student"
	}
	if opts.BenchTime == "" {
		opts.BenchTime = "1s"
	}
	for _, id := range Exercises {
		ex, err := repo.Exercise(id)
		if err != nil {
			return nil, err
		}
		out, err := runExercise(ctx, repo, ex, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		ms, err := Parse(bytes.NewReader(out))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		for _, m := range ms {
			res.Measures[m.Name] = m
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "bench: %s measured (%d benchmarks)\n", id, len(ms))
		}
	}
	if !opts.NoDD {
		mbps, err := ddPipe(ctx)
		if err != nil {
			return nil, fmt.Errorf("dd pipeline: %w (pass -no-dd on a machine without dd)", err)
		}
		res.DDMBPerS = mbps
	}
	return res, nil
}

// runExercise builds ex's package with the code measured and the harness,
// and runs its benchmarks.
func runExercise(ctx context.Context, repo *course.Repo, ex *course.Exercise, opts Options) ([]byte, error) {
	var code []submission.File
	if opts.Student {
		col, err := submission.Collect(repo.Root, repo.Root, ex)
		if err != nil {
			return nil, err
		}
		if len(col.Problems) > 0 {
			return nil, fmt.Errorf("the working copy does not pass the static checks: %v", col.Problems[0])
		}
		code = col.Files
	} else {
		sol, err := submission.ReadDir(repo.Path(course.SolutionsDir, ex.ID), ex)
		if err != nil {
			return nil, err
		}
		code = sol
	}
	src, err := harness.ReadFile("harness/" + ex.ID + ".go.txt")
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "ipclab-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bin, err := build.Build(ctx, build.Request{Repo: repo, Exercise: ex,
		Layers: [][]submission.File{code, {{Name: benchFile, Data: src}}}}, work)
	if err != nil {
		return nil, err
	}
	// A wrong student ring can lose a message, and a benchmark then waits
	// for ever: the timeout ends it with every goroutine's stack.
	cmd := exec.CommandContext(ctx, bin.Path, "-test.run=^$", "-test.bench=.", "-test.benchtime="+opts.BenchTime, "-test.count=1", "-test.timeout=10m")
	cmd.Dir = bin.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("the benchmarks failed (%v): is the code complete, and does it pass its tests? (a benchmark stopped after 10 minutes waits for a message that never came)\n%s", err, firstLines(string(out)+stderr.String(), 15))
	}
	return out, nil
}

// firstLines is the first n lines of s, indented.
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return "    " + strings.Join(lines, "\n    ")
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// Parse reads the output of a test binary's benchmarks: the lines
// "BenchmarkName-N  iterations  value unit  value unit ...".
func Parse(r io.Reader) ([]Measure, error) {
	var ms []Measure
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		meas := Measure{Name: m[1]}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: value %q: %v", meas.Name, f[i], err)
			}
			switch f[i+1] {
			case "ns/op":
				meas.NsPerOp = v
			case "msgs/s":
				meas.MsgsPerS = v
			case "MB/s":
				meas.MBPerS = v
			case "calls/s":
				meas.CallsPer = v
			}
		}
		ms = append(ms, meas)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no benchmark results in the output")
	}
	return ms, nil
}

// ddBytes is how much the dd pipeline copies: 1 GiB in 64 KiB blocks.
const ddBlocks = 16384

// ddPipe times `dd if=/dev/zero bs=64k | dd of=/dev/null bs=64k` and
// returns its MB/s.
func ddPipe(ctx context.Context) (float64, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", fmt.Sprintf("dd if=/dev/zero bs=65536 count=%d 2>/dev/null | dd of=/dev/null bs=65536 2>/dev/null", ddBlocks))
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	return float64(ddBlocks) * 65536 / time.Since(start).Seconds() / 1e6, nil
}
