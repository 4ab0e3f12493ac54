package ipcbench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclab/ipclab/grader/internal/course"
)

// testdata/shm-bench.txt is the shm binary's output, cut down.
func TestParse(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "shm-bench.txt"))
	require.NoError(t, err)
	defer f.Close()
	ms, err := Parse(f)
	require.NoError(t, err)
	require.Len(t, ms, 5)
	assert.Equal(t, Measure{Name: "Throughput/shm/64", NsPerOp: 281.2, MBPerS: 227.56, MsgsPerS: 3555624}, ms[0])
	assert.Equal(t, Measure{Name: "RoundTrip/pipe", NsPerOp: 62500}, ms[4])

	_, err = Parse(strings.NewReader("PASS\n"))
	assert.Error(t, err, "an output without results")
	_, err = Parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n"))
	assert.Error(t, err, "a value that is no number")
}

// The targets are ratios of the right measures, each way round.
func TestTargets(t *testing.T) {
	r := &Results{Code: "reference", DDMBPerS: 2000, Measures: map[string]Measure{
		"Throughput/shm/64":     {MsgsPerS: 10e6},
		"Throughput/pipe/64":    {MsgsPerS: 0.5e6},
		"RoundTrip/shm":         {NsPerOp: 2000},
		"RoundTrip/pipe":        {NsPerOp: 50000},
		"Throughput/pipe/65536": {MBPerS: 1000},
		"Calls/exercise":        {CallsPer: 30000},
		"Calls/net-rpc":         {CallsPer: 40000},
		"HandOff/monitor":       {MsgsPerS: 3e6},
		// no channel
	}}
	ts := r.Targets()
	require.Len(t, ts, 5)
	for i, want := range []struct {
		got float64
		met bool
	}{{20, true}, {0.04, true}, {0.5, false}, {0.75, false}, {0, false}} {
		assert.InDelta(t, want.got, ts[i].Got, 1e-9, ts[i].What)
		assert.Equal(t, want.met, ts[i].Met(), ts[i].What)
	}
	assert.Equal(t, "not measured", ts[4].Missing)

	var buf bytes.Buffer
	require.NoError(t, r.Table(&buf))
	out := buf.String()
	for _, want := range []string{
		"ok   shm ring at 64 B, messages/s, against the pipe's: 20x (want >= 10x)",
		"ok   shm round trip against the pipe's: 0.04x (want <= 0.05x)",
		"MISS pipe at 64 KiB, MB/s, against dd bs=64k | dd bs=64k: 0.5x (want >= 0.7x)",
		"MISS buffer monitor against a buffered channel (1 producer, 1 consumer): not measured (want >= 0.5x)",
	} {
		assert.Contains(t, out, want)
	}
}

// The whole bench on the reference solutions, each benchmark run once:
// every mechanism is measured, and the chart is drawn.
func TestBenchReference(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three exercises; skipped with -short")
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("the IPC benchmarks need a Unix kernel")
	}
	repo, err := course.Open(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	res, err := Run(context.Background(), repo, Options{BenchTime: "100x"})
	require.NoError(t, err)
	for _, m := range Mechanisms {
		for _, name := range []string{"Throughput/" + m.Key + "/64", "Throughput/" + m.Key + "/65536", "RoundTrip/" + m.Key} {
			assert.Greater(t, res.Measures[name].NsPerOp, 0.0, name)
		}
	}
	for _, name := range []string{"Calls/exercise", "Calls/net-rpc", "HandOff/monitor", "HandOff/channel"} {
		assert.Greater(t, res.Measures[name].NsPerOp, 0.0, name)
	}
	assert.Greater(t, res.DDMBPerS, 0.0, "dd")
	for _, tgt := range res.Targets() {
		assert.Empty(t, tgt.Missing, tgt.What)
	}
	for _, ext := range []string{".svg", ".png"} {
		file := filepath.Join(t.TempDir(), "chart"+ext)
		require.NoError(t, res.Chart(file, "test"))
		st, err := os.Stat(file)
		require.NoError(t, err)
		assert.Greater(t, st.Size(), int64(1000), file)
	}
}
