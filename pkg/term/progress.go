package term

import (
	"fmt"
	"sync"
	"time"
)

// ProgressDelay is how long a run goes before a progress line appears: a
// line that flashes for a fast run is noise.
const ProgressDelay = time.Second

// StartProgress redraws the line render returns on stderr every 200 ms,
// starting after delay, and only when stderr is a terminal (never in a pipe
// or a log). The returned stop clears the line and must be called before
// anything else is written to stderr.
func (s *IOStreams) StartProgress(delay time.Duration, render func() string) (stop func()) {
	if !s.stderrTTY {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-done:
			return
		case <-timer.C:
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			fmt.Fprintf(s.ErrOut, "\r%s\x1b[K", render())
			select {
			case <-done:
				fmt.Fprint(s.ErrOut, "\r\x1b[K")
				return
			case <-tick.C:
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
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
