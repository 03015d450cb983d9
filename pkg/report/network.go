package report

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/mail"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/term"
)

// Status is `ksn status`: the report as one JSON object, or one labelled
// line per thing known; and its exit, the reason the network cannot be
// used (silent in JSON, which says it).
func Status(ios *term.IOStreams, r network.Report, asJSON bool) error {
	if asJSON {
		if err := JSONLine(ios.Out, r); err != nil {
			return err
		}
	} else {
		statusLines(ios, r)
	}
	switch {
	case r.Code == exitcode.OK:
		return nil
	case asJSON:
		return exitcode.Silent(r.Code)
	}
	return &exitcode.Error{Code: r.Code, Err: fmt.Errorf("%s: %s", r.Reason, r.Detail), Hint: r.Hint}
}

// statusLines is `ksn status` for people: one labelled line per thing
// known.
func statusLines(ios *term.IOStreams, r network.Report) {
	sty := ios.Styles()
	// Padded before it is styled: padding counts bytes, and colour codes
	// are bytes a terminal does not show.
	row := func(label, value string) {
		fmt.Fprintf(ios.Out, "%s %s\n", sty.Bold.Render(fmt.Sprintf("%-14s", label)), value)
	}
	row("Participation", r.Participation.Describe())
	stmt := r.Statement.ID + " (" + r.Statement.Source + "), "
	if r.Statement.AcceptedAt != nil {
		stmt += "accepted " + Time(*r.Statement.AcceptedAt)
	} else if d := r.Participation.Decision; d != nil && d.Accepted {
		stmt += "you accepted " + d.StatementID + " on " + Time(d.At)
	} else {
		stmt += "not accepted"
	}
	row("Statement", stmt)
	if r.Participation.StateFile != "" {
		row("Decisions", r.Participation.StateFile)
	}
	row("Outbox", fmt.Sprintf("%s, %d dropped when full, %d too old", Plural(r.Outbox.Records, "record"), r.Outbox.DroppedFull, r.Outbox.DroppedAge))
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
			lic += ", expires " + Time(*r.License.ExpiresAt)
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
		row("Source", s.Name+": "+term.SafeText(s.Describe()))
	}
	if len(off) > 0 {
		row("Sources", "not configured: "+strings.Join(off, ", ")+" (ksn source enable NAME)")
	}
}

