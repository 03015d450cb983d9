package halfyear

import (
	"fmt"
	"strconv"
	"time"
)

// Label is a UTC half-year: "2026H1" is January to June 2026, "2026H2"
// July to December. The zero Label is not a half-year.
type Label struct {
	year int
	half int // 1 or 2
}

// Of returns the half-year that t falls in, in UTC.
func Of(t time.Time) Label {
	t = t.UTC()
	h := 1
	if t.Month() >= time.July {
		h = 2
	}
	return Label{year: t.Year(), half: h}
}

// Parse reads a label as String writes it ("2026H2").
func Parse(s string) (Label, error) {
	if len(s) != 6 || (s[4] != 'H') || (s[5] != '1' && s[5] != '2') {
		return Label{}, fmt.Errorf("half-year %q: want YYYYH1 or YYYYH2", s)
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1970 {
		return Label{}, fmt.Errorf("half-year %q: want YYYYH1 or YYYYH2", s)
	}
	return Label{year: y, half: int(s[5] - '0')}, nil
}

// IsZero reports whether l is the zero Label.
func (l Label) IsZero() bool { return l.half == 0 }

// String returns the label, e.g. "2026H2"; "" for the zero Label.
func (l Label) String() string {
	if l.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04dH%d", l.year, l.half)
}

// Start is the first instant of the half-year (00:00 UTC on 1 January or
// 1 July).
func (l Label) Start() time.Time {
	m := time.January
	if l.half == 2 {
		m = time.July
	}
	return time.Date(l.year, m, 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant after the half-year: the Start of the next.
func (l Label) End() time.Time { return l.Next().Start() }

// Next is the half-year after l.
func (l Label) Next() Label {
	if l.half == 1 {
		return Label{year: l.year, half: 2}
	}
	return Label{year: l.year + 1, half: 1}
}

// Before reports whether l is an earlier half-year than m.
func (l Label) Before(m Label) bool {
	return l.year < m.year || l.year == m.year && l.half < m.half
}
