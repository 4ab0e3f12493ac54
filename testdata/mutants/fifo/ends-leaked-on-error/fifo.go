//go:build unix

// MUTANT ends-leaked-on-error: the reference solution with one mistake.
//
// Request closes its reply FIFO's two ends only once everything is open:
// the defers come after the open of the server's FIFO. When that open
// fails (no server at the path, or nobody reading it), Request returns
// with both ends of its reply FIFO still open.

package fifo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// MaxRequest is the largest request, header included, that a client may
// send: 512 bytes, the smallest PIPE_BUF that POSIX allows. A write of at
// most PIPE_BUF bytes into a pipe or FIFO is atomic: its bytes are never
// mixed with those of another writer, so requests from many clients
// arrive whole, one after the other.
const MaxRequest = 512

// ReplyTimeout bounds how long the server waits for one client: to find
// the client's reply FIFO open for reading, and to get the whole reply
// into it. A client that is not there by then is given up on, and the
// server goes on with the next request.
const ReplyTimeout = time.Second

var (
	// ErrExists is returned (wrapped) by Listen when something already
	// exists at the server's path. Listen leaves it alone.
	ErrExists = errors.New("fifo: path already exists")
	// ErrTooLarge is returned (wrapped) by Request when the request,
	// header included, would be larger than MaxRequest. Nothing has been
	// written to the server then.
	ErrTooLarge = errors.New("fifo: request larger than MaxRequest")
)

// A Server answers the requests that clients write into its well-known
// FIFO. Make one with [Listen]; the zero value is not usable.
type Server struct {
	path string
	r    *os.File // the read end, where requests arrive
	w    *os.File // a write end of our own: without it, reads report EOF whenever no client is connected

	mu     sync.Mutex
	closed bool
}

// openNonblock opens a FIFO with O_NONBLOCK and wraps the descriptor in an
// *os.File. A non-blocking descriptor is waited on in Go's poller, so Read
// and Write block only the goroutine and honour deadlines. (os.OpenFile
// would leave a FIFO out of the poller on macOS.)
func openNonblock(path string, mode int) (*os.File, error) {
	fd, err := syscall.Open(path, mode|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Listen creates a FIFO at path (mode 0600) and opens it so that clients
// can connect at once, before Serve is even called. It does not wait for
// a client. It fails with an error wrapping ErrExists when something
// already exists at path, and leaves that file as it was.
func Listen(path string) (*Server, error) {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			return nil, fmt.Errorf("fifo: listen %s: %w", path, ErrExists)
		}
		return nil, fmt.Errorf("fifo: listen %s: %w", path, err)
	}
	// Opening for reading with O_NONBLOCK returns at once even though no
	// writer exists yet; opening for writing then finds our own reader.
	r, err := openNonblock(path, syscall.O_RDONLY)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("fifo: listen: %w", err)
	}
	w, err := openNonblock(path, syscall.O_WRONLY)
	if err != nil {
		r.Close()
		os.Remove(path)
		return nil, fmt.Errorf("fifo: listen: %w", err)
	}
	return &Server{path: path, r: r, w: w}, nil
}

// Serve reads requests from the FIFO and answers each one with
// handle(payload), written into the reply FIFO the request names, until
// ctx is done; it then returns ctx.Err(). Serve keeps serving when
// clients come and go: no client connected is not the end of the service,
// and the server must not spin while it waits for one. A client that does
// not take its reply within ReplyTimeout is skipped. Call Serve once.
func (s *Server) Serve(ctx context.Context, handle func(req []byte) []byte) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("fifo: serve %s: %w", s.path, os.ErrClosed)
	}

	// Wake the blocked Read when ctx is done: a deadline in the past makes
	// it return at once.
	done := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		select {
		case <-ctx.Done():
			s.r.SetReadDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	defer func() {
		close(done)
		watcher.Wait()
		s.r.SetReadDeadline(time.Time{})
	}()

	in := bufio.NewReader(s.r)
	for {
		replyPath, req, err := readRequest(in)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, errMalformed) {
				continue // a stray write; the next request starts afresh
			}
			return fmt.Errorf("fifo: serve %s: %w", s.path, err)
		}
		// A client that is gone costs at most ReplyTimeout, and the
		// server carries on with the next request whatever happened.
		_ = deliver(ctx, replyPath, handle(req))
	}
}

var errMalformed = errors.New("malformed request")

