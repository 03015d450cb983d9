package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/spf13/cobra"
)

// NewCmdStatus builds `ksn status`.
func NewCmdStatus(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Whether the network can be used, and if not, why and what to do",
		Long: `Show participation, the statement accepted, where decisions are recorded,
the local outbox, the endpoint, and the state of the connection. When the
network cannot be used, the reason comes with the command that fixes it and
the exit code says which reason (see 'ksn help exit-codes').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(orBackground(cmd.Context()), f, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as one JSON object (schema in the README)")
	return cmd
}

// statusJSON is the documented schema of `ksn status --json`.
type statusJSON struct {
	Participation struct {
		State         string        `json:"state"`
		Level         string        `json:"level,omitempty"`
		Participating bool          `json:"participating"`
		Reason        string        `json:"reason,omitempty"`
		DecidedBy     string        `json:"decided_by"`
		StateFile     string        `json:"state_file"`
		Decision      *decisionJSON `json:"decision"`
	} `json:"participation"`
	Statement struct {
		ID       string     `json:"id"`
		SHA256   string     `json:"sha256"`
		Source   string     `json:"source"`
		Accepted bool       `json:"accepted"`
		Since    *time.Time `json:"accepted_at"`
	} `json:"statement"`
	Outbox     queueJSON    `json:"outbox"`
	Endpoint   string       `json:"endpoint"`
	License    *licenseJSON `json:"license,omitempty"` // as the server reports it
	Connection struct {
		Connected bool   `json:"connected"`
		Reason    string `json:"reason,omitempty"`
		Detail    string `json:"detail,omitempty"`
		Hint      string `json:"hint,omitempty"`
		ExitCode  int    `json:"exit_code"`
	} `json:"connection"`
}

type licenseJSON struct {
	State     string     `json:"state"`
	Label     string     `json:"label,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type decisionJSON struct {
	Seq             int64     `json:"seq"`
	At              time.Time `json:"at"`
	Accepted        bool      `json:"accepted"`
	Level           string    `json:"level,omitempty"`
	StatementID     string    `json:"statement_id"`
	StatementSHA256 string    `json:"statement_sha256"`
	Via             string    `json:"via"`
	Version         string    `json:"ksn_version"`
}

// connectionReason is the first reason available without the network.
func connectionReason(c *consent) (reason, detail, hint string, code exitcode.Code) {
	st := c.status
	switch {
	case st.Reason == "statement-changed":
		return "statement-changed", "the statement in force is " + c.statement.ID + ", you accepted " + st.Decision.StatementID,
			"read the new statement and accept it: ksn optin", exitcode.NotParticipate
	case st.Reason == "do-not-track":
		return "not-participating", "paused by DO_NOT_TRACK", "unset DO_NOT_TRACK to resume", exitcode.NotParticipate
	case st.Reason == "participation-off":
		return "not-participating", "paused by KSN_PARTICIPATION=off", "unset KSN_PARTICIPATION to resume", exitcode.NotParticipate
	case st.Reason == "state-unavailable":
		return "not-participating", "the state directory cannot be used: " + c.openErr.Error(),
			"make " + c.paths.State + " writable, or set KSN_HOME to a directory you own", exitcode.NotParticipate
	case !st.Participating:
		return "not-participating", st.Reason, "read the statement and choose: ksn optin", exitcode.NotParticipate
	case c.settings.String("endpoint") == "":
		return "offline", "no-endpoint", "set the reputation server: ksn config set endpoint https://ksn.example.org", exitcode.Offline
	}
	return "", "", "", exitcode.OK // ask the network
}

// probeNetwork asks the endpoint for its status: one request, made only
// while participating. It settles the reasons only the server can give.
func probeNetwork(ctx context.Context, f *Factory, c *consent, s *statusJSON) (reason, detail, hint string, code exitcode.Code) {
	cl, err := newClient(f, c)
	if err != nil { // a configuration mistake, not a network failure
		return "configuration", err.Error(), "fix it with ksn config set, or ksn license activate <key>", exitcode.Usage
	}
	st, err := cl.Status(ctx)
	var ce *client.Error
	endpoint := c.settings.String("endpoint")
	if errors.As(err, &ce) {
		rememberBackoff(c.paths, waitLookups, endpoint, ce, time.Now())
		return string(ce.Reason), ce.Detail + messageSuffix(ce.Message), ce.Hint(), ce.ExitCode()
	}
	if err != nil {
		return "offline", err.Error(), "", exitcode.Offline
	}
	forgetBackoff(c.paths)
	s.License = &licenseJSON{State: st.License.State, Label: st.License.Label, ExpiresAt: st.License.ExpiresAt}
	s.Statement.ID, s.Statement.SHA256, s.Statement.Source = st.Statement.ID, st.Statement.SHA256, c.settings.String("endpoint")
	s.Statement.Accepted = statementMatches(st.Statement, c.status.Decision)
	if !s.Statement.Accepted {
		s.Statement.Since = nil
	}
	if d := c.status.Decision; !statementMatches(st.Statement, d) {
		return "statement-changed", "the server's statement is " + st.Statement.ID + ", you accepted " + d.StatementID,
			"read the new statement and accept it: ksn optin", exitcode.NotParticipate
	}
	if st.FileReputation == "restricted" {
		// The server answers, but it would refuse every file lookup: for
		// the user that is a wait, like a rate limit.
		e := &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRestricted, Status: 503,
			RetryAfter: min(time.Duration(st.RestrictedSeconds)*time.Second, client.MaxRetryAfter)}
		rememberBackoff(c.paths, waitLookups, endpoint, e, time.Now())
		return string(e.Reason), e.Detail + ": " + strings.TrimPrefix(e.Error(), "rate-limited: "), e.Hint(), e.ExitCode()
	}
	return "", "", "", exitcode.OK
}

