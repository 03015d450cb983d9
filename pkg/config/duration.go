package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads Go durations ("1h30m", "1.5h", "250ms") plus a "d"
// unit of 24 hours ("90d", "1d12h"), because retention periods are thought
// of in days. A negative duration is an error: every duration setting is a
// length of time.
func ParseDuration(s string) (time.Duration, error) {
	d, problem := parseDuration(s)
	if problem != "" {
		return 0, fmt.Errorf("%q %s", s, problem)
	}
	return d, nil
}

const durationExamples = "(e.g. 30s, 5m, 2h, 90d)"

var durationUnits = map[string]uint64{
	"ns": uint64(time.Nanosecond),
	"us": uint64(time.Microsecond),
	"µs": uint64(time.Microsecond), // U+00B5 micro sign
	"μs": uint64(time.Microsecond), // U+03BC Greek mu
	"ms": uint64(time.Millisecond),
	"s":  uint64(time.Second),
	"m":  uint64(time.Minute),
	"h":  uint64(time.Hour),
	"d":  uint64(24 * time.Hour),
}

// parseDuration follows time.ParseDuration (same grammar, same overflow
// checks) with the "d" unit added. Its problem text is a predicate, so that
// the caller can put the value and its source in front of it.
func parseDuration(s string) (time.Duration, string) {
	notDuration := "is not a duration " + durationExamples
	if strings.HasPrefix(s, "-") {
		return 0, "is negative; a duration must be 0 or more " + durationExamples
	}
	s = strings.TrimPrefix(s, "+")
	if s == "0" {
		// Go's special case: zero needs no unit.
		return 0, ""
	}
	if s == "" {
		return 0, notDuration
	}
	if allDigits(s) {
		return 0, "has no unit (e.g. " + s + "s, " + s + "m, " + s + "h or " + s + "d)"
	}
	var total uint64
	for s != "" {
		var v, f uint64
		scale := 1.0
		if !(s[0] == '.' || '0' <= s[0] && s[0] <= '9') {
			return 0, notDuration
		}
		pl := len(s)
		var ok bool
		v, s, ok = leadingInt(s)
		if !ok {
			return 0, tooLong
		}
		pre := pl != len(s)
		post := false
		if s != "" && s[0] == '.' {
			s = s[1:]
			pl := len(s)
			f, scale, s = leadingFraction(s)
			post = pl != len(s)
		}
		if !pre && !post {
			return 0, notDuration
		}
		i := 0
		for ; i < len(s); i++ {
			if c := s[i]; c == '.' || '0' <= c && c <= '9' {
				break
			}
		}
		if i == 0 {
			return 0, notDuration
		}
		u := s[:i]
		s = s[i:]
		unit, ok := durationUnits[u]
		if !ok {
			return 0, fmt.Sprintf("has an unknown unit %q (use ns, us, ms, s, m, h or d)", u)
		}
		if v > math.MaxInt64/unit {
			return 0, tooLong
		}
		v *= unit
		if f > 0 {
			// float64 is needed to avoid overflow; the result is exact for
			// the text formatDuration writes, which the fuzz test checks.
			v += uint64(float64(f) * (float64(unit) / scale))
			if v > math.MaxInt64 {
				return 0, tooLong
			}
		}
		total += v
		if total > math.MaxInt64 {
			return 0, tooLong
		}
	}
	return time.Duration(total), ""
}

const tooLong = "is too long (at most about 292 years)"

// allDigits reports whether s is a non-empty run of ASCII digits: no sign,
// no space, no unit.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// leadingInt consumes the leading digits; ok is false on overflow.
func leadingInt(s string) (x uint64, rest string, ok bool) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if x > math.MaxInt64/10 {
			return 0, "", false
		}
		x = x*10 + uint64(c) - '0'
		if x > math.MaxInt64 {
			return 0, "", false
		}
	}
	return x, s[i:], true
}

// leadingFraction consumes the digits after a decimal point, ignoring those
// beyond what an int64 can hold (they are below a nanosecond anyway).
func leadingFraction(s string) (x uint64, scale float64, rest string) {
	i := 0
	scale = 1
	overflow := false
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if overflow {
			continue
		}
		if x > (math.MaxInt64-1)/10 {
			overflow = true
			continue
		}
		y := x*10 + uint64(c) - '0'
		if y > math.MaxInt64 {
			overflow = true
			continue
		}
		x = y
		scale *= 10
	}
	return x, scale, s[i:]
}

// formatDuration is the normal form of a duration setting: days once the
// duration reaches two days ("90d", "2d12h"), hours below that ("24h",
// "36h", "1h30m"), zero parts left out, seconds with the fraction they need,
// and time.Duration's own text below a second ("250ms"). ParseDuration reads
// every string it writes back to the same duration.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		// Covers 0 ("0s") and negatives, which settings never hold.
		return d.String()
	}
	var b strings.Builder
	if d >= 48*time.Hour {
		days := d / (24 * time.Hour)
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 {
		sec := d / time.Second
		ns := d - sec*time.Second
		b.WriteString(strconv.FormatInt(int64(sec), 10))
		if ns > 0 {
			b.WriteString(strings.TrimRight(fmt.Sprintf(".%09d", ns), "0"))
		}
		b.WriteString("s")
	}
	return b.String()
}
