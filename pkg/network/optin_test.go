package network

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
)

// TestOptin: how each way of opting in ends, and what it records.
func TestOptin(t *testing.T) {
	st := participation.Builtin()
	no := func(Statement, string) (bool, error) { t.Fatal("asked"); return false, nil }
	cases := []struct {
		name     string
		req      OptinRequest
		accepted bool
		via      participation.Via
		recorded bool
		err      string
	}{
		{"in force", OptinRequest{Level: Basic, Accept: AcceptInForce, Ask: no}, true, participation.ViaFlag, true, ""},
		{"pinned", OptinRequest{Level: Extended, Accept: " " + strings.ToUpper(st.SHA256) + "\n", Ask: no}, true, participation.ViaFlag, true, ""},
		{"another pin", OptinRequest{Level: Extended, Accept: strings.Repeat("0", 64), Ask: no}, false, "", false, "nothing was accepted"},
		{"yes at the prompt", OptinRequest{Level: Extended, Ask: func(got Statement, backlog string) (bool, error) {
			if got.ID != st.ID || backlog == "" {
				t.Errorf("asked about %q with %q", got.ID, backlog)
			}
			return true, nil
		}}, true, participation.ViaTerminal, true, ""},
		{"no at the prompt", OptinRequest{Level: Extended, Ask: func(Statement, string) (bool, error) { return false, nil }},
			false, participation.ViaTerminal, true, ""},
		{"the prompt fails", OptinRequest{Level: Extended, Ask: func(Statement, string) (bool, error) { return false, errors.New("pager") }},
			false, "", false, "pager"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			cons := testConsent(t, testPaths(t), false)
			before, _ := cons.store.Decisions(ctx)
			o, err := cons.Optin(ctx, &recordedMessages{}, c.req)
			after, _ := cons.store.Decisions(ctx)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				if c.err == "nothing was accepted" && exitcode.Of(err) != exitcode.Usage {
					t.Errorf("a wrong pin exits %v", exitcode.Of(err))
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := len(after) > len(before); got != c.recorded {
				t.Fatalf("recorded %v, want %v", got, c.recorded)
			}
			if !c.recorded {
				return
			}
			d := o.Decision
			if d == nil || d.Accepted != c.accepted || d.Via != c.via || d.StatementID != st.ID {
				t.Errorf("decision %+v, want accepted %v via %s", d, c.accepted, c.via)
			}
			if c.accepted && (d.Level != c.req.Level || !o.Participating) {
				t.Errorf("outcome %+v at %s", o, d.Level)
			}
		})
	}
}
