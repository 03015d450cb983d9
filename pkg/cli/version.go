package cli

import (
	"github.com/ksnproject/ksn/pkg/buildinfo"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdVersion builds `ksn version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ksn's version, the Go version that built it and the platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return report.Version(f.IO.Out, buildinfo.Read(f.Version), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print version, go, platform and revision as JSON")
	return cmd
}