func messageSuffix(m string) string {
	if m == "" {
		return ""
	}
	return ": " + m
}

// newClient builds the API client from the settings and the license key.
func newClient(f *Factory, c *consent) (*client.Client, error) {
	key, _, err := licenseKey(c.paths, f.Env)
	if err != nil {
		return nil, err
	}
	return client.New(client.Options{
		Endpoint:   c.settings.String("endpoint"),
		LicenseKey: key,
		Timeout:    c.settings.Duration("timeout"),
		Proxy:      c.settings.String("proxy"),
		UserAgent:  "ksn/" + f.Version,
	})
}

func runStatus(ctx context.Context, f *Factory, asJSON bool) error {
	c, err := loadConsent(ctx, f)
	if err != nil {
		return err
	}
	defer c.close()
	var stats participation.OutboxStats
	if c.store != nil {
		if stats, err = c.store.Stats(ctx); err != nil {
			return err
		}
	}
	var s statusJSON
	st := c.status
	s.Participation.State, s.Participation.Level = string(st.State), string(st.Level)
	s.Participation.Participating, s.Participation.Reason, s.Participation.DecidedBy = st.Participating, st.Reason, st.DecidedBy
	if c.store != nil {
		s.Participation.StateFile = c.store.Path()
	}
	if d := st.Decision; d != nil {
		s.Participation.Decision = &decisionJSON{Seq: d.Seq, At: d.At.UTC(), Accepted: d.Accepted, Level: string(d.Level),
			StatementID: d.StatementID, StatementSHA256: d.StatementSHA256, Via: string(d.Via), Version: d.Version}
		if d.Accepted && d.StatementID == c.statement.ID {
			s.Statement.Accepted = true
			at := d.At.UTC()
			s.Statement.Since = &at
		}
	}
	s.Statement.ID, s.Statement.SHA256, s.Statement.Source = c.statement.ID, c.statement.SHA256, c.statement.Source
	s.Outbox = queueSummary(c, stats)
	s.Endpoint = c.settings.String("endpoint")
	reason, detail, hint, code := connectionReason(c)
	if reason == "" {
		reason, detail, hint, code = probeNetwork(ctx, f, c, &s)
	}
	s.Connection.Connected = code == exitcode.OK && reason == ""
	s.Connection.Reason, s.Connection.Detail, s.Connection.Hint, s.Connection.ExitCode = reason, detail, hint, int(code)

	if asJSON {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "%s\n", b)
	} else {
		printStatus(f, c, &s)
	}
	if code == exitcode.OK {
		return nil
	}
	if asJSON {
		return exitcode.Silent(code)
	}
	return &exitcode.Error{Code: code, Err: fmt.Errorf("%s: %s", reason, detail), Hint: hint}
}

func printStatus(f *Factory, c *consent, s *statusJSON) {
	sty := f.IO.Styles()
	row := func(label, value string) { fmt.Fprintf(f.IO.Out, "%-14s %s\n", sty.Bold.Render(label), value) }
	state := describeState(c.status)
	if c.status.DecidedBy != "" && c.status.DecidedBy != "decision" {
		state += " (decided by " + c.status.DecidedBy + ")"
	}
	row("Participation", state)
	stmt := s.Statement.ID + " (" + s.Statement.Source + "), "
	if s.Statement.Since != nil {
		stmt += "accepted " + formatTime(*s.Statement.Since)
	} else if d := c.status.Decision; d != nil && d.Accepted {
		stmt += "you accepted " + d.StatementID + " on " + formatTime(d.At)
	} else {
		stmt += "not accepted"
	}
	row("Statement", stmt)
	if s.Participation.StateFile != "" {
		row("Decisions", s.Participation.StateFile)
	}
	row("Outbox", fmt.Sprintf("%d records, %d dropped when full, %d too old", s.Outbox.Records, s.Outbox.DroppedFull, s.Outbox.DroppedAge))
	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = "none"
	}
	row("Endpoint", endpoint)
	conn := s.Connection.Reason
	if s.Connection.Detail != "" {
		conn += " (" + s.Connection.Detail + ")"
	}
	if s.Connection.Connected {
		conn = sty.Good.Render("connected")
	}
	if s.License != nil {
		lic := s.License.State
		if s.License.ExpiresAt != nil {
			lic += ", expires " + formatTime(*s.License.ExpiresAt)
		}
		row("License", lic)
	}
	row("Connection", conn)
}
