package cli

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdSource builds `ksn source` and its subcommands.
func NewCmdSource(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "source",
		Short: "Enable public reputation services (Kaspersky OpenTIP, CIRCL hashlookup, MalwareBazaar)",
		Long: `Public reputation services answer for files the local database does not
know. Each is a third party that, once you enable it, is sent the SHA-256
of each file you check (never a name, a path, the contents, or a link),
with your own key, while you participate, and only then; the statement
('ksn statement') names them. Their answers may raise a verdict or fill an
unknown one, never lower a local detection. Known: ` + network.PublicNames() + `.`,
	}
	cmd.AddCommand(newCmdSourceEnable(f), newCmdSourceDisable(f), newCmdSourceList(f))
	return cmd
}

func newCmdSourceEnable(f *Factory) *cobra.Command {
	var keyFile, baseURL string
	var quota int
	cmd := &cobra.Command{
		Use:   "enable NAME [--key-file FILE] [--url BASE]",
		Short: "Enable a public reputation service, with your key",
		Long: `Enable a public reputation service. OpenTIP needs an API token, and
MalwareBazaar an Auth-Key, given in a file (--key-file, '-' for standard
input: keys stay out of shell history and the process list); they are kept
readable by you only. --url points the service at a mirror or a test
server. --daily-quota, when you know your key's quota, makes ksn stop
asking once that many requests were sent in a UTC day, without a request.
Enabling again replaces the key and forgets what was learnt (a refused
key, a wait).`,
		Example: `  ksn source enable opentip --key-file ~/.config/opentip.token
  ksn source enable hashlookup
  ksn source enable malwarebazaar-api --key-file - < auth-key.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			cfg, err := network.EnableFromFile(paths, f.IO.In, args[0], keyFile, baseURL, quota)
			if err != nil {
				return err
			}
			participating := true // unless the state says otherwise
			if c, err := f.LoadConsent(cmd.Context()); err == nil {
				participating = c.Status().Participating
				c.Close()
			}
			report.SourceEnabled(f.IO.Out, cfg, participating)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "read the service's key from `FILE` ('-': standard input)")
	cmd.Flags().StringVar(&baseURL, "url", "", "ask the service at `BASE` (a mirror or a test server) instead of its own address")
	cmd.Flags().IntVar(&quota, "daily-quota", 0, "stop asking after `N` requests a UTC day (0: unknown, the service says when)")
	return cmd
}

func newCmdSourceDisable(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable a public reputation service and delete its key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			was, err := network.DisableSource(paths, args[0])
			if err != nil {
				return usageError("known: "+network.PublicNames(), "%v", err)
			}
			report.SourceDisabled(f.IO.Out, args[0], was)
			return nil
		},
	}
}

func newCmdSourceList(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show each public reputation service: enabled, URL, key, state",
		Long: `Show every public reputation service ksn knows: whether it is enabled,
where it is asked, whether a key is stored, and its state as the last runs
left it (not-configured, not-used, not-used-yet, connected, key-rejected,
rate-limited with the time it is asked again, offline, service-error). It
asks none of them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sts []network.SourceStatus
			err := f.withConsent(cmd.Context(), func(_ context.Context, c *network.Consent) (err error) {
				sts, err = network.PublicStatus(c, time.Now())
				return err
			})
			if err != nil {
				return err
			}
			return report.Sources(f.IO.Out, sts, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the sources as a JSON array (schema in the README)")
	return cmd
}
