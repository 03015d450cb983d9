package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/spf13/cobra"
)

// acceptWithoutPin is the value --accept takes when given without "=sha256".
const acceptWithoutPin = "statement-in-force"

// acceptShown is what --help shows as --accept's optional value,
// "--accept[=SHA256]"; given as such, it means no pin.
const acceptShown = "SHA256"

// acceptFlag is --accept: a string whose optional value reads well in
// --help and the man page.
type acceptFlag struct{ v *string }

func (a acceptFlag) String() string { return *a.v }
func (a acceptFlag) Type() string   { return "sha256" }
func (a acceptFlag) Set(s string) error {
	if s == acceptShown {
		s = acceptWithoutPin
	}
	*a.v = s
	return nil
}

// OptinOptions are `ksn optin`'s flags.
type OptinOptions struct {
	JSON   bool
	Accept string // "", acceptWithoutPin, or a SHA-256 the statement must have
	Level  network.Level
}

// NewCmdOptin builds `ksn optin`.
func NewCmdOptin(f *Factory) *cobra.Command {
	opts := &OptinOptions{}
	var level string
	cmd := &cobra.Command{
		Use:   "optin",
		Short: "Read the participation statement and choose to participate",
		Long: `Show the participation statement and ask whether you accept it. Only an
explicit "yes" accepts; anything else declines. Every decision is recorded,
append-only, with the statement's id and SHA-256 (see 'ksn status').

Without a terminal, ksn cannot ask: pass --accept to accept the statement in
force, or --accept=<sha256> to accept it only if it is exactly the text you
reviewed ('ksn statement' prints its SHA-256). Nothing in the environment can
accept for you.

As soon as you participate, the records collected on this machine while you
did not are sent (records older than outbox.max_age are dropped instead).
At the basic level only lookups are made and nothing collected is sent.`,
		Example: `  ksn optin
  ksn optin --level basic
  ksn optin --accept=$(ksn statement --json | jq -r .sha256)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := network.ParseLevel(level)
			if err != nil {
				return usageError("use --level basic or --level extended", "--level: %v", err)
			}
			opts.Level = l
			if opts.JSON && opts.Accept == "" {
				return usageError("ksn optin --accept --json", "--json needs --accept: the statement cannot be shown and asked about in JSON")
			}
			return runOptin(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().Var(acceptFlag{&opts.Accept}, "accept", "accept without being asked; with ``=SHA256, only that exact statement")
	cmd.Flags().Lookup("accept").NoOptDefVal = acceptShown
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the decision and what was sent as JSON (needs --accept)")
	cmd.Flags().StringVar(&level, "level", string(network.Extended), "basic (lookups only) or extended (lookups and statistics)")
	_ = cmd.RegisterFlagCompletionFunc("level", cobra.FixedCompletions([]string{"basic", "extended"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runOptin(ctx context.Context, f *Factory, opts *OptinOptions) error {
	ctx = orBackground(ctx)
	c, err := f.LoadConsent(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Usable(); err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot record your decision: %v", err),
			Hint: "make ksn's state directory writable, or set KSN_HOME to a directory you own"}
	}
	// Decide how consent can be given before fetching anything: a run that
	// cannot ask and has no --accept stops here, having contacted nobody.
	if opts.Accept == "" && !(f.IO.IsStdinTTY() && f.IO.IsStdoutTTY()) {
		return usageError("read it with 'ksn statement', then run 'ksn optin --accept' (or --accept=<sha256> to pin the text)",
			"ksn optin needs a terminal to show the statement and ask; without one, pass --accept")
	}
	st := c.StatementInForce(ctx, f.IO)
	stats, err := c.OutboxStats(ctx)
	if err != nil {
		return err
	}
	endpoint := c.Endpoint()
	_, maxAgeText, maxAge := c.OutboxLimits()

	terminal := false
	switch {
	case opts.Accept == acceptWithoutPin:
	case opts.Accept != "":
		if !strings.EqualFold(strings.TrimSpace(opts.Accept), st.SHA256) {
			return usageError("read the statement with 'ksn statement' and pin its SHA-256",
				"the statement in force (%s) has SHA-256 %s, not %s: nothing was accepted", st.ID, st.SHA256, opts.Accept)
		}
	default: // a terminal, checked above
		terminal = true
		if err := printStatement(f.IO, st, false); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "\n%s\n", backlogSentence(stats, opts.Level, maxAge, endpoint, time.Now()))
		fmt.Fprintf(f.IO.Out, "Participate at the %s level under statement %s? Type \"yes\" to accept: ", opts.Level, st.ID)
		answer, _ := bufio.NewReader(f.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "yes" {
			d, err := c.Decline(ctx, st)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Declined at %s. Nothing is sent; ksn keeps working with local verdicts.\n", formatTime(d.At))
			return nil
		}
	}

	a, err := c.Accept(ctx, st, opts.Level, terminal)
	if err != nil {
		return err
	}
	if opts.JSON {
		out := decisionOut{Decision: decisionOf(&a.Decision), Participating: a.Now.Participating, Reason: a.Now.Reason,
			Sent: a.Sent, Dropped: a.Stale, Outbox: a.Outbox.Records}
		if a.SendErr != nil {
			out.SendError = a.SendErr.Error()
		}
		return writeJSONLine(f.IO, out)
	}
	fmt.Fprintf(f.IO.Out, "Participating at the %s level since %s (statement %s).\n", a.Decision.Level, formatTime(a.Decision.At), st.ID)
	if a.Stale > 0 {
		fmt.Fprintf(f.IO.Out, "%s older than %s dropped, not sent.\n", plural(a.Stale, "record"), maxAgeText)
	}
	if a.Sent > 0 {
		fmt.Fprintf(f.IO.Out, "Sent %s to %s.\n", plural(a.Sent, "collected record"), endpoint)
	}
	if a.SendErr != nil {
		f.IO.Warnf("the collected records could not be sent yet (%v); they stay in the outbox and go with the next check", a.SendErr)
	}
	fmt.Fprintln(f.IO.Out, afterOptinSentence(a.Outbox, opts.Level, endpoint))
	if !a.Now.Participating {
		f.IO.Warnf("%s: nothing is sent while it is set", network.DescribeState(a.Now))
	}
	return nil
}

// backlogSentence tells, before the user answers, what accepting sends.
func backlogSentence(stats network.OutboxStats, level network.Level, maxAge time.Duration, endpoint string, now time.Time) string {
	switch {
	case stats.Records == 0:
		return "No records were collected on this machine before; nothing is waiting to be sent."
	case level == network.Basic:
		return fmt.Sprintf("%s collected on this machine stay local: the basic level sends lookups only.", plural(stats.Records, "record"))
	}
	s := fmt.Sprintf("If you accept, the %s collected on this machine since %s will be sent", plural(int(stats.Records), "record"), formatTime(stats.Oldest))
	if endpoint == "" {
		s += " once an endpoint is set"
	}
	if maxAge > 0 && stats.Oldest.Before(now.Add(-maxAge)) {
		s += fmt.Sprintf(", except those older than %s, which are dropped instead", formatAge(maxAge))
	}
	return s + "."
}

// formatAge writes a max_age setting the way users set it: "90d", "36h".
func formatAge(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func afterOptinSentence(stats network.OutboxStats, level network.Level, endpoint string) string {
	switch {
	case stats.Records == 0:
		return "Nothing is waiting to be sent."
	case level == network.Basic:
		return fmt.Sprintf("%d collected records stay local (basic level); 'ksn queue clear' deletes them.", stats.Records)
	case endpoint == "":
		return fmt.Sprintf("%s in the outbox will be sent once an endpoint is set ('ksn config set endpoint URL').", plural(stats.Records, "record"))
	}
	return fmt.Sprintf("%s in the outbox will be sent to %s.", plural(stats.Records, "record"), endpoint)
}

// NewCmdOptout builds `ksn optout`.
func NewCmdOptout(f *Factory) *cobra.Command {
	var purge, asJSON bool
	cmd := &cobra.Command{
		Use:   "optout",
		Short: "Stop participating, at once (works offline)",
		Long: `Stop participating. It takes effect immediately, asks nothing, needs no
network and writes nothing but the decision. With --purge the records
collected locally are deleted too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runOptout(orBackground(cmd.Context()), f, purge, asJSON)
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the local outbox")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the decision recorded as JSON")
	return cmd
}

