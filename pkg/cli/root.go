package cli

import (
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/buildinfo"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/spf13/cobra"
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "ksn",
		Short: "File and link reputation, with voluntary participation",
		Long: `ksn checks files by checksum against reputation sources: a local database,
filled from threat-intelligence feeds and holding the industry test files
from the start, and (when you choose to participate) a ksn reputation server.

` + exitCodesText(),
		Version:           buildinfo.Read(f.Version).String(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitcode.Error{Code: exitcode.Usage, Err: err, Hint: fmt.Sprintf("see '%s --help'", c.CommandPath())}
	})
	root.AddCommand(
		NewCmdCheck(f, nil),
		NewCmdURL(f),
		NewCmdFeed(f),
		NewCmdSource(f),
		NewCmdStatus(f),
		NewCmdOptin(f),
		NewCmdOptout(f),
		NewCmdStatement(f),
		NewCmdQueue(f),
		NewCmdConfig(f),
		NewCmdLicense(f),
		NewCmdMail(f),
		newExitCodesTopic(),
	)
	// The reputation server and its administration.
	root.AddCommand(NewCmdServe(f, nil), NewCmdAdmin(f))
	root.AddCommand(NewCmdVersion(f), newEnvironmentTopic())
	root.SetHelpCommand(newHelpCmd(root))
	root.SetUsageTemplate(root.UsageTemplate() + exitCodesFooter)
	root.SetVersionTemplate("ksn {{.Version}}\n")
	strictGroups(root)
	return root
}

func exitCodesText() string {
	var b strings.Builder
	b.WriteString("EXIT CODES\n")
	for _, e := range exitcode.Table {
		fmt.Fprintf(&b, "  %d  %s\n", e.Code, e.Meaning)
	}
	b.WriteString("\ncheck exits 1 before 2 before 3..7: a threat is reported even when\nsome inputs could not be read.")
	return b.String()
}

// newExitCodesTopic is a help topic, so `ksn help exit-codes` works and the
// man pages carry the table.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "What ksn's exit codes mean (the same table for every command)",
		Long:  exitCodesText(),
	}
}

// usageError is a bad invocation: exit 2 with a hint.
func usageError(hint, format string, args ...any) error {
	return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf(format, args...), Hint: hint}
}
