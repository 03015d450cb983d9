package server

import (
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

func TestCheckFlags(t *testing.T) {
	ok := RunOptions{MaxConnections: 1, Rate: 1, Burst: 1}
	cases := []struct {
		name  string
		edit  func(o *RunOptions)
		grace string
		err   string // "" for none
	}{
		{"defaults", func(*RunOptions) {}, "7d", ""},
		{"no grace", func(*RunOptions) {}, "0s", ""},
		{"certificate alone", func(o *RunOptions) { o.TLSCert = "c.pem" }, "7d", "--tls-cert and --tls-key go together"},
		{"negative rate", func(o *RunOptions) { o.SubmitBurst = -1 }, "7d", "must be positive"},
		{"bad grace", func(*RunOptions) {}, "soon", `--purge-grace: not a duration of 0 or more: "soon"`},
		{"negative grace", func(*RunOptions) {}, "-1h", "--purge-grace: not a duration"},
		{"no connections", func(o *RunOptions) { o.MaxConnections = 0 }, "7d", "--max-connections: 0 is not a count"},
		{"negative prevalence", func(o *RunOptions) { o.MinPrevalence = -1 }, "7d", "--min-prevalence: -1 is not a count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			err := o.CheckFlags(c.grace)
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) || exitcode.Of(err) != exitcode.Usage {
				t.Errorf("err %v, want exit 2 with %q", err, c.err)
			}
		})
	}
	o := ok
	if err := o.CheckFlags("36h"); err != nil || o.PurgeGrace != 36*time.Hour {
		t.Errorf("grace %v (%v)", o.PurgeGrace, err)
	}
	if _, err := ParseGrace("--grace", "x"); err == nil || !strings.HasPrefix(err.Error(), "--grace: ") {
		t.Errorf("ParseGrace names the flag it is given: %v", err)
	}
}
