package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/network"
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
	Outbox   queueJSON        `json:"outbox"`
	Feeds    *feedsStatusJSON `json:"feeds,omitempty"`
	Endpoint string           `json:"endpoint"`
	// InsecureTransport: a plain http:// endpoint on another machine is
	// allowed (the insecure_transport setting).
	InsecureTransport bool         `json:"insecure_transport,omitempty"`
	License           *licenseJSON `json:"license,omitempty"` // as the server reports it
	Sources           []sourceJSON `json:"sources"`           // the public sources, as the last runs left them
	Connection        struct {
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

func runStatus(ctx context.Context, f *Factory, asJSON bool) error {
	c, err := f.LoadConsent(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Diagnose(ctx)
	if err != nil {
		return err
	}
	s := statusOut(c, r)
	s.Feeds = feedsStatus(f)
	if asJSON {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "%s\n", b)
	} else {
		printStatus(f, r, &s)
	}
	if r.Code == exitcode.OK {
		return nil
	}
	if asJSON {
		return exitcode.Silent(r.Code)
	}
	return &exitcode.Error{Code: r.Code, Err: fmt.Errorf("%s: %s", r.Reason, r.Detail), Hint: r.Hint}
}

// decisionOf is a decision in the JSON schema; nil for none.
func decisionOf(d *network.Decision) *decisionJSON {
	if d == nil {
		return nil
	}
	return &decisionJSON{Seq: d.Seq, At: d.At.UTC(), Accepted: d.Accepted, Level: string(d.Level),
		StatementID: d.StatementID, StatementSHA256: d.StatementSHA256, Via: string(d.Via), Version: d.Version}
}

// statusOut is the report in the documented JSON schema.
func statusOut(c *network.Consent, r network.Report) statusJSON {
	var s statusJSON
	st := r.Status
	s.Participation.State, s.Participation.Level = string(st.State), string(st.Level)
	s.Participation.Participating, s.Participation.Reason, s.Participation.DecidedBy = st.Participating, st.Reason, st.DecidedBy
	s.Participation.StateFile = r.StateFile
	s.Participation.Decision = decisionOf(st.Decision)
	s.Statement.ID, s.Statement.SHA256, s.Statement.Source = r.Statement.ID, r.Statement.SHA256, r.Statement.Source
	s.Statement.Accepted, s.Statement.Since = r.Statement.Accepted, r.Statement.AcceptedAt
	s.Outbox = queueSummary(c, r.Outbox)
	s.Endpoint, s.InsecureTransport = r.Endpoint, r.InsecureTransport
	if l := r.License; l != nil {
		s.License = &licenseJSON{State: l.State, Label: l.Label, ExpiresAt: l.ExpiresAt}
	}
	s.Sources = sourcesOut(r.Sources)
	s.Connection.Connected = r.Connected
	s.Connection.Reason, s.Connection.Detail, s.Connection.Hint, s.Connection.ExitCode = r.Reason, r.Detail, r.Hint, int(r.Code)
	return s
}

func printStatus(f *Factory, r network.Report, s *statusJSON) {
	sty := f.IO.Styles()
	// Padded before it is styled: padding counts bytes, and colour codes
	// are bytes a terminal does not show.
	row := func(label, value string) { fmt.Fprintf(f.IO.Out, "%s %s\n", sty.Bold.Render(fmt.Sprintf("%-14s", label)), value) }
	state := network.DescribeState(r.Status)
	if r.Status.DecidedBy != "" && r.Status.DecidedBy != "decision" {
		state += " (decided by " + r.Status.DecidedBy + ")"
	}
	row("Participation", state)
	stmt := s.Statement.ID + " (" + s.Statement.Source + "), "
	if s.Statement.Since != nil {
		stmt += "accepted " + formatTime(*s.Statement.Since)
	} else if d := r.Status.Decision; d != nil && d.Accepted {
		stmt += "you accepted " + d.StatementID + " on " + formatTime(d.At)
	} else {
		stmt += "not accepted"
	}
	row("Statement", stmt)
	if s.Participation.StateFile != "" {
		row("Decisions", s.Participation.StateFile)
	}
	row("Outbox", fmt.Sprintf("%s, %d dropped when full, %d too old", plural(s.Outbox.Records, "record"), s.Outbox.DroppedFull, s.Outbox.DroppedAge))
	if s.Feeds != nil {
		row("Feeds", describeFeeds(f, s.Feeds))
	}
	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = "none"
	}
	row("Endpoint", endpoint)
	if s.InsecureTransport {
		row("Transport", sty.Bad.Render("insecure: insecure_transport is set, so a plain http:// endpoint on another machine is allowed"))
	}
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
	printSources(row, s.Sources)
}