// Sources is the table of `ksn source list`.
func Sources(w io.Writer, sts []network.SourceStatus, asJSON bool) error {
	if asJSON {
		return JSONLine(w, sts)
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tENABLED\tKEY\tURL\tSTATE")
	for _, s := range sts {
		key := map[bool]string{true: "stored", false: "-"}[s.KeyStored]
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\n", s.Name, s.Enabled, key, term.SafeText(s.BaseURL), term.SafeText(s.Describe()))
	}
	return tw.Flush()
}

// License is `ksn license`: the key sent, masked, and where it comes
// from.
func License(w io.Writer, l network.LicenseInfo, asJSON bool) error {
	switch {
	case asJSON:
		return JSONLine(w, l)
	case !l.Activated:
		fmt.Fprintln(w, "No license key: activate one with 'ksn license activate <key>'.")
	default:
		fmt.Fprintf(w, "License key %s (from %s)\n", l.Key, l.Source)
	}
	return nil
}

// SourceEnabled says which public source `ksn source enable` enabled, what
// it is sent, and that it is not asked while the user does not
// participate.
func SourceEnabled(w io.Writer, cfg network.SourceConfig, participating bool) {
	fmt.Fprintf(w, "enabled %s: %s at %s\n", cfg.Name, cfg.Title, term.SafeText(cfg.BaseURL))
	fmt.Fprintf(w, "While you participate, ksn sends it the SHA-256 of each file you check (never names, paths, contents or links)%s; the statement names it ('ksn statement').\n",
		map[bool]string{true: ", with your key", false: ""}[cfg.KeyStored])
	if !participating {
		fmt.Fprintln(w, "You do not participate now: it is not asked until you accept the statement (ksn optin).")
	}
}

// SourceDisabled says what `ksn source disable` did to the source name
// (was: it was enabled).
func SourceDisabled(w io.Writer, name string, was bool) {
	if !was {
		fmt.Fprintf(w, "%s was not enabled\n", name)
		return
	}
	fmt.Fprintf(w, "disabled %s; its key is deleted and it is sent nothing more\n", name)
}

// MailJudged says what `ksn mail report` kept of the messages judged j,
// and exits 2 when some could not be read (failed).
func MailJudged(w io.Writer, messages, kept, failed int, j mail.Judgement) error {
	fmt.Fprintf(w, "%s judged %s; %s kept in the outbox.\n", Plural(messages, "message"), j, Plural(kept, "record"))
	if failed > 0 {
		return exitcode.New(exitcode.Usage, "%s could not be read", Plural(failed, "message"))
	}
	return nil
}

// Outbox is `ksn queue`: the outbox's size, bounds and losses, and the
// participation that decides what becomes of it.
func Outbox(w io.Writer, q network.OutboxSummary, st network.Status, asJSON bool) error {
	if asJSON {
		return JSONLine(w, q)
	}
	fmt.Fprintf(w, "%s, %s (at most %d, kept up to %s)\n", Plural(q.Records, "record"), term.Bytes(q.Bytes), q.MaxRecords, q.MaxAge)
	if q.Records > 0 {
		fmt.Fprintf(w, "oldest %s, newest %s\n", Time(*q.Oldest), Time(*q.Newest))
	}
	fmt.Fprintf(w, "dropped: %d when full, %d too old\n", q.DroppedFull, q.DroppedAge)
	fmt.Fprintf(w, "%s: %s\n", network.DescribeState(st), q.File)
	return nil
}

// Records is `ksn queue show`: each record read hands it (the outbox's,
// oldest first), written as Record writes it.
func Records(ctx context.Context, w io.Writer, asJSON bool, read func(context.Context, func(network.Record) error) error) error {
	out := bufio.NewWriter(w)
	if err := read(ctx, func(r network.Record) error { return Record(out, r, asJSON) }); err != nil {
		return err
	}
	return out.Flush()
}

// Record is one record of the outbox, as JSON exactly as it would be sent
// or as a line whose body is escaped.
func Record(w io.Writer, r network.Record, asJSON bool) error {
	if asJSON {
		// One line per record: an Encoder ends each with a newline.
		return json.NewEncoder(w).Encode(r)
	}
	_, err := fmt.Fprintf(w, "%s  %-6s  %s  %s\n", r.ID, r.Kind, r.CreatedAt.Format(time.RFC3339), term.SafeText(string(r.Body)))
	return err
}

// Statement prints a statement with its id and SHA-256, paged on a
// terminal.
func Statement(ios *term.IOStreams, st network.Statement, asJSON bool) error {
	if asJSON {
		return JSONLine(ios.Out, st)
	}
	s := ios.Styles()
	header := fmt.Sprintf("%s\n%s\n\n", s.Heading.Render("Statement "+term.SafeText(st.ID)+" ("+term.SafeText(st.Source)+")"), s.Dim.Render("sha256 "+st.SHA256))
	// A server's text could hide a clause with escape sequences or carriage
	// returns; what is accepted must be what was shown, so every control
	// character but the line breaks and tabs is shown escaped.
	lines := strings.Split(st.Text, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = term.SafeText(p)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return ios.Page(header + strings.Join(lines, "\n"))
}

// OptedIn says what `ksn optin` did: declined at the prompt, or accepted,
// with what became of the backlog (maxAge is outbox.max_age as set) and
// what comes next.
func OptedIn(ios *term.IOStreams, a network.Outcome, endpoint, maxAge string, asJSON bool) error {
	if asJSON {
		return JSONLine(ios.Out, a)
	}
	d := a.Decision
	if !d.Accepted {
		fmt.Fprintf(ios.Out, "Declined at %s. Nothing is sent; ksn keeps working with local verdicts.\n", Time(d.At))
		return nil
	}
	fmt.Fprintf(ios.Out, "Participating at the %s level since %s (statement %s).\n", d.Level, Time(d.At), d.StatementID)
	if a.Dropped > 0 {
		fmt.Fprintf(ios.Out, "%s older than %s dropped, not sent.\n", Plural(a.Dropped, "record"), maxAge)
	}
	if a.Sent > 0 {
		fmt.Fprintf(ios.Out, "Sent %s to %s.\n", Plural(a.Sent, "collected record"), endpoint)
	}
	if a.SendError != "" {
		ios.Warnf("the collected records could not be sent yet (%s); they stay in the outbox and go with the next check", a.SendError)
	}
	fmt.Fprintln(ios.Out, network.AfterOptinSentence(a.Outbox, d.Level, endpoint))
	if !a.Now.Participating {
		ios.Warnf("%s: nothing is sent while it is set", network.DescribeState(a.Now))
	}
	return nil
}

// OptedOut says what `ksn optout` did (purge: the outbox was deleted).
func OptedOut(w io.Writer, o network.Outcome, purge, asJSON bool) error {
	if asJSON {
		return JSONLine(w, o)
	}
	fmt.Fprintf(w, "Not participating since %s: nothing is sent.\n", Time(o.Decision.At))
	switch {
	case purge:
		fmt.Fprintf(w, "Deleted %s from the local outbox.\n", Plural(o.Purged, "record"))
	case o.Outbox > 0:
		fmt.Fprintf(w, "%s stay in the local outbox ('ksn queue' shows them, 'ksn optout --purge' or 'ksn queue clear' deletes them).\n", Plural(o.Outbox, "record"))
	}
	return nil
}
