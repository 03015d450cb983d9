package term

import (
	"fmt"
	"sync"
	"time"
)

// ProgressDelay is how long a run goes before a progress line appears: a
// line that flashes for a fast run is noise.
const ProgressDelay = time.Second

// Progress is a progress line on stderr.
type Progress struct {
	mu      sync.Mutex // held while drawing, and while output goes around the line
	shown   bool
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	errOut  interface{ Write([]byte) (int, error) }
	enabled bool
}

// StartProgress redraws the line render returns on stderr every 200 ms,
// starting after delay, and only when stderr is a terminal (never in a pipe
// or a log). Output meant for the terminal while it runs goes through
// Around, so that results and the progress line never mix.
func (s *IOStreams) StartProgress(delay time.Duration, render func() string) *Progress {
	p := &Progress{done: make(chan struct{}), errOut: s.ErrOut, enabled: s.stderrTTY}
	if !p.enabled {
		return p
	}
	p.wg.Go(func() {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-p.done:
			return
		case <-timer.C:
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			p.mu.Lock()
			fmt.Fprintf(p.errOut, "\r%s\x1b[K", render())
			p.shown = true
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	})
	return p
}

// Around runs fn with the progress line cleared; the next tick draws it
// again below whatever fn printed.
func (p *Progress) Around(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fn()
}

func (p *Progress) clear() {
	if p.shown {
		fmt.Fprint(p.errOut, "\r\x1b[K")
		p.shown = false
	}
}

// Stop removes the line for good. It is safe to call more than once.
func (p *Progress) Stop() {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		p.mu.Lock()
		p.clear()
		p.mu.Unlock()
	})
}

// Bytes formats a byte count with binary units ("1.5 MiB").
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Rate formats bytes per second over d.
func Rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return Bytes(int64(float64(n)/d.Seconds())) + "/s"
}

// Duration formats an elapsed time for humans: 850ms, 1.24s, 2m05s.
func Duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