// decisionOut is what optin --json and optout --json print.
type decisionOut struct {
	Decision      *decisionJSON `json:"decision"`
	Participating bool          `json:"participating"`
	Reason        string        `json:"reason,omitempty"`  // why not, when not
	Sent          int           `json:"sent,omitempty"`    // collected records delivered at once
	Dropped       int           `json:"dropped,omitempty"` // past outbox.max_age, not sent
	Purged        int           `json:"purged,omitempty"`  // optout --purge
	Outbox        int           `json:"outbox"`            // records left in the outbox
	SendError     string        `json:"send_error,omitempty"`
}

func runOptout(ctx context.Context, f *Factory, purge, asJSON bool) error {
	c, err := f.LoadConsent(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Usable(); err != nil {
		// Nothing can be recorded, and nothing can be sent either: an
		// unusable state directory already means not participating.
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot record your decision: %v", err),
			Hint: "nothing is sent while the state directory is unusable; fix it and run 'ksn optout' again"}
	}
	d, purged, err := c.Optout(ctx, purge)
	if err != nil {
		return err
	}
	if asJSON {
		stats, err := c.OutboxStats(ctx)
		if err != nil {
			return err
		}
		return writeJSONLine(f.IO, decisionOut{Decision: decisionOf(&d), Purged: purged, Outbox: stats.Records})
	}
	fmt.Fprintf(f.IO.Out, "Not participating since %s: nothing is sent.\n", formatTime(d.At))
	if purge {
		fmt.Fprintf(f.IO.Out, "Deleted %s from the local outbox.\n", plural(purged, "record"))
		return nil
	}
	stats, err := c.OutboxStats(ctx)
	if err != nil {
		return err
	}
	if stats.Records > 0 {
		fmt.Fprintf(f.IO.Out, "%s stay in the local outbox ('ksn queue' shows them, 'ksn optout --purge' or 'ksn queue clear' deletes them).\n", plural(stats.Records, "record"))
	}
	return nil
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// plural writes a count with its noun: "1 record", "3 records".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
