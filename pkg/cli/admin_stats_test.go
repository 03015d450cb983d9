package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/server"
)

func TestAdminStats(t *testing.T) {
	opts, _, take := adminFixture(t)
	if err := admin(t, opts, "license", "create"); err != nil {
		t.Fatal(err)
	}
	if err := admin(t, opts, "restrict", "files", "--for", "1h"); err != nil {
		t.Fatal(err)
	}
	take()
	if err := admin(t, opts, "stats"); err != nil {
		t.Fatal(err)
	}
	out, _ := take()
	for _, want := range []string{"licenses     1\n", "submissions  0\n", "indicators   2 (baseline)\n", "links        10 (baseline)\n", "restricted until 2026-11-23T13:00:00Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats lack %q:\n%s", want, out)
		}
	}
	if err := admin(t, opts, "stats", "--json"); err != nil {
		t.Fatal(err)
	}
	out, _ = take()
	var st server.StatsReport
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Licenses != 1 || st.Indicators["baseline"] != 2 || st.Links["baseline"] != 10 || st.Restricted == nil {
		t.Errorf("stats --json %q (%v)", out, err)
	}
}
