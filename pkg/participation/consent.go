package participation

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// State is the participation state recorded by the latest decision.
type State string

// Level is how much a participant takes part in.
type Level string

// Via is how a decision was given, so the record shows whether a person
// answered a prompt or a script passed a flag.
type Via string

const (
	// Undecided: never asked (no decision recorded).
	Undecided State = "undecided"
	// Participating: the latest decision accepted a statement.
	Participating State = "participating"
	// Declined: the latest decision declined, or opted out.
	Declined State = "declined"

	// Basic: reputation lookups only; nothing is kept as statistics.
	Basic Level = "basic"
	// Extended: lookups and statistics (the outbox is sent); the default
	// the statement describes.
	Extended Level = "extended"

	// ViaTerminal: answered at an interactive prompt.
	ViaTerminal Via = "terminal"
	// ViaFlag: given by a command-line flag (--accept), typically by a
	// provisioning script.
	ViaFlag Via = "flag"
)

// ParseLevel parses a level name ("basic" or "extended", any case), as a
// user types it in a flag or the configuration.
func ParseLevel(s string) (Level, error) {
	switch l := Level(strings.ToLower(strings.TrimSpace(s))); l {
	case Basic, Extended:
		return l, nil
	}
	return "", fmt.Errorf("participation level %q: want %q or %q", s, Basic, Extended)
}

func (l Level) valid() bool { return l == Basic || l == Extended }

func (v Via) valid() bool { return v == ViaTerminal || v == ViaFlag }

// Decision is one recorded consent decision. Decisions are never changed
// or deleted: the history is the evidence of what the user agreed to. Its
// JSON form is the "decision" of `ksn status --json`, `ksn optin --json`
// and `ksn optout --json` (README): fields are only ever added.
type Decision struct {
	// Seq is assigned by Store.Record: the decision's position in the
	// history, increasing.
	Seq int64 `json:"seq"`
	// At is when the decision was made, UTC, to the second.
	At time.Time `json:"at"`
	// Accepted is true for an acceptance of the statement (participating),
	// false for a refusal or an opt-out.
	Accepted bool `json:"accepted"`
	// Level is the level accepted; empty for a refusal.
	Level Level `json:"level,omitempty"`
	// StatementID and StatementSHA256 identify the statement the user
	// was shown (required for an acceptance).
	StatementID     string `json:"statement_id"`
	StatementSHA256 string `json:"statement_sha256"`
	Via             Via    `json:"via"`
	// Version is the ksn version that recorded the decision.
	Version string `json:"ksn_version"`
	// Endpoint is the reputation server an acceptance was given for (the
	// endpoint setting then; "" when none was set). Nil for decisions
	// recorded before ksn kept it: those are bound to no server.
	Endpoint *string `json:"endpoint,omitempty"`
}

// Reasons why participation is off (Status.Reason).
const (
	reasonNeverAsked       = "never-asked"
	reasonDeclined         = "declined"
	reasonDoNotTrack       = "do-not-track"
	reasonParticipationOff = "participation-off"
	reasonStatementChanged = "statement-changed"
	reasonEndpointChanged  = "endpoint-changed"
	reasonStateUnavailable = "state-unavailable"
)

// What decided the status (Status.DecidedBy).
const (
	byDecision       = "decision"
	byDoNotTrack     = "DO_NOT_TRACK"
	byParticipation  = "KSN_PARTICIPATION"
	byStateDirectory = "state directory"
)

// Status is the effective participation: what the user decided, narrowed by
// the environment and by a change of the statement.
type Status struct {
	// State is what the latest decision recorded (Undecided without one).
	State State
	// Level is the accepted level while State is Participating, else "".
	Level Level
	// Participating is the effective answer: may anything be sent? Only
	// when this is true may a byte go to the network.
	Participating bool
	// Reason says, machine-readably, why not: "never-asked", "declined",
	// "do-not-track", "participation-off", "statement-changed",
	// "endpoint-changed" or "state-unavailable"; "" when participating.
	Reason string
	// DecidedBy names what decided: "decision" (the recorded decisions, or
	// their absence), "DO_NOT_TRACK", "KSN_PARTICIPATION" or
	// "state directory" (it could not be read).
	DecidedBy string
	// Decision is the latest decision, if any.
	Decision *Decision
}

// Evaluate computes the effective participation from the latest decision
// (nil: never decided), the environment (getenv; nil means os.Getenv) and
// the statement currently in force.
//
// The environment can only narrow participation, never grant it:
// DO_NOT_TRACK (any value but "", "0" or "false") and KSN_PARTICIPATION
// ("off", "0", "false", "no", or any value but "", "on", "1", "true",
// "yes") pause everything whatever the stored state; DO_NOT_TRACK is
// named as the decider when both are set. Unrecognised values pause
// rather than grant, because a variable set to something is a request
// to hold back that ksn must not misread as consent.
//
// An acceptance of another statement than current (another ID, or the
// same ID with another text) pauses with Reason "statement-changed" until
// the user accepts the current one: consent covers the text they were
// shown, not its successors. Likewise an acceptance given for another
// server than endpoint (the one set now, "" for none) pauses with Reason
// "endpoint-changed": consent covers the server whose statement the user
// read, not whatever server a setting or KSN_ENDPOINT names later.
func Evaluate(latest *Decision, getenv func(string) string, current Statement, endpoint string) Status {
	if getenv == nil {
		getenv = os.Getenv
	}
	st := Status{State: Undecided, DecidedBy: byDecision, Decision: latest}
	if latest != nil {
		if latest.Accepted {
			st.State, st.Level = Participating, latest.Level
		} else {
			st.State = Declined
		}
	}
	switch {
	case doNotTrack(getenv("DO_NOT_TRACK")):
		st.Reason, st.DecidedBy = reasonDoNotTrack, byDoNotTrack
	case participationOff(getenv("KSN_PARTICIPATION")):
		st.Reason, st.DecidedBy = reasonParticipationOff, byParticipation
	case latest == nil:
		st.Reason = reasonNeverAsked
	case !latest.Accepted:
		st.Reason = reasonDeclined
	case latest.StatementID != current.ID ||
		(current.SHA256 != "" && !strings.EqualFold(latest.StatementSHA256, current.SHA256)):
		st.Reason = reasonStatementChanged
	case latest.Endpoint != nil && !strings.EqualFold(*latest.Endpoint, endpoint): // HTTPS://KSN.example is the same server
		st.Reason = reasonEndpointChanged
	case !latest.Level.valid():
		// Record refuses this; a damaged or foreign row must not grant.
		st.Reason = reasonDeclined
	default:
		st.Participating = true
	}
	return st
}

// doNotTrack reports whether a DO_NOT_TRACK value asks not to be tracked
// (https://consoledonottrack.com: "1"; "true" is common too).
func doNotTrack(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false":
		return false
	}
	return true
}

// participationOff reports whether a KSN_PARTICIPATION value pauses
// participation.
func participationOff(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "on", "1", "true", "yes":
		return false
	}
	return true
}

// Unavailable is the status when the state directory cannot be opened or
// read (err): not participating, Reason "state-unavailable". A state that
// cannot be read degrades to not participating, never to sending. State is
// Undecided because no decision could be read; err is for the caller's
// warning and is not kept.
func Unavailable(err error) Status {
	return Status{State: Undecided, Reason: reasonStateUnavailable, DecidedBy: byStateDirectory}
}
