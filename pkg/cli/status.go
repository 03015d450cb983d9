package cli

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
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
			return runStatus(cmd.Context(), f, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as one JSON object (schema in the README)")
	return cmd
}

func runStatus(ctx context.Context, f *Factory, asJSON bool) error {
	var r network.Report
	err := f.withConsent(ctx, func(ctx context.Context, c *network.Consent) (err error) {
		r, err = c.Diagnose(ctx)
		return err
	})
	switch {
	case err != nil:
		return err
	case asJSON:
		if err := writeJSONLine(f.IO, r); err != nil {
			return err
		}
	default:
		printStatus(f, r)
	}
	if r.Code == exitcode.OK {
		return nil
	}
	if asJSON {
		return exitcode.Silent(r.Code)
	}
	return &exitcode.Error{Code: r.Code, Err: fmt.Errorf("%s: %s", r.Reason, r.Detail), Hint: r.Hint}
}

func printStatus(f *Factory, r network.Report) {
	sty := f.IO.Styles()
	// Padded before it is styled: padding counts bytes, and colour codes
	// are bytes a terminal does not show.
	row := func(label, value string) {
		fmt.Fprintf(f.IO.Out, "%s %s\n", sty.Bold.Render(fmt.Sprintf("%-14s", label)), value)
	}
	row("Participation", r.Participation.Describe())
	stmt := r.Statement.ID + " (" + r.Statement.Source + "), "
	if r.Statement.AcceptedAt != nil {
		stmt += "accepted " + formatTime(*r.Statement.AcceptedAt)
	} else if d := r.Participation.Decision; d != nil && d.Accepted {
		stmt += "you accepted " + d.StatementID + " on " + formatTime(d.At)
	} else {
		stmt += "not accepted"
	}
	row("Statement", stmt)
	if r.Participation.StateFile != "" {
		row("Decisions", r.Participation.StateFile)
	}
	row("Outbox", fmt.Sprintf("%s, %d dropped when full, %d too old", plural(r.Outbox.Records, "record"), r.Outbox.DroppedFull, r.Outbox.DroppedAge))
	if s := r.Feeds; s != nil {
		line := fmt.Sprintf("%d enabled, %d updated", s.Enabled, s.Updated)
		if s.OldestAgeSeconds != nil {
			line += ", oldest " + feeds.Ago(time.Duration(*s.OldestAgeSeconds)*time.Second)
		}
		switch s.Kind {
		case feeds.Warning:
			line += "; " + sty.Bad.Render(s.Text)
		case feeds.Hint:
			line += "; " + s.Text
		}
		row("Feeds", line)
	}
	row("Endpoint", cmp.Or(r.Endpoint, "none"))
	if r.InsecureTransport {
		row("Transport", sty.Bad.Render("insecure: insecure_transport is set, so a plain http:// endpoint on another machine is allowed"))
	}
	conn := r.Reason
	if r.Detail != "" {
		conn += " (" + r.Detail + ")"
	}
	if r.Connected {
		conn = sty.Good.Render("connected")
	}
	if r.License != nil {
		lic := r.License.State
		if r.License.ExpiresAt != nil {
			lic += ", expires " + formatTime(*r.License.ExpiresAt)
		}
		row("License", lic)
	}
	row("Connection", conn)
	// A line per enabled public source, and one naming those that are not.
	var off []string
	for _, s := range r.Sources {
		if !s.Enabled {
			off = append(off, s.Name)
			continue
		}
		row("Source", s.Name+": "+describeSource(s))
	}
	if len(off) > 0 {
		row("Sources", "not configured: "+strings.Join(off, ", ")+" (ksn source enable NAME)")
	}
}
