package review

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress draws a progress bar with the rate and the time left on one
// terminal line, redrawn at most every tick; the last call ends the line.
type Progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time
	tick  time.Duration
	done  int
}

// NewProgress starts a bar on w (a terminal: it redraws with \r).
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w, now: time.Now, tick: 100 * time.Millisecond}
	p.start = p.now()
	return p
}

// Update records that done of total points are finished.
func (p *Progress) Update(done, total int) {
	if done <= p.done {
		return
	}
	p.done = done
	t := p.now()
	if done < total && t.Sub(p.last) < p.tick {
		return
	}
	p.last = t
	fmt.Fprint(p.w, "\r"+p.line(done, total, t.Sub(p.start)))
	if done == total {
		fmt.Fprintln(p.w)
	}
}

// line is the bar's text: [#####-----] 50/100 50% 812 pts/s ETA 0:04.
func (p *Progress) line(done, total int, el time.Duration) string {
	const width = 30
	fill := width * done / max(total, 1)
	rate := float64(done) / max(el.Seconds(), 1e-9)
	eta := "--:--"
	if rate > 0 {
		eta = clock(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	return fmt.Sprintf("[%s%s] %d/%d %3d%% %.0f pts/s ETA %s ", strings.Repeat("#", fill), strings.Repeat("-", width-fill),
		done, total, 100*done/max(total, 1), rate, eta)
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
