package halfyear

import (
	"testing"
	"time"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026H1"},
		{time.Date(2026, 6, 30, 23, 59, 59, 999999999, time.UTC), "2026H1"},
		{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "2026H2"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2026H2"},
		// UTC decides, not the local zone: 1 July 01:00 in UTC+2 is still June in UTC.
		{time.Date(2026, 7, 1, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*3600)), "2026H1"},
	} {
		if got := Of(c.t).String(); got != c.want {
			t.Errorf("Of(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

func TestBounds(t *testing.T) {
	h1, h2 := Of(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), Of(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if !h1.End().Equal(h2.Start()) || !h1.Start().Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("H1 = [%v, %v), H2 starts %v", h1.Start(), h1.End(), h2.Start())
	}
	if !h2.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || h2.Next().String() != "2027H1" {
		t.Errorf("H2 ends %v, next %s", h2.End(), h2.Next())
	}
	if !h1.Before(h2) || h2.Before(h1) || h1.Before(h1) {
		t.Error("Before is wrong")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"2026H1", "2026H2", "1999H2"} {
		l, err := Parse(s)
		if err != nil || l.String() != s {
			t.Errorf("Parse(%q) = %v, %v", s, l, err)
		}
	}
	for _, s := range []string{"", "2026", "2026H3", "2026h1", "20x6H1", "1969H2", "2026H12"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if (Label{}).String() != "" || !(Label{}).IsZero() {
		t.Error("zero Label")
	}
}
