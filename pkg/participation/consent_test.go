package participation

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	curStatement = NewStatement("", "the statement in force\n", builtinSource)
	oldStatement = NewStatement("", "an earlier statement\n", builtinSource)
)

func acceptance(st Statement, l Level) *Decision {
	return &Decision{Seq: 1, At: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Accepted: true, Level: l,
		StatementID: st.ID, StatementSHA256: st.SHA256, Via: ViaTerminal, Version: "test"}
}

func refusal() *Decision {
	return &Decision{Seq: 2, At: time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC), Accepted: false,
		StatementID: curStatement.ID, StatementSHA256: curStatement.SHA256, Via: ViaFlag, Version: "test"}
}

// env returns a getenv over vars; a variable absent from vars is unset.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestEvaluateCases(t *testing.T) {
	sameIDOtherText := acceptance(curStatement, Extended)
	sameIDOtherText.StatementSHA256 = oldStatement.SHA256
	for _, tc := range []struct {
		name      string
		latest    *Decision
		vars      map[string]string
		want      Status // Decision is checked separately
		wantState State
	}{
		{"never asked", nil, nil,
			Status{State: Undecided, Reason: "never-asked", DecidedBy: "decision"}, Undecided},
		{"accepted extended", acceptance(curStatement, Extended), nil,
			Status{State: Participating, Level: Extended, Participating: true, DecidedBy: "decision"}, Participating},
		{"accepted basic", acceptance(curStatement, Basic), nil,
			Status{State: Participating, Level: Basic, Participating: true, DecidedBy: "decision"}, Participating},
		{"declined", refusal(), nil,
			Status{State: Declined, Reason: "declined", DecidedBy: "decision"}, Declined},
		{"statement changed", acceptance(oldStatement, Extended), nil,
			Status{State: Participating, Level: Extended, Reason: "statement-changed", DecidedBy: "decision"}, Participating},
		{"same id, other text", sameIDOtherText, nil,
			Status{State: Participating, Level: Extended, Reason: "statement-changed", DecidedBy: "decision"}, Participating},
		{"DNT=1 pauses an acceptance", acceptance(curStatement, Extended), map[string]string{"DO_NOT_TRACK": "1"},
			Status{State: Participating, Level: Extended, Reason: "do-not-track", DecidedBy: "DO_NOT_TRACK"}, Participating},
		{"DNT=TRUE", acceptance(curStatement, Extended), map[string]string{"DO_NOT_TRACK": "TRUE"},
			Status{State: Participating, Level: Extended, Reason: "do-not-track", DecidedBy: "DO_NOT_TRACK"}, Participating},
		{"DNT=0 is no request", acceptance(curStatement, Extended), map[string]string{"DO_NOT_TRACK": "0"},
			Status{State: Participating, Level: Extended, Participating: true, DecidedBy: "decision"}, Participating},
		{"DNT=false is no request", acceptance(curStatement, Extended), map[string]string{"DO_NOT_TRACK": "false"},
			Status{State: Participating, Level: Extended, Participating: true, DecidedBy: "decision"}, Participating},
		{"KSN_PARTICIPATION=off", acceptance(curStatement, Basic), map[string]string{"KSN_PARTICIPATION": "off"},
			Status{State: Participating, Level: Basic, Reason: "participation-off", DecidedBy: "KSN_PARTICIPATION"}, Participating},
		{"KSN_PARTICIPATION=on grants nothing", nil, map[string]string{"KSN_PARTICIPATION": "on", "DO_NOT_TRACK": "0"},
			Status{State: Undecided, Reason: "never-asked", DecidedBy: "decision"}, Undecided},
		{"both: DO_NOT_TRACK named", acceptance(curStatement, Extended), map[string]string{"DO_NOT_TRACK": "true", "KSN_PARTICIPATION": "off"},
			Status{State: Participating, Level: Extended, Reason: "do-not-track", DecidedBy: "DO_NOT_TRACK"}, Participating},
		{"environment before statement change", acceptance(oldStatement, Extended), map[string]string{"KSN_PARTICIPATION": "no"},
			Status{State: Participating, Level: Extended, Reason: "participation-off", DecidedBy: "KSN_PARTICIPATION"}, Participating},
		{"environment pauses the undecided too", nil, map[string]string{"DO_NOT_TRACK": "1"},
			Status{State: Undecided, Reason: "do-not-track", DecidedBy: "DO_NOT_TRACK"}, Undecided},
		{"unknown KSN_PARTICIPATION value pauses", acceptance(curStatement, Extended), map[string]string{"KSN_PARTICIPATION": "disabled"},
			Status{State: Participating, Level: Extended, Reason: "participation-off", DecidedBy: "KSN_PARTICIPATION"}, Participating},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.latest, env(tc.vars), curStatement, "")
			if got.Decision != tc.latest {
				t.Errorf("Decision = %v, want the latest decision %v", got.Decision, tc.latest)
			}
			got.Decision = nil
			if got != tc.want {
				t.Errorf("Evaluate = %+v\nwant       %+v", got, tc.want)
			}
		})
	}
}

