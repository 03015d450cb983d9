package cli

import (
	"fmt"

	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdLicense builds `ksn license` and `ksn license activate`.
func NewCmdLicense(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "license",
		Short: "Show the license key used for the reputation server",
		Long: `Show which license key ksn sends to the reputation server (masked) and
where it comes from. KSN_LICENSE_KEY overrides the stored key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			l, err := network.License(paths, f.Env)
			if err != nil {
				return err
			}
			return report.License(f.IO.Out, l, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print activated, the masked key and its source as JSON")
	activate := &cobra.Command{
		Use:   "activate <key>|-",
		Short: "Store the license key the reputation server gave you",
		Long: `Store the license key (mode 0600 in the state directory). The key is only
sent to the configured endpoint, and only while you participate.

With '-' the key is read from standard input (its first line), which keeps
it out of the shell's history and of the process list:
'ksn license activate - < key.txt'.`,
		Example: `  ksn license activate ksn_0123456789abcdef0123456789abcdef
  pass show ksn/license | ksn license activate -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			key, err := network.ActivateLicense(paths, f.IO.In, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "License key %s stored.\n", network.MaskKey(key))
			if env := f.Env("KSN_LICENSE_KEY"); env != "" {
				f.IO.Warnf("KSN_LICENSE_KEY is set and overrides the stored key")
			}
			return nil
		},
	}
	cmd.AddCommand(activate)
	return cmd
}
