package cli

import (
	"context"

	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
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
			var r network.Report
			err := f.withConsent(cmd.Context(), func(ctx context.Context, c *network.Consent) (err error) {
				r, err = c.Diagnose(ctx)
				return err
			})
			if err != nil {
				return err
			}
			return report.Status(f.IO, r, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as one JSON object (schema in the README)")
	return cmd
}
