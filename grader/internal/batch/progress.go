package batch

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// A progress tells the instructor how far a batch has come.
type progress interface {
	// done reports one submission finished (reused: its stored result
	// was still good).
	done(r *Row, reused bool)
	finish()
}

// newProgress returns a bar when w is a terminal (the bar is drawn by
// schollz/progressbar, which handles widths, rates and the time left),
// and one plain line per submission otherwise: a CI log or a file keeps
// every line.
func newProgress(w io.Writer, total int) progress {
	if w == nil {
		w = io.Discard
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("grading"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		return &barProgress{bar: bar}
	}
	return &lineProgress{w: w, total: total}
}

type barProgress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func (p *barProgress) done(r *Row, reused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Describe(r.Submission)
	p.bar.Add(1)
}

func (p *barProgress) finish() { p.bar.Finish() }

type lineProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
}

func (p *lineProgress) done(r *Row, reused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	how := fmt.Sprintf("%s in %v", r.Status, (time.Duration(r.Seconds * float64(time.Second))).Round(100*time.Millisecond))
	if reused {
		how = "unchanged, result kept"
	}
	fmt.Fprintf(p.w, "[%d/%d] %s: %s/%s %s\n", p.n, p.total, r.Submission, num(r.Score), num(r.MaxScore), how)
}

func (p *lineProgress) finish() {}
