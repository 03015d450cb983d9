package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

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
		s = network.AcceptInForce
	}
	*a.v = s
	return nil
}

// OptinOptions are `ksn optin`'s flags.
type OptinOptions struct {
	JSON   bool
	Accept string // "", network.AcceptInForce, or a SHA-256 the statement must have
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
			return f.withConsent(cmd.Context(), func(ctx context.Context, c *network.Consent) error {
				if err := stateUsable(c, "cannot record your decision", "make ksn's state directory writable, or set KSN_HOME to a directory you own"); err != nil {
					return err
				}
				// Decide how consent can be given before fetching anything: a run
				// that cannot ask and has no --accept stops here, having contacted
				// nobody.
				if opts.Accept == "" && !(f.IO.IsStdinTTY() && f.IO.IsStdoutTTY()) {
					return usageError("read it with 'ksn statement', then run 'ksn optin --accept' (or --accept=<sha256> to pin the text)",
						"ksn optin needs a terminal to show the statement and ask; without one, pass --accept")
				}
				a, err := c.Optin(ctx, f.IO, network.OptinRequest{Level: opts.Level, Accept: opts.Accept,
					Ask: func(st network.Statement, backlog string) (bool, error) {
						if err := report.Statement(f.IO, st, false); err != nil {
							return false, err
						}
						fmt.Fprintf(f.IO.Out, "\n%s\n", backlog)
						fmt.Fprintf(f.IO.Out, "Participate at the %s level under statement %s? Type \"yes\" to accept: ", opts.Level, st.ID)
						answer, _ := bufio.NewReader(f.IO.In).ReadString('\n')
						return strings.ToLower(strings.TrimSpace(answer)) == "yes", nil
					}})
				if err != nil {
					return err
				}
				_, maxAge, _ := c.OutboxLimits()
				return report.OptedIn(f.IO, a, c.Endpoint(), maxAge, opts.JSON)
			})
		},
	}
	cmd.Flags().Var(acceptFlag{&opts.Accept}, "accept", "accept without being asked; with ``=SHA256, only that exact statement")
	cmd.Flags().Lookup("accept").NoOptDefVal = acceptShown
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the decision and what was sent as JSON (needs --accept)")
	cmd.Flags().StringVar(&level, "level", string(network.Extended), "basic (lookups only) or extended (lookups and statistics)")
	_ = cmd.RegisterFlagCompletionFunc("level", cobra.FixedCompletions([]string{"basic", "extended"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
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
			return f.withConsent(cmd.Context(), func(ctx context.Context, c *network.Consent) error {
				// Nothing can be recorded, and nothing can be sent either: an
				// unusable state directory already means not participating.
				if err := stateUsable(c, "cannot record your decision", "nothing is sent while the state directory is unusable; fix it and run 'ksn optout' again"); err != nil {
					return err
				}
				o, err := c.Optout(ctx, purge)
				if err != nil {
					return err
				}
				return report.OptedOut(f.IO.Out, o, purge, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the local outbox")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the decision recorded as JSON")
	return cmd
}

// stateUsable says, as a usage error, why the participation state cannot
// be used: what could not be done, and the hint that fixes it.
func stateUsable(c *network.Consent, what, hint string) error {
	if err := c.Usable(); err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("%s: %v", what, err), Hint: hint}
	}
	return nil
}