// TestEvaluateEveryCombination crosses every kind of latest decision with
// every value of both variables. The expectations are stated per value,
// not computed by the code under test.
func TestEvaluateEveryCombination(t *testing.T) {
	const unset = "<unset>"
	type decision struct {
		name    string
		d       *Decision
		state   State
		level   Level
		reason  string // when the environment does not decide
		granted bool
	}
	decisions := []decision{
		{"none", nil, Undecided, "", "never-asked", false},
		{"accepted-extended", acceptance(curStatement, Extended), Participating, Extended, "", true},
		{"accepted-basic", acceptance(curStatement, Basic), Participating, Basic, "", true},
		{"accepted-old-statement", acceptance(oldStatement, Extended), Participating, Extended, "statement-changed", false},
		{"declined", refusal(), Declined, "", "declined", false},
	}
	// DO_NOT_TRACK value → whether it is a request not to be tracked.
	dnt := map[string]bool{unset: false, "": false, "0": false, "false": false, "FALSE": false,
		"1": true, "true": true, "TRUE": true, "True": true, " 1 ": true, "yes": true}
	// KSN_PARTICIPATION value → whether it turns participation off.
	kp := map[string]bool{unset: false, "": false, "on": false, "ON": false, "1": false, "true": false, "yes": false,
		"off": true, "OFF": true, "Off": true, "0": true, "false": true, "no": true, "disabled": true}

	n := 0
	for _, dc := range decisions {
		for dv, dntOn := range dnt {
			for kv, kpOff := range kp {
				vars := map[string]string{}
				if dv != unset {
					vars["DO_NOT_TRACK"] = dv
				}
				if kv != unset {
					vars["KSN_PARTICIPATION"] = kv
				}
				name := fmt.Sprintf("%s/DNT=%q/KSN_PARTICIPATION=%q", dc.name, dv, kv)
				got := Evaluate(dc.d, env(vars), curStatement, "")
				n++

				want := Status{State: dc.state, Level: dc.level, Decision: dc.d}
				switch {
				case dntOn:
					want.Reason, want.DecidedBy = "do-not-track", "DO_NOT_TRACK"
				case kpOff:
					want.Reason, want.DecidedBy = "participation-off", "KSN_PARTICIPATION"
				default:
					want.Reason, want.DecidedBy, want.Participating = dc.reason, "decision", dc.granted
				}
				if got != want {
					t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
				}
				// The invariants, whatever the expectations above say.
				if got.Participating && (dc.d == nil || !dc.d.Accepted || dntOn || kpOff) {
					t.Errorf("%s: participating without an acceptance, or despite the environment", name)
				}
				if got.Participating != (got.Reason == "") {
					t.Errorf("%s: Participating %v with Reason %q", name, got.Participating, got.Reason)
				}
			}
		}
	}
	if n != 5*11*14 {
		t.Fatalf("ran %d combinations", n)
	}
}

func TestEvaluateNilGetenvReadsTheEnvironment(t *testing.T) {
	t.Setenv("DO_NOT_TRACK", "1")
	if got := Evaluate(acceptance(curStatement, Extended), nil, curStatement, ""); got.Participating || got.DecidedBy != "DO_NOT_TRACK" {
		t.Errorf("with DO_NOT_TRACK=1 in the environment: %+v", got)
	}
}

func TestEvaluateInvalidLevelDoesNotGrant(t *testing.T) {
	d := acceptance(curStatement, "")
	if got := Evaluate(d, env(nil), curStatement, ""); got.Participating {
		t.Errorf("an acceptance without a level grants: %+v", got)
	}
}

func TestUnavailable(t *testing.T) {
	got := Unavailable(fmt.Errorf("mkdir: permission denied"))
	want := Status{State: Undecided, Reason: "state-unavailable", DecidedBy: "state directory"}
	if got != want {
		t.Errorf("Unavailable = %+v, want %+v", got, want)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"basic": Basic, "extended": Extended, "Extended": Extended, " BASIC ": Basic} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "full", "basic,extended", "none"} {
		if got, err := ParseLevel(in); err == nil {
			t.Errorf("ParseLevel(%q) = %q, want an error", in, got)
		} else if !strings.Contains(err.Error(), "basic") {
			t.Errorf("ParseLevel(%q): error %q does not say what is valid", in, err)
		}
	}
}

// An acceptance covers the server it was given for: another endpoint, or
// one set after accepting with none, pauses until the user accepts again;
// an acceptance recorded before ksn kept the endpoint is bound to none.
func TestEvaluateEndpoint(t *testing.T) {
	bound := func(e string) *Decision {
		d := acceptance(curStatement, Extended)
		d.Endpoint = &e
		return d
	}
	for _, tc := range []struct {
		name     string
		d        *Decision
		endpoint string
		want     string // Reason; "" participating
	}{
		{"the same server", bound("https://a.example"), "https://a.example", ""},
		{"another server", bound("https://a.example"), "https://b.example", "endpoint-changed"},
		{"accepted with none, one set since", bound(""), "https://b.example", "endpoint-changed"},
		{"accepted for one, unset since", bound("https://a.example"), "", "endpoint-changed"},
		{"none then and now", bound(""), "", ""},
		{"recorded before endpoints were kept", acceptance(curStatement, Extended), "https://b.example", ""},
		{"environment first", bound("https://a.example"), "https://b.example", "do-not-track"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			if tc.want == "do-not-track" {
				vars["DO_NOT_TRACK"] = "1"
			}
			got := Evaluate(tc.d, env(vars), curStatement, tc.endpoint)
			if got.Reason != tc.want || got.Participating != (tc.want == "") {
				t.Errorf("Evaluate = %+v, want reason %q", got, tc.want)
			}
		})
	}
}
