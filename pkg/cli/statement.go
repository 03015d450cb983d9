package cli

import (
	"context"

	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdStatement builds `ksn statement`.
func NewCmdStatement(f *Factory) *cobra.Command {
	var asJSON, fromEndpoint bool
	cmd := &cobra.Command{
		Use:   "statement",
		Short: "Print the participation statement in force, with its id and SHA-256",
		Long: `Print the statement that 'ksn optin' asks you to accept: what participating
means, what is collected and what never is. Its SHA-256 can be pinned in
provisioning scripts with 'ksn optin --accept=<sha256>'.

While you participate with an endpoint configured (or are paused because
its statement changed), it is the server's statement. Otherwise nothing
is asked of the network: it is the statement built into ksn, unless
--from-endpoint asks the endpoint for its own (without a license key or
any data), which is the one 'ksn optin' shows. When the server cannot be
reached, it is the built-in one.`,
		Example: `  ksn statement
  ksn optin --accept=$(ksn statement --from-endpoint --json | jq -r .sha256)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withConsent(cmd.Context(), func(ctx context.Context, c *network.Consent) error {
				return report.Statement(f.IO, c.StatementToShow(ctx, f.IO, fromEndpoint), asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print id, sha256, source and text as JSON")
	cmd.Flags().BoolVar(&fromEndpoint, "from-endpoint", false, "ask the endpoint for its statement even while not participating")
	return cmd
}
