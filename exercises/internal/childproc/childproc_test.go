//go:build unix

package childproc

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	Register("echo-args", func(args []string) int {
		os.Stdout.WriteString(strings.Join(args, " "))
		return 0
	})
	Register("print-gorace", func(args []string) int {
		os.Stdout.WriteString(os.Getenv("GORACE"))
		return 0
	})
	Register("upper", func(args []string) int {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return 1
		}
		os.Stdout.Write(bytes.ToUpper(b))
		return 0
	})
	Register("exit3", func(args []string) int { return 3 })
}

func TestMain(m *testing.M) { Main(m) }

func TestCommandRunsARole(t *testing.T) {
	out, err := Command(t, "echo-args", "a", "b c").Output()
	if assert.NoError(t, err, "echo-args a \"b c\" = %q, %v; want \"a b c\", nil", out, err) {
		assert.Equal(t, "a b c", string(out), "echo-args a \"b c\" = %q, %v; want \"a b c\", nil", out, err)
	}
	cmd := Command(t, "upper")
	cmd.Stdin = strings.NewReader("pipe")
	out, err = cmd.Output()
	if assert.NoError(t, err, "upper <<< pipe = %q, %v; want PIPE", out, err) {
		assert.Equal(t, "PIPE", string(out), "upper <<< pipe = %q, %v; want PIPE", out, err)
	}
	err = Command(t, "exit3").Run()
	exit, ok := err.(interface{ ExitCode() int })
	if assert.True(t, ok, "exit3: %v, want exit status 3", err) {
		assert.Equal(t, 3, exit.ExitCode(), "exit3: %v, want exit status 3", err)
	}
}

func TestChildrenAndZombies(t *testing.T) {
	cmd := Command(t, "exit3")
	require.NoError(t, cmd.Start(), "cmd.Start() of exit3")
	// Not waited for yet: once it exits it is a zombie, and listed.
	var found Child
	for i := 0; i < 500 && !found.Zombie; i++ {
		kids, err := Children()
		require.NoError(t, err, "Children()")
		for _, k := range kids {
			if k.PID == cmd.Process.Pid {
				found = k
			}
		}
		if !found.Zombie {
			waitABit()
		}
	}
	if assert.Equal(t, cmd.Process.Pid, found.PID, "Children() did not show child %d as a zombie before it was waited for (found %+v)", cmd.Process.Pid, found) {
		assert.True(t, found.Zombie, "Children() did not show child %d as a zombie before it was waited for (found %+v)", cmd.Process.Pid, found)
	}
	cmd.Wait()
	kids, _ := Children()
	for _, k := range kids {
		assert.NotEqual(t, cmd.Process.Pid, k.PID, "Children() still lists %v after Wait", k)
	}
}

func TestLeakedFDs(t *testing.T) {
	before, err := OpenFDs()
	require.NoError(t, err, "OpenFDs()")
	r, w, err := os.Pipe()
	require.NoError(t, err, "os.Pipe()")
	leaked, _ := LeakedFDs(before)
	assert.Len(t, leaked, 2, "LeakedFDs after os.Pipe = %v, want the two ends", leaked)
	r.Close()
	w.Close()
	leaked, _ = LeakedFDs(before)
	assert.Empty(t, leaked, "LeakedFDs after closing both ends = %v, want none", leaked)
}

func TestLinesWaitsForWholeLines(t *testing.T) {
	// closed reports whether c is closed, without waiting.
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	w := NewLines()
	lines, grew := w.Snapshot()
	require.Empty(t, lines, "a new Lines holds %q, want nothing", lines)
	w.Write([]byte("hel"))
	require.False(t, closed(grew), "the channel closed on half a line")
	w.Write([]byte("lo\nwor"))
	require.True(t, closed(grew), "the channel did not close when a line was completed")
	lines, grew = w.Snapshot()
	require.Equal(t, "hello", strings.Join(lines, "|"), "Snapshot() = %q, want [hello]", lines)
	w.Write([]byte("ld\nagain\n"))
	<-grew
	lines, _ = w.Snapshot()
	require.Equal(t, "hello|world|again", strings.Join(lines, "|"), "Snapshot() = %q, want [hello world again]", lines)
}

func TestLinesFromAChild(t *testing.T) {
	out := NewLines()
	cmd := Command(t, "echo-args", "one\ntwo\n")
	cmd.Stdout = out
	require.NoError(t, cmd.Run(), "echo-args")
	lines, _ := out.Snapshot()
	assert.Equal(t, "one|two", strings.Join(lines, "|"), "the child's output as lines = %q, want [one two]", lines)
}

func TestChildDoesNotLingerUnderRace(t *testing.T) {
	out, err := Command(t, "print-gorace").Output()
	require.NoError(t, err, "print-gorace")
	assert.Contains(t, string(out), "atexit_sleep_ms", "the child's GORACE is %q, want it to set atexit_sleep_ms (to 0 unless the parent's GORACE sets it)", out)
	if os.Getenv("GORACE") == "" {
		assert.Equal(t, "atexit_sleep_ms=0", string(out), "the child's GORACE is %q, want it to set atexit_sleep_ms (to 0 unless the parent's GORACE sets it)", out)
	}
}
