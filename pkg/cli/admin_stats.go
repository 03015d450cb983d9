package cli

import (
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

func newCmdAdminStats(opts *AdminOptions) *cobra.Command {
	var asJSON bool
	var days, top int
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count licenses, submissions and indicators; show the aggregate statistics",
		Long: `Count licenses, sealed submissions (per half-year, and the half-years
purged) and indicators; show the restriction; and show the aggregate
statistics kept of every submission: records per kind and per day, scan
times per size class (mean and percentiles), system configurations, and the
objects most participants reported (by digest). Nothing original is shown,
and no key is needed.

A participant is counted once per object per half-year, and the counts are
summed over half-years: an installation reporting a file in two half-years
counts twice (its code changes every half-year, by design).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := opts.admin().Stats(cmd.Context(), days, top)
			if err != nil {
				return err
			}
			return report.Stats(opts.IO.Out, st, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().IntVar(&days, "days", 14, "daily counts of the last `N` days (0: all)")
	cmd.Flags().IntVar(&top, "top", 10, "show the `N` objects most participants reported")
	cmd.AddCommand(newCmdAdminStatsSpam(opts))
	return cmd
}
