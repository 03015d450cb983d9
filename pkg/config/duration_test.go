package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string // substring; "" = must succeed
	}{
		{"90d", 90 * day, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"1.5d", 36 * time.Hour, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"+5s", 5 * time.Second, ""},
		{"10s", 10 * time.Second, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1us", time.Microsecond, ""},
		{"1µs", time.Microsecond, ""},
		{"1μs", time.Microsecond, ""},
		{"3ns", 3, ""},
		{".5s", 500 * time.Millisecond, ""},
		{"5.s", 5 * time.Second, ""},
		{"106751d23h47m16.854775807s", 1<<63 - 1, ""},
		{"-1s", 0, "negative"},
		{"-0", 0, "negative"},
		{"", 0, `"" is not a duration (e.g. 30s, 5m, 2h, 90d)`},
		{"d", 0, `"d" is not a duration`},
		{"5x", 0, `"5x" has an unknown unit "x"`},
		{"5D", 0, `unknown unit "D"`},
		{"30", 0, `"30" has no unit (e.g. 30s`},
		{"ten", 0, "is not a duration"},
		{"1d 12h", 0, "unknown unit"},
		{" 5s", 0, "is not a duration"},
		{".", 0, "is not a duration"},
		{"+", 0, "is not a duration"},
		{"1..5h", 0, "is not a duration"},
		{"106752d", 0, "too long"},
		{"9223372036854775808ns", 0, "too long"},
		{"99999999999999999999s", 0, "too long"},
		{"106751d23h47m16.854775808s", 0, "too long"},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseDuration(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
		}
	}
}

// TestParseDurationMatchesGo checks that everything Go reads means the same
// here, so users can rely on Go's documentation.
func TestParseDurationMatchesGo(t *testing.T) {
	for _, s := range []string{"1h", "1.5h", "2h45m", "1.000000001s", "0.1ns", "1h1m1s1ms1us1ns", "300ms", "12.345678901234s", "7.5m"} {
		want, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; Go says %v", s, got, err, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{3, "3ns"},
		{1500 * time.Microsecond, "1.5ms"},
		{time.Second, "1s"},
		{10 * time.Second, "10s"},
		{1500 * time.Millisecond, "1.5s"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + time.Second, "1h1s"},
		{day, "24h"},
		{36 * time.Hour, "36h"},
		{47*time.Hour + 59*time.Minute, "47h59m"},
		{2 * day, "2d"},
		{90 * day, "90d"},
		{2*day + time.Nanosecond + time.Second, "2d1.000000001s"},
		{1<<63 - 1, "106751d23h47m16.854775807s"},
	}
	for _, c := range cases {
		got := formatDuration(c.d)
		if got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
		if back, err := ParseDuration(got); err != nil || back != c.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, c.d)
		}
	}
}
