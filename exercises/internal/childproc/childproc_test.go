//go:build unix

package childproc

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
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
	if err != nil || string(out) != "a b c" {
		t.Errorf("echo-args a \"b c\" = %q, %v; want \"a b c\", nil", out, err)
	}
	cmd := Command(t, "upper")
	cmd.Stdin = strings.NewReader("pipe")
	if out, err := cmd.Output(); err != nil || string(out) != "PIPE" {
		t.Errorf("upper <<< pipe = %q, %v; want PIPE", out, err)
	}
	err = Command(t, "exit3").Run()
	if cmd, ok := err.(interface{ ExitCode() int }); !ok || cmd.ExitCode() != 3 {
		t.Errorf("exit3: %v, want exit status 3", err)
	}
}

func TestChildrenAndZombies(t *testing.T) {
	cmd := Command(t, "exit3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Not waited for yet: once it exits it is a zombie, and listed.
	var found Child
	for i := 0; i < 500 && !found.Zombie; i++ {
		kids, err := Children()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if k.PID == cmd.Process.Pid {
				found = k
			}
		}
		if !found.Zombie {
			waitABit()
		}
	}
	if found.PID != cmd.Process.Pid || !found.Zombie {
		t.Errorf("Children() did not show child %d as a zombie before it was waited for (found %+v)", cmd.Process.Pid, found)
	}
	cmd.Wait()
	kids, _ := Children()
	for _, k := range kids {
		if k.PID == cmd.Process.Pid {
			t.Errorf("Children() still lists %v after Wait", k)
		}
	}
}

func TestLeakedFDs(t *testing.T) {
	before, err := OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	leaked, _ := LeakedFDs(before)
	if len(leaked) != 2 {
		t.Errorf("LeakedFDs after os.Pipe = %v, want the two ends", leaked)
	}
	r.Close()
	w.Close()
	if leaked, _ := LeakedFDs(before); len(leaked) != 0 {
		t.Errorf("LeakedFDs after closing both ends = %v, want none", leaked)
	}
}

func TestLinesWaitsForWholeLines(t *testing.T) {
	w := NewLines()
	lines, grew := w.Snapshot()
	if len(lines) != 0 {
		t.Fatalf("a new Lines holds %q, want nothing", lines)
	}
	w.Write([]byte("hel"))
	select {
	case <-grew:
		t.Fatalf("the channel closed on half a line")
	default:
	}
	w.Write([]byte("lo\nwor"))
	select {
	case <-grew:
	default:
		t.Fatalf("the channel did not close when a line was completed")
	}
	lines, grew = w.Snapshot()
	if strings.Join(lines, "|") != "hello" {
		t.Fatalf("Snapshot() = %q, want [hello]", lines)
	}
	w.Write([]byte("ld\nagain\n"))
	<-grew
	if lines, _ := w.Snapshot(); strings.Join(lines, "|") != "hello|world|again" {
		t.Fatalf("Snapshot() = %q, want [hello world again]", lines)
	}
}

func TestLinesFromAChild(t *testing.T) {
	out := NewLines()
	cmd := Command(t, "echo-args", "one\ntwo\n")
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		t.Fatalf("echo-args: %v", err)
	}
	if lines, _ := out.Snapshot(); strings.Join(lines, "|") != "one|two" {
		t.Errorf("the child's output as lines = %q, want [one two]", lines)
	}
}

func TestChildDoesNotLingerUnderRace(t *testing.T) {
	out, err := Command(t, "print-gorace").Output()
	if err != nil {
		t.Fatalf("print-gorace: %v", err)
	}
	if want := "atexit_sleep_ms"; os.Getenv("GORACE") == "" && string(out) != "atexit_sleep_ms=0" || !strings.Contains(string(out), want) {
		t.Errorf("the child's GORACE is %q, want it to set atexit_sleep_ms (to 0 unless the parent's GORACE sets it)", out)
	}
}
