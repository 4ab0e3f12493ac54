//go:build unix

// Mutant input-error-keeps-write-end: the reference solution with one mistake.
//
// feed closes the child's stdin only when in reaches end-of-file. When
// reading in fails it returns with the write end still open, so the child
// never sees end-of-file and the call never returns.

package pipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
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
	if err := ctx.Err(); err != nil {
		return err
	}
	// The child reads its input from stdinR; we write into stdinW.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	// The child writes its output into stdoutW; we read from stdoutR.
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return err
	}
	cmd.Stdin, cmd.Stdout = stdinR, stdoutW
	err = cmd.Start()
	// The child has its own copies of its two ends now (or never will).
	// Ours must go: while we hold stdoutW, reading stdoutR never reaches
	// end-of-file; while we hold stdinR, writing to a child that has
	// gone blocks instead of failing.
	stdinR.Close()
	stdoutW.Close()
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		return err
	}

	// When ctx is done, kill the child: its ends of the pipes close, our
	// reads reach end-of-file, and Wait below returns.
	killed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(killed)
		cmd.Process.Kill()
	})

	// Feed the child on another goroutine while this one drains its
	// output: doing one after the other deadlocks as soon as both pipes
	// are full.
	fed := make(chan error, 1)
	go func() { fed <- feed(stdinW, in) }()
	_, outErr := io.Copy(out, stdoutR)
	// Closing our read end also tells the child, if it is still writing
	// because out failed, that nobody reads any more (a broken pipe).
	stdoutR.Close()
	waitErr := cmd.Wait()
	inErr := <-fed

	if !stop() {
		// The kill ran, or is running: ctx was done first. Let it
		// finish, so that nothing of this call outlives it.
		<-killed
		return ctx.Err()
	}
	switch {
	case outErr != nil:
		return fmt.Errorf("pipe: writing the output: %w", outErr)
	case waitErr != nil:
		return waitErr
	}
	return inErr
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
	if len(cmds) == 0 {
		return ErrNoCommands
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// next is the read end that the next stage gets as its stdin; at
	// first, that of the pipe we feed in to.
	next, feedW, err := os.Pipe()
	if err != nil {
		return err
	}
	started := 0
	var startErr error
	for i, cmd := range cmds {
		r, w, err := os.Pipe()
		if err != nil {
			next.Close()
			startErr = err
			break
		}
		cmd.Stdin, cmd.Stdout = next, w
		err = cmd.Start()
		// Stage i holds these two ends now; our copies would keep
		// stage i+1 (or us) from ever seeing end-of-file on r, and
		// the previous stage from ever seeing a broken pipe.
		next.Close()
		w.Close()
		next = r
		if err != nil {
			next.Close()
			startErr = &StageError{Index: i, Cmd: cmd, Err: err}
			break
		}
		started++
	}
	if startErr != nil {
		feedW.Close()
		for _, cmd := range cmds[:started] {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return startErr
	}
	// next is now the read end of the last stage's stdout.
	lastR := next

	killed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(killed)
		for _, cmd := range cmds {
			cmd.Process.Kill()
		}
	})

	fed := make(chan error, 1)
	go func() { fed <- feed(feedW, in) }()
	_, outErr := io.Copy(out, lastR)
	lastR.Close()
	var stageErr error
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			// Later failures replace earlier ones: the stage nearest
			// the end is the one to report.
			stageErr = &StageError{Index: i, Cmd: cmd, Err: err}
		}
	}
	inErr := <-fed

	if !stop() {
		<-killed
		return ctx.Err()
	}
	switch {
	case outErr != nil:
		return fmt.Errorf("pipe: writing the output: %w", outErr)
	case stageErr != nil:
		return stageErr
	}
	return inErr
}

// feed copies in to w, the write end of a child's stdin, and closes w,
// which is how the child learns that the input has ended.
//
// A write that fails means that the child has stopped reading (it exited,
// or closed its stdin); that is not an error of its own, the child's exit
// status tells whether something went wrong. feed then stops reading in.
func feed(w *os.File, in io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				w.Close()
				return nil
			}
		}
		if err == io.EOF {
			w.Close()
			return nil
		}
		if err != nil {
			return fmt.Errorf("pipe: reading the input: %w", err) // BUG: w stays open
		}
	}
}
