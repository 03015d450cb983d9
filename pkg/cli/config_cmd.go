package cli

import (
	"fmt"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdConfig builds `ksn config` and its subcommands.
func NewCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and change settings (endpoint, timeouts, cache, proxy, outbox)",
		Long: `Settings live in config.toml in ksn's config directory. Every key can be
overridden by an environment variable: KSN_ and the key in upper case with
dots as underscores (outbox.max_records is KSN_OUTBOX_MAX_RECORDS).
Participation is not a setting: only 'ksn optin' can start it.`,
	}
	keys := func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, k := range config.Keys {
			names = append(names, k.Name+"\t"+k.Help)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	get := &cobra.Command{
		Use:               "get <key>",
		Short:             "Print a setting's effective value",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: keys,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, s, err := f.settings()
			if err != nil {
				return err
			}
			v, err := s.Get(args[0])
			if err != nil {
				return usageError("'ksn config list' shows every key", "%v", err)
			}
			fmt.Fprintln(f.IO.Out, v.Value)
			return nil
		},
	}
	set := &cobra.Command{
		Use:               "set <key> <value>",
		Short:             "Change a setting in the config file",
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: keys,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			if err := config.SetSetting(paths, args[0], args[1]); err != nil {
				return usageError("'ksn config list' shows every key and its default", "%v", err)
			}
			_, s, err := f.settings()
			if err != nil {
				return err
			}
			v, _ := s.Get(args[0])
			report.SettingSet(f.IO, v)
			return nil
		},
	}
	unset := &cobra.Command{
		Use:               "unset <key>",
		Short:             "Remove a setting from the config file (back to its default)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: keys,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			if err := config.UnsetSetting(paths, args[0]); err != nil {
				return usageError("'ksn config list' shows every key", "%v", err)
			}
			return nil
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every setting, its value and where the value comes from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, s, err := f.settings()
			if err != nil {
				return err
			}
			return report.Settings(f.IO, s.List(), asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the settings as a JSON array")
	cmd.AddCommand(get, set, unset, list)
	return cmd
}
