package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Code
	}{
		{"nil is success", nil, OK},
		{"typed error", New(Offline, "no route"), Offline},
		{"wrapped typed error", fmt.Errorf("status: %w", New(RateLimited, "wait")), RateLimited},
		{"silent", Silent(Threat), Threat},
		{"untyped error is a usage/input error", errors.New("bad"), Usage},
	}
	for _, c := range cases {
		if got := Of(c.err); got != c.want {
			t.Errorf("%s: Of = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestTableCoversEveryCodeOnce(t *testing.T) {
	seen := map[Code]bool{}
	for i, e := range Table {
		if e.Code != Code(i) || seen[e.Code] || e.Meaning == "" {
			t.Fatalf("table row %d = %+v: want codes 0..7 in order, each once, each explained", i, e)
		}
		seen[e.Code] = true
	}
	if len(Table) != 8 {
		t.Fatalf("table has %d rows, want 8", len(Table))
	}
}

func TestErrorText(t *testing.T) {
	e := New(Usage, "bad flag %q", "-x").WithHint("see ksn --help")
	if e.Error() != `bad flag "-x"` || e.Hint != "see ksn --help" || !errors.Is(e, e.Err) {
		t.Fatalf("got %q / %q", e.Error(), e.Hint)
	}
}
