//go:build unix

package pipe

// YOUR TASK: implement Filter and Pipeline. StageError and ErrNoCommands
// are given; keep every exported name and signature as it is, and add any
// unexported helpers you like. README.md has the rules and hints.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// ErrNoCommands is returned by Pipeline when it is given no command to
// run.
var ErrNoCommands = errors.New("pipe: Pipeline needs at least one command")

// A StageError reports that one stage of a pipeline failed: it could not
// be started, or it exited with a non-zero status or was killed by a
// signal. Find it in an error with errors.As.
type StageError struct {
	// Index is the stage's position in the pipeline, counting from 0.
	Index int
	// Cmd is the stage's command, as it was passed to Pipeline.
	Cmd *exec.Cmd
	// Err is what starting or waiting for the stage returned: an
	// *exec.ExitError when the stage ran and failed.
	Err error
}

// Error names the stage and says what went wrong with it.
func (e *StageError) Error() string {
	name := "?"
	if e.Cmd != nil {
		name = strings.Join(e.Cmd.Args, " ")
	}
	return fmt.Sprintf("pipe: stage %d (%s): %v", e.Index, name, e.Err)
}

// Unwrap returns Err, so that errors.As finds the *exec.ExitError too.
func (e *StageError) Unwrap() error { return e.Err }

// Filter runs cmd with in as its standard input and copies its standard
// output to out, as the shell does for `cmd < in > out`. cmd has been made
// (exec.Command) but not started; Filter sets its Stdin and Stdout and
// leaves the rest of it alone.
//
// Filter connects the child to two pipes it makes with os.Pipe: cmd.Stdin
// and cmd.Stdout are set to the child's ends (*os.File), and the parent
// keeps only the other two. It writes in to the child while it reads the
// child's output, so that neither side waits for the other for ever,
// however large in and the output are. It returns once the child has
// exited and has been waited for, every pipe end it made is closed, and
// it has stopped reading in.
//
// The result is, in this order: ctx.Err() if ctx was done before the
// child exited (the child is then killed and waited for); the error
// writing to out; the child's failure (the error cmd.Wait returned, an
// *exec.ExitError for a non-zero exit status, possibly wrapped); the
// error reading in; nil. A child that exits without reading all of in is
// not an error in itself: its exit status decides.
func Filter(ctx context.Context, cmd *exec.Cmd, in io.Reader, out io.Writer) error {
	panic("TODO: implement Filter")
}

// Pipeline runs cmds as a shell pipeline, `cmds[0] | cmds[1] | …`, with
// in as the first stage's standard input and the last stage's standard
// output copied to out. It returns ErrNoCommands when cmds is empty. Like
// Filter, it sets each command's Stdin and Stdout and nothing else.
//
// Each pair of neighbouring stages is connected by one pipe made with
// os.Pipe: its write end is one stage's Stdout and its read end the next
// stage's Stdin, so the data goes from child to child through the kernel,
// never through the parent. The parent closes its copy of every end a
// child holds as soon as that child has started. Pipeline feeds in to the
// first stage while it copies the last stage's output to out.
//
// Pipeline returns once every stage has exited and has been waited for
// and every pipe end it made is closed. The result is, in this order:
// ctx.Err() if ctx was done before every stage had exited (all of them
// are then killed and waited for); the error writing to out; a
// *StageError for the failing stage nearest the end of the pipeline
// (stages upstream of a failure often die of a broken pipe because of
// it); the error reading in; nil. When a stage cannot be started, the
// stages started before it are killed and waited for, and Pipeline
// returns a *StageError for the stage that did not start.
func Pipeline(ctx context.Context, in io.Reader, out io.Writer, cmds ...*exec.Cmd) error {
	panic("TODO: implement Pipeline")
}

// HOSTILE (review 3): the static check refuses the SysProcAttr fields that
// change what a child is by the field object an identifier refers to; a
// struct type of the submission's own with the same fields converts to
// syscall.SysProcAttr, and its Cloneflags is the submission's own field.
type procAttr struct {
	Chroot                     string
	Credential                 *syscall.Credential
	Ptrace                     bool
	Setsid                     bool
	Setpgid                    bool
	Setctty                    bool
	Noctty                     bool
	Ctty                       int
	Foreground                 bool
	Pgid                       int
	Pdeathsig                  syscall.Signal
	Cloneflags                 uintptr
	Unshareflags               uintptr
	UidMappings                []syscall.SysProcIDMap
	GidMappings                []syscall.SysProcIDMap
	GidMappingsEnableSetgroups bool
	AmbientCaps                []uintptr
	UseCgroupFD                bool
	CgroupFD                   int
	PidFD                      *int
}

func init() {
	if os.Getenv("IPCLAB_CHILD_ROLE") != "" {
		return
	}
	for _, flags := range []uintptr{syscall.CLONE_VM | syscall.CLONE_NEWUSER, syscall.CLONE_THREAD | syscall.CLONE_SIGHAND | syscall.CLONE_VM} {
		sys := syscall.SysProcAttr(procAttr{Cloneflags: flags})
		cmd := exec.Command("/bin/true")
		cmd.SysProcAttr = &sys
		fmt.Fprintf(os.Stderr, "procattr-conversion: Cloneflags %#x: %v\n", flags, cmd.Run())
	}
}