// readRequest reads one request: the reply path on a line, the payload's
// length in decimal on a line, and the payload.
func readRequest(in *bufio.Reader) (replyPath string, payload []byte, err error) {
	line, err := in.ReadString('\n')
	if err != nil {
		return "", nil, err
	}
	replyPath = line[:len(line)-1]
	line, err = in.ReadString('\n')
	if err != nil {
		return "", nil, err
	}
	n, err := strconv.Atoi(line[:len(line)-1])
	if err != nil || n < 0 || n > MaxRequest || replyPath == "" {
		return "", nil, errMalformed
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(in, payload); err != nil {
		return "", nil, err
	}
	return replyPath, payload, nil
}

// deliver writes the reply into the client's reply FIFO, waiting at most
// ReplyTimeout for the client.
func deliver(ctx context.Context, replyPath string, reply []byte) error {
	deadline := time.Now().Add(ReplyTimeout)
	var f *os.File
	for {
		var err error
		// Without O_NONBLOCK, open would wait for ever for a reader that
		// is never coming. With it, ENXIO says "no reader yet".
		f, err = openNonblock(replyPath, syscall.O_WRONLY)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.ENXIO) || time.Now().After(deadline) {
			return err
		}
		retry := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			retry.Stop()
			return ctx.Err()
		case <-retry.C:
		}
	}
	defer f.Close()
	// Only ever write into a FIFO: a request may name any file.
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return fmt.Errorf("fifo: reply path %s is not a FIFO", replyPath)
	}
	// A client that stops reading must not hold the server for ever.
	f.SetWriteDeadline(deadline)
	_, err := f.Write(frame(nil, reply))
	return err
}

// frame appends the payload's length on a line, then the payload, to b.
func frame(b, payload []byte) []byte {
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, '\n')
	return append(b, payload...)
}

// Close closes the server's ends of the FIFO and removes the FIFO from
// disk. Call it once Serve has returned. Closing a closed server does
// nothing and returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	errR := s.r.Close()
	errW := s.w.Close()
	errRm := os.Remove(s.path)
	return errors.Join(errR, errW, errRm)
}

// Request sends req to the server whose FIFO is at serverPath and returns
// the reply. It makes its own reply FIFO under os.TempDir(), opens it for
// reading, writes the whole request in one write, reads the reply, and
// removes everything it made before it returns, whatever happens.
//
// Request fails with an error wrapping ErrTooLarge, without writing
// anything, when the request, header included, would be larger than
// MaxRequest. It fails at once when no server listens at serverPath, and
// returns ctx.Err() (wrapped) when ctx is done before the reply is in.
// Request may be called from many goroutines at once.
func Request(ctx context.Context, serverPath string, req []byte) (reply []byte, err error) {
	dir, err := os.MkdirTemp("", "fifo-")
	if err != nil {
		return nil, fmt.Errorf("fifo: request: %w", err)
	}
	defer os.RemoveAll(dir) // the reply FIFO with it, whatever happens below
	replyPath := filepath.Join(dir, "reply")

	msg := append([]byte(replyPath+"\n"), frame(nil, req)...)
	if len(msg) > MaxRequest {
		return nil, fmt.Errorf("fifo: request of %d bytes, header included: %w (the limit is %d)", len(msg), ErrTooLarge, MaxRequest)
	}

	if err := syscall.Mkfifo(replyPath, 0o600); err != nil {
		return nil, fmt.Errorf("fifo: request: mkfifo %s: %w", replyPath, err)
	}
	// Our reply FIFO is open for reading before the request leaves, so the
	// server finds a reader at once; and we hold a write end too, so that
	// reading waits for the reply instead of reporting EOF before the
	// server has even opened the FIFO.
	in, err := openNonblock(replyPath, syscall.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("fifo: request: %w", err)
	}
	keep, err := openNonblock(replyPath, syscall.O_WRONLY)
	if err != nil {
		return nil, fmt.Errorf("fifo: request: %w", err)
	}

	// ENXIO here means nobody has the server's FIFO open for reading.
	out, err := openNonblock(serverPath, syscall.O_WRONLY)
	if err != nil {
		// BUG: in and keep are not closed on this way out
		return nil, fmt.Errorf("fifo: request: no server at %s: %w", serverPath, err)
	}
	defer in.Close()
	defer keep.Close()
	defer out.Close()

	// Cancelling ctx interrupts whichever of the write or the read is
	// waiting.
	done := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		select {
		case <-ctx.Done():
			past := time.Unix(1, 0)
			out.SetWriteDeadline(past)
			in.SetReadDeadline(past)
		case <-done:
		}
	}()
	defer func() {
		close(done)
		watcher.Wait()
	}()
	fail := func(err error) ([]byte, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("fifo: request to %s: %w", serverPath, err)
	}

	// One write of at most MaxRequest bytes: the kernel keeps it whole.
	if _, err := out.Write(msg); err != nil {
		return fail(err)
	}
	r := bufio.NewReader(in)
	line, err := r.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	n, err := strconv.Atoi(line[:len(line)-1])
	if err != nil || n < 0 {
		return fail(fmt.Errorf("malformed reply header %q", line))
	}
	reply = make([]byte, n)
	if _, err := io.ReadFull(r, reply); err != nil {
		return fail(err)
	}
	return reply, nil
}
