package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar, redrawn in place with "\r". It is only used when
// stderr is a terminal.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	now   func() time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, now: time.Now}
	p.start = p.now()
	p.update(0)
	return p
}

const barWidth = 30

func (p *progress) update(done int) {
	var line string
	if p.total < 0 { // a stream: the total is unknown
		line = fmt.Sprintf("\rembedding: %d texts", done)
	} else {
		frac := 1.0
		if p.total > 0 {
			frac = float64(done) / float64(p.total)
		}
		filled := int(frac * barWidth)
		bar := strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled)
		line = fmt.Sprintf("\rembedding [%s] %d/%d texts", bar, done, p.total)
	}
	if elapsed := p.now().Sub(p.start).Seconds(); done > 0 && elapsed > 0 {
		rate := float64(done) / elapsed
		line += fmt.Sprintf("  %.0f/s", rate)
		if done < p.total {
			eta := time.Duration(float64(p.total-done) / rate * float64(time.Second)).Round(time.Second)
			line += fmt.Sprintf("  ETA %v", eta)
		}
	}
	fmt.Fprintf(p.w, "%-80s", line)
}

// finish ends the progress line.
func (p *progress) finish() { fmt.Fprintln(p.w) }
