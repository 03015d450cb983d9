package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// Main runs ksn with the factory's streams and returns the exit code. A
// failure is printed on standard error as "ksn: what: why" and a hint
// line, or, when the command was asked for --json, as one JSON object
// with a machine-readable code (report.Failure). Ctrl-C exits 130.
func Main(ctx context.Context, f *Factory) int {
	cmd, err := Execute(ctx, NewRootCmd(f))
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		// Ctrl-C: say so in words, and exit as shells expect of SIGINT.
		f.IO.Errorf("interrupted")
		return 130
	}
	return report.Failure(f.IO, err, wantsJSON(cmd))
}

// wantsJSON reports whether the command that ran was given --json.
func wantsJSON(cmd *cobra.Command) bool {
	if cmd == nil {
		return false
	}
	fl := cmd.Flags().Lookup("json")
	return fl != nil && fl.Changed && fl.Value.String() == "true"
}

// Execute runs the command tree and returns the command that ran and its
// error in ksn's form: every error carries an exit code, and the ones
// cobra makes (a missing argument, a required flag) say it in ksn's words
// with the usage line as the hint.
func Execute(ctx context.Context, root *cobra.Command) (*cobra.Command, error) {
	cmd, err := root.ExecuteContextC(ctx)
	var ec *exitcode.Error
	if err == nil || errors.As(err, &ec) {
		return cmd, err
	}
	if cmd == nil {
		cmd = root
	}
	return cmd, &exitcode.Error{Code: exitcode.Usage, Err: errors.New(cobraMessage(cmd, err.Error())),
		Hint: "usage: " + cmd.UseLine() + " (see '" + cmd.CommandPath() + " --help')"}
}

var (
	requiredFlags = regexp.MustCompile(`^required flag\(s\) (.+) not set$`)
	argCount      = regexp.MustCompile(`^(requires at least|accepts at most|accepts between|accepts) (.+) arg\(s\), (?:only )?received (\d+)$`)
)

// cobraMessage rephrases cobra's own error messages.
func cobraMessage(cmd *cobra.Command, msg string) string {
	if m := requiredFlags.FindStringSubmatch(msg); m != nil {
		names := strings.Split(m[1], ", ")
		for i, n := range names {
			names[i] = "--" + strings.Trim(n, `"`)
		}
		if len(names) == 1 {
			return names[0] + " is required"
		}
		return strings.Join(names, " and ") + " are required"
	}
	if m := argCount.FindStringSubmatch(msg); m != nil {
		bound := map[string]string{"requires at least": "at least ", "accepts at most": "at most ", "accepts between": "between ", "accepts": ""}[m[1]]
		noun := "arguments"
		if m[2] == "1" {
			noun = "argument"
		}
		return fmt.Sprintf("%s takes %s%s %s, got %s", cmd.CommandPath(), bound, m[2], noun, m[3])
	}
	return msg
}

// strictGroups makes every command that only groups others fail on a
// mistyped subcommand (exit 2, with the nearest names) instead of printing
// its help and exiting 0, as cobra does below the root.
func strictGroups(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		strictGroups(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return unknownCommand(c, args[0])
	}
}

// unknownCommand is the error for a name that is no subcommand of parent.
func unknownCommand(parent *cobra.Command, name string) error {
	hint := "see '" + parent.CommandPath() + " --help'"
	if parent.SuggestionsMinimumDistance <= 0 {
		parent.SuggestionsMinimumDistance = 2
	}
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		hint = "did you mean '" + parent.CommandPath() + " " + strings.Join(s, "' or '"+parent.CommandPath()+" ") + "'?"
	}
	return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("unknown command %q for %q", name, parent.CommandPath()), Hint: hint}
}

// newHelpCmd is `ksn help [command|topic]`: unlike cobra's, an unknown
// topic is an error (exit 2) with suggestions.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command|topic]",
		Short: "Help about any command or topic (exit-codes, environment)",
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				parent, name := root, args[len(args)-1]
				if err == nil {
					parent, name = cmd, rest[0]
				}
				return unknownCommand(parent, name)
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
}

// exitCodesFooter ends every command's --help: one table for all.
const exitCodesFooter = `
Exit codes: 0 success, 1 threat found, 2 usage or input error, 3 not
participating, 4 offline, 5 license blocked, 6 rate-limited, 7 service
error ('ksn help exit-codes').
`
